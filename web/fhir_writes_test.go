package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// writeRow is one request of a write scenario and what its caller sees.
// Rows run in order: each starts from what the rows above left.
type writeRow struct {
	name   string
	client *webtest.Client
	method string
	path   string
	body   string
	// headers are name, value pairs; PATCH rows get the JSON Patch type.
	headers []string
	status  int
	// want are response headers: an exact value, a suffix after "…", or
	// "-" for a header that must be absent.
	want map[string]string
	// fields are values of the JSON answer, by dotted path (meta.versionId).
	fields map[string]string
	// says must appear in the body (for errors, in the OperationOutcome).
	says string
	// empty asks for no body at all.
	empty bool
}

func runWriteRows(t *testing.T, rows []writeRow) {
	t.Helper()
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			headers := row.headers
			if row.method == http.MethodPatch {
				headers = append([]string{"Content-Type", "application/json-patch+json"}, headers...)
			}
			r := row.client.For(t).API(row.method, row.path, row.body, headers...).Status(row.status)
			for name, want := range row.want {
				got := r.Header(name)
				switch suffix, isSuffix := strings.CutPrefix(want, "…"); {
				case want == "-" && got != "":
					t.Errorf("%s: %q, want none", name, got)
				case isSuffix && !strings.HasSuffix(got, suffix):
					t.Errorf("%s: %q, want one ending %q", name, got, suffix)
				case !isSuffix && want != "-" && got != want:
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
			if row.empty && r.Body != "" {
				t.Errorf("body %q, want none", clipped(r.Body))
			}
			if len(row.fields) > 0 {
				m := r.JSON()
				for path, want := range row.fields {
					if got := fieldAt(m, path); got != want {
						t.Errorf("%s = %q, want %q", path, got, want)
					}
				}
			}
			if row.says != "" {
				text := r.Body
				if row.status >= 400 {
					text = outcomeText(t, r)
				}
				if !strings.Contains(text, row.says) {
					t.Errorf("answer %q lacks %q", clipped(text), row.says)
				}
			}
		})
	}
}

// fieldAt reads a dotted path of a decoded JSON object as text.
func fieldAt(m map[string]any, path string) string {
	var v any = m
	for _, key := range strings.Split(path, ".") {
		obj, _ := v.(map[string]any)
		v = obj[key]
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func clipped(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func TestFHIRWrites(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			ada, bob := e.ada, e.bob
			patient := func(id, mrn, family string) string {
				idPart := ""
				if id != "" {
					idPart = `"id":"` + id + `",`
				}
				return `{"resourceType":"Patient",` + idPart + `"identifier":[{"system":"urn:mrn","value":"` + mrn + `"}],"name":[{"family":"` + family + `"}]}`
			}
			patch := func(ops ...string) string { return "[" + strings.Join(ops, ",") + "]" }
			const (
				one  = "/fhir/R4/Patient/p-one"
				base = "/fhir/R4/Patient"
			)
			future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
			past := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)

			runWriteRows(t, []writeRow{
				// Update as create.
				{name: "PUT of an unused id creates it", client: ada, method: "PUT", path: one, body: patient("p-one", "1", "Ada"), status: 201,
					want:   map[string]string{"Location": "…/fhir/R4/Patient/p-one/_history/1", "ETag": `W/"1"`},
					fields: map[string]string{"id": "p-one", "meta.versionId": "1", "meta.project": e.pA}},
				{name: "PUT of that id again updates it", client: ada, method: "PUT", path: one, body: patient("p-one", "1", "Ada"), status: 200,
					want: map[string]string{"Location": "-", "ETag": `W/"2"`}, fields: map[string]string{"meta.versionId": "2"}},
				{name: "PUT with If-Match of an unused id", client: ada, method: "PUT", path: base + "/p-none", body: patient("p-none", "0", "X"),
					headers: []string{"If-Match", `W/"1"`}, status: 412, says: "does not exist"},
				{name: "which was not created", client: ada, method: "GET", path: base + "/p-none", status: 404},
				{name: "another project's PUT of the same id makes its own", client: bob, method: "PUT", path: one, body: patient("p-one", "1", "Bobs"), status: 201,
					fields: map[string]string{"meta.versionId": "1", "meta.project": e.pB}},
				{name: "and the first project's is untouched", client: ada, method: "GET", path: one, status: 200,
					fields: map[string]string{"meta.versionId": "2", "meta.project": e.pA, "name": "[map[family:Ada]]"}},
				{name: "nor do Bob's searches see Ada's", client: bob, method: "GET", path: base + "?_id=p-one&_total=accurate", status: 200,
					fields: map[string]string{"total": "1"}, says: "Bobs"},

				// Prefer: return=.
				{name: "Prefer minimal on create", client: ada, method: "PUT", path: base + "/p-min", body: patient("p-min", "m", "Min"),
					headers: []string{"Prefer", "return=minimal"}, status: 201, empty: true,
					want: map[string]string{"Location": "…/Patient/p-min/_history/1", "ETag": `W/"1"`}},
				{name: "Prefer OperationOutcome on update", client: ada, method: "PUT", path: base + "/p-min", body: patient("p-min", "m", "Min"),
					headers: []string{"Prefer", "return=OperationOutcome"}, status: 200, want: map[string]string{"ETag": `W/"2"`},
					fields: map[string]string{"resourceType": "OperationOutcome"}, says: "Updated Patient/p-min, now at version 2"},
				{name: "Prefer representation on create", client: ada, method: "POST", path: base, body: patient("", "r", "Rep"),
					headers: []string{"Prefer", "return=representation"}, status: 201, fields: map[string]string{"resourceType": "Patient"}},
				{name: "Prefer minimal among other preferences", client: ada, method: "PATCH", path: base + "/p-min",
					body:    patch(`{"op":"add","path":"/active","value":true}`),
					headers: []string{"Prefer", "handling=strict, return=minimal"}, status: 200, empty: true, want: map[string]string{"ETag": `W/"3"`}},

				// Conditional update: the spec's rows.
				{name: "conditional update, no match, no id: created", client: ada, method: "PUT", path: base + "?identifier=urn:mrn|new",
					body: patient("", "new", "New"), status: 201, want: map[string]string{"Location": "…/_history/1"}},
				{name: "conditional update, one match, no id: updated", client: ada, method: "PUT", path: base + "?identifier=urn:mrn|1",
					body: patient("", "1", "Cond"), status: 200, fields: map[string]string{"id": "p-one", "meta.versionId": "3"}},
				{name: "conditional update, one match, its id: updated", client: ada, method: "PUT", path: base + "?identifier=urn:mrn|1",
					body: patient("p-one", "1", "Cond"), status: 200, fields: map[string]string{"id": "p-one", "meta.versionId": "4"}},
				{name: "conditional update, one match, another id", client: ada, method: "PUT", path: base + "?identifier=urn:mrn|1",
					body: patient("p-other", "1", "Cond"), status: 400, says: "not the id of the resource the criteria match"},
				{name: "conditional update, one match, stale If-Match", client: ada, method: "PUT", path: base + "?identifier=urn:mrn|1",
					body: patient("", "1", "Cond"), headers: []string{"If-Match", `W/"1"`}, status: 412, says: "version 4"},
				{name: "conditional update, no match, id given: created with it", client: ada, method: "PUT", path: base + "?identifier=urn:mrn|2",
					body: patient("p-two", "2", "Two"), status: 201, fields: map[string]string{"id": "p-two"}},
				{name: "conditional update, no match, id taken", client: ada, method: "PUT", path: base + "?identifier=urn:mrn|3",
					body: patient("p-one", "3", "Three"), status: 409, says: "already exists"},
				{name: "a first duplicate", client: ada, method: "POST", path: base, body: patient("", "dup", "Dup"), status: 201},
				{name: "a second duplicate", client: ada, method: "POST", path: base, body: patient("", "dup", "Dup"), status: 201},
				{name: "conditional update, several matches", client: ada, method: "PUT", path: base + "?identifier=urn:mrn|dup",
					body: patient("", "dup", "Dup"), status: 412, says: "match more than one"},

				// Conditional delete.
				{name: "conditional delete, several matches", client: ada, method: "DELETE", path: base + "?identifier=urn:mrn|dup", status: 412,
					says: "match more than one"},
				{name: "which deleted neither", client: ada, method: "GET", path: base + "?identifier=urn:mrn|dup&_total=accurate", status: 200,
					fields: map[string]string{"total": "2"}},
				{name: "conditional delete, no match", client: ada, method: "DELETE", path: base + "?identifier=urn:mrn|zzz", status: 200,
					fields: map[string]string{"resourceType": "OperationOutcome"}, says: "nothing was deleted"},
				{name: "conditional delete, one match", client: ada, method: "DELETE", path: base + "?identifier=urn:mrn|2", status: 200,
					says: "Deleted Patient/p-two"},
				{name: "the deleted one is gone", client: ada, method: "GET", path: base + "/p-two", status: 410},
				{name: "PUT brings it back as its next version", client: ada, method: "PUT", path: base + "/p-two", body: patient("p-two", "2", "Back"),
					status: 201, want: map[string]string{"Location": "…/Patient/p-two/_history/3"}, fields: map[string]string{"meta.versionId": "3"}},

				// PATCH.
				{name: "PATCH replaces an element", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"replace","path":"/name/0/family","value":"Patched"}`), status: 200,
					want: map[string]string{"ETag": `W/"5"`}, fields: map[string]string{"name": "[map[family:Patched]]", "meta.versionId": "5"}},
				{name: "PATCH with the current If-Match", client: ada, method: "PATCH", path: one, headers: []string{"If-Match", `W/"5"`},
					body: patch(`{"op":"add","path":"/gender","value":"female"}`), status: 200, fields: map[string]string{"gender": "female"}},
				{name: "PATCH with a stale If-Match", client: ada, method: "PATCH", path: one, headers: []string{"If-Match", `W/"5"`},
					body: patch(`{"op":"add","path":"/gender","value":"male"}`), status: 412, says: "version 6"},
				{name: "PATCH may add tags to meta", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"add","path":"/meta/tag","value":[{"system":"urn:t","code":"vip"}]}`), status: 200,
					fields: map[string]string{"meta.versionId": "7"}, says: `"code":"vip"`},
				{name: "PATCH whose test holds but whose remove finds nothing", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"test","path":"/gender","value":"female"}`, `{"op":"remove","path":"/active"}`), status: 422,
					says: "a path does not exist"},
				{name: "PATCH whose test fails", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"test","path":"/gender","value":"male"}`), status: 422, says: "a test operation failed"},
				{name: "PATCH of a missing path", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"replace","path":"/address/0/city","value":"X"}`), status: 422, says: "cannot be applied"},
				{name: "PATCH to an invalid resource", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"replace","path":"/gender","value":"robot"}`), status: 400, says: "@Patient.gender"},
				{name: "PATCH to an unknown element (strict mode)", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"add","path":"/nickname","value":"x"}`), status: 400, says: "@Patient.nickname"},
				{name: "PATCH of the id", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"replace","path":"/id","value":"p-else"}`), status: 400, says: "would change id"},
				{name: "PATCH of the resourceType", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"replace","path":"/resourceType","value":"Group"}`), status: 400, says: "would change resourceType"},
				{name: "PATCH of meta.versionId", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"replace","path":"/meta/versionId","value":"99"}`), status: 400, says: "meta/versionId"},
				{name: "PATCH of all of meta", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"remove","path":"/meta"}`), status: 400, says: "would change meta"},
				{name: "PATCH moving the id away", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"move","from":"/id","path":"/text"}`), status: 400, says: "would change id"},
				{name: "PATCH replacing the whole resource", client: ada, method: "PATCH", path: one,
					body: patch(`{"op":"replace","path":"","value":{}}`), status: 400, says: "whole resource"},
				{name: "PATCH that is not JSON", client: ada, method: "PATCH", path: one, body: `[{"op":`, status: 400, says: "not valid JSON"},
				{name: "PATCH that is an object", client: ada, method: "PATCH", path: one, body: `{"op":"add","path":"/a","value":1}`, status: 400,
					says: "not a valid JSON Patch"},
				{name: "PATCH with an unknown op", client: ada, method: "PATCH", path: one, body: patch(`{"op":"frob","path":"/a"}`), status: 400,
					says: "unknown op"},
				{name: "PATCH without a path", client: ada, method: "PATCH", path: one, body: patch(`{"op":"add","value":1}`), status: 400,
					says: "not a valid JSON Patch"},
				{name: "PATCH with a malformed If-Match", client: ada, method: "PATCH", path: one, headers: []string{"If-Match", "soon"},
					body: patch(), status: 400, says: "If-Match"},
				{name: "PATCH of a missing resource", client: ada, method: "PATCH", path: base + "/nope", body: patch(), status: 404,
					says: "Patient/nope not found"},
				{name: "a resource to delete", client: ada, method: "DELETE", path: base + "/p-min", status: 200},
				{name: "PATCH of a deleted resource", client: ada, method: "PATCH", path: base + "/p-min", body: patch(), status: 410},
				{name: "PATCH of a shared definition", client: ada, method: "PATCH", path: "/fhir/R4/StructureDefinition/Patient", body: patch(),
					status: 403, says: "read-only"},
				{name: "after all that, p-one is at version 7", client: ada, method: "GET", path: one, status: 200,
					fields: map[string]string{"meta.versionId": "7", "gender": "female", "name": "[map[family:Patched]]"}},

				// Conditional PATCH.
				{name: "conditional PATCH, one match", client: ada, method: "PATCH", path: base + "?identifier=urn:mrn|1",
					body: patch(`{"op":"add","path":"/active","value":true}`), status: 200,
					fields: map[string]string{"id": "p-one", "meta.versionId": "8", "active": "true"}},
				{name: "conditional PATCH, stale If-Match", client: ada, method: "PATCH", path: base + "?identifier=urn:mrn|1",
					headers: []string{"If-Match", `W/"7"`}, body: patch(`{"op":"add","path":"/active","value":false}`), status: 412, says: "version 8"},
				{name: "conditional PATCH, several matches", client: ada, method: "PATCH", path: base + "?identifier=urn:mrn|dup",
					body: patch(`{"op":"add","path":"/active","value":true}`), status: 412, says: "match more than one"},
				{name: "conditional PATCH, no match", client: ada, method: "PATCH", path: base + "?identifier=urn:mrn|zzz",
					body: patch(`{"op":"add","path":"/active","value":true}`), status: 404, says: "nothing was patched"},
				{name: "conditional PATCH never reaches another project's match", client: bob, method: "PATCH", path: base + "?identifier=urn:mrn|dup",
					body: patch(`{"op":"add","path":"/active","value":true}`), status: 404},
				{name: "conditional PATCH without criteria", client: ada, method: "PATCH", path: base,
					body: patch(`{"op":"add","path":"/active","value":true}`), status: 400},
				{name: "so p-one is at version 8", client: ada, method: "GET", path: one, status: 200,
					fields: map[string]string{"meta.versionId": "8", "active": "true"}},

				// Conditional reads: 304 without a body.
				{name: "If-None-Match with the current ETag", client: ada, method: "GET", path: one, headers: []string{"If-None-Match", `W/"8"`},
					status: 304, empty: true, want: map[string]string{"ETag": `W/"8"`}},
				{name: "If-None-Match with a strong tag of the version", client: ada, method: "GET", path: one,
					headers: []string{"If-None-Match", `"8"`}, status: 304, empty: true},
				{name: "If-None-Match among several tags", client: ada, method: "GET", path: one,
					headers: []string{"If-None-Match", `W/"2", W/"8"`}, status: 304, empty: true},
				{name: "If-None-Match with an old ETag", client: ada, method: "GET", path: one, headers: []string{"If-None-Match", `W/"7"`},
					status: 200, fields: map[string]string{"meta.versionId": "8"}},
				{name: "If-None-Match *", client: ada, method: "GET", path: one, headers: []string{"If-None-Match", "*"}, status: 304, empty: true},
				{name: "If-Modified-Since later than the change", client: ada, method: "GET", path: one,
					headers: []string{"If-Modified-Since", future}, status: 304, empty: true},
				{name: "If-Modified-Since before the change", client: ada, method: "GET", path: one,
					headers: []string{"If-Modified-Since", past}, status: 200},
				{name: "If-Modified-Since that is not a date", client: ada, method: "GET", path: one,
					headers: []string{"If-Modified-Since", "yesterday"}, status: 200},
				{name: "If-None-Match wins over If-Modified-Since", client: ada, method: "GET", path: one,
					headers: []string{"If-None-Match", `W/"7"`, "If-Modified-Since", future}, status: 200},
				{name: "vread with If-None-Match", client: ada, method: "GET", path: one + "/_history/1",
					headers: []string{"If-None-Match", `W/"1"`}, status: 304, empty: true},
				{name: "vread of an older version, If-None-Match of another", client: ada, method: "GET", path: one + "/_history/1",
					headers: []string{"If-None-Match", `W/"8"`}, status: 200, fields: map[string]string{"meta.versionId": "1"}},
				{name: "HEAD with If-None-Match", client: ada, method: "HEAD", path: one, headers: []string{"If-None-Match", `W/"8"`}, status: 304},
				{name: "a shared definition has no version to match", client: ada, method: "GET", path: "/fhir/R4/StructureDefinition/Patient",
					headers: []string{"If-None-Match", "*"}, status: 200},
				{name: "another project's If-None-Match * finds nothing", client: bob, method: "GET", path: base + "/p-two",
					headers: []string{"If-None-Match", "*"}, status: 404},
			})

			// If-Modified-Since equal to Last-Modified (whole seconds, as
			// HTTP dates have them) is not modified.
			last := ada.API(http.MethodGet, one, "").Status(http.StatusOK).Header("Last-Modified")
			ada.API(http.MethodGet, one, "", "If-Modified-Since", last).Status(http.StatusNotModified)
		})
	}
}

// TestFHIRWritesUnderPolicy: every new write obeys the member's access
// policy as create, update and delete do.
func TestFHIRWritesUnderPolicy(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Clinic")
			admin.Header("X-Enclave-Project", project)
			reader, _ := policyMember(t, app, project, "reader@example.org", resources.PolicyRule{ResourceType: "Patient", ReadOnly: true})
			women, _ := policyMember(t, app, project, "women@example.org", resources.PolicyRule{ResourceType: "Patient", Criteria: "Patient?gender=female"})
			hider, _ := policyMember(t, app, project, "hider@example.org", resources.PolicyRule{ResourceType: "Patient", HiddenFields: []string{"birthDate"}})
			for _, c := range []*webtest.Client{reader, women, hider} {
				c.Header("X-Enclave-Project", project)
			}
			person := func(id, gender, mrn string) string {
				return `{"resourceType":"Patient","id":"` + id + `","gender":"` + gender + `","birthDate":"1960-01-01","identifier":[{"system":"urn:mrn","value":"` + mrn + `"}]}`
			}
			admin.API(http.MethodPut, "/fhir/R4/Patient/man", person("man", "male", "m")).Status(http.StatusCreated)
			admin.API(http.MethodPut, "/fhir/R4/Patient/woman", person("woman", "female", "w")).Status(http.StatusCreated)
			patch := `[{"op":"replace","path":"/gender","value":"male"}]`

			runWriteRows(t, []writeRow{
				// Read-only: every write is refused, and says why.
				{name: "read-only PUT of a new id", client: reader, method: "PUT", path: "/fhir/R4/Patient/new1", body: person("new1", "female", "n"),
					status: 403, says: "read-only"},
				{name: "read-only PUT of an existing id", client: reader, method: "PUT", path: "/fhir/R4/Patient/woman", body: person("woman", "female", "w"),
					status: 403, says: "read-only"},
				{name: "read-only PATCH", client: reader, method: "PATCH", path: "/fhir/R4/Patient/woman", body: patch, status: 403, says: "read-only"},
				{name: "read-only conditional update", client: reader, method: "PUT", path: "/fhir/R4/Patient?identifier=urn:mrn|w",
					body: person("woman", "female", "w"), status: 403, says: "read-only"},
				{name: "read-only conditional delete", client: reader, method: "DELETE", path: "/fhir/R4/Patient?identifier=urn:mrn|w",
					status: 403, says: "read-only"},
				{name: "read-only may still read, and 304", client: reader, method: "GET", path: "/fhir/R4/Patient/woman",
					headers: []string{"If-None-Match", `W/"1"`}, status: 304},

				// Criteria: only what matches them exists for the member.
				{name: "criteria: PUT creating outside them", client: women, method: "PUT", path: "/fhir/R4/Patient/new2", body: person("new2", "male", "n2"),
					status: 403, says: "only allows Patient resources matching Patient?gender=female"},
				{name: "criteria: PUT creating within them", client: women, method: "PUT", path: "/fhir/R4/Patient/new3", body: person("new3", "female", "n3"),
					status: 201},
				{name: "criteria: PUT of an id outside them", client: women, method: "PUT", path: "/fhir/R4/Patient/man", body: person("man", "female", "m"),
					status: 404},
				{name: "criteria: PATCH of a resource outside them", client: women, method: "PATCH", path: "/fhir/R4/Patient/man",
					body: `[{"op":"replace","path":"/gender","value":"female"}]`, status: 404},
				{name: "criteria: PATCH moving a resource outside them", client: women, method: "PATCH", path: "/fhir/R4/Patient/woman", body: patch,
					status: 403, says: "only allows Patient resources matching"},
				{name: "criteria: conditional delete of what they hide deletes nothing", client: women, method: "DELETE",
					path: "/fhir/R4/Patient?identifier=urn:mrn|m", status: 200, says: "nothing was deleted"},
				{name: "criteria: conditional update of what they hide creates anew", client: women, method: "PUT",
					path: "/fhir/R4/Patient?identifier=urn:mrn|m", body: `{"resourceType":"Patient","gender":"female"}`, status: 201},
				{name: "criteria: conditional update creating outside them", client: women, method: "PUT",
					path: "/fhir/R4/Patient?identifier=urn:mrn|m2", body: `{"resourceType":"Patient","gender":"male"}`, status: 403},
				{name: "criteria: conditional delete within them", client: women, method: "DELETE", path: "/fhir/R4/Patient?identifier=urn:mrn|n3",
					status: 200, says: "Deleted Patient/new3"},

				// Hidden fields: a patch cannot see them, nor change them.
				{name: "hidden: PATCH cannot test a hidden field", client: hider, method: "PATCH", path: "/fhir/R4/Patient/woman",
					body: `[{"op":"test","path":"/birthDate","value":"1960-01-01"}]`, status: 422},
				{name: "hidden: PATCH setting a hidden field is ignored", client: hider, method: "PATCH", path: "/fhir/R4/Patient/woman",
					body: `[{"op":"add","path":"/birthDate","value":"1999-09-09"},{"op":"add","path":"/active","value":true}]`, status: 200,
					fields: map[string]string{"active": "true", "birthDate": ""}},

				// What the admin sees afterwards.
				{name: "the man is untouched", client: admin, method: "GET", path: "/fhir/R4/Patient/man", status: 200,
					fields: map[string]string{"meta.versionId": "1", "gender": "male"}},
				{name: "the woman kept her birth date", client: admin, method: "GET", path: "/fhir/R4/Patient/woman", status: 200,
					fields: map[string]string{"meta.versionId": "2", "gender": "female", "birthDate": "1960-01-01", "active": "true"}},
				{name: "nothing was made outside the criteria", client: admin, method: "GET", path: "/fhir/R4/Patient?gender=male&_total=accurate",
					status: 200, fields: map[string]string{"total": "1"}},
			})
		})
	}
}
