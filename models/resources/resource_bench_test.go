package resources_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/testdb"

	"gorm.io/gorm"
)

// The store's hot paths (create, read by id, search) must cost the same
// whether a project holds a thousand resources or a hundred thousand, and
// whether the server holds one project or ten thousand. BenchmarkStore
// measures them at those scales; the large ones need ENCLAVE_BENCH_LARGE=1
// and PostgreSQL, and are loaded by bulkLoad, which writes the rows the
// store would write, set-based, in a few statements.
//
// No table is analyzed: searches must plan well without statistics.

// envBenchLarge enables the large scales of BenchmarkStore.
const envBenchLarge = "ENCLAVE_BENCH_LARGE"

// benchPatient is the body of the i-th patient (from 1) of a benchmark
// project: two in three are Alice Smith, female; the others Bob Jones<i>,
// male. Every one has the identifier urn:bench|<i> and a birth date.
// bulkLoad writes the same patients.
func benchPatient(i int) string {
	family, given, gender := "Smith", "Alice", "female"
	if i%3 == 0 {
		family, given, gender = "Jones"+strconv.Itoa(i), "Bob", "male"
	}
	day := time.Unix(0, 0).UTC().AddDate(0, 0, benchBirthDay(i))
	return `{"resourceType":"Patient","identifier":[{"system":"urn:bench","value":"` + strconv.Itoa(i) + `"}],` +
		`"name":[{"family":"` + family + `","given":["` + given + `"]}],"gender":"` + gender + `","birthDate":"` + day.Format(time.DateOnly) + `"}`
}

// benchBirthDay is the birth date of patient i, in days since 1970-01-01;
// bulkLoad computes the same in SQL.
func benchBirthDay(i int) int { return -7305 + i%20000 }

// benchSmiths is how many of patients 1..n are Smith and female.
func benchSmiths(n int) int { return n - n/3 }

// bulkSet names the patients bulkLoad writes: patients 1..Patients of
// Project, or, when Projects > 0, of each of Projects new projects named
// Project0, Project1, ... (bulkLoad creates their rows).
type bulkSet struct {
	Project  string
	Projects int
	Patients int
}

// bulkLoad inserts the patients of set directly, as the store would have
// written them one by one: the current row, the history row and every index
// row, with updated_us the last_updated in microseconds, 1 ms apart and
// increasing in patient order. It must run as a user that row-level
// security does not filter (the test DSN's superuser). It returns the
// number of patients written.
func bulkLoad(tb testing.TB, db *gorm.DB, set bulkSet) int {
	tb.Helper()
	pg := kit.DialectOf(db) == kit.Postgres
	projects := max(set.Projects, 1)
	total := projects * set.Patients
	base := time.Now().UTC().Truncate(time.Millisecond).UnixMicro()
	// Every statement starts from the same series k = 0..total-1; patient
	// i = k % Patients + 1 of project k / Patients.
	series := `g(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM g WHERE k + 1 < CAST(? AS INTEGER))`
	id := `printf('%08x-0000-4000-8000-%012x', (i * 2654435761) % 4294967296, i)`
	stampCol := `strftime('%Y-%m-%dT%H:%M:%S', us / 1000000, 'unixepoch') || rtrim(rtrim(printf('.%06d', us % 1000000), '0'), '.') || 'Z'`
	stampJSON := `strftime('%Y-%m-%dT%H:%M:%S', us / 1000000, 'unixepoch') || printf('.%06dZ', us % 1000000)`
	birth := `date(day * 86400, 'unixepoch')`
	if pg {
		series = `g(k) AS (SELECT generate_series(0, CAST(? AS BIGINT) - 1))`
		id = `CAST(CAST(md5(pid || '/' || CAST(i AS TEXT)) AS UUID) AS TEXT)`
		stampCol = `TIMESTAMPTZ 'epoch' + us * INTERVAL '1 microsecond'`
		stampJSON = `to_char((TIMESTAMPTZ 'epoch' + us * INTERVAL '1 microsecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
		birth = `to_char(DATE '1970-01-01' + CAST(day AS INTEGER), 'YYYY-MM-DD')`
	}
	pid := `CAST(? AS TEXT)`
	if set.Projects > 0 {
		pid = `CAST(? AS TEXT) || CAST(k / ` + strconv.Itoa(set.Patients) + ` AS TEXT)`
	}
	// v holds one row per patient with every value its rows are made of.
	with := `WITH RECURSIVE ` + series + `,
	s AS (SELECT ` + pid + ` AS pid, k % ` + strconv.Itoa(set.Patients) + ` + 1 AS i, CAST(? AS BIGINT) + k * 1000 AS us FROM g),
	t AS (SELECT pid, i, us, ` + id + ` AS id, -7305 + i % 20000 AS day,
		CASE WHEN i % 3 = 0 THEN 'Jones' || CAST(i AS TEXT) ELSE 'Smith' END AS family,
		CASE WHEN i % 3 = 0 THEN 'Bob' ELSE 'Alice' END AS given,
		CASE WHEN i % 3 = 0 THEN 'male' ELSE 'female' END AS gender FROM s),
	v AS (SELECT pid, i, us, id, day, family, given, gender, ` + stampCol + ` AS stamp,
		'{"resourceType":"Patient","id":"' || id || '","meta":{"lastUpdated":"' || ` + stampJSON + ` || '","project":"' || pid ||
		'","versionId":"1"},"birthDate":"' || ` + birth + ` || '","gender":"' || gender ||
		'","identifier":[{"system":"urn:bench","value":"' || CAST(i AS TEXT) || '"}],"name":[{"family":"' || family ||
		'","given":["' || given || '"]}]}' AS content FROM t)
	`
	args := []any{total, set.Project, base}
	stmts := []string{
		`INSERT INTO resources (project_id, resource_type, id, version_id, last_updated, deleted, content)
		SELECT pid, 'Patient', id, 1, stamp, FALSE, content FROM v`,
		`INSERT INTO resource_history (project_id, resource_type, id, version_id, last_updated, deleted, content)
		SELECT pid, 'Patient', id, 1, stamp, FALSE, content FROM v`,
		`INSERT INTO resource_strings (project_id, resource_type, resource_id, updated_us, param, value, raw)
		SELECT pid, 'Patient', id, us, p.param, lower(CASE p.part WHEN 'family' THEN family ELSE given END),
			CASE p.part WHEN 'family' THEN family ELSE given END
		FROM v CROSS JOIN (SELECT 'family' AS param, 'family' AS part UNION ALL SELECT 'given', 'given'
			UNION ALL SELECT 'name', 'family' UNION ALL SELECT 'name', 'given') p`,
		`INSERT INTO resource_tokens (project_id, resource_type, resource_id, updated_us, param, system, code, text)
		SELECT pid, 'Patient', id, us, 'gender', '', gender, '' FROM v
		UNION ALL SELECT pid, 'Patient', id, us, 'identifier', 'urn:bench', CAST(i AS TEXT), '' FROM v`,
		`INSERT INTO resource_dates (project_id, resource_type, resource_id, updated_us, param, start_us, end_us)
		SELECT pid, 'Patient', id, us, 'birthdate', day * 86400000000, (day + 1) * 86400000000 FROM v
		UNION ALL SELECT pid, 'Patient', id, us, '_lastUpdated', us, us + 1 FROM v`,
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if set.Projects > 0 {
			at := time.Now().UTC().Truncate(time.Microsecond)
			err := tx.Exec(`WITH RECURSIVE `+series+` INSERT INTO projects (id, name, created_at, updated_at)
				SELECT CAST(? AS TEXT) || CAST(k AS TEXT), 'Bench project ' || CAST(k AS TEXT), ?, ? FROM g`,
				set.Projects, set.Project, at, at).Error
			if err != nil {
				return fmt.Errorf("projects: %w", err)
			}
		}
		for _, stmt := range stmts {
			if err := tx.Exec(with+stmt, args...).Error; err != nil {
				return fmt.Errorf("%s: %w", strings.Fields(stmt)[2], err)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("bulk load %+v: %v", set, err)
	}
	return total
}

// benchTenant makes a user and a project of theirs, and returns the
// project's store carrying the project row, as the server's handlers do.
func benchTenant(tb testing.TB, sys models.System, email string) models.Tenant {
	tb.Helper()
	u, err := sys.CreateUser(ctx, accounts.NewUser{FirstName: "Bench", LastName: "Mark", Email: email, Password: "correct horse"})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := sys.CreateProject(ctx, u.ID, projects.NewProject{Name: "Bench of " + email})
	if err != nil {
		tb.Fatal(err)
	}
	return sys.Tenant(p.ID).WithProject(p)
}

// project loads the project of ten.
func project(tb testing.TB, ten models.Tenant) projects.Project {
	tb.Helper()
	p, err := ten.Project(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// searchFor runs one search given as a query string.
func searchFor(tb testing.TB, ten models.Tenant, typ, query string) resources.SearchResult {
	tb.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		tb.Fatal(err)
	}
	q, err := resources.ParseSearch(typ, v, false)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := ten.Search(ctx, q)
	if err != nil {
		tb.Fatalf("%s?%s: %v", typ, query, err)
	}
	return res
}

// indexDump lists every index row of a project's patients as text, with the
// resource named by its patient number and the times checked against the
// resource's last update and then left out: rows from the store and from
// bulkLoad compare equal.
func indexDump(t *testing.T, db *gorm.DB, ten models.Tenant) []string {
	t.Helper()
	var ids []struct{ ResourceID, Code string }
	if err := db.Raw(`SELECT resource_id, code FROM resource_tokens WHERE project_id = ? AND param = 'identifier'`,
		ten.ProjectID()).Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	num := map[string]string{}
	stamp := map[string]int64{}
	for _, r := range ids {
		num[r.ResourceID] = r.Code
		res, err := ten.ReadResource(ctx, "Patient", r.ResourceID)
		if err != nil {
			t.Fatal(err)
		}
		stamp[r.ResourceID] = res.LastUpdated.UnixMicro()
	}
	var out []string
	for table, cols := range map[string]string{
		"resource_strings":    "value, raw",
		"resource_tokens":     "system, code, text",
		"resource_dates":      "start_us, end_us",
		"resource_references": "ref_type, ref_id, ref",
	} {
		rows, err := db.Raw(`SELECT resource_type, resource_id, updated_us, param, `+cols+` FROM `+table+` WHERE project_id = ? AND resource_type = 'Patient'`,
			ten.ProjectID()).Rows()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var typ, id, param string
			var us int64
			var a, b any
			c := any(new(string))
			dest := []any{&typ, &id, &us, &param, &a, &b}
			if strings.Count(cols, ",") == 2 {
				dest = append(dest, c)
			}
			if err := rows.Scan(dest...); err != nil {
				t.Fatal(err)
			}
			if us != stamp[id] {
				t.Errorf("%s row %s of %s: updated_us %d, want the last update %d", table, param, id, us, stamp[id])
			}
			if param == "_lastUpdated" && fmt.Sprint(a) == fmt.Sprint(us) && fmt.Sprint(b) == fmt.Sprint(us+1) {
				a, b = "last update", "+1"
			}
			out = append(out, fmt.Sprintf("%s %s patient %s %s %q %q %q", table, typ, num[id], param, fmt.Sprint(a), fmt.Sprint(b), *c.(*string)))
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

// stored is a patient's stored JSON with its id, time and project replaced
// by placeholders, by patient number.
func stored(t *testing.T, ten models.Tenant, n int) map[int]string {
	t.Helper()
	res := searchFor(t, ten, "Patient", "_count=1000")
	out := map[int]string{}
	for _, r := range res.Resources {
		m := decoded(t, r)
		i, err := strconv.Atoi(m["identifier"].([]any)[0].(map[string]any)["value"].(string))
		if err != nil {
			t.Fatal(err)
		}
		meta := metaOf(t, r)
		s := string(r.JSON)
		s = strings.Replace(s, `"id":"`+r.ID+`"`, `"id":"ID"`, 1)
		s = strings.Replace(s, `"lastUpdated":"`+meta["lastUpdated"].(string)+`"`, `"lastUpdated":"LU"`, 1)
		s = strings.Replace(s, `"project":"`+ten.ProjectID()+`"`, `"project":"P"`, 1)
		if want := r.LastUpdated.Format("2006-01-02T15:04:05.000000Z"); meta["lastUpdated"] != want {
			t.Errorf("patient %d: meta.lastUpdated %v, want the stored time %s", i, meta["lastUpdated"], want)
		}
		old, err := ten.ReadResourceVersion(ctx, "Patient", r.ID, "1")
		if err != nil || string(old.JSON) != string(r.JSON) || !old.LastUpdated.Equal(r.LastUpdated) {
			t.Errorf("patient %d: version 1 in the history differs from the current row (%v)", i, err)
		}
		out[i] = s
	}
	if len(out) != n {
		t.Errorf("%d patients found, want %d", len(out), n)
	}
	return out
}

// TestBulkLoaderMatchesStore proves that bulkLoad writes what the store
// writes: the same searches find the same patients, and the stored JSON and
// every index row are the same, as for patients created one by one.
func TestBulkLoaderMatchesStore(t *testing.T) {
	const n = 30
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			store := benchTenant(t, sys, "store@example.org")
			for i := 1; i <= n; i++ {
				testdb.MustCreate(t, store, benchPatient(i))
			}
			bulk := benchTenant(t, sys, "bulk@example.org")
			bulkLoad(t, db.DB, bulkSet{Project: bulk.ProjectID(), Patients: n})
			// Other projects with the same patients must not show.
			bulkLoad(t, db.DB, bulkSet{Project: "bench-", Projects: 3, Patients: n})
			other := sys.Tenant("bench-2")

			birth := time.Unix(0, 0).UTC().AddDate(0, 0, benchBirthDay(7)).Format(time.DateOnly)
			for query, want := range map[string]int{
				"identifier=urn:bench|7":                    1,
				"identifier=7":                              1,
				"identifier=urn:bench|" + strconv.Itoa(n+1): 0,
				"family=smith":                              benchSmiths(n),
				"family:exact=Smith":                        benchSmiths(n),
				"family=jones21":                            1,
				"given=alice":                               benchSmiths(n),
				"name=bob":                                  n - benchSmiths(n),
				"phonetic=smith":                            benchSmiths(n),
				"gender=female":                             benchSmiths(n),
				"gender=male":                               n - benchSmiths(n),
				"family=smith&gender=female":                benchSmiths(n),
				"family=smith&gender=male":                  0,
				"family=smith&gender=female&_count=5&_total=accurate":       benchSmiths(n),
				"family=smith&gender=female&_sort=-_lastUpdated&_count=100": benchSmiths(n),
				"birthdate=" + birth:                   1,
				"_lastUpdated=gt2000-01-01&_count=100": n,
				"_sort=family&_count=100":              n,
			} {
				for _, ten := range []models.Tenant{store, bulk, other} {
					res := searchFor(t, ten, "Patient", query)
					if res.Total != want || !res.Counted {
						t.Errorf("project %s, %s: %d found (counted %v), want %d", ten.ProjectID(), query, res.Total, res.Counted, want)
					}
				}
			}
			// Pages of the family+gender search list the patients in the
			// same order: by last update, which both give in patient order.
			order := func(ten models.Tenant) (out []string) {
				for _, r := range searchFor(t, ten, "Patient", "family=smith&gender=female&_count=100").Resources {
					out = append(out, decoded(t, r)["identifier"].([]any)[0].(map[string]any)["value"].(string))
				}
				return out
			}
			if a, b := order(store), order(bulk); !slices.Equal(a, b) {
				t.Errorf("family+gender in order: store %v, bulk %v", a, b)
			}

			want, got := stored(t, store, n), stored(t, bulk, n)
			for i := 1; i <= n; i++ {
				if want[i] != got[i] {
					t.Errorf("patient %d stored as\n%s\nwant\n%s", i, got[i], want[i])
				}
			}
			a, b := indexDump(t, db.DB, store), indexDump(t, db.DB, bulk)
			if !slices.Equal(a, b) {
				t.Errorf("index rows differ:\nstore %d rows:\n%s\nbulk %d rows:\n%s", len(a), strings.Join(a, "\n"), len(b), strings.Join(b, "\n"))
			}
			if len(a) == 0 {
				t.Error("no index rows")
			}

			// The bulk project's times are distinct and increase with the
			// patient number.
			var us []int64
			if err := db.DB.Raw(`SELECT updated_us FROM resource_tokens WHERE project_id = ? AND param = 'identifier' ORDER BY CAST(code AS INTEGER)`,
				bulk.ProjectID()).Scan(&us).Error; err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(us); i++ {
				if us[i] <= us[i-1] {
					t.Fatalf("updated_us of patient %d is %d, not after %d", i+1, us[i], us[i-1])
				}
			}
		})
	}
}

// benchScale is one population of BenchmarkStore: the measured project
// holds resources patients; projects counts it and the others.
type benchScale struct {
	resources, projects int
	large               bool
}

func BenchmarkStore(b *testing.B) {
	scales := []benchScale{
		{resources: 1000, projects: 1},
		{resources: 100_000, projects: 1, large: true},
		{resources: 1000, projects: 10_000, large: true},
	}
	for _, db := range testdb.All(b) {
		b.Run(db.Name, func(b *testing.B) {
			for _, sc := range scales {
				b.Run(fmt.Sprintf("resources=%d/projects=%d", sc.resources, sc.projects), func(b *testing.B) {
					use := db
					if sc.large {
						if os.Getenv(envBenchLarge) != "1" {
							b.Skipf("set %s=1 to run the large scales", envBenchLarge)
						}
						if db.Name != "postgres" {
							b.Skip("the large scales run on PostgreSQL only")
						}
						use, _ = testdb.Postgres(b)
					}
					benchScaleOps(b, use, sc)
				})
			}
		})
	}
}

// benchStatementTimeout bounds each statement of the measured operations on
// PostgreSQL, so that a search whose plan goes wrong at scale fails the
// benchmark instead of running for hours.
const benchStatementTimeout = 2 * time.Minute

// benchScaleOps loads one scale and measures each operation on it.
func benchScaleOps(b *testing.B, tdb testdb.DB, sc benchScale) {
	db := tdb.DB
	store := db
	if tdb.DSN != "" {
		var err error
		store, err = models.Open(ctx, tdb.DSN+"&statement_timeout="+strconv.Itoa(int(benchStatementTimeout.Milliseconds())), "")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if s, err := store.DB(); err == nil {
				s.Close()
			}
		})
	}
	sys := models.NewSystem(db)
	ten := benchTenant(b, sys, "bench@example.org")
	start := time.Now()
	if sc.projects > 1 {
		// The other projects hold the same patients, so every value the
		// searches look for is also in the index of thousands of projects.
		n := bulkLoad(b, db, bulkSet{Project: "bench-", Projects: sc.projects - 1, Patients: 10})
		b.Logf("loaded %d other projects with %d patients in %v", sc.projects-1, n, time.Since(start).Round(time.Millisecond))
		start = time.Now()
	}
	if sc.resources > 1000 {
		bulkLoad(b, db, bulkSet{Project: ten.ProjectID(), Patients: sc.resources})
	} else {
		for i := 1; i <= sc.resources; i++ {
			if _, err := ten.CreateResource(ctx, "Patient", []byte(benchPatient(i))); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Logf("loaded %d patients in the measured project in %v", sc.resources, time.Since(start).Round(time.Millisecond))
	ten = models.NewSystem(store).Tenant(ten.ProjectID()).WithProject(project(b, ten))

	var ids []string
	if err := db.Raw(`SELECT id FROM resources WHERE project_id = ? AND resource_type = 'Patient'`, ten.ProjectID()).Scan(&ids).Error; err != nil {
		b.Fatal(err)
	}
	if len(ids) != sc.resources {
		b.Fatalf("the measured project holds %d patients, want %d", len(ids), sc.resources)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	search := func(b *testing.B, query string) resources.SearchResult {
		v, err := url.ParseQuery(query)
		if err != nil {
			b.Fatal(err)
		}
		q, err := resources.ParseSearch("Patient", v, false)
		if err != nil {
			b.Fatal(err)
		}
		res, err := ten.Search(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	smiths := benchSmiths(sc.resources)

	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			id := ids[rng.IntN(len(ids))]
			if r, err := ten.ReadResource(ctx, "Patient", id); err != nil || r.ID != id {
				b.Fatalf("read %s: %v", id, err)
			}
		}
	})
	b.Run("search-identifier", func(b *testing.B) {
		for b.Loop() {
			i := 1 + rng.IntN(sc.resources)
			if res := search(b, "identifier=urn:bench|"+strconv.Itoa(i)); len(res.Resources) != 1 {
				b.Fatalf("identifier %d: %d results, want 1", i, len(res.Resources))
			}
		}
	})
	b.Run("search-family-gender", func(b *testing.B) {
		for b.Loop() {
			if res := search(b, "family=smith&gender=female&_count=20"); len(res.Resources) != 20 {
				b.Fatalf("%d results, want 20", len(res.Resources))
			}
		}
	})
	b.Run("search-family-gender-total", func(b *testing.B) {
		for b.Loop() {
			res := search(b, "family=smith&gender=female&_count=20&_total=accurate")
			if len(res.Resources) != 20 || res.Total != smiths {
				b.Fatalf("%d results of %d, want 20 of %d", len(res.Resources), res.Total, smiths)
			}
		}
	})
	// The modifiers that probe each candidate instead of driving the page,
	// and the shaping of the matches.
	for name, query := range map[string]string{
		"search-family-missing":  "family=smith&birthdate:missing=false&_count=20",
		"search-family-not":      "family=smith&gender:not=male&_count=20",
		"search-family-elements": "family=smith&gender=female&_count=20&_elements=name",
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if res := search(b, query); len(res.Resources) != 20 {
					b.Fatalf("%s: %d results, want 20", query, len(res.Resources))
				}
			}
		})
	}
	// Creation runs last: the patients it adds (male, another identifier
	// system) would otherwise grow the project the other operations read.
	b.Run("create", func(b *testing.B) {
		n := 0
		for b.Loop() {
			n++
			body := `{"resourceType":"Patient","identifier":[{"system":"urn:bench-created","value":"` + strconv.Itoa(n) +
				`"}],"name":[{"family":"Created","given":["Carl"]}],"gender":"male","birthDate":"1990-01-01"}`
			if _, err := ten.CreateResource(ctx, "Patient", []byte(body)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
