package resources_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// TestPipelinedReadsKeepTheWall shows that the pipelined hot paths run
// behind row-level security like the transactions do: SQL that forgets the
// project filter still sees only the project's own rows.
func TestPipelinedReadsKeepTheWall(t *testing.T) {
	db, ok := testdb.Postgres(t)
	if !ok {
		t.Skip("row-level security exists only on PostgreSQL")
	}
	sys := models.NewSystem(db.DB)
	a := testdb.ProjectStore(t, sys, "a@example.org")
	b := testdb.ProjectStore(t, sys, "b@example.org")
	testdb.MustCreate(t, a, `{"resourceType":"Patient","name":[{"family":"Alpha"}]}`)
	testdb.MustCreate(t, b, `{"resourceType":"Patient","name":[{"family":"Beta"}]}`)
	got, err := b.PipelinedStrings(ctx, `SELECT value FROM resource_strings WHERE param = 'family' AND resource_type = 'Patient'`)
	if err != nil || !slices.Equal(got, []string{"beta"}) {
		t.Errorf("unfiltered SELECT in B's pipeline: %v %v, want only [beta]", got, err)
	}
	got, err = b.PipelinedStrings(ctx, `SELECT current_user::text`)
	if err != nil || !slices.Equal(got, []string{"enclave_tenant"}) {
		t.Errorf("pipeline runs as %v %v, want enclave_tenant", got, err)
	}
}

// TestSearchPlansWithoutStatistics shows that PostgreSQL plans the common
// searches the intended way on tables it has never analyzed (as a fresh
// server, or one whose autovacuum is off or behind, has them): the page is
// read from the driving filter's index in result order, other filters and
// the resource rows are look-ups by id, nothing scans or sorts a table.
func TestSearchPlansWithoutStatistics(t *testing.T) {
	db, ok := testdb.Postgres(t)
	if !ok {
		t.Skip("plans are PostgreSQL's")
	}
	sys := models.NewSystem(db.DB)
	ten := testdb.ProjectStore(t, sys, "plans@example.org")
	for i := range 300 {
		family, gender := "Smith", "female"
		if i%3 == 0 {
			family, gender = fmt.Sprintf("Jones%d", i), "male"
		}
		testdb.MustCreate(t, ten, fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":%q}],"gender":%q,"birthDate":"1970-01-%02d",
			"identifier":[{"system":"urn:plan","value":"%d"}]}`, family, gender, 1+i%28, i))
	}
	var analyzed int64
	if err := db.DB.Raw(`SELECT COUNT(*) FROM pg_stat_user_tables WHERE relname LIKE 'resource%'
		AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL) AND schemaname = current_schema()`).Scan(&analyzed).Error; err != nil {
		t.Fatal(err)
	}
	if analyzed > 0 {
		t.Fatalf("%d resource tables have statistics; this test needs tables never analyzed", analyzed)
	}
	cases := []struct {
		query     string
		want      []string // every one of these indexes is used
		forbidden []string // none of these plan nodes appears ("Sort  (" is a sort node, not a Merge Append's key)
	}{
		// Two candidate drivers: the statement counts a sample of each and
		// reads from one (the other branch, with its sort, never runs).
		{"family=smith&gender=female&_count=20", []string{"resource_tokens_code", "resource_strings_owner", "resource_strings_value", "resources_pkey"}, []string{"Seq Scan", "Hash", "Filter: ((value ~>=~"}},
		{"identifier=urn:plan|7", []string{"resource_tokens_code", "resources_pkey"}, []string{"Seq Scan", "Sort  (", "Hash"}},
		{"gender=female&identifier=urn:plan|7", []string{"resource_tokens_code", "resource_tokens_owner", "resources_pkey"}, []string{"Seq Scan", "Sort  (", "Hash"}},
		{"family=jones1", []string{"Index Cond: ((project_id", "value ~>=~", "resources_pkey"}, []string{"Seq Scan", "Hash", "Filter: ((value ~>=~"}},
		{"birthdate=1970-01-05&gender=male", []string{"resource_tokens_code", "resource_dates_owner", "resources_pkey"}, []string{"Seq Scan", "Hash"}},
		{"_sort=-_lastUpdated", []string{"resources_updated"}, []string{"Seq Scan", "Sort  (", "Hash"}},
		{"_count=0&_total=accurate&family=smith&gender=female", []string{"resource_tokens_code", "resource_strings_owner"}, []string{"Seq Scan", "Hash Join"}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			v, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			q, err := resources.ParseSearch("Patient", v, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, generic := range []bool{false, true} {
				plan, err := ten.ExplainSearch(ctx, q, generic)
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range c.want {
					if !strings.Contains(plan, w) {
						t.Errorf("generic %v: plan does not use %s:\n%s", generic, w, plan)
					}
				}
				for _, f := range c.forbidden {
					if strings.Contains(plan, f) {
						t.Errorf("generic %v: plan has %s:\n%s", generic, f, plan)
					}
				}
			}
		})
	}
}

// TestSQLiteSearchPlans is TestSearchPlansWithoutStatistics for SQLite,
// which prefers an index that covers a query to one that narrows it: the
// probes must still look a resource up by its id.
func TestSQLiteSearchPlans(t *testing.T) {
	ten := testdb.ProjectStore(t, models.NewSystem(testdb.SQLite(t).DB), "plans@example.org")
	for i := range 30 {
		testdb.MustCreate(t, ten, fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"Smith"}],"gender":"female","identifier":[{"system":"urn:plan","value":"%d"}]}`, i))
	}
	for query, want := range map[string][]string{
		"family=smith&gender=female&_count=20":                    {"resource_tokens_code", "resource_strings_owner (resource_id=? AND project_id=?)"},
		"_count=0&_total=accurate&family=smith&gender=female":     {"resource_tokens_code", "resource_strings_owner (resource_id=? AND project_id=?)"},
		"_sort=family&gender=female":                              {"resource_tokens_code", "resource_strings_owner (resource_id=? AND project_id=?)"},
		"identifier=urn:plan|3&_sort=-_lastUpdated&gender=female": {"resource_tokens_code", "resource_tokens_owner (resource_id=? AND project_id=?)"},
	} {
		v, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		q, err := resources.ParseSearch("Patient", v, false)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := ten.ExplainSearch(ctx, q, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan does not use %s:\n%s", query, w, plan)
			}
		}
		if strings.Contains(plan, "SCAN x") || strings.Contains(plan, "SCAN d") {
			t.Errorf("%s: plan scans an index table:\n%s", query, plan)
		}
	}
}

// TestDriverChoice shows that a search reads its page from the filter with
// the fewest matches, counted on a sample, and from the best-ranked one
// (ordered by update) when both have many; and that either way the page is
// right.
func TestDriverChoice(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "driver@example.org")
			for i := range 130 {
				testdb.MustCreate(t, ten, fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"Smith%d"}],"gender":"female"}`, i))
			}
			rare := testdb.MustCreate(t, ten, `{"resourceType":"Patient","name":[{"family":"Rare"}],"gender":"female"}`)
			for query, want := range map[string]string{"family=rare&gender=female": "family", "family=smith&gender=female": "gender"} {
				v, err := url.ParseQuery(query)
				if err != nil {
					t.Fatal(err)
				}
				q, err := resources.ParseSearch("Patient", v, false)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := ten.ChosenDriver(ctx, q); err != nil || got != want {
					t.Errorf("%s: driver %q %v, want %q", query, got, err, want)
				}
				res, err := ten.Search(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if query == "family=rare&gender=female" && (len(res.Resources) != 1 || res.Resources[0].ID != rare.ID) {
					t.Errorf("%s: %d resources", query, len(res.Resources))
				}
				if query == "family=smith&gender=female" && (len(res.Resources) != 20 || !res.More) {
					t.Errorf("%s: %d resources, more %v", query, len(res.Resources), res.More)
				}
			}
		})
	}
}
