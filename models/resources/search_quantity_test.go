package resources_test

import (
	"errors"
	"net/url"
	"slices"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// quantityData are Observations with values (and one RiskAssessment with a
// number), by key.
var quantityData = []struct{ key, body string }{
	{"w54", `{"resourceType":"Observation","status":"final","code":{"text":"weight"},
		"valueQuantity":{"value":5.4,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`},
	{"w540", `{"resourceType":"Observation","status":"final","code":{"text":"weight"},
		"valueQuantity":{"value":5.40,"unit":"kilogram","system":"http://unitsofmeasure.org","code":"kg"}}`},
	{"g5400", `{"resourceType":"Observation","status":"final","code":{"text":"weight"},
		"valueQuantity":{"value":5400,"unit":"g","system":"http://unitsofmeasure.org","code":"g"}}`},
	{"lb12", `{"resourceType":"Observation","status":"final","code":{"text":"weight"},
		"valueQuantity":{"value":12,"unit":"lb"}}`},
	{"neg", `{"resourceType":"Observation","status":"final","code":{"text":"delta"},
		"valueQuantity":{"value":-2.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`},
	{"bp", `{"resourceType":"Observation","status":"final","code":{"text":"bp"},
		"component":[{"code":{"text":"systolic"},"valueQuantity":{"value":120,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`},
	{"none", `{"resourceType":"Observation","status":"final","code":{"text":"note"},"valueString":"fine"}`},
	{"risk", `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/x"},
		"prediction":[{"probabilityDecimal":0.25}]}`},
	{"invoice", `{"resourceType":"Invoice","status":"issued","totalNet":{"value":99.90,"currency":"EUR"}}`},
	{"seq", `{"resourceType":"MolecularSequence","coordinateSystem":0,"variant":[{"start":1200,"end":1210}]}`},
}

func TestSearchNumberAndQuantity(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten, byID, found := keyedProject(t, db, "quantities@example.org", quantityData)
			for _, c := range []struct {
				typ, query string
				want       []string
			}{
				// 5.4 covers [5.35, 5.45); 5.40 is within; 5 covers [4.5, 5.5).
				{"Observation", "value-quantity=5.4", []string{"w54", "w540"}},
				{"Observation", "value-quantity=eq5.4", []string{"w54", "w540"}},
				{"Observation", "value-quantity=5", []string{"w54", "w540"}},
				{"Observation", "value-quantity=5.41", nil},
				{"Observation", "value-quantity=5.4e3", []string{"g5400"}},
				{"Observation", "value-quantity=ne5.4", []string{"g5400", "lb12", "neg"}},
				{"Observation", "value-quantity=gt5.4", []string{"g5400", "lb12"}},
				{"Observation", "value-quantity=ge5.4", []string{"g5400", "lb12", "w54", "w540"}},
				{"Observation", "value-quantity=lt5.4", []string{"neg"}},
				{"Observation", "value-quantity=le5.4", []string{"neg", "w54", "w540"}},
				{"Observation", "value-quantity=lt0", []string{"neg"}},
				{"Observation", "value-quantity=-2.5", []string{"neg"}},
				// 12 covers [11.5, 12.5): the stored 5.4 starts after 5.3's
				// range ends, and 12 ends before 12.5's starts.
				{"Observation", "value-quantity=sa5.3", []string{"g5400", "lb12", "w54", "w540"}},
				{"Observation", "value-quantity=eb12.5", []string{"neg", "w54", "w540"}},
				{"Observation", "value-quantity=eb12", []string{"neg", "w54", "w540"}},
				// ap: within 10%.
				{"Observation", "value-quantity=ap5.0", []string{"w54", "w540"}},
				{"Observation", "value-quantity=ap11", []string{"lb12"}},
				{"Observation", "value-quantity=ap10", nil},
				// Units: system and code, or code or unit without a system.
				{"Observation", "value-quantity=5.4|http://unitsofmeasure.org|kg", []string{"w54", "w540"}},
				{"Observation", "value-quantity=5.4|http://unitsofmeasure.org|g", nil},
				{"Observation", "value-quantity=gt0|http://unitsofmeasure.org|g", []string{"g5400"}},
				{"Observation", "value-quantity=5.4||kg", []string{"w54", "w540"}},
				{"Observation", "value-quantity=5.4||kilogram", []string{"w540"}},
				{"Observation", "value-quantity=12||lb", []string{"lb12"}},
				{"Observation", "value-quantity=12|http://unitsofmeasure.org|lb", nil},
				{"Observation", "value-quantity=gt0|http://unitsofmeasure.org|", []string{"g5400", "w54", "w540"}},
				{"Observation", "value-quantity=5.4,12", []string{"lb12", "w54", "w540"}},
				{"Observation", "value-quantity=gt5&value-quantity=lt13", []string{"lb12", "w54", "w540"}},
				{"Observation", "component-value-quantity=120||mm[Hg]", []string{"bp"}},
				{"Observation", "value-quantity:missing=true", []string{"bp", "none"}},
				{"Observation", "value-quantity:missing=false", []string{"g5400", "lb12", "neg", "w54", "w540"}},
				{"Observation", "value-quantity=gt5&code:text=weight", []string{"g5400", "lb12", "w54", "w540"}},
				{"RiskAssessment", "probability=0.25", []string{"risk"}},
				{"RiskAssessment", "probability=gt0.3", nil},
				{"RiskAssessment", "probability=le0.25", []string{"risk"}},
				{"Invoice", "totalnet=99.9|urn:iso:std:iso:4217|EUR", []string{"invoice"}},
				{"Invoice", "totalnet=99.9||EUR", []string{"invoice"}},
				{"Invoice", "totalnet=99.9||USD", nil},
				{"MolecularSequence", "variant-start=ge1000&variant-end=lt1300", []string{"seq"}},
				{"MolecularSequence", "variant-start=1210", nil},
			} {
				if got := found(t, ten, c.typ, c.query); !slices.Equal(got, c.want) {
					t.Errorf("%s?%s: %v, want %v", c.typ, c.query, got, c.want)
				}
			}

			// Sorting by value: resources without one come last.
			var sorted []string
			for _, r := range searchOf(t, ten, "Observation", "_sort=value-quantity&code:text=weight,delta").Resources {
				sorted = append(sorted, byID[r.ID])
			}
			if want := []string{"neg", "w54", "w540", "lb12", "g5400"}; !slices.Equal(sorted, want) {
				t.Errorf("_sort=value-quantity: %v, want %v", sorted, want)
			}

			for _, bad := range []string{"value-quantity=heavy", "value-quantity=xx5", "value-quantity=5|kg", "value-quantity=NaN",
				"value-quantity=5|a|b|c", "value-quantity=0x10"} {
				v, _ := url.ParseQuery(bad)
				var qe *resources.QueryError
				if _, err := resources.ParseSearch("Observation", v, false); !errors.As(err, &qe) {
					t.Errorf("%s: %v, want a QueryError", bad, err)
				}
			}
			v, _ := url.ParseQuery("probability=0.25||%25")
			if _, err := resources.ParseSearch("RiskAssessment", v, false); err == nil {
				t.Error("a number parameter accepted units")
			}

			// Updates replace the rows, deletion removes them.
			var w54 string
			for id, key := range byID {
				if key == "w54" {
					w54 = id
				}
			}
			if _, err := ten.UpdateResource(ctx, "Observation", w54, []byte(`{"resourceType":"Observation","id":"`+w54+`","status":"final",
				"code":{"text":"weight"},"valueQuantity":{"value":7,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`), ""); err != nil {
				t.Fatal(err)
			}
			if got := found(t, ten, "Observation", "value-quantity=5.4"); !slices.Equal(got, []string{"w540"}) {
				t.Errorf("after the update, value-quantity=5.4: %v", got)
			}
			if got := found(t, ten, "Observation", "value-quantity=7"); !slices.Equal(got, []string{"w54"}) {
				t.Errorf("after the update, value-quantity=7: %v", got)
			}
			if err := ten.DeleteResource(ctx, "Observation", w54); err != nil {
				t.Fatal(err)
			}
			if got := found(t, ten, "Observation", "value-quantity=7"); got != nil {
				t.Errorf("after the delete, value-quantity=7: %v", got)
			}

			// A transaction writes the rows set-based.
			mustTransaction(t, ten,
				post("urn:uuid:1", `{"resourceType":"Observation","status":"final","code":{"text":"t"},"valueQuantity":{"value":33.3,"code":"Cel"}}`),
				post("urn:uuid:2", `{"resourceType":"Observation","status":"final","code":{"text":"t"},"valueQuantity":{"value":33.3,"unit":"C"}}`),
				post("urn:uuid:3", `{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/x"},"prediction":[{"probabilityDecimal":0.75}]}`))
			wantCount(t, ten, "Observation", "value-quantity=33.3", 2)
			wantCount(t, ten, "Observation", "value-quantity=33.3||Cel", 1)
			wantCount(t, ten, "RiskAssessment", "probability=gt0.5", 1)

			// Reverse chaining by a quantity.
			big := testdb.MustCreate(t, ten, `{"resourceType":"Patient","name":[{"family":"Big"}]}`).ID
			small := testdb.MustCreate(t, ten, `{"resourceType":"Patient","name":[{"family":"Small"}]}`).ID
			for id, kg := range map[string]string{big: "150", small: "50"} {
				testdb.MustCreate(t, ten, `{"resourceType":"Observation","status":"final","code":{"text":"weight"},
					"subject":{"reference":"Patient/`+id+`"},"valueQuantity":{"value":`+kg+`,"system":"http://unitsofmeasure.org","code":"kg"}}`)
			}
			if got := keys(searchOf(t, ten, "Patient", "_has:Observation:subject:value-quantity=gt100|http://unitsofmeasure.org|kg").Resources); !slices.Equal(got, []string{"Patient/" + big}) {
				t.Errorf("_has by value-quantity: %v, want Patient/%s", got, big)
			}
		})
	}
}

// TestQuantitySearchUnderPolicy: a policy's criteria limit a quantity
// search, and a quantity criterion limits what a member sees.
func TestQuantitySearchUnderPolicy(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			full := testdb.ProjectStore(t, models.NewSystem(db.DB), "owner@example.org")
			light := testdb.MustCreate(t, full, `{"resourceType":"Observation","status":"final","code":{"text":"weight"},
				"valueQuantity":{"value":4,"system":"http://unitsofmeasure.org","code":"kg"}}`).ID
			testdb.MustCreate(t, full, `{"resourceType":"Observation","status":"preliminary","code":{"text":"weight"},
				"valueQuantity":{"value":4,"system":"http://unitsofmeasure.org","code":"kg"}}`)
			heavy := testdb.MustCreate(t, full, `{"resourceType":"Observation","status":"final","code":{"text":"weight"},
				"valueQuantity":{"value":90,"system":"http://unitsofmeasure.org","code":"kg"}}`).ID
			for _, c := range []struct {
				criteria, query string
				want            []string
			}{
				{"Observation?status=final", "value-quantity=4", []string{light}},
				{"Observation?value-quantity=lt50|http://unitsofmeasure.org|kg", "status=final", []string{light}},
				{"Observation?value-quantity=gt50", "value-quantity=4", nil},
			} {
				member := observationMember(t, full, c.criteria, c.criteria)
				if got := keys(searchOf(t, member, "Observation", c.query).Resources); !slices.Equal(got, obsKeys(c.want)) {
					t.Errorf("policy %s, search %s: %v, want %v", c.criteria, c.query, got, c.want)
				}
				if c.criteria == "Observation?value-quantity=gt50" {
					if _, err := member.ReadResource(ctx, "Observation", light); !errors.Is(err, kit.ErrNotFound) {
						t.Errorf("read outside the quantity criteria: %v", err)
					}
					if _, err := member.ReadResource(ctx, "Observation", heavy); err != nil {
						t.Errorf("read inside the quantity criteria: %v", err)
					}
				}
			}
		})
	}
}

// obsKeys are ids as keys names them.
func obsKeys(ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, "Observation/"+id)
	}
	slices.Sort(out)
	return out
}

// keyedProject creates data in a new project of owner's, and the same in
// another project, never seen from it; found lists the keys of what a
// search of the project finds, sorted, and fails on any resource of the
// other project.
func keyedProject(t *testing.T, db testdb.DB, owner string, data []struct{ key, body string }) (models.Tenant, map[string]string, func(*testing.T, models.Tenant, string, string) []string) {
	sys := models.NewSystem(db.DB)
	ten := testdb.ProjectStore(t, sys, owner)
	other := testdb.ProjectStore(t, sys, "elsewhere@example.org")
	for _, d := range data {
		testdb.MustCreate(t, other, d.body)
	}
	byID := map[string]string{}
	for _, d := range data {
		byID[testdb.MustCreate(t, ten, d.body).ID] = d.key
	}
	found := func(t *testing.T, store models.Tenant, typ, query string) []string {
		t.Helper()
		var got []string
		for _, r := range searchOf(t, store, typ, query).Resources {
			key, ok := byID[r.ID]
			if !ok {
				t.Errorf("%s?%s found %s/%s, not one of this project's", typ, query, r.Type, r.ID)
			}
			got = append(got, key)
		}
		slices.Sort(got)
		return got
	}
	return ten, byID, found
}

// mustTransaction processes a transaction Bundle of the entries, which must
// answer one entry each.
func mustTransaction(t *testing.T, store models.Tenant, entries ...string) {
	t.Helper()
	res, err := store.ProcessBundle(ctx, txBundle("transaction", entries...))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != len(entries) {
		t.Fatalf("transaction answered %d entries, want %d", len(res.Entries), len(entries))
	}
}

// wantCount checks how many resources a search finds.
func wantCount(t *testing.T, store models.Tenant, typ, query string, want int) {
	t.Helper()
	if n := len(searchOf(t, store, typ, query).Resources); n != want {
		t.Errorf("%s?%s: %d, want %d", typ, query, n, want)
	}
}

// observationMember is store under a new access policy, named name, that
// shows the Observations of criteria only.
func observationMember(t *testing.T, store models.Tenant, name, criteria string) models.Tenant {
	t.Helper()
	pol, err := store.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: name, Rules: []resources.PolicyRule{
		{ResourceType: "Observation", Criteria: criteria},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return store.WithPolicy(&pol)
}
