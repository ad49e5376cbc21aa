package projectops_test

import (
	"encoding/json"
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
// Patients, half Observations that each refer to one of them, loaded
// through the store (see benchLoad). The 100k cases run only
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

// benchLoad fills project pid with n resources through the store's own
// transaction Bundles, so that every resource has the history and search
// index rows the store writes for it: half Patients (a name, an identifier,
// a gender), half Observations of one of them (a LOINC code, a status, a
// weight), about nine index rows per resource.
func benchLoad(b *testing.B, sys models.System, pid string, n int) {
	b.Helper()
	ten := sys.Tenant(pid)
	const per = 500 // Patients (and as many Observations) per Bundle
	for first := 0; first < n/2; first += per {
		var entries []map[string]any
		for i := first; i < min(first+per, n/2); i++ {
			patient := fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012x", i)
			entries = append(entries, map[string]any{"fullUrl": patient, "request": map[string]any{"method": "POST", "url": "Patient"},
				"resource": map[string]any{"resourceType": "Patient", "gender": "female",
					"identifier": []any{map[string]any{"system": "urn:bench", "value": fmt.Sprint(i)}},
					"name":       []any{map[string]any{"family": fmt.Sprintf("Smith%d", i), "given": []any{"Alice"}}}}},
				map[string]any{"request": map[string]any{"method": "POST", "url": "Observation"},
					"resource": map[string]any{"resourceType": "Observation", "status": "final",
						"code":          map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "29463-7"}}, "text": "weight"},
						"subject":       map[string]any{"reference": patient},
						"valueQuantity": map[string]any{"unit": "kg", "value": 50 + i%50}}})
		}
		body, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ten.ProcessBundle(b.Context(), body); err != nil {
			b.Fatal(err)
		}
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
	benchLoad(b, w.sys, pid, n)
	return pid
}

// settle vacuums and analyzes the tables a project's rows live in, as
// autovacuum would within a minute of a large load or expunge, so that each
// round starts from the same state instead of the debris of the last one.
func (w *benchWorld) settle(b *testing.B) {
	b.Helper()
	for _, t := range []string{"resources", "resource_history", "resource_strings", "resource_tokens", "resource_dates",
		"resource_references", "resource_quantities", "resource_composites"} {
		if err := w.db.Exec("VACUUM (ANALYZE) " + t).Error; err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClone(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			if size.n > 10_000 && !largeAsked() {
				b.Skip("name /100k in -bench (or set ENCLAVE_BENCH_LARGE=1) to run it")
			}
			w := newBenchWorld(b)
			src := w.loaded(b, size.n)
			w.settle(b)
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
				w.settle(b)
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
