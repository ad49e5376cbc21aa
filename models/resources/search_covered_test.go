package resources_test

import (
	"slices"
	"testing"

	"enclave/models/testdb"
)

// coveredData are resources whose parameters are indexed under others
// (fhir.StoredParams), by key.
var coveredData = []struct{ key, body string }{
	{"ann", `{"resourceType":"Patient","name":[{"family":"Zimmer","given":["Ann"]}]}`},
	{"bea", `{"resourceType":"Patient","name":[{"family":"Abbott","given":["Bea"]}]}`},
	{"acme", `{"resourceType":"Organization","name":"Acme Clinic","alias":["Roadrunner"]}`},
	{"bp", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
		"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"unit":"mmHg"}}]}`},
	{"weight", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
		"valueQuantity":{"value":72,"unit":"kg"}}`},
}

// TestSearchCoveredParameters: a parameter whose values are indexed once,
// under the parameters that cover it, finds what its whole expression
// holds, sorts by it, and tells missing from present; rows written under
// its own code before (as an older Enclave wrote them) still count.
func TestSearchCoveredParameters(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten, byID, found := keyedProject(t, db, "covered@example.org", coveredData)
			for _, c := range []struct {
				typ, query string
				want       []string
			}{
				{"Patient", "phonetic=zim", []string{"ann"}},
				{"Patient", "phonetic=bea", []string{"bea"}},
				{"Patient", "phonetic:missing=false", []string{"ann", "bea"}},
				{"Patient", "phonetic:missing=true", nil},
				{"Organization", "name=acme", []string{"acme"}},
				{"Organization", "name=roadrunner", []string{"acme"}},
				{"Organization", "phonetic=roadrunner", nil},
				{"Observation", "combo-code=8480-6", []string{"bp"}},
				{"Observation", "combo-code=http://loinc.org|85354-9", []string{"bp"}},
				{"Observation", "combo-code=29463-7", []string{"weight"}},
				{"Observation", "code=8480-6", nil},
				{"Observation", "combo-value-quantity=120", []string{"bp"}},
				{"Observation", "combo-value-quantity=gt70", []string{"bp", "weight"}},
				{"Observation", "value-quantity=gt70", []string{"weight"}},
				{"Observation", "combo-code-value-quantity=8480-6$120", []string{"bp"}},
				{"Observation", "combo-code-value-quantity=http://loinc.org|29463-7$gt70", []string{"weight"}},
				{"Observation", "combo-code-value-quantity=85354-9$120", nil},
				{"Observation", "code-value-quantity=8480-6$120", nil},
			} {
				if got := found(t, ten, c.typ, c.query); !slices.Equal(got, c.want) {
					t.Errorf("%s?%s found %q, want %q", c.typ, c.query, got, c.want)
				}
			}
			var sorted []string
			for _, r := range searchFor(t, ten, "Patient", "_sort=-phonetic").Resources {
				sorted = append(sorted, byID[r.ID])
			}
			if !slices.Equal(sorted, []string{"ann", "bea"}) {
				t.Errorf("_sort=-phonetic: %q, want ann (Zimmer) before bea (Abbott)", sorted)
			}

			// A Patient indexed as before: its phonetic values in rows of
			// their own, and none under name.
			old := testdb.MustCreate(t, ten, `{"resourceType":"Patient","name":[{"family":"Oldfield"}]}`)
			byID[old.ID] = "old"
			moved := db.DB.Exec(`UPDATE resource_strings SET param = 'phonetic' WHERE project_id = ? AND resource_id = ? AND param = 'name'`,
				ten.ProjectID(), old.ID)
			if moved.Error != nil || moved.RowsAffected != 1 {
				t.Fatalf("move the name row under phonetic: %v (%d rows)", moved.Error, moved.RowsAffected)
			}
			if got := found(t, ten, "Patient", "phonetic=oldf"); !slices.Equal(got, []string{"old"}) {
				t.Errorf("phonetic=oldf found %q in rows written under phonetic", got)
			}
		})
	}
}
