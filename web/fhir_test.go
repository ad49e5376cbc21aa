package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"enclave/models/audit"
	"enclave/models/members"
	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// apiEnv is two users, each with a project, calling the API for it.
type apiEnv struct {
	app        *webtest.App
	ada, bob   *webtest.Client
	pA, pB     string
	anon       *webtest.Client
	adaConsole *webtest.Client // Ada's browser without the project header
}

func newAPIEnv(t *testing.T, db testdb.DB) *apiEnv {
	t.Helper()
	app := webtest.New(t, db)
	ada, pA := app.SignUp("ada@example.org", "Alpha")
	bob, pB := app.SignUp("bob@example.org", "Beta")
	ada.Header("X-Enclave-Project", pA)
	bob.Header("X-Enclave-Project", pB)
	adaConsole := app.Client()
	adaConsole.SignIn("ada@example.org")
	return &apiEnv{app: app, ada: ada, bob: bob, pA: pA, pB: pB, anon: app.Client(), adaConsole: adaConsole}
}

// create posts body as c and returns the new resource's id.
func create(t *testing.T, c *webtest.Client, typ, body string) string {
	t.Helper()
	r := c.API(http.MethodPost, "/fhir/R4/"+typ, body).Status(http.StatusCreated)
	id, _ := r.JSON()["id"].(string)
	if id == "" {
		t.Fatalf("created %s has no id: %s", typ, r.Body)
	}
	return id
}

// outcomeText joins the details.text and expressions of an OperationOutcome.
func outcomeText(t *testing.T, r *webtest.Response) string {
	t.Helper()
	m := r.JSON()
	if m["resourceType"] != "OperationOutcome" {
		t.Fatalf("not an OperationOutcome: %s", r.Body)
	}
	var parts []string
	issues, _ := m["issue"].([]any)
	if len(issues) == 0 {
		t.Fatalf("OperationOutcome without issues: %s", r.Body)
	}
	for _, is := range issues {
		is := is.(map[string]any)
		if is["severity"] == nil || is["code"] == nil {
			t.Errorf("issue lacks severity or code: %v", is)
		}
		d, _ := is["details"].(map[string]any)
		parts = append(parts, fmt.Sprint(d["text"]))
		for _, e := range asList(is["expression"]) {
			parts = append(parts, "@"+fmt.Sprint(e))
		}
	}
	return strings.Join(parts, " | ")
}

func asList(v any) []any { l, _ := v.([]any); return l }

func TestFHIRCreateReadUpdateDelete(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			r := e.ada.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","name":[{"family":"Lovelace"}]}`).Status(http.StatusCreated)
			if ct := r.Header("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
				t.Errorf("Content-Type %q", ct)
			}
			p := r.JSON()
			id := p["id"].(string)
			meta := p["meta"].(map[string]any)
			if meta["versionId"] != "1" || meta["project"] != e.pA {
				t.Errorf("meta %v", meta)
			}
			if loc := r.Header("Location"); !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/fhir/R4/Patient/` + id + `/_history/1$`).MatchString(loc) {
				t.Errorf("Location %q", loc)
			}
			if r.Header("ETag") != `W/"1"` {
				t.Errorf("ETag %q", r.Header("ETag"))
			}

			read := e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id, "").Status(http.StatusOK)
			if read.Header("ETag") != `W/"1"` || read.Header("Last-Modified") == "" || read.JSON()["id"] != id {
				t.Errorf("read: ETag %q, Last-Modified %q", read.Header("ETag"), read.Header("Last-Modified"))
			}

			body := `{"resourceType":"Patient","id":"` + id + `","name":[{"family":"Byron"}]}`
			e.ada.API(http.MethodPut, "/fhir/R4/Patient/"+id, body, "If-Match", `W/"7"`).Status(http.StatusPreconditionFailed)
			for _, garbage := range []string{"garbage", `W/"abc"`, `*`} {
				r := e.ada.API(http.MethodPut, "/fhir/R4/Patient/"+id, body, "If-Match", garbage).Status(http.StatusBadRequest)
				if txt := outcomeText(t, r); !strings.Contains(txt, "If-Match") {
					t.Errorf("If-Match %q: %q", garbage, txt)
				}
			}
			up := e.ada.API(http.MethodPut, "/fhir/R4/Patient/"+id, body, "If-Match", `W/"1"`).Status(http.StatusOK)
			if up.Header("ETag") != `W/"2"` || !strings.Contains(up.Body, "Byron") {
				t.Errorf("update: ETag %q body %s", up.Header("ETag"), up.Body)
			}
			e.ada.API(http.MethodPut, "/fhir/R4/Patient/"+id, body).Status(http.StatusOK).Contains(`"versionId":"3"`)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id+"/_history/1", "").Status(http.StatusOK).Contains("Lovelace")
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id+"/_history/2", "").Status(http.StatusOK).Contains("Byron")

			e.ada.API(http.MethodDelete, "/fhir/R4/Patient/"+id, "").Status(http.StatusOK)
			gone := e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id, "").Status(http.StatusGone)
			if txt := outcomeText(t, gone); !strings.Contains(txt, "deleted") {
				t.Errorf("410 says %q", txt)
			}
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id+"/_history/4", "").Status(http.StatusGone)
			e.ada.API(http.MethodDelete, "/fhir/R4/Patient/"+id, "").Status(http.StatusGone)

			h := e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id+"/_history", "").Status(http.StatusOK).JSON()
			if h["type"] != "history" || h["total"] != float64(4) {
				t.Fatalf("history bundle: %v", h)
			}
			entries := asList(h["entry"])
			methods := ""
			for _, en := range entries {
				en := en.(map[string]any)
				methods += en["request"].(map[string]any)["method"].(string) + " "
				if _, has := en["resource"]; has == (en["request"].(map[string]any)["method"] == "DELETE") {
					t.Errorf("entry %v: resource present must mean not deleted", en)
				}
			}
			if methods != "DELETE PUT PUT POST " {
				t.Errorf("history methods %q, want newest first DELETE PUT PUT POST", methods)
			}
			create(t, e.ada, "Patient", `{"resourceType":"Patient"}`)
			th := e.ada.API(http.MethodGet, "/fhir/R4/Patient/_history?_count=2", "").Status(http.StatusOK).JSON()
			if th["total"] != float64(5) || len(asList(th["entry"])) != 2 || !hasLink(th, "next") {
				t.Errorf("type history: total %v, %d entries, links %v", th["total"], len(asList(th["entry"])), th["link"])
			}

			// A PUT brings the deleted resource back as its next version.
			back := e.ada.API(http.MethodPut, "/fhir/R4/Patient/"+id, body).Status(http.StatusCreated)
			if back.Header("ETag") != `W/"5"` || !strings.HasSuffix(back.Header("Location"), "/Patient/"+id+"/_history/5") {
				t.Errorf("resurrected: ETag %q, Location %q", back.Header("ETag"), back.Header("Location"))
			}
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id, "").Status(http.StatusOK).Contains("Byron").Contains(`"versionId":"5"`)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id+"/_history/4", "").Status(http.StatusGone)
		})
	}
}

func hasLink(bundle map[string]any, rel string) bool {
	return linkURL(bundle, rel) != ""
}

func linkURL(bundle map[string]any, rel string) string {
	for _, l := range asList(bundle["link"]) {
		l := l.(map[string]any)
		if l["relation"] == rel {
			return l["url"].(string)
		}
	}
	return ""
}

func TestFHIRConditionalCreate(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			body := `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"42"}]}`
			first := e.ada.API(http.MethodPost, "/fhir/R4/Patient", body, "If-None-Exist", "identifier=urn:mrn|42").Status(http.StatusCreated).JSON()
			again := e.ada.API(http.MethodPost, "/fhir/R4/Patient", body, "If-None-Exist", "Patient?identifier=urn:mrn|42").Status(http.StatusOK).JSON()
			if again["id"] != first["id"] {
				t.Errorf("conditional create made %v, want the existing %v", again["id"], first["id"])
			}
			// Bob's project does not see Ada's match, so Bob's create goes ahead.
			e.bob.API(http.MethodPost, "/fhir/R4/Patient", body, "If-None-Exist", "identifier=urn:mrn|42").Status(http.StatusCreated)
			create(t, e.ada, "Patient", body)
			r := e.ada.API(http.MethodPost, "/fhir/R4/Patient", body, "If-None-Exist", "identifier=urn:mrn|42").Status(http.StatusPreconditionFailed)
			if txt := outcomeText(t, r); !strings.Contains(txt, "match more than one") {
				t.Errorf("412 says %q", txt)
			}
			e.ada.API(http.MethodPost, "/fhir/R4/Patient", body, "If-None-Exist", "nickname=x").Status(http.StatusBadRequest)
		})
	}
}

func TestFHIRSearchBundle(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			for i := range 5 {
				create(t, e.ada, "Patient", fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"Smith%d"}],"gender":"female","birthDate":"19%d0-01-01"}`, i, 5+i))
			}
			create(t, e.ada, "Patient", `{"resourceType":"Patient","name":[{"family":"Jones"}],"gender":"male"}`)
			// A page is not counted unless _total asks for it.
			b := e.ada.API(http.MethodGet, "/fhir/R4/Patient?family=smith&_count=2&_sort=-birthdate&_total=accurate", "").Status(http.StatusOK).JSON()
			if b["type"] != "searchset" || b["total"] != float64(5) || len(asList(b["entry"])) != 2 {
				t.Fatalf("bundle: type %v total %v entries %d", b["type"], b["total"], len(asList(b["entry"])))
			}
			if u, err := url.Parse(linkURL(b, "next")); err != nil || u.Query().Get("_total") != "accurate" {
				t.Errorf("next link %q does not keep _total", linkURL(b, "next"))
			}
			b = e.ada.API(http.MethodGet, "/fhir/R4/Patient?family=smith&_count=2&_sort=-birthdate", "").Status(http.StatusOK).JSON()
			if _, counted := b["total"]; counted || len(asList(b["entry"])) != 2 || !hasLink(b, "next") {
				t.Fatalf("uncounted bundle: total %v entries %d next %q", b["total"], len(asList(b["entry"])), linkURL(b, "next"))
			}
			first := asList(b["entry"])[0].(map[string]any)
			if !strings.Contains(fmt.Sprint(first["resource"]), "Smith4") || !strings.HasPrefix(first["fullUrl"].(string), "http://") {
				t.Errorf("first entry %v", first)
			}
			if hasLink(b, "previous") {
				t.Error("first page has a previous link")
			}
			// Follow next links to the end, as the SDK's iterator does.
			seen, pages := len(asList(b["entry"])), 1
			for next := linkURL(b, "next"); next != ""; next = linkURL(b, "next") {
				u, err := url.Parse(next)
				if err != nil || u.Scheme != "http" || u.Query().Get("family") != "smith" || u.Query().Get("_sort") != "-birthdate" || u.Query().Has("_total") {
					t.Fatalf("next link %q does not keep the query", next)
				}
				b = e.ada.API(http.MethodGet, u.RequestURI(), "").Status(http.StatusOK).JSON()
				seen += len(asList(b["entry"]))
				pages++
				if !hasLink(b, "previous") {
					t.Error("later page lacks a previous link")
				}
			}
			if seen != 5 || pages != 3 {
				t.Errorf("paged through %d resources in %d pages, want 5 in 3", seen, pages)
			}
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?gender=male", "").Status(http.StatusOK).Contains("Jones").NotContains("Smith")
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?_count=0&_total=accurate", "").Status(http.StatusOK).Contains(`"total":6`).NotContains(`"entry"`)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?_count=0", "").Status(http.StatusOK).NotContains(`"total"`).NotContains(`"entry"`)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?_total=often", "").Status(http.StatusBadRequest).Contains("_total must be")
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?nickname=x", "", "Prefer", "handling=lenient").Status(http.StatusOK).Contains(`"total":6`)
			sd := e.ada.API(http.MethodGet, "/fhir/R4/StructureDefinition?name=Patient&_count=5", "").Status(http.StatusOK).JSON()
			if sd["total"].(float64) < 1 {
				t.Error("StructureDefinition search finds nothing")
			}
		})
	}
}

func TestFHIRErrors(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			id := create(t, e.ada, "Patient", `{"resourceType":"Patient"}`)
			type hdrs = []string
			cases := []struct {
				name         string
				client       *webtest.Client
				method, path string
				body         string
				headers      hdrs
				status       int
				says         []string // each must appear in the OperationOutcome
			}{
				{"anonymous read", e.anon, "GET", "/fhir/R4/Patient/" + id, "", nil, 401, []string{"Authentication required"}},
				{"anonymous search", e.anon, "GET", "/fhir/R4/Patient", "", nil, 401, nil},
				{"anonymous create", e.anon, "POST", "/fhir/R4/Patient", `{"resourceType":"Patient"}`, nil, 401, nil},
				{"invalid bearer token", e.anon, "GET", "/fhir/R4/Patient", "", hdrs{"Authorization", "Bearer abc"}, 401, []string{"invalid or has expired"}},
				{"basic not supported", e.anon, "GET", "/fhir/R4/Patient", "", hdrs{"Authorization", "Basic YTpi"}, 401, []string{"not supported"}},
				{"invalid JSON", e.ada, "POST", "/fhir/R4/Patient", `{"resourceType":`, nil, 400, []string{"not valid JSON"}},
				{"JSON array", e.ada, "POST", "/fhir/R4/Patient", `[]`, nil, 400, []string{"JSON object"}},
				{"empty body", e.ada, "POST", "/fhir/R4/Patient", ``, hdrs{"Content-Type", "application/fhir+json"}, 400, []string{"not valid JSON"}},
				{"invalid resource lists every issue", e.ada, "POST", "/fhir/R4/Patient",
					`{"resourceType":"Patient","gender":"robot","birthDate":"yesterday","nickname":"x"}`, nil, 400,
					[]string{"@Patient.gender", "@Patient.birthDate", "@Patient.nickname"}},
				{"type mismatch", e.ada, "POST", "/fhir/R4/Patient", `{"resourceType":"Observation"}`, nil, 400, []string{"@resourceType"}},
				{"unknown type", e.ada, "GET", "/fhir/R4/Nonsense/1", "", nil, 400, []string{"Unsupported resource type"}},
				{"unknown type create", e.ada, "POST", "/fhir/R4/Nonsense", `{"resourceType":"Nonsense"}`, nil, 400, nil},
				{"PUT id mismatch", e.ada, "PUT", "/fhir/R4/Patient/" + id, `{"resourceType":"Patient","id":"other"}`, nil, 400, []string{"must match"}},
				{"PUT without id", e.ada, "PUT", "/fhir/R4/Patient/" + id, `{"resourceType":"Patient"}`, nil, 400, []string{"must match"}},
				{"PUT id too long", e.ada, "PUT", "/fhir/R4/Patient/" + strings.Repeat("a", 65), `{"resourceType":"Patient","id":"` + strings.Repeat("a", 65) + `"}`, nil, 400, []string{"@Patient.id"}},
				{"PUT id with underscore", e.ada, "PUT", "/fhir/R4/Patient/a_b", `{"resourceType":"Patient","id":"a_b"}`, nil, 400, []string{"@Patient.id"}},
				{"PUT id dot dot", e.ada, "PUT", "/fhir/R4/Patient/..", `{"resourceType":"Patient","id":".."}`, nil, 400, []string{"not a valid id"}},
				{"PUT id dot", e.ada, "PUT", "/fhir/R4/Patient/.", `{"resourceType":"Patient","id":"."}`, nil, 400, []string{"not a valid id"}},
				{"read unknown id", e.ada, "GET", "/fhir/R4/Patient/nope", "", nil, 404, []string{"Patient/nope not found"}},
				{"vread unknown version", e.ada, "GET", "/fhir/R4/Patient/" + id + "/_history/9", "", nil, 404, nil},
				{"vread bad version", e.ada, "GET", "/fhir/R4/Patient/" + id + "/_history/x", "", nil, 404, nil},
				{"history unknown id", e.ada, "GET", "/fhir/R4/Patient/nope/_history", "", nil, 404, nil},
				{"history bad param", e.ada, "GET", "/fhir/R4/Patient/_history?since=2020", "", nil, 400, []string{"since"}},
				{"delete unknown id", e.ada, "DELETE", "/fhir/R4/Patient/nope", "", nil, 404, nil},
				{"create system type", e.ada, "POST", "/fhir/R4/StructureDefinition", `{"resourceType":"StructureDefinition"}`, nil, 403, []string{"read-only"}},
				{"update system type", e.ada, "PUT", "/fhir/R4/ValueSet/administrative-gender", `{"resourceType":"ValueSet","id":"administrative-gender","status":"active"}`, nil, 403, nil},
				{"delete system type", e.ada, "DELETE", "/fhir/R4/CodeSystem/administrative-gender", "", nil, 403, nil},
				{"PATCH as JSON", e.ada, "PATCH", "/fhir/R4/Patient/" + id, `[]`, hdrs{"Content-Type", "application/json"}, 415, []string{"application/json-patch+json"}},
				{"PATCH as FHIRPath Patch", e.ada, "PATCH", "/fhir/R4/Patient/" + id, `{"resourceType":"Parameters"}`, nil, 415, []string{"FHIRPath Patch is not supported"}},
				{"conditional PATCH without criteria", e.ada, "PATCH", "/fhir/R4/Patient", `[]`, hdrs{"Content-Type", "application/json-patch+json"}, 400, []string{"needs search criteria"}},
				{"PATCH on a type's history", e.ada, "PATCH", "/fhir/R4/Patient/_history", `[]`, hdrs{"Content-Type", "application/json-patch+json"}, 405, nil},
				{"conditional delete without criteria", e.ada, "DELETE", "/fhir/R4/Patient", "", nil, 400, []string{"needs search criteria"}},
				{"conditional delete by paging only", e.ada, "DELETE", "/fhir/R4/Patient?_count=1", "", nil, 400, []string{"needs search criteria"}},
				{"conditional update without criteria", e.ada, "PUT", "/fhir/R4/Patient", `{"resourceType":"Patient"}`, nil, 400, []string{"needs search criteria"}},
				{"conditional update, unknown parameter", e.ada, "PUT", "/fhir/R4/Patient?nickname=x", `{"resourceType":"Patient"}`, nil, 400, []string{"nickname"}},
				{"unknown endpoint", e.ada, "GET", "/fhir/R4/Patient/" + id + "/$everything/more/parts", "", nil, 404, []string{"Unknown FHIR endpoint"}},
				{"text/plain body", e.ada, "POST", "/fhir/R4/Patient", `{"resourceType":"Patient"}`, hdrs{"Content-Type", "text/plain"}, 415, []string{"application/fhir+json"}},
				{"XML body", e.ada, "PUT", "/fhir/R4/Patient/" + id, `<Patient/>`, hdrs{"Content-Type", "application/fhir+xml"}, 415, nil},
				{"unknown search parameter", e.ada, "GET", "/fhir/R4/Patient?nickname=ada", "", nil, 400, []string{"nickname"}},
				{"bad _count", e.ada, "GET", "/fhir/R4/Patient?_count=many", "", nil, 400, []string{"_count"}},
				{"bad date", e.ada, "GET", "/fhir/R4/Patient?birthdate=soon", "", nil, 400, []string{"soon"}},
				{"bad modifier", e.ada, "GET", "/fhir/R4/Patient?gender:above=x", "", nil, 400, []string{"above"}},
				{"too large", e.ada, "POST", "/fhir/R4/Patient", `{"resourceType":"Patient","text":"` + strings.Repeat("x", 9<<20) + `"}`, nil, 413, nil},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := c.client.API(c.method, c.path, c.body, c.headers...).Status(c.status)
					if ct := r.Header("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
						t.Errorf("Content-Type %q", ct)
					}
					txt := outcomeText(t, r)
					for _, s := range c.says {
						if !strings.Contains(txt, s) {
							t.Errorf("OperationOutcome %q lacks %q", txt, s)
						}
					}
				})
			}
			// Nothing above changed Ada's one Patient.
			e.ada.API(http.MethodGet, "/fhir/R4/Patient", "").Status(http.StatusOK).Contains(`"total":1`)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id, "").Status(http.StatusOK).Contains(`"versionId":"1"`)
		})
	}
}

func TestFHIRMetadata(t *testing.T) {
	e := newAPIEnv(t, testdb.SQLite(t))
	cs := e.anon.API(http.MethodGet, "/fhir/R4/metadata", "").Status(http.StatusOK).JSON()
	if cs["resourceType"] != "CapabilityStatement" || cs["fhirVersion"] != "4.0.1" {
		t.Fatalf("metadata: %v %v", cs["resourceType"], cs["fhirVersion"])
	}
	byType := map[string]map[string]any{}
	for _, r := range asList(asList(cs["rest"])[0].(map[string]any)["resource"]) {
		r := r.(map[string]any)
		byType[r["type"].(string)] = r
	}
	has := func(typ, field, want string) bool {
		for _, x := range asList(byType[typ][field]) {
			m := x.(map[string]any)
			if m["code"] == want || m["name"] == want {
				return true
			}
		}
		return false
	}
	for _, want := range []string{"read", "vread", "create", "update", "patch", "delete", "history-instance", "history-type", "search-type"} {
		if !has("Patient", "interaction", want) {
			t.Errorf("Patient lacks interaction %s", want)
		}
	}
	for _, want := range []string{"_id", "_lastUpdated", "name", "family", "given", "address", "identifier", "gender", "birthdate", "organization"} {
		if !has("Patient", "searchParam", want) {
			t.Errorf("Patient lacks search parameter %s", want)
		}
	}
	if has("Patient", "searchParam", "_text") || has("MolecularSequence", "searchParam", "chromosome-variant-coordinate") ||
		has("DocumentReference", "searchParam", "relationship") {
		t.Error("metadata lists search parameters that are not supported")
	}
	if !has("Observation", "searchParam", "code-value-quantity") || !has("Observation", "searchParam", "component-code-value-concept") {
		t.Error("metadata lacks the composite parameters")
	}
	if !has("Observation", "searchParam", "value-quantity") || !has("RiskAssessment", "searchParam", "probability") {
		t.Error("metadata lacks the number and quantity parameters")
	}
	// Every number and quantity parameter listed answers a search.
	quantities := 0
	for typ, r := range byType {
		for _, x := range asList(r["searchParam"]) {
			p := x.(map[string]any)
			if p["type"] == "number" || p["type"] == "quantity" {
				quantities++
				e.ada.API(http.MethodGet, "/fhir/R4/"+typ+"?"+p["name"].(string)+"=gt1", "").Status(http.StatusOK)
			}
		}
	}
	if quantities < 20 {
		t.Errorf("metadata lists %d number and quantity parameters", quantities)
	}
	if has("StructureDefinition", "interaction", "create") || has("StructureDefinition", "interaction", "patch") || !has("StructureDefinition", "interaction", "read") {
		t.Error("StructureDefinition must be read-only")
	}
	flags := func(typ string) string {
		r := byType[typ]
		return fmt.Sprintf("%v %v %v %v %v", r["updateCreate"], r["conditionalCreate"], r["conditionalUpdate"], r["conditionalDelete"], r["conditionalRead"])
	}
	if got := flags("Patient"); got != "true true true single full-support" {
		t.Errorf("Patient's updateCreate, conditional create/update/delete/read: %s", got)
	}
	if got := flags("StructureDefinition"); got != "false false false not-supported not-supported" {
		t.Errorf("StructureDefinition's updateCreate, conditional create/update/delete/read: %s", got)
	}
	listsAll := func(typ, field string, want ...string) {
		t.Helper()
		var got []string
		for _, x := range asList(byType[typ][field]) {
			got = append(got, x.(string))
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s's %s lacks %s", typ, field, w)
			}
		}
	}
	listsAll("Observation", "searchInclude", "Observation:subject", "Observation:performer", "Observation:*")
	listsAll("Patient", "searchInclude", "Patient:organization", "Patient:general-practitioner")
	listsAll("Patient", "searchRevInclude", "Observation:subject", "Encounter:patient")
	if byType["ValueSet"]["searchInclude"] != nil || byType["ValueSet"]["searchRevInclude"] != nil {
		t.Error("shared definitions list includes")
	}
	if fmt.Sprint(cs["patchFormat"]) != "[application/json-patch+json]" {
		t.Errorf("patchFormat %v", cs["patchFormat"])
	}
}

func TestFHIRProjectChoice(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			// A fresh sign-in has opened no project yet: with one project, that is the one.
			id := create(t, e.adaConsole, "Patient", `{"resourceType":"Patient"}`)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id, "", "X-Enclave-Project", e.pA).Status(http.StatusOK).Contains(e.pA)
			// With two projects and none opened, the API asks to choose.
			pA2 := e.adaConsole.NewProject("Alpha Two")
			r := e.adaConsole.API(http.MethodGet, "/fhir/R4/Patient", "").Status(http.StatusBadRequest)
			if txt := outcomeText(t, r); !strings.Contains(txt, "X-Enclave-Project") {
				t.Errorf("400 does not explain how to choose: %q", txt)
			}
			// Opening a project in the console does not choose it for the API:
			// another tab may open another one between two calls.
			e.adaConsole.Get("/projects/" + e.pA).Status(http.StatusOK)
			e.adaConsole.API(http.MethodGet, "/fhir/R4/Patient/"+id, "").Status(http.StatusBadRequest)
			e.adaConsole.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`).Status(http.StatusBadRequest)
			// The header names it.
			e.adaConsole.API(http.MethodGet, "/fhir/R4/Patient/"+id, "", "X-Enclave-Project", e.pA).Status(http.StatusOK)
			e.adaConsole.API(http.MethodGet, "/fhir/R4/Patient/"+id, "", "X-Enclave-Project", pA2).Status(http.StatusNotFound)
			// A project the caller is not a member of, or that does not exist, is 404.
			for _, p := range []string{e.pB, "00000000-0000-4000-8000-000000000000", "not-a-uuid"} {
				r := e.adaConsole.API(http.MethodGet, "/fhir/R4/Patient", "", "X-Enclave-Project", p).Status(http.StatusNotFound)
				if txt := outcomeText(t, r); strings.Contains(txt, "Beta") {
					t.Errorf("404 leaks the project name: %q", txt)
				}
			}
			// Signed out: 401 again.
			e.adaConsole.PostForm("/signout", nil)
			e.adaConsole.API(http.MethodGet, "/fhir/R4/Patient", "").Status(http.StatusUnauthorized)
		})
	}
}

// TestFHIRCrossSiteForms shows why the API needs no CSRF token: a session
// cookie with a form-encoded (or text/plain) body, which is all a cross-site
// form can send, is refused before anything is written.
func TestFHIRCrossSiteForms(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			id := create(t, e.ada, "Patient", `{"resourceType":"Patient"}`)
			forged := `{"resourceType":"Patient","id":"` + id + `","name":[{"family":"Forged"}]}`
			for _, ct := range []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", ""} {
				e.ada.API(http.MethodPost, "/fhir/R4/Patient", "resourceType=Patient", "Content-Type", ct, "Origin", "https://evil.example").
					Status(http.StatusUnsupportedMediaType)
				e.ada.API(http.MethodPut, "/fhir/R4/Patient/"+id, forged, "Content-Type", ct).Status(http.StatusUnsupportedMediaType)
			}
			e.ada.PostFormNoCSRF("/fhir/R4/Patient", url.Values{"resourceType": {"Patient"}}).Status(http.StatusUnsupportedMediaType)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient", "").Status(http.StatusOK).Contains(`"total":1`).NotContains("Forged")
			// JSON with the same cookie and no CSRF token is accepted.
			e.ada.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`, "Content-Type", "application/json; charset=utf-8").
				Status(http.StatusCreated)
		})
	}
}

// TestFHIRAccessPolicies: a member with an access policy gets only what the
// policy allows, through the API and in the console's resource browser.
func TestFHIRAccessPolicies(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Clinic")
			admin.PostForm("/projects/"+project+"/access-policies/new", url.Values{"name": {"Front desk"}, "rows": {"2"},
				"rules.0.resourceType": {"Patient"}, "rules.0.hiddenFields": {"birthDate"},
				"rules.1.resourceType": {"Organization"}, "rules.1.readonly": {"on"}}).Status(http.StatusSeeOther)
			pols, err := app.Sys.Tenant(project).AccessPolicies(t.Context())
			if err != nil || len(pols) != 1 {
				t.Fatalf("access policies %+v, %v", pols, err)
			}
			desk := addMember(t, app, project, "desk@example.org", false)
			u, err := app.Sys.UserByEmail(t.Context(), "desk@example.org")
			if err != nil {
				t.Fatal(err)
			}
			m, err := app.Sys.Tenant(project).Membership(t.Context(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.Sys.Tenant(project).UpdateMember(t.Context(), audit.Actor{}, m.ID, members.MemberUpdate{Active: true, AccessPolicyID: &pols[0].ID}); err != nil {
				t.Fatal(err)
			}

			h := []string{"X-Enclave-Project", project}
			admin.API(http.MethodPost, "/fhir/R4/Observation", `{"resourceType":"Observation","status":"final","code":{"text":"bp"}}`, h...).Status(http.StatusCreated)
			pid := create(t, admin, "Patient", `{"resourceType":"Patient","birthDate":"1970-05-05","name":[{"family":"Okafor"}]}`)

			r := desk.API(http.MethodGet, "/fhir/R4/Observation", "", h...).Status(http.StatusForbidden)
			if txt := outcomeText(t, r); !strings.Contains(txt, "access policy") {
				t.Errorf("403 says %q", txt)
			}
			desk.API(http.MethodPost, "/fhir/R4/Organization", `{"resourceType":"Organization","name":"X"}`, h...).Status(http.StatusForbidden)
			got := desk.API(http.MethodGet, "/fhir/R4/Patient/"+pid, "", h...).Status(http.StatusOK)
			got.Contains("Okafor").NotContains("1970-05-05")
			desk.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","name":[{"family":"New"}]}`, h...).Status(http.StatusCreated)
			desk.API(http.MethodGet, "/fhir/R4/StructureDefinition/Patient", "", h...).Status(http.StatusOK)

			// The console follows the same policy.
			desk.Get("/projects/" + project + "/resources").Status(http.StatusOK)
			desk.Get("/projects/" + project + "/resources/Patient/" + pid).Status(http.StatusOK).Contains("Okafor").NotContains("1970-05-05")
			desk.Get("/projects/" + project + "/resources/Observation").Status(http.StatusForbidden)
		})
	}
}

// TestFHIRProjectIsNeverRemembered: what a session opened in the console
// never decides where an API write lands. A member of two projects must
// name one; once they are back to exactly one, that one is used.
func TestFHIRProjectIsNeverRemembered(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, shared := app.SignUp("owner@example.org", "Shared")
			guest, own := app.SignUp("guest@example.org", "Guest's own")
			u, err := app.Sys.UserByEmail(t.Context(), "guest@example.org")
			if err != nil {
				t.Fatal(err)
			}
			m, err := app.Sys.Tenant(shared).AddMember(t.Context(), audit.Actor{}, u.ID, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			guest.Get("/projects/" + shared).Status(http.StatusOK)
			r := guest.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`).Status(http.StatusBadRequest)
			if txt := outcomeText(t, r); !strings.Contains(txt, "X-Enclave-Project") {
				t.Errorf("400 says %q", txt)
			}
			if n := countResources(t, app, shared) + countResources(t, app, own); n != 0 {
				t.Fatalf("a write without a named project landed somewhere: %d resources", n)
			}
			if _, err := app.Sys.Tenant(shared).RemoveMember(t.Context(), audit.Actor{}, m.ID); err != nil {
				t.Fatal(err)
			}
			guest.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`).Status(http.StatusCreated)
			if countResources(t, app, own) != 1 || countResources(t, app, shared) != 0 {
				t.Error("the write did not land in the guest's only project")
			}
		})
	}
}

// countResources counts the live resources of a project.
func countResources(t *testing.T, app *webtest.App, project string) int {
	t.Helper()
	res, err := app.Sys.Tenant(project).Search(t.Context(), resources.SearchQuery{Type: "Patient", Total: resources.TotalAccurate})
	if err != nil {
		t.Fatal(err)
	}
	return res.Total
}
