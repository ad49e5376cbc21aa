package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"enclave/models/resources"
	"enclave/models/testdb"
)

// entryIDs lists a Bundle's entries as Type/id.
func entryIDs(b map[string]any) []string {
	var out []string
	for _, e := range asList(b["entry"]) {
		r := e.(map[string]any)["resource"].(map[string]any)
		out = append(out, fmt.Sprint(r["resourceType"], "/", r["id"]))
	}
	return out
}

func TestFHIRValidate(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			pid := create(t, e.ada, "Patient", `{"resourceType":"Patient","name":[{"family":"Lovelace"}]}`)
			validate := func(path, body string) string {
				t.Helper()
				return outcomeText(t, e.ada.API(http.MethodPost, path, body).Status(http.StatusOK))
			}
			// A new project is strict: an unknown element is refused, as a create would be.
			if got := validate("/fhir/R4/Patient/$validate", `{"resourceType":"Patient","gender":"female"}`); got != "All OK" {
				t.Errorf("valid Patient: %q", got)
			}
			nickname := `{"resourceType":"Patient","nickname":"Ada"}`
			if got := validate("/fhir/R4/Patient/$validate", nickname); !strings.Contains(got, `Unknown element "nickname" | @Patient.nickname`) {
				t.Errorf("strict: %q", got)
			}
			e.ada.API(http.MethodPost, "/fhir/R4/Patient", nickname).Status(http.StatusBadRequest)
			if got := validate("/fhir/R4/Patient/$validate", `{"resourceType":"Observation"}`); !strings.Contains(got, "must be \"Patient\"") {
				t.Errorf("wrong type: %q", got)
			}
			// Without strict mode the same resource passes, as its create does.
			if err := e.app.Sys.SetProjectFlags(t.Context(), e.pA, false, false); err != nil {
				t.Fatal(err)
			}
			if got := validate("/fhir/R4/Patient/$validate", nickname); got != "All OK" {
				t.Errorf("lenient: %q", got)
			}
			// A Parameters body with the resource and a mode; the instance form.
			params := func(mode, resource string) string {
				p := `{"name":"mode","valueCode":"` + mode + `"}`
				if resource != "" {
					p += `,{"name":"resource","resource":` + resource + `}`
				}
				return `{"resourceType":"Parameters","parameter":[` + p + `]}`
			}
			if got := validate("/fhir/R4/Patient/"+pid+"/$validate", params("update", `{"resourceType":"Patient","id":"`+pid+`"}`)); got != "All OK" {
				t.Errorf("update: %q", got)
			}
			if got := validate("/fhir/R4/Patient/other/$validate", params("update", `{"resourceType":"Patient","id":"`+pid+`"}`)); !strings.Contains(got, "must match the id in the URL") {
				t.Errorf("update of another id: %q", got)
			}
			if got := validate("/fhir/R4/Patient/"+pid+"/$validate", params("delete", "")); got != "All OK" {
				t.Errorf("delete: %q", got)
			}
			// Bob's project never sees Ada's patient.
			r := e.bob.API(http.MethodPost, "/fhir/R4/Patient/"+pid+"/$validate", params("delete", "")).Status(http.StatusOK)
			if got := outcomeText(t, r); !strings.Contains(got, "There is no Patient/"+pid) {
				t.Errorf("another project's delete: %q", got)
			}
			// A member may not change another member's profile, so that update does not validate.
			bea := addMember(t, e.app, e.pA, "bea@example.org", false)
			u, err := e.app.Sys.UserByEmail(t.Context(), "ada@example.org")
			if err != nil {
				t.Fatal(err)
			}
			m, err := e.app.Sys.Tenant(e.pA).Membership(t.Context(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			profile := *m.ProfileID
			r = bea.API(http.MethodPost, "/fhir/R4/Practitioner/"+profile+"/$validate",
				params("update", `{"resourceType":"Practitioner","id":"`+profile+`"}`), "X-Enclave-Project", e.pA).Status(http.StatusOK)
			if got := outcomeText(t, r); !strings.Contains(got, "another member's profile") {
				t.Errorf("another member's profile: %q", got)
			}
			// Bad requests are 400.
			for _, body := range []string{params("remove", `{"resourceType":"Patient"}`), `{"resourceType":"Parameters","parameter":[]}`} {
				e.ada.API(http.MethodPost, "/fhir/R4/Patient/$validate", body).Status(http.StatusBadRequest)
			}
			e.ada.API(http.MethodPost, "/fhir/R4/Nonsense/$validate", `{"resourceType":"Nonsense"}`).Status(http.StatusBadRequest)
			// Nothing was written.
			e.ada.API(http.MethodGet, "/fhir/R4/Patient?_total=accurate", "").Status(http.StatusOK).Contains(`"total":1`)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+pid+"/_history", "").Status(http.StatusOK).Contains(`"total":1`)
		})
	}
}

func TestFHIREverything(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			ref := func(typ, id string) string { return `{"reference":"` + typ + `/` + id + `"}` }
			org := create(t, e.ada, "Organization", `{"resourceType":"Organization","name":"Clinic"}`)
			doc := create(t, e.ada, "Practitioner", `{"resourceType":"Practitioner","name":[{"family":"House"}]}`)
			pat := create(t, e.ada, "Patient", `{"resourceType":"Patient","managingOrganization":`+ref("Organization", org)+`}`)
			other := create(t, e.ada, "Patient", `{"resourceType":"Patient"}`)
			obs := func(code, patient string) string {
				return create(t, e.ada, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"`+code+`"},"subject":`+
					ref("Patient", patient)+`,"performer":[`+ref("Practitioner", doc)+`]}`)
			}
			o1, o2 := obs("pulse", pat), obs("weight", pat)
			obs("theirs", other)
			cond := create(t, e.ada, "Condition", `{"resourceType":"Condition","subject":`+ref("Patient", pat)+`}`)
			create(t, e.bob, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"bob's"},"subject":`+ref("Patient", pat)+`}`)

			want := []string{"Patient/" + pat, "Condition/" + cond}
			want = append(want, slices.Sorted(slices.Values([]string{"Observation/" + o1, "Observation/" + o2}))...)
			want = append(want, "Organization/"+org, "Practitioner/"+doc)
			b := e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+pat+"/$everything", "").Status(http.StatusOK).JSON()
			if got := entryIDs(b); b["type"] != "searchset" || fmt.Sprint(b["total"]) != "6" || !slices.Equal(got, want) {
				t.Fatalf("$everything: %v %v %v, want %v", b["type"], b["total"], got, want)
			}
			var modes []string
			for _, e := range asList(b["entry"]) {
				modes = append(modes, fmt.Sprint(e.(map[string]any)["search"].(map[string]any)["mode"]))
			}
			if fmt.Sprint(modes) != "[match match match match include include]" {
				t.Errorf("search modes %v: the compartment matches, what it references is included", modes)
			}
			// Paged: the next links lead through all of it.
			var paged []string
			next := "/fhir/R4/Patient/" + pat + "/$everything?_count=4"
			for pages := 0; next != "" && pages < 5; pages++ {
				b := e.ada.API(http.MethodGet, next, "").Status(http.StatusOK).JSON()
				paged = append(paged, entryIDs(b)...)
				next = ""
				if u, err := url.Parse(linkURL(b, "next")); err == nil && u.Path != "" {
					next = u.RequestURI()
				}
			}
			if !slices.Equal(paged, want) {
				t.Errorf("pages: %v", paged)
			}
			// POST with Parameters: _type.
			b = e.ada.API(http.MethodPost, "/fhir/R4/Patient/"+pat+"/$everything",
				`{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Condition,Practitioner"}]}`).Status(http.StatusOK).JSON()
			if got := entryIDs(b); fmt.Sprint(got) != fmt.Sprint([]string{"Condition/" + cond, "Practitioner/" + doc}) {
				t.Errorf("_type: %v", got)
			}
			if u, _ := url.Parse(linkURL(b, "self")); u == nil || u.Query().Get("_type") != "Condition,Practitioner" {
				t.Errorf("self link %q lacks _type", linkURL(b, "self"))
			}
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+pat+"/$everything?_since=2999-01-01T00:00:00Z", "").Status(http.StatusOK).
				Contains(`"total":0`)
			for _, bad := range []string{"_since=yesterday", "_type=Nonsense", "_count=-1", "start=2020"} {
				e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+pat+"/$everything?"+bad, "").Status(http.StatusBadRequest)
			}
			// Another project: the patient does not exist there.
			r := e.bob.API(http.MethodGet, "/fhir/R4/Patient/"+pat+"/$everything", "").Status(http.StatusNotFound)
			if txt := outcomeText(t, r); !strings.Contains(txt, "Patient/"+pat+" not found") {
				t.Errorf("bob: %q", txt)
			}
			// A member whose policy grants Patient and Practitioner (name hidden) sees only those.
			desk, _ := policyMember(t, e.app, e.pA, "desk@example.org",
				resources.PolicyRule{ResourceType: "Patient"}, resources.PolicyRule{ResourceType: "Practitioner", HiddenFields: []string{"name"}})
			desk.Header("X-Enclave-Project", e.pA)
			b = desk.API(http.MethodGet, "/fhir/R4/Patient/"+pat+"/$everything", "").Status(http.StatusOK).JSON()
			if got := entryIDs(b); fmt.Sprint(got) != fmt.Sprint([]string{"Patient/" + pat, "Practitioner/" + doc}) {
				t.Errorf("under the policy: %v", got)
			}
			desk.API(http.MethodGet, "/fhir/R4/Patient/"+pat+"/$everything", "").NotContains("House")
		})
	}
}

func TestFHIRTerminology(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			gender := "http://hl7.org/fhir/ValueSet/administrative-gender"
			vs := e.ada.API(http.MethodGet, "/fhir/R4/ValueSet/$expand?url="+url.QueryEscape(gender), "").Status(http.StatusOK).JSON()
			exp, _ := vs["expansion"].(map[string]any)
			if vs["resourceType"] != "ValueSet" || vs["url"] != gender || fmt.Sprint(exp["total"]) != "4" || len(asList(exp["contains"])) != 4 {
				t.Fatalf("expand: %v", vs)
			}
			first := asList(exp["contains"])[0].(map[string]any)
			if first["code"] != "male" || first["display"] != "Male" || first["system"] != "http://hl7.org/fhir/administrative-gender" {
				t.Errorf("first code: %v", first)
			}
			vs = e.ada.API(http.MethodGet, "/fhir/R4/ValueSet/administrative-gender/$expand?filter=fem&count=5", "").Status(http.StatusOK).JSON()
			exp, _ = vs["expansion"].(map[string]any)
			if fmt.Sprint(exp["total"]) != "1" || asList(exp["contains"])[0].(map[string]any)["code"] != "female" {
				t.Errorf("filtered: %v", exp)
			}
			vs = e.ada.API(http.MethodGet, "/fhir/R4/ValueSet/$expand?url="+url.QueryEscape(gender)+"&offset=2&count=1", "").Status(http.StatusOK).JSON()
			exp, _ = vs["expansion"].(map[string]any)
			if fmt.Sprint(exp["total"], exp["offset"]) != "4 2" || len(asList(exp["contains"])) != 1 || asList(exp["contains"])[0].(map[string]any)["code"] != "other" {
				t.Errorf("paged: %v", exp)
			}
			for path, want := range map[string]struct {
				status int
				text   string
			}{
				"/fhir/R4/ValueSet/$expand?url=http://example.org/none":                                  {http.StatusNotFound, "No ValueSet with the url"},
				"/fhir/R4/ValueSet/none/$expand":                                                         {http.StatusNotFound, "ValueSet/none is not among"},
				"/fhir/R4/ValueSet/$expand":                                                              {http.StatusBadRequest, "parameter url"},
				"/fhir/R4/ValueSet/body-site/$expand":                                                    {http.StatusUnprocessableEntity, "not among the shared definitions"},
				"/fhir/R4/ValueSet/$expand?url=x&count=many":                                             {http.StatusBadRequest, "count must be"},
				"/fhir/R4/CodeSystem/$lookup?system=http://example.org":                                  {http.StatusBadRequest, "parameter code"},
				"/fhir/R4/CodeSystem/$lookup?system=http://example.org/cs&code=x":                        {http.StatusNotFound, "No CodeSystem"},
				"/fhir/R4/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=nope": {http.StatusBadRequest, `"nope" is not a code`},
			} {
				r := e.ada.API(http.MethodGet, path, "").Status(want.status)
				if txt := outcomeText(t, r); !strings.Contains(txt, want.text) {
					t.Errorf("%s: %q, want %q", path, txt, want.text)
				}
			}
			p := e.ada.API(http.MethodGet, "/fhir/R4/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=female", "").
				Status(http.StatusOK).JSON()
			got := map[string]any{}
			for _, prm := range asList(p["parameter"]) {
				prm := prm.(map[string]any)
				got[prm["name"].(string)] = prm["valueString"]
			}
			if p["resourceType"] != "Parameters" || got["name"] != "AdministrativeGender" || got["display"] != "Female" || got["version"] != "4.0.1" {
				t.Errorf("lookup: %v", p)
			}
			// Like reads of the shared definitions, they need a caller.
			e.anon.API(http.MethodGet, "/fhir/R4/ValueSet/$expand?url="+url.QueryEscape(gender), "").Status(http.StatusUnauthorized)
		})
	}
}

// TestFHIRCapabilityStatementIsExact: every interaction and operation the
// CapabilityStatement lists is answered (not 404 or 405), for every type;
// operations it does not list are not answered.
func TestFHIRCapabilityStatementIsExact(t *testing.T) {
	e := newAPIEnv(t, testdb.SQLite(t))
	if err := e.app.Sys.SetProjectFlags(t.Context(), e.pA, false, false); err != nil {
		t.Fatal(err)
	}
	cs := e.anon.API(http.MethodGet, "/fhir/R4/metadata", "").Status(http.StatusOK).JSON()
	rest := asList(cs["rest"])[0].(map[string]any)
	defs := map[string]string{}
	for _, op := range asList(rest["operation"]) {
		op := op.(map[string]any)
		defs["server $"+op["name"].(string)] = op["definition"].(string)
	}
	answered := func(method, path, body string) {
		t.Helper()
		r := e.ada.API(method, path, body)
		// A read of a shared definition that does not exist is answered
		// 404; an operation, or any other 404, is a route missing.
		missing := r.Resp.StatusCode == http.StatusNotFound && (strings.Contains(path, "$") || !strings.Contains(string(r.Body), "Resource "))
		if missing || r.Resp.StatusCode == http.StatusMethodNotAllowed {
			t.Errorf("%s %s is listed but answers %d: %s", method, path, r.Resp.StatusCode, r.Body)
		}
	}
	types := 0
	for _, res := range asList(rest["resource"]) {
		res := res.(map[string]any)
		typ := res["type"].(string)
		types++
		id := "x"
		if typ == "ValueSet" {
			id = "administrative-gender"
		} else if typ == "CodeSystem" || typ == "StructureDefinition" || typ == "SearchParameter" {
			id = "none"
		}
		body := `{"resourceType":"` + typ + `","id":"` + id + `"}`
		for _, in := range asList(res["interaction"]) {
			switch code := in.(map[string]any)["code"]; code {
			case "create":
				// Made with its id for the interactions after it.
				answered(http.MethodPost, "/fhir/R4/"+typ, body)
				answered(http.MethodPut, "/fhir/R4/"+typ+"/"+id, body)
			case "read":
				answered(http.MethodGet, "/fhir/R4/"+typ+"/"+id, "")
			case "vread":
				answered(http.MethodGet, "/fhir/R4/"+typ+"/"+id+"/_history/1", "")
			case "update":
				answered(http.MethodPut, "/fhir/R4/"+typ+"/"+id, body)
			case "patch":
				r := e.ada.API(http.MethodPatch, "/fhir/R4/"+typ+"/"+id, `[{"op":"add","path":"/language","value":"en"}]`,
					"Content-Type", "application/json-patch+json")
				if r.Resp.StatusCode != http.StatusOK {
					t.Errorf("PATCH %s/%s: %d %s", typ, id, r.Resp.StatusCode, r.Body)
				}
			case "history-instance":
				answered(http.MethodGet, "/fhir/R4/"+typ+"/"+id+"/_history", "")
			case "history-type":
				answered(http.MethodGet, "/fhir/R4/"+typ+"/_history", "")
			case "search-type":
				answered(http.MethodGet, "/fhir/R4/"+typ, "")
			case "delete":
				defer answered(http.MethodDelete, "/fhir/R4/"+typ+"/"+id, "")
			default:
				t.Errorf("%s lists the interaction %v, which this test does not know", typ, code)
			}
		}
		listed := map[string]bool{}
		for _, op := range asList(res["operation"]) {
			op := op.(map[string]any)
			name := op["name"].(string)
			listed[name] = true
			defs[typ+" $"+name] = op["definition"].(string)
			switch name {
			case "validate":
				answered(http.MethodPost, "/fhir/R4/"+typ+"/$validate", body)
				answered(http.MethodPost, "/fhir/R4/"+typ+"/"+id+"/$validate", body)
			case "everything":
				answered(http.MethodGet, "/fhir/R4/"+typ+"/"+id+"/$everything", "")
				answered(http.MethodPost, "/fhir/R4/"+typ+"/"+id+"/$everything", `{"resourceType":"Parameters"}`)
			case "expand":
				answered(http.MethodGet, "/fhir/R4/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/administrative-gender", "")
				answered(http.MethodGet, "/fhir/R4/ValueSet/"+id+"/$expand", "")
			case "lookup":
				answered(http.MethodGet, "/fhir/R4/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=male", "")
			default:
				t.Errorf("%s lists the operation %s, which this test does not know", typ, name)
			}
		}
		// Operations not listed are not there: the type-level ones read as
		// an id no resource has.
		for _, op := range []string{"meta", "validate-code", "translate", "document", "lastn"} {
			if listed[op] {
				t.Errorf("%s lists $%s", typ, op)
			}
			e.ada.API(http.MethodGet, "/fhir/R4/"+typ+"/$"+op, "").Status(http.StatusNotFound)
			e.ada.API(http.MethodPost, "/fhir/R4/"+typ+"/"+id+"/$"+op, "{}").Status(http.StatusNotFound)
		}
	}
	if types < 140 {
		t.Errorf("only %d types listed", types)
	}
	for name, def := range map[string]string{
		"Patient $validate":     "http://hl7.org/fhir/OperationDefinition/Resource-validate",
		"Observation $validate": "http://hl7.org/fhir/OperationDefinition/Resource-validate",
		"Patient $everything":   "http://hl7.org/fhir/OperationDefinition/Patient-everything",
		"ValueSet $expand":      "http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
		"CodeSystem $lookup":    "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
		"server $clone":         "urn:enclave:OperationDefinition:project-clone",
		"server $expunge":       "urn:enclave:OperationDefinition:project-expunge",
	} {
		if defs[name] != def {
			t.Errorf("%s: definition %q, want %q", name, defs[name], def)
		}
	}
	for _, absent := range []string{"ValueSet $validate", "Observation $everything", "Patient $expand", "server $meta"} {
		if _, ok := defs[absent]; ok {
			t.Errorf("%s is listed", absent)
		}
	}
	// The system interactions: Bundles posted to the base, searches and
	// history across types.
	for _, in := range asList(rest["interaction"]) {
		switch code := in.(map[string]any)["code"].(string); code {
		case "transaction", "batch":
			answered(http.MethodPost, "/fhir/R4", `{"resourceType":"Bundle","type":"`+code+`"}`)
		case "search-system":
			answered(http.MethodGet, "/fhir/R4?_type=Patient", "")
		case "history-system":
			answered(http.MethodGet, "/fhir/R4/_history", "")
		default:
			t.Errorf("the server lists the interaction %s, which this test does not know", code)
		}
	}
	// The project operations are answered, to super admins only.
	e.ada.API(http.MethodPost, "/fhir/R4/Project/"+e.pA+"/$expunge", "{}").Status(http.StatusForbidden)
	e.ada.API(http.MethodPost, "/fhir/R4/Project/"+e.pA+"/$clone", "{}").Status(http.StatusForbidden)
}

// operationRows are the access matrix's rows for the members' FHIR
// operations: every member may call them on their own project (a policy
// narrows what $everything lists and what $validate passes, not whether
// they are answered); nobody else reaches the project.
var operationRows = slices.Concat([]accessRow{
	{req: "POST /fhir/R4/Patient/$validate", project: "{project}", body: patientJSON, want: apiMembers(ok("OperationOutcome"))},
	{req: "POST /fhir/R4/Patient/{patient}/$validate", project: "{project}", body: editedJSON, want: apiMembers(ok("OperationOutcome"))},
	{req: "GET /fhir/R4/Patient/{patient}/$everything", project: "{project}", want: apiMembers(ok("Bundle"))},
	{req: "HEAD /fhir/R4/Patient/{patient}/$everything", project: "{project}", want: apiMembers(ok(""))},
	{req: "POST /fhir/R4/Patient/{patient}/$everything", project: "{project}", body: `{"resourceType":"Parameters"}`,
		want: apiMembers(ok("Bundle"))},
	{req: "GET /fhir/R4/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/administrative-gender", project: "{project}",
		want: apiMembers(ok("ValueSet"))},
	{req: "HEAD /fhir/R4/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/administrative-gender", project: "{project}",
		want: apiMembers(ok(""))},
	{req: "GET /fhir/R4/ValueSet/administrative-gender/$expand", project: "{project}", want: apiMembers(ok("ValueSet"))},
	{req: "HEAD /fhir/R4/ValueSet/administrative-gender/$expand", project: "{project}", want: apiMembers(ok(""))},
	{req: "GET /fhir/R4/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=male", project: "{project}",
		want: apiMembers(ok("Parameters"))},
	{req: "HEAD /fhir/R4/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=male", project: "{project}",
		want: apiMembers(ok(""))},
},
	notAllowed("/fhir/R4/Patient/$validate", "GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4/Patient/{patient}/$validate", "GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4/Patient/{patient}/$everything", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4/ValueSet/$expand", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4/ValueSet/administrative-gender/$expand", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4/CodeSystem/$lookup", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
)
