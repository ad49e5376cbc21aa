package resources_test

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"enclave/models"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// compositeData are Observations with codes and values, by key: "mixed"
// has systolic 120 and diastolic 80 in its components, so a diastolic of
// 120 is found only by pairing one component's code with another's value.
var compositeData = []struct{ key, body string }{
	{"bp", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
		"component":[
			{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":140,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
			{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":90,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`},
	{"mixed", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
		"component":[
			{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
			{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":80,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
			{"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"271636001"}]}}]}`},
	{"weight", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
		"valueQuantity":{"value":72.5,"system":"http://unitsofmeasure.org","code":"kg"}}`},
	{"smoker", `{"resourceType":"Observation","status":"preliminary","code":{"coding":[{"system":"http://loinc.org","code":"72166-2"}]},
		"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"449868002"}]}}`},
	{"note", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8251-1"}]},"valueString":"Feeling Well"}`},
	{"onset", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"11368-8"}]},"valueDateTime":"2024-03-05"}`},
}

func TestSearchComposite(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten, byID, foundIn := keyedProject(t, db, "composites@example.org", compositeData)
			found := func(t *testing.T, query string) []string {
				t.Helper()
				return foundIn(t, ten, "Observation", query)
			}
			for _, c := range []struct {
				query string
				want  []string
			}{
				{"code-value-quantity=http://loinc.org|29463-7$72.5", []string{"weight"}},
				{"code-value-quantity=29463-7$gt70|http://unitsofmeasure.org|kg", []string{"weight"}},
				{"code-value-quantity=29463-7$lt70", nil},
				{"code-value-quantity=http://loinc.org|8480-6$gt100", nil}, // a component's code is not the resource's
				{"code-value-concept=72166-2$http://snomed.info/sct|449868002", []string{"smoker"}},
				{"code-value-concept=72166-2$271636001", nil},
				{"code-value-string=8251-1$feeling", []string{"note"}},
				{"code-value-string=8251-1$well", nil},
				{"code-value-date=11368-8$2024-03", []string{"onset"}},
				{"code-value-date=11368-8$gt2024-04", nil},
				{"component-code-value-quantity=http://loinc.org|8480-6$gt100", []string{"bp", "mixed"}},
				{"component-code-value-quantity=http://loinc.org|8480-6$gt130", []string{"bp"}},
				{"component-code-value-quantity=8462-4$80", []string{"mixed"}},
				// 8462-4 is 80 in mixed and 120 is its other component's value.
				{"component-code-value-quantity=8462-4$120", nil},
				{"component-code-value-quantity=8462-4$120,8480-6$120", []string{"mixed"}},
				{"component-code-value-quantity=29463-7$72.5", nil}, // top-level, not a component
				{"component-code-value-concept=8867-4$271636001", []string{"mixed"}},
				{"component-code-value-concept=8480-6$271636001", nil},
				{"combo-code-value-quantity=29463-7$72.5", []string{"weight"}},
				{"combo-code-value-quantity=8480-6$140", []string{"bp"}},
				{"combo-code-value-quantity=8462-4$140", nil},
				{"combo-code-value-concept=72166-2$449868002", []string{"smoker"}},
				{"combo-code-value-concept=8867-4$271636001", []string{"mixed"}},
				// With other parameters, and both of one composite (AND).
				{"component-code-value-quantity=8480-6$gt100&status=final", []string{"bp", "mixed"}},
				{"component-code-value-quantity=8480-6$gt100&component-code-value-quantity=8462-4$lt85", []string{"mixed"}},
				{"combo-code-value-quantity:missing=true", []string{"note", "onset", "smoker"}},
			} {
				if got := found(t, c.query); !slices.Equal(got, c.want) {
					t.Errorf("%s: %v, want %v", c.query, got, c.want)
				}
			}

			// Other types' composites: a Group's characteristic, a
			// definition's use context.
			group := testdb.MustCreate(t, ten, `{"resourceType":"Group","type":"person","actual":true,"characteristic":[
				{"code":{"coding":[{"system":"http://snomed.info/sct","code":"263495000"}]},"valueCodeableConcept":{"coding":[{"code":"female"}]},"exclude":false},
				{"code":{"coding":[{"code":"smoker"}]},"valueCodeableConcept":{"coding":[{"code":"no"}]},"exclude":false}]}`).ID
			if got := keys(searchOf(t, ten, "Group", "characteristic-value=263495000$female").Resources); !slices.Equal(got, []string{"Group/" + group}) {
				t.Errorf("characteristic-value: %v", got)
			}
			if got := keys(searchOf(t, ten, "Group", "characteristic-value=263495000$no").Resources); got != nil {
				t.Errorf("characteristic-value across characteristics: %v", got)
			}
			vs := testdb.MustCreate(t, ten, `{"resourceType":"Questionnaire","status":"active","useContext":[
				{"code":{"system":"http://terminology.hl7.org/CodeSystem/usage-context-type","code":"age"},"valueQuantity":{"value":18,"code":"a"}}]}`).ID
			if got := keys(searchOf(t, ten, "Questionnaire", "context-type-quantity=age$ge18").Resources); !slices.Equal(got, []string{"Questionnaire/" + vs}) {
				t.Errorf("context-type-quantity: %v", got)
			}

			for _, bad := range []string{"code-value-quantity=8480-6", "code-value-quantity=8480-6$heavy", "code-value-quantity=8480-6$1$2",
				"code-value-quantity=$5", "code-value-date=x$2024-13-45", "code-value-quantity:exact=a$1", "_sort=code-value-quantity",
				"code-value-quantity=a$xx5"} {
				v, _ := url.ParseQuery(bad)
				var qe *resources.QueryError
				if _, err := resources.ParseSearch("Observation", v, false); !errors.As(err, &qe) {
					t.Errorf("%s: %v, want a QueryError", bad, err)
				}
			}

			// Updates replace the rows; a transaction writes them set-based.
			var weight string
			for id, key := range byID {
				if key == "weight" {
					weight = id
				}
			}
			if _, err := ten.UpdateResource(ctx, "Observation", weight, []byte(`{"resourceType":"Observation","id":"`+weight+`","status":"final",
				"code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"valueQuantity":{"value":80,"system":"http://unitsofmeasure.org","code":"kg"}}`), ""); err != nil {
				t.Fatal(err)
			}
			if got := found(t, "code-value-quantity=29463-7$72.5"); got != nil {
				t.Errorf("after the update, the old value: %v", got)
			}
			if got := found(t, "code-value-quantity=29463-7$80"); !slices.Equal(got, []string{"weight"}) {
				t.Errorf("after the update, the new value: %v", got)
			}
			mustTransaction(t, ten,
				post("urn:uuid:1", `{"resourceType":"Observation","status":"final","code":{"coding":[{"code":"x1"}]},
					"component":[{"code":{"coding":[{"code":"c1"}]},"valueQuantity":{"value":5}},{"code":{"coding":[{"code":"c2"}]},"valueQuantity":{"value":6}}]}`),
				post("urn:uuid:2", `{"resourceType":"Patient","name":[{"family":"Plain"}]}`))
			wantCount(t, ten, "Observation", "component-code-value-quantity=c2$6", 1)
			wantCount(t, ten, "Observation", "component-code-value-quantity=c2$5", 0)
		})
	}
}

// TestCompositeSearchUnderPolicy: a policy's criteria still apply to a
// composite search, and a composite criterion limits what a member sees.
func TestCompositeSearchUnderPolicy(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			full := testdb.ProjectStore(t, models.NewSystem(db.DB), "owner@example.org")
			ids := map[string]string{}
			for _, d := range compositeData {
				ids[d.key] = testdb.MustCreate(t, full, d.body).ID
			}
			for i, c := range []struct {
				criteria, query string
				want            []string
			}{
				{"Observation?status=preliminary", "combo-code-value-concept=72166-2$449868002,8867-4$271636001", []string{ids["smoker"]}},
				{"Observation?component-code-value-quantity=8480-6$gt130", "status=final", []string{ids["bp"]}},
				{"Observation?component-code-value-quantity=8480-6$gt130", "component-code-value-quantity=8462-4$80", nil},
			} {
				member := observationMember(t, full, fmt.Sprintf("policy %d", i), c.criteria)
				if got := keys(searchOf(t, member, "Observation", c.query).Resources); !slices.Equal(got, obsKeys(c.want)) {
					t.Errorf("policy %s, search %s: %v, want %v", c.criteria, c.query, got, c.want)
				}
			}
		})
	}
}
