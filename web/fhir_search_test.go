package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"enclave/models/audit"
	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// entriesByMode lists a searchset's entries as "mode Type/id", sorted.
func entriesByMode(b map[string]any) []string {
	var out []string
	for _, e := range asList(b["entry"]) {
		e := e.(map[string]any)
		res, _ := e["resource"].(map[string]any)
		mode, _ := e["search"].(map[string]any)
		out = append(out, fmt.Sprintf("%v %v/%v", mode["mode"], res["resourceType"], res["id"]))
	}
	slices.Sort(out)
	return out
}

func TestFHIRSearchIncludes(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			org := create(t, e.ada, "Organization", `{"resourceType":"Organization","name":"North Clinic"}`)
			pat := create(t, e.ada, "Patient", `{"resourceType":"Patient","name":[{"family":"Okafor"}],"birthDate":"1970-05-05","managingOrganization":{"reference":"Organization/`+org+`"}}`)
			obs := create(t, e.ada, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"bp"},"subject":{"reference":"Patient/`+pat+`"}}`)
			// Bob's project uses the same patient id, with an observation of its own.
			e.bob.API(http.MethodPut, "/fhir/R4/Patient/"+pat, `{"resourceType":"Patient","id":"`+pat+`","name":[{"family":"Intruder"}]}`).Status(http.StatusCreated)
			bobObs := create(t, e.bob, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"bp"},"subject":{"reference":"Patient/`+pat+`"}}`)

			b := e.ada.API(http.MethodGet, "/fhir/R4/Observation?_include=Observation:subject&_include:iterate=Patient:organization&_count=1", "").Status(http.StatusOK).JSON()
			want := []string{"include Organization/" + org, "include Patient/" + pat, "match Observation/" + obs}
			if got := entriesByMode(b); !slices.Equal(got, want) {
				t.Errorf("entries %v, want %v", got, want)
			}
			if u, err := url.Parse(linkURL(b, "self")); err != nil || u.Query().Get("_include") != "Observation:subject" || u.Query().Get("_include:iterate") != "Patient:organization" {
				t.Errorf("self link %q does not keep the includes", linkURL(b, "self"))
			}
			r := e.ada.API(http.MethodGet, "/fhir/R4/Patient?_id="+pat+"&_revinclude=Observation:subject", "").Status(http.StatusOK)
			r.NotContains("Intruder").NotContains(bobObs)
			if got, want := entriesByMode(r.JSON()), []string{"include Observation/" + obs, "match Patient/" + pat}; !slices.Equal(got, want) {
				t.Errorf("revinclude entries %v, want %v", got, want)
			}
			r = e.bob.API(http.MethodGet, "/fhir/R4/Observation?_include=Observation:subject", "").Status(http.StatusOK)
			r.Contains("Intruder").NotContains("Okafor")

			// _summary and _elements.
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?_elements=name", "").Status(http.StatusOK).
				Contains("Okafor").Contains("SUBSETTED").NotContains("birthDate").NotContains("managingOrganization")
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?_summary=count", "").Status(http.StatusOK).Contains(`"total":1`).NotContains(`"entry"`)

			for query, says := range map[string]string{
				"Observation?_include=Patient:organization":    "without :iterate",
				"Observation?_include=Observation:code":        "no reference search parameter",
				"Observation?_include:all=Observation:subject": "Unsupported modifier",
				"Patient?_summary=maybe":                       "_summary must be",
				"Patient?_elements=name.family":                "top-level element",
			} {
				r := e.ada.API(http.MethodGet, "/fhir/R4/"+query, "").Status(http.StatusBadRequest)
				if txt := outcomeText(t, r); !strings.Contains(txt, says) {
					t.Errorf("%s: %q, want it to say %q", query, txt, says)
				}
			}

			// A member whose policy shows Patients without birthDate, and
			// Observations, but no Organizations.
			ten := e.app.Sys.Tenant(e.pA)
			pol, err := ten.CreateAccessPolicy(t.Context(), audit.Actor{}, resources.PolicyInput{Name: "Desk", Rules: []resources.PolicyRule{
				{ResourceType: "Patient", HiddenFields: []string{"birthDate"}},
				{ResourceType: "Observation", ReadOnly: true},
			}})
			if err != nil {
				t.Fatal(err)
			}
			desk := e.policyMember(t, pol.ID)
			r = desk.API(http.MethodGet, "/fhir/R4/Observation?_include=Observation:subject&_include:iterate=Patient:organization", "").Status(http.StatusOK)
			r.Contains("Okafor").NotContains("1970-05-05").NotContains("North Clinic")
			if got, want := entriesByMode(r.JSON()), []string{"include Patient/" + pat, "match Observation/" + obs}; !slices.Equal(got, want) {
				t.Errorf("entries under the policy %v, want %v", got, want)
			}
			desk.API(http.MethodGet, "/fhir/R4/Patient?_include=Patient:organization", "").
				Status(http.StatusOK).NotContains("North Clinic")
		})
	}
}

// policyMember registers desk@example.org and makes it a member of Ada's
// project under the access policy policyID: its API client.
func (e *apiEnv) policyMember(t *testing.T, policyID string) *webtest.Client {
	t.Helper()
	desk := e.app.Client()
	desk.PostForm("/register", url.Values{"firstName": {"Desk"}, "lastName": {"Member"}, "email": {"desk@example.org"}, "password": {"password-123"}}).
		RedirectsTo("/register/project")
	u, err := e.app.Sys.UserByEmail(t.Context(), "desk@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Sys.Tenant(e.pA).AddMember(t.Context(), audit.Actor{}, u.ID, false, &policyID); err != nil {
		t.Fatal(err)
	}
	desk.Header("X-Enclave-Project", e.pA)
	return desk
}

func TestFHIRSearchEndpoints(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			ada := create(t, e.ada, "Patient", `{"resourceType":"Patient","name":[{"family":"Okafor"}]}`)
			obs := create(t, e.ada, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"bp"},"subject":{"reference":"Patient/`+ada+`"}}`)
			create(t, e.ada, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"hr"}}`)
			e.bob.API(http.MethodPut, "/fhir/R4/Patient/"+ada, `{"resourceType":"Patient","id":"`+ada+`","name":[{"family":"Intruder"}]}`).Status(http.StatusCreated)
			create(t, e.bob, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"bob-only"},"subject":{"reference":"Patient/`+ada+`"}}`)

			// POST _search: the form body and the query together.
			r := e.ada.API(http.MethodPost, "/fhir/R4/Observation/_search?status=final", "subject=Patient/"+ada, "Content-Type", "application/x-www-form-urlencoded")
			if got, want := entriesByMode(r.Status(http.StatusOK).JSON()), []string{"match Observation/" + obs}; !slices.Equal(got, want) {
				t.Errorf("POST _search: %v, want %v", got, want)
			}
			e.ada.API(http.MethodPost, "/fhir/R4/Observation/_search", `{"subject":"x"}`).Status(http.StatusUnsupportedMediaType)
			e.ada.API(http.MethodPost, "/fhir/R4/Observation/_search", "nickname=x", "Content-Type", "application/x-www-form-urlencoded").
				Status(http.StatusBadRequest).Contains("Unknown search parameter")

			// Compartment: Ada's observations, never Bob's.
			r = e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+ada+"/Observation", "").Status(http.StatusOK).NotContains("bob-only")
			b := r.JSON()
			if got, want := entriesByMode(b), []string{"match Observation/" + obs}; !slices.Equal(got, want) {
				t.Errorf("compartment: %v, want %v", got, want)
			}
			if self := linkURL(b, "self"); !strings.Contains(self, "/fhir/R4/Patient/"+ada+"/Observation?") {
				t.Errorf("compartment self link %q", self)
			}
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/no-such/Observation", "").Status(http.StatusNotFound)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+ada+"/$meta", "").Status(http.StatusNotFound)
			e.ada.API(http.MethodPut, "/fhir/R4/Patient/"+ada+"/$meta", "{}").Status(http.StatusNotFound)
			e.ada.API(http.MethodPut, "/fhir/R4/Patient/"+ada+"/Observation", "{}").Status(http.StatusMethodNotAllowed)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+ada+"/Organization", "").Status(http.StatusBadRequest).Contains("not in the Patient compartment")
			e.ada.API(http.MethodGet, "/fhir/R4/Observation/"+obs+"/Patient", "").Status(http.StatusBadRequest).Contains("Only the Patient compartment")

			// Across types, and the project's history.
			r = e.ada.API(http.MethodGet, "/fhir/R4?_type=Patient,Observation&_total=accurate", "").Status(http.StatusOK).NotContains("Intruder")
			if b := r.JSON(); b["total"] != float64(3) || len(asList(b["entry"])) != 3 {
				t.Errorf("across types: total %v, %d entries", b["total"], len(asList(b["entry"])))
			}
			e.ada.API(http.MethodGet, "/fhir/R4", "").Status(http.StatusBadRequest).Contains("needs _type")
			e.ada.API(http.MethodGet, "/fhir/R4?_type=Patient,Observation&family=x", "").Status(http.StatusBadRequest).Contains("Unknown search parameter")
			h := e.ada.API(http.MethodGet, "/fhir/R4/_history?_count=2", "").Status(http.StatusOK).NotContains("Intruder").JSON()
			if h["type"] != "history" || h["total"] != float64(4) || len(asList(h["entry"])) != 2 || !hasLink(h, "next") {
				t.Errorf("project history: type %v total %v entries %d", h["type"], h["total"], len(asList(h["entry"])))
			}
			e.ada.API(http.MethodGet, "/fhir/R4/_history?since=2020", "").Status(http.StatusBadRequest)

			// The CapabilityStatement says so.
			cs := e.anon.API(http.MethodGet, "/fhir/R4/metadata", "").Status(http.StatusOK).JSON()
			rest := asList(cs["rest"])[0].(map[string]any)
			var codes []string
			for _, i := range asList(rest["interaction"]) {
				codes = append(codes, i.(map[string]any)["code"].(string))
			}
			if !slices.Equal(codes, []string{"transaction", "batch", "search-system", "history-system"}) {
				t.Errorf("system interactions %v", codes)
			}
		})
	}
}

// TestFHIRSearchQuantity: value-quantity over HTTP, within the project,
// under a member's access policy, and gone with a deleted Observation.
func TestFHIRSearchQuantity(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			kg := `"valueQuantity":{"value":72.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}`
			final := create(t, e.ada, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"weight"},`+kg+`}`)
			draft := create(t, e.ada, "Observation", `{"resourceType":"Observation","status":"preliminary","code":{"text":"weight"},`+kg+`}`)
			heavy := create(t, e.ada, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"weight"},"valueQuantity":{"value":80,"unit":"kg"}}`)
			// Bob's project has the same value: never in Ada's results.
			bobs := create(t, e.bob, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"weight"},`+kg+`}`)

			for query, want := range map[string][]string{
				"value-quantity=72.5":                              {"match Observation/" + draft, "match Observation/" + final},
				"value-quantity=72.5|http://unitsofmeasure.org|kg": {"match Observation/" + draft, "match Observation/" + final},
				"value-quantity=lt75||kg&status=final":             {"match Observation/" + final},
				"value-quantity=ap75||g":                           nil,
			} {
				r := e.ada.API(http.MethodGet, "/fhir/R4/Observation?"+query, "").Status(http.StatusOK).NotContains(bobs)
				slices.Sort(want)
				if got := entriesByMode(r.JSON()); !slices.Equal(got, want) {
					t.Errorf("%s: %v, want %v", query, got, want)
				}
			}
			// The console lists the parameter and searches by it.
			e.adaConsole.Get("/projects/" + e.pA + "/resources/Observation").Status(http.StatusOK).Contains("value-quantity (quantity)")
			e.adaConsole.Get("/projects/" + e.pA + "/resources/Observation?value-quantity=lt75%7C%7Ckg&status=final").Status(http.StatusOK).
				Contains(final).NotContains(draft).NotContains(heavy).NotContains(bobs)
			r := e.ada.API(http.MethodGet, "/fhir/R4/Observation?value-quantity=heavy", "").Status(http.StatusBadRequest)
			if txt := outcomeText(t, r); !strings.Contains(txt, "heavy") {
				t.Errorf("bad quantity: %q", txt)
			}

			// A member whose policy shows final Observations only.
			desk := e.finalOnlyMember(t)
			r = desk.API(http.MethodGet, "/fhir/R4/Observation?value-quantity=72.5", "").Status(http.StatusOK)
			if got, want := entriesByMode(r.JSON()), []string{"match Observation/" + final}; !slices.Equal(got, want) {
				t.Errorf("under the policy: %v, want %v", got, want)
			}

			// Deleted, it is no longer found.
			e.ada.API(http.MethodDelete, "/fhir/R4/Observation/"+final, "").Status(http.StatusOK)
			r = e.ada.API(http.MethodGet, "/fhir/R4/Observation?value-quantity=72.5", "").Status(http.StatusOK)
			if got, want := entriesByMode(r.JSON()), []string{"match Observation/" + draft}; !slices.Equal(got, want) {
				t.Errorf("after the delete: %v, want %v", got, want)
			}
		})
	}
}

// TestFHIRSearchComposite: composite parameters over HTTP; both components
// come from the same Observation.component, within the project, under a
// member's access policy; a malformed value is a 400; the
// CapabilityStatement lists them.
func TestFHIRSearchComposite(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			bp := func(status string, systolic, diastolic int) string {
				return fmt.Sprintf(`{"resourceType":"Observation","status":%q,"code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
					"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":%d,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
					{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":%d,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`,
					status, systolic, diastolic)
			}
			high := create(t, e.ada, "Observation", bp("final", 150, 95))
			normal := create(t, e.ada, "Observation", bp("final", 118, 76))
			draft := create(t, e.ada, "Observation", bp("preliminary", 160, 100))
			// Bob's project has the same values: never in Ada's results.
			bobs := create(t, e.bob, "Observation", bp("final", 150, 95))

			for query, want := range map[string][]string{
				"component-code-value-quantity=http://loinc.org|8480-6$gt140":                {"match Observation/" + high, "match Observation/" + draft},
				"component-code-value-quantity=http://loinc.org|8480-6$gt140&status=final":   {"match Observation/" + high},
				"component-code-value-quantity=8462-4$lt80|http://unitsofmeasure.org|mm[Hg]": {"match Observation/" + normal},
				"combo-code-value-quantity=8462-4$95":                                        {"match Observation/" + high},
				"component-code-value-quantity=8462-4$150":                                   nil, // 150 is the systolic
				"code-value-quantity=http://loinc.org|8480-6$150":                            nil, // a component's, not the resource's
			} {
				r := e.ada.API(http.MethodGet, "/fhir/R4/Observation?"+query, "").Status(http.StatusOK).NotContains(bobs)
				slices.Sort(want)
				if got := entriesByMode(r.JSON()); !slices.Equal(got, want) {
					t.Errorf("%s: %v, want %v", query, got, want)
				}
			}
			for _, bad := range []string{"component-code-value-quantity=8480-6", "component-code-value-quantity=8480-6$high"} {
				r := e.ada.API(http.MethodGet, "/fhir/R4/Observation?"+bad, "").Status(http.StatusBadRequest)
				if txt := outcomeText(t, r); !strings.Contains(txt, "component-code-value-quantity") {
					t.Errorf("%s: %q", bad, txt)
				}
			}
			e.ada.API(http.MethodGet, "/fhir/R4/metadata", "").Status(http.StatusOK).
				Contains(`{"name":"component-code-value-quantity","type":"composite"}`).
				NotContains(`"name":"chromosome-variant-coordinate"`)

			// A member whose policy shows final Observations only.
			desk := e.finalOnlyMember(t)
			r := desk.API(http.MethodGet, "/fhir/R4/Observation?component-code-value-quantity=8480-6$gt140", "").Status(http.StatusOK)
			if got, want := entriesByMode(r.JSON()), []string{"match Observation/" + high}; !slices.Equal(got, want) {
				t.Errorf("under the policy: %v, want %v", got, want)
			}
		})
	}
}

// finalOnlyMember is a member of project A whose access policy shows final
// Observations only, read-only.
func (e *apiEnv) finalOnlyMember(t *testing.T) *webtest.Client {
	t.Helper()
	pol, err := e.app.Sys.Tenant(e.pA).CreateAccessPolicy(t.Context(), audit.Actor{}, resources.PolicyInput{Name: "Final only", Rules: []resources.PolicyRule{
		{ResourceType: "Observation", Criteria: "Observation?status=final", ReadOnly: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return e.policyMember(t, pol.ID)
}
