package models_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// TestSearchSizeIsBounded: a search with hundreds of parameters or tens of
// thousands of values is refused, naming the limit, before it reaches the
// database.
func TestSearchSizeIsBounded(t *testing.T) {
	many := func(n int, value func(i int) string) url.Values {
		v := url.Values{}
		for i := range n {
			v.Add("name", value(i))
		}
		return v
	}
	ids := make([]string, 70_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%d", i)
	}
	cases := map[string]struct {
		q    url.Values
		want string
	}{
		"200 repeated name=": {many(200, func(i int) string { return "a" }), "at most 100 parameters"},
		"2,000 parameters":   {many(2000, func(i int) string { return fmt.Sprint(i) }), "at most 100 parameters"},
		"70,000 _id values":  {url.Values{"_id": {strings.Join(ids, ",")}}, "at most 1000 values"},
	}
	for name, c := range cases {
		_, err := resources.ParseSearch("Patient", c.q, false)
		var qe *resources.QueryError
		if !errors.As(err, &qe) || !strings.Contains(qe.Message, c.want) {
			t.Errorf("%s: %v, want a QueryError saying %q", name, err, c.want)
		}
	}
	if _, err := resources.ParseSearch("Patient", many(100, func(i int) string { return "a" }), false); err != nil {
		t.Errorf("100 parameters refused: %v", err)
	}
}

// TestLongValuesAreIndexed: long strings are legitimate FHIR; a value far
// longer than a database index row can hold is stored and found.
func TestLongValuesAreIndexed(t *testing.T) {
	letters := []rune("abcdefghijklmnopqrstuvwxyzäöüßéèçñ")
	long := make([]rune, 2700)
	for i := range long {
		long[i] = letters[rand.IntN(len(letters))]
	}
	family := "X" + string(long)
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "long@example.org")
			r := testdb.MustCreate(t, ten, fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":%q}],"identifier":[{"value":%q}]}`, family, strings.Repeat("9", 3000)))
			for _, q := range []url.Values{
				{"family": {string([]rune(family)[:20])}},
				{"family:exact": {family}},
				{"family": {family}},
				{"identifier": {strings.Repeat("9", 3000)}},
			} {
				query, err := resources.ParseSearch("Patient", q, false)
				if err != nil {
					t.Fatal(err)
				}
				res, err := ten.Search(ctx, query)
				if err != nil {
					t.Fatalf("%.40s…: %v", q.Encode(), err)
				}
				if len(res.Resources) != 1 || res.Resources[0].ID != r.ID {
					t.Errorf("%.40s…: %d results", q.Encode(), len(res.Resources))
				}
			}
			query, err := resources.ParseSearch("Patient", url.Values{"family:exact": {family + "y"}}, false)
			if err != nil {
				t.Fatal(err)
			}
			if res, err := ten.Search(ctx, query); err != nil || len(res.Resources) != 0 {
				t.Errorf(":exact with one more letter: %d results, %v", len(res.Resources), err)
			}
		})
	}
}

// TestWriteWorkIsBounded: a resource with more searchable values or
// references than the limits is refused (400), not stored at length, and a
// refusal lists a bounded number of issues.
func TestWriteWorkIsBounded(t *testing.T) {
	identifiers := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"value":"%d"}`, i)
		}
		return strings.Join(parts, ",")
	}
	members := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"entity":{"reference":"Patient/missing-%d"}}`, i)
		}
		return strings.Join(parts, ",")
	}
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "bounded@example.org")
			_, err := ten.CreateResource(ctx, "Patient", []byte(`{"resourceType":"Patient","identifier":[`+identifiers(resources.MaxIndexRows+1)+`]}`))
			var re *resources.ResourceError
			if !errors.As(err, &re) || !strings.Contains(re.Error(), "searchable values") {
				t.Errorf("%d identifiers: %v, want a refusal naming the limit", resources.MaxIndexRows+1, err)
			}
			if err := sys.SetProjectFlags(ctx, ten.ProjectID(), true, true); err != nil {
				t.Fatal(err)
			}
			ten = sys.Tenant(ten.ProjectID())
			_, err = ten.CreateResource(ctx, "Group", []byte(`{"resourceType":"Group","type":"person","actual":true,"member":[`+members(resources.MaxReferences+1)+`]}`))
			if !errors.As(err, &re) || !strings.Contains(re.Error(), "references") {
				t.Errorf("%d references: %v, want a refusal naming the limit", resources.MaxReferences+1, err)
			}
			_, err = ten.CreateResource(ctx, "Group", []byte(`{"resourceType":"Group","type":"person","actual":true,"member":[`+members(150)+`]}`))
			if !errors.As(err, &re) || len(re.Issues) != resources.MaxIssues+1 || !strings.Contains(re.Issues[resources.MaxIssues].Message, "50 more") {
				t.Errorf("150 dangling references: %v", err)
			}
		})
	}
}
