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

func TestSearchModifiersChainsAndHas(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "chains@example.org")
			name := map[string]string{}
			mk := func(key, body string) string {
				id := testdb.MustCreate(t, ten, body).ID
				name[id] = key
				return id
			}
			ada := mk("ada", `{"resourceType":"Patient","name":[{"family":"Lovelace"}],"gender":"female"}`)
			bob := mk("bob", `{"resourceType":"Patient","name":[{"family":"Babbage"}]}`)
			mk("o1", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1234-5","display":"Pulse rate"}]},"subject":{"reference":"Patient/`+ada+`"}}`)
			mk("o2", `{"resourceType":"Observation","status":"final","code":{"text":"Weight","coding":[{"system":"http://loinc.org","code":"9999-9"}]},"subject":{"reference":"Patient/`+bob+`"}}`)
			mk("o3", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"1234-5"}]}}`)
			mk("q1", `{"resourceType":"Questionnaire","status":"active","url":"http://acme.org/fhir/Questionnaire/intake"}`)
			mk("q2", `{"resourceType":"Questionnaire","status":"active","url":"http://acme.org/fhir/Questionnaire/intake/v2"}`)
			mk("q3", `{"resourceType":"Questionnaire","status":"active","url":"urn:other:questionnaire"}`)

			// Another project: Ada's id with another name, and an observation of it.
			other := testdb.ProjectStore(t, sys, "elsewhere@example.org")
			if _, _, err := other.PutResource(ctx, "Patient", ada, []byte(`{"resourceType":"Patient","id":"`+ada+`","name":[{"family":"Elsewhere"}]}`), ""); err != nil {
				t.Fatal(err)
			}
			testdb.MustCreate(t, other, `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"9999-9"}]},"subject":{"reference":"Patient/`+ada+`"}}`)

			cases := []struct {
				typ, query string
				want       []string
			}{
				{"Patient", "gender:missing=true", []string{"bob"}},
				{"Patient", "gender:missing=false", []string{"ada"}},
				{"Observation", "subject:missing=true", []string{"o3"}},
				{"Observation", "subject:missing=false&code=1234-5", []string{"o1"}},
				{"Observation", "code:not=1234-5", []string{"o2"}},
				{"Observation", "code:not=http://loinc.org|1234-5", []string{"o2", "o3"}},
				{"Observation", "code:not=1234-5&code:not=9999-9", nil},
				{"Observation", "code:text=pulse", []string{"o1"}},
				{"Observation", "code:text=WEIGHT", []string{"o2"}},
				{"Observation", "code:text=rate", nil},
				{"Questionnaire", "url=http://acme.org/fhir/Questionnaire/intake", []string{"q1"}},
				{"Questionnaire", "url=http://acme.org/fhir/Questionnaire", nil},
				{"Questionnaire", "url:below=http://acme.org/fhir/", []string{"q1", "q2"}},
				{"Questionnaire", "url:above=http://acme.org/fhir/Questionnaire/intake/v2/_history/1", []string{"q1", "q2"}},
				{"Questionnaire", "url:above=http://acme.org/fhir/Questionnaire/intake", []string{"q1"}},
				{"Questionnaire", "url:contains=other", []string{"q3"}},
				{"Observation", "subject:Patient.name=lovelace", []string{"o1"}},
				{"Observation", "patient.name=babbage", []string{"o2"}},
				{"Observation", "subject:Patient.gender=female", []string{"o1"}},
				{"Observation", "subject:Patient.gender:missing=true", []string{"o2"}},
				{"Observation", "subject:Patient.name=elsewhere", nil},
				{"Observation", "code=1234-5&subject:Patient.name=lovelace,babbage", []string{"o1"}},
				{"Observation", "subject:Patient.name=lovelace&subject:Patient.name=babbage", nil},
				{"Patient", "_has:Observation:subject:code=1234-5", []string{"ada"}},
				{"Patient", "_has:Observation:subject:code=9999-9", []string{"bob"}},
				{"Patient", "_has:Observation:patient:code:text=weight", []string{"bob"}},
				{"Patient", "_has:Observation:subject:code=1234-5&gender:missing=true", nil},
				{"Patient", "_has:Observation:subject:status=final&name=lov", []string{"ada"}},
			}
			for _, c := range cases {
				for _, extra := range []string{"", "&_total=accurate", "&_sort=-_id&_count=1"} {
					res := searchOf(t, ten, c.typ, c.query+extra)
					var got []string
					for _, r := range res.Resources {
						got = append(got, name[r.ID])
					}
					slices.Sort(got)
					want := c.want
					if extra == "&_sort=-_id&_count=1" && len(want) > 1 {
						got, want = nil, nil // only the page size is known
					}
					if !slices.Equal(got, want) {
						t.Errorf("%s?%s%s: %v, want %v", c.typ, c.query, extra, got, want)
					}
					if extra == "&_total=accurate" && res.Total != len(c.want) {
						t.Errorf("%s?%s%s: total %d, want %d", c.typ, c.query, extra, res.Total, len(c.want))
					}
				}
			}

			// The access policy applies to the resources a chain or _has reads.
			pol, err := ten.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Women only", Rules: []resources.PolicyRule{
				{ResourceType: "Patient", Criteria: "Patient?gender=female"},
				{ResourceType: "Observation", Criteria: "Observation?code=1234-5"},
			}})
			if err != nil {
				t.Fatal(err)
			}
			limited := ten.WithPolicy(&pol)
			if got := searchOf(t, limited, "Observation", "subject:Patient.name=babbage,lovelace").Resources; len(got) != 1 || name[got[0].ID] != "o1" {
				t.Errorf("chain through a patient the policy hides: %d matches", len(got))
			}
			if got := searchOf(t, limited, "Patient", "_has:Observation:subject:status=final").Resources; len(got) != 1 || name[got[0].ID] != "ada" {
				t.Errorf("_has through observations the policy hides: %d matches", len(got))
			}
			hiding, err := ten.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "No names", Rules: []resources.PolicyRule{
				{ResourceType: "Patient", HiddenFields: []string{"name"}},
				{ResourceType: "Observation"},
			}})
			if err != nil {
				t.Fatal(err)
			}
			noObservations, err := ten.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Patients", Rules: []resources.PolicyRule{
				{ResourceType: "Patient"},
			}})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				pol        *resources.AccessPolicy
				typ, query string
			}{
				{&hiding, "Observation", "subject:Patient.name=lovelace"},
				{&noObservations, "Patient", "_has:Observation:subject:code=1234-5"},
			} {
				values, _ := url.ParseQuery(c.query)
				q, err := resources.ParseSearch(c.typ, values, false)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ten.WithPolicy(c.pol).Search(ctx, q); !errors.Is(err, kit.ErrForbidden) {
					t.Errorf("%s?%s under policy %s: %v, want forbidden", c.typ, c.query, c.pol.Name, err)
				}
			}
			if got := searchOf(t, ten.WithPolicy(&hiding), "Observation", "subject:Patient.gender=female").Resources; len(got) != 1 || name[got[0].ID] != "o1" {
				t.Errorf("chain through a field the policy shows: %d matches", len(got))
			}
			// The criteria of a conditional write and a transaction's GET
			// search are searches too: a chain through a hidden field is
			// refused there, and nothing is deleted.
			probe := url.Values{"subject:Patient.name": {"lovelace"}}
			if id, err := ten.WithPolicy(&hiding).DeleteResourceWhere(ctx, "Observation", probe); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("conditional delete through a hidden field: deleted %q, %v; want forbidden", id, err)
			}
			wantCount(t, ten, "Observation", "subject:Patient.name=lovelace", 1)
			_, err = ten.WithPolicy(&hiding).ProcessBundle(ctx, txBundle("transaction",
				`{"request":{"method":"GET","url":"Observation?subject:Patient.name=lovelace"}}`))
			if ee := entryError(t, err); !errors.Is(ee.Err, kit.ErrForbidden) {
				t.Errorf("transaction GET through a hidden field: %v, want forbidden", err)
			}
		})
	}
}
