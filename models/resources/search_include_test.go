package resources_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// searchOf parses query for typ and runs it on store, failing the test on
// any error.
func searchOf(t *testing.T, store models.Tenant, typ, query string) resources.SearchResult {
	t.Helper()
	values, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	q, err := resources.ParseSearch(typ, values, false)
	if err != nil {
		t.Fatalf("%s?%s: %v", typ, query, err)
	}
	res, err := store.Search(ctx, q)
	if err != nil {
		t.Fatalf("%s?%s: %v", typ, query, err)
	}
	return res
}

// keys names resources as Type/id, sorted.
func keys(rs []resources.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Type+"/"+r.ID)
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func TestSearchIncludes(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			full := testdb.ProjectStore(t, sys, "includer@example.org")
			north := testdb.MustCreate(t, full, `{"resourceType":"Organization","name":"North Clinic"}`).ID
			south := testdb.MustCreate(t, full, `{"resourceType":"Organization","name":"South Clinic"}`).ID
			nia := testdb.MustCreate(t, full, `{"resourceType":"Patient","name":[{"family":"Nord","given":["Nia"]}],"birthDate":"1980-01-01","managingOrganization":{"reference":"Organization/`+north+`"}}`).ID
			sam := testdb.MustCreate(t, full, `{"resourceType":"Patient","name":[{"family":"Sud","given":["Sam"]}],"managingOrganization":{"reference":"Organization/`+south+`"}}`).ID
			obsNia := testdb.MustCreate(t, full, `{"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/`+nia+`"}}`).ID
			obsNia2 := testdb.MustCreate(t, full, `{"resourceType":"Observation","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/`+nia+`"},"derivedFrom":[{"reference":"Nonsense/1"}]}`).ID
			obsSam := testdb.MustCreate(t, full, `{"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/`+sam+`"}}`).ID

			// Another project holds a patient with Nia's id, and observations of it.
			other := testdb.ProjectStore(t, sys, "other@example.org")
			if _, _, err := other.PutResource(ctx, "Patient", nia, []byte(`{"resourceType":"Patient","id":"`+nia+`","name":[{"family":"Elsewhere"}]}`), ""); err != nil {
				t.Fatal(err)
			}
			foreign := testdb.MustCreate(t, other, `{"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/`+nia+`"}}`).ID

			cases := []struct {
				typ, query       string
				matches, include []string
			}{
				{"Observation", "_id=" + obsNia + "," + obsSam + "&_include=Observation:subject", sorted("Observation/"+obsNia, "Observation/"+obsSam),
					sorted("Patient/"+nia, "Patient/"+sam)},
				{"Observation", "_id=" + obsNia + "&_include=Observation:subject:Patient", []string{"Observation/" + obsNia}, []string{"Patient/" + nia}},
				{"Observation", "_id=" + obsNia + "&_include=Observation:subject:Group", []string{"Observation/" + obsNia}, nil},
				{"Observation", "_id=" + obsNia + "&_include=Observation:*", []string{"Observation/" + obsNia}, []string{"Patient/" + nia}},
				// A reference to no known type is not followed.
				{"Observation", "_id=" + obsNia2 + "&_include=Observation:*", []string{"Observation/" + obsNia2}, []string{"Patient/" + nia}},
				{"Observation", "_id=" + obsNia + "&_include=Observation:subject&_include:iterate=Patient:organization", []string{"Observation/" + obsNia},
					sorted("Patient/"+nia, "Organization/"+north)},
				// Without :iterate the Patient's organization is not followed.
				{"Observation", "_id=" + obsNia + "&_include=Observation:subject&_revinclude=Patient:organization", []string{"Observation/" + obsNia},
					[]string{"Patient/" + nia}},
				{"Patient", "_id=" + nia + "&_revinclude=Observation:subject", []string{"Patient/" + nia},
					sorted("Observation/"+obsNia, "Observation/"+obsNia2)},
				{"Organization", "_id=" + north + "&_revinclude=Patient:organization&_revinclude:iterate=Observation:subject", []string{"Organization/" + north},
					sorted("Patient/"+nia, "Observation/"+obsNia, "Observation/"+obsNia2)},
				// An included resource that is also a match appears once, as a match.
				{"Observation", "_id=" + obsNia + "&_include=Observation:subject&_revinclude:iterate=Observation:subject", []string{"Observation/" + obsNia},
					sorted("Patient/"+nia, "Observation/"+obsNia2)},
			}
			for _, c := range cases {
				res := searchOf(t, full, c.typ, c.query)
				if got := keys(res.Resources); !slices.Equal(got, c.matches) {
					t.Errorf("%s?%s: matches %v, want %v", c.typ, c.query, got, c.matches)
				}
				if got := keys(res.Included); !slices.Equal(got, c.include) {
					t.Errorf("%s?%s: included %v, want %v", c.typ, c.query, got, c.include)
				}
				for _, r := range res.Included {
					if strings.Contains(string(r.JSON), "Elsewhere") || r.ID == foreign {
						t.Errorf("%s?%s included another project's resource: %s", c.typ, c.query, r.JSON)
					}
				}
			}

			// The other project sees only its own.
			res := searchOf(t, other, "Patient", "_id="+nia+"&_revinclude=Observation:subject")
			if got := keys(res.Included); !slices.Equal(got, []string{"Observation/" + foreign}) {
				t.Errorf("other project's revinclude: %v", got)
			}

			// Under a policy: Patients of the north clinic only, birthDate
			// hidden, Observations readable, Organizations not at all.
			pol, err := full.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "North", Rules: []resources.PolicyRule{
				{ResourceType: "Patient", Criteria: "Patient?organization=Organization/" + north, HiddenFields: []string{"birthDate"}},
				{ResourceType: "Observation", ReadOnly: true},
			}})
			if err != nil {
				t.Fatal(err)
			}
			nurse := full.WithPolicy(&pol)
			res = searchOf(t, nurse, "Observation", "_include=Observation:subject&_include:iterate=Patient:organization")
			if got, want := keys(res.Included), []string{"Patient/" + nia}; !slices.Equal(got, want) {
				t.Errorf("included under the policy: %v, want %v", got, want)
			}
			for _, r := range res.Included {
				if strings.Contains(string(r.JSON), "birthDate") {
					t.Errorf("an included resource shows a hidden field: %s", r.JSON)
				}
			}
			res = searchOf(t, nurse, "Patient", "_revinclude=Observation:subject&_revinclude=Patient:organization")
			if got, want := keys(res.Included), sorted("Observation/"+obsNia, "Observation/"+obsNia2); !slices.Equal(got, want) {
				t.Errorf("revincluded under the policy: %v, want %v", got, want)
			}
		})
	}
}

func TestParseIncludeRefusals(t *testing.T) {
	for _, query := range []string{
		"_include=Patient:organization",           // not the searched type, no :iterate
		"_include=Observation:code",               // not a reference parameter
		"_include=Observation:nothing",            // no such parameter
		"_include=Observation",                    // no parameter
		"_include=Nothing:subject",                // no such type
		"_include=Observation:subject:Nothing",    // no such target
		"_include:deep=Observation:subject",       // no such modifier
		"_revinclude=Observation:subject:Group",   // targets another type, no :iterate
		"_revinclude=Observation:*",               // a wildcard finds no one
		"_revinclude=ValueSet:reference",          // shared definitions reference nothing
		"_summary=maybe",                          // no such summary
		"_elements=name.given",                    // not a top-level element
		"_elements=",                              // empty
		"_include=Observation:subject:Patient:x",  // too many parts
		"_revinclude:iterate=Observation:nothing", // no such parameter
	} {
		values, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		var qe *resources.QueryError
		if _, err := resources.ParseSearch("Observation", values, false); !errors.As(err, &qe) {
			t.Errorf("Observation?%s: %v, want a QueryError", query, err)
		}
	}
}

func TestSearchSummaryAndElements(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "shaper@example.org")
			id := testdb.MustCreate(t, ten, `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Ada</div>"},
				"name":[{"family":"Lovelace"}],"gender":"female","deceasedBoolean":false,"maritalStatus":{"text":"married"},"contact":[{"name":{"family":"Byron"}}]}`).ID
			testdb.MustCreate(t, ten, `{"resourceType":"Patient","name":[{"family":"Babbage"}]}`)

			fields := func(query string) []string {
				t.Helper()
				res := searchOf(t, ten, "Patient", "_id="+id+"&"+query)
				if len(res.Resources) != 1 {
					t.Fatalf("Patient?%s: %d matches", query, len(res.Resources))
				}
				var m map[string]any
				if err := json.Unmarshal(res.Resources[0].JSON, &m); err != nil {
					t.Fatal(err)
				}
				var out []string
				for k := range m {
					out = append(out, k)
				}
				slices.Sort(out)
				subsetted := strings.Contains(string(res.Resources[0].JSON), `"SUBSETTED"`)
				if subsetted != (query != "_summary=false") {
					t.Errorf("Patient?%s: SUBSETTED tag %v", query, subsetted)
				}
				return out
			}
			for query, want := range map[string][]string{
				"_elements=name":                 {"id", "meta", "name", "resourceType"},
				"_elements=name,deceased":        {"deceasedBoolean", "id", "meta", "name", "resourceType"},
				"_summary=true":                  {"deceasedBoolean", "gender", "id", "meta", "name", "resourceType"},
				"_summary=text":                  {"id", "meta", "resourceType", "text"},
				"_summary=data":                  {"contact", "deceasedBoolean", "gender", "id", "maritalStatus", "meta", "name", "resourceType"},
				"_summary=false":                 {"contact", "deceasedBoolean", "gender", "id", "maritalStatus", "meta", "name", "resourceType", "text"},
				"_summary=true&_elements=gender": {"gender", "id", "meta", "resourceType"},
			} {
				if got := fields(query); !slices.Equal(got, want) {
					t.Errorf("Patient?%s: fields %v, want %v", query, got, want)
				}
			}

			res := searchOf(t, ten, "Patient", "_summary=count")
			if len(res.Resources) != 0 || !res.Counted || res.Total != 2 {
				t.Errorf("_summary=count: %d resources, total %d (counted %v), want none and 2", len(res.Resources), res.Total, res.Counted)
			}
		})
	}
}
