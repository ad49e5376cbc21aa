package projectops_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/projectops"
	"enclave/models/testdb"

	"gorm.io/gorm"
)

// The clone and the expunge of a project of n resources, on PostgreSQL: half
// Patients, half Observations that each refer to one of them, every one
// with its history row and search index rows (about eight per resource).
// The projects are loaded set-based by benchLoad. The 100k cases run only
// when the -bench pattern names them or ENCLAVE_BENCH_LARGE=1:
//
//	ENCLAVE_TEST_DATABASE_URL=… go test ./models/projectops -run '^$' -bench 'Clone|Expunge' -benchtime 3x
//	ENCLAVE_TEST_DATABASE_URL=… go test ./models/projectops -run '^$' -bench '/100k' -benchtime 3x

var benchSizes = []struct {
	name string
	n    int
}{{"1k", 1000}, {"10k", 10_000}, {"100k", 100_000}}

// largeAsked reports whether the 100k scale should run.
func largeAsked() bool {
	if os.Getenv("ENCLAVE_BENCH_LARGE") == "1" {
		return true
	}
	f := flag.Lookup("test.bench")
	return f != nil && strings.Contains(f.Value.String(), "100k")
}

func benchDB(b *testing.B) *gorm.DB {
	pg, ok := testdb.Postgres(b)
	if !ok {
		b.Skip("the clone and expunge benchmarks run on PostgreSQL")
	}
	return pg.DB
}

// benchLoad fills project pid with n resources as the store would have
// written them, in one statement per table.
func benchLoad(b *testing.B, db *gorm.DB, pid string, n int) {
	b.Helper()
	with := `WITH g AS (SELECT generate_series(1, CAST(? AS INTEGER) / 2) AS i),
	v AS (SELECT i, CAST(CAST(md5(? || '/p/' || i) AS UUID) AS TEXT) AS pat, CAST(CAST(md5(? || '/o/' || i) AS UUID) AS TEXT) AS obs,
		CAST(? AS TEXT) AS pid, now() AS at, (EXTRACT(EPOCH FROM now()) * 1000000)::BIGINT AS us,
		to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS stamp FROM g),
	r AS (SELECT pid, 'Patient' AS t, pat AS id, at, us, '{"resourceType":"Patient","id":"' || pat || '","meta":{"lastUpdated":"' || stamp ||
			'","project":"' || pid || '","versionId":"1"},"gender":"female","identifier":[{"system":"urn:bench","value":"' || i ||
			'"}],"name":[{"family":"Smith' || i || '","given":["Alice"]}]}' AS content FROM v
		UNION ALL SELECT pid, 'Observation', obs, at, us, '{"resourceType":"Observation","id":"' || obs || '","meta":{"lastUpdated":"' || stamp ||
			'","project":"' || pid || '","versionId":"1"},"code":{"coding":[{"code":"29463-7","system":"http://loinc.org"}],"text":"weight"},' ||
			'"status":"final","subject":{"reference":"Patient/' || pat || '"},"valueQuantity":{"unit":"kg","value":' || (50 + i % 50) || '}}' FROM v)
	`
	stmts := []string{
		`INSERT INTO resources (project_id, resource_type, id, version_id, last_updated, deleted, content) SELECT pid, t, id, 1, at, FALSE, content FROM r`,
		`INSERT INTO resource_history (project_id, resource_type, id, version_id, last_updated, deleted, content) SELECT pid, t, id, 1, at, FALSE, content FROM r`,
		`INSERT INTO resource_strings (project_id, resource_type, resource_id, updated_us, param, value, raw)
			SELECT pid, 'Patient', pat, us, p, lower(x), x FROM v, LATERAL (VALUES ('family', 'Smith' || i), ('given', 'Alice'),
				('name', 'Smith' || i), ('name', 'Alice')) AS s (p, x)`,
		`INSERT INTO resource_tokens (project_id, resource_type, resource_id, updated_us, param, system, code, text)
			SELECT pid, 'Patient', pat, us, 'gender', '', 'female', '' FROM v
			UNION ALL SELECT pid, 'Patient', pat, us, 'identifier', 'urn:bench', CAST(i AS TEXT), '' FROM v
			UNION ALL SELECT pid, 'Observation', obs, us, 'code', 'http://loinc.org', '29463-7', 'weight' FROM v
			UNION ALL SELECT pid, 'Observation', obs, us, 'status', '', 'final', '' FROM v`,
		`INSERT INTO resource_dates (project_id, resource_type, resource_id, updated_us, param, start_us, end_us)
			SELECT pid, t, id, us, '_lastUpdated', us, us + 1 FROM r`,
		`INSERT INTO resource_references (project_id, resource_type, resource_id, updated_us, param, ref_type, ref_id, ref)
			SELECT pid, 'Observation', obs, us, p, 'Patient', pat, 'Patient/' || pat FROM v, LATERAL (VALUES ('subject'), ('patient')) AS s (p)`,
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		for _, s := range stmts {
			if err := tx.Exec(with+s, n, pid, pid, pid).Error; err != nil {
				return fmt.Errorf("%s: %w", strings.Fields(s)[2], err)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchWorld is a super admin and a way to make loaded projects.
type benchWorld struct {
	db    *gorm.DB
	sys   models.System
	actor audit.Actor
	made  int
}

func newBenchWorld(b *testing.B) *benchWorld {
	db := benchDB(b)
	w := &benchWorld{db: db, sys: models.NewSystem(db)}
	op := user(b, w.sys, "bench-operator@example.org")
	must(b, w.sys.SetSuperAdmin(b.Context(), project(b, w.sys, op, "Operators"), true))
	w.actor = audit.Actor{UserID: op.ID, Email: op.Email}
	return w
}

func (w *benchWorld) loaded(b *testing.B, n int) string {
	w.made++
	owner := user(b, w.sys, fmt.Sprintf("bench-owner-%d@example.org", w.made))
	pid := project(b, w.sys, owner, "Bench")
	benchLoad(b, w.db, pid, n)
	return pid
}

func BenchmarkClone(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			if size.n > 10_000 && !largeAsked() {
				b.Skip("name /100k in -bench (or set ENCLAVE_BENCH_LARGE=1) to run it")
			}
			w := newBenchWorld(b)
			src := w.loaded(b, size.n)
			b.ResetTimer()
			for range b.N {
				res, err := w.sys.CloneProject(b.Context(), nil, projectops.CloneInput{SourceID: src, Actor: w.actor})
				if err != nil {
					b.Fatal(err)
				}
				// The loaded ones, and the owner's profile.
				if res.Resources != size.n+1 {
					b.Fatalf("cloned %d resources, want %d", res.Resources, size.n+1)
				}
				b.StopTimer()
				if _, err := w.sys.ExpungeProject(b.Context(), w.actor, res.Project.ID); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(size.n), "resources/op")
		})
	}
}

func BenchmarkExpunge(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			if size.n > 10_000 && !largeAsked() {
				b.Skip("name /100k in -bench (or set ENCLAVE_BENCH_LARGE=1) to run it")
			}
			w := newBenchWorld(b)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				pid := w.loaded(b, size.n)
				b.StartTimer()
				res, err := w.sys.ExpungeProject(b.Context(), w.actor, pid)
				if err != nil {
					b.Fatal(err)
				}
				if res.Resources != int64(size.n+1) {
					b.Fatalf("expunged %d resources, want %d", res.Resources, size.n+1)
				}
			}
			b.ReportMetric(float64(size.n), "resources/op")
		})
	}
}
