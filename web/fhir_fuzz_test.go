package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// FuzzCreateResource drives arbitrary bodies (and resource types) through
// the API's create and update handlers: the answer is never a 500, and the
// server never panics.
func FuzzCreateResource(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add(seed.typ, []byte(seed.body))
	}
	db := testdb.SQLite(f)
	app := webtest.New(f, db)
	client, project := app.SignUp("fuzz@example.org", "Fuzz")
	if err := app.Sys.SetProjectFlags(context.Background(), project, true, true); err != nil {
		f.Fatal(err)
	}
	cookie := client.Cookie("enclave_session")
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		driveWrites(t, app, project, cookie, typ, body)
	})
}

// TestFuzzSeedsOnBothDatabases runs the fuzz seeds, which include NUL
// characters and invalid UTF-8 that only PostgreSQL refuses to store,
// through both databases.
func TestFuzzSeedsOnBothDatabases(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			client, project := app.SignUp("seeds@example.org", "Seeds")
			cookie := client.Cookie("enclave_session")
			for _, seed := range fuzzSeeds {
				driveWrites(t, app, project, cookie, seed.typ, []byte(seed.body))
			}
		})
	}
}

var fuzzSeeds = []struct{ typ, body string }{
	{"Patient", `{"resourceType":"Patient","name":[{"family":"Lovelace","given":["Ada"]}],"birthDate":"1815-12-10"}`},
	{"Observation", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1"}]},"valueQuantity":{"value":1.5e308}}`},
	{"Patient", `{"resourceType":"Patient","contained":[{"resourceType":"Patient","contained":[{}]}],"extension":[{"url":"x","valueString":"\u0000"}]}`},
	{"Patient", `{"resourceType":"Patient","meta":{"versionId":[],"project":{}},"id":"x"}`},
	{"Encounter", `{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/%2e%2e"}}`},
	{"Patient", `[`}, {"Patient", `null`}, {"Patient", `"x"`}, {"Patient", `{"resourceType":"Patient"}{}`},
	{"StructureDefinition", `{"resourceType":"StructureDefinition"}`}, {"..", `{}`}, {"Patient", "\xff\xfe"},
	{"Patient", `{"resourceType":"Patient","name":[{"family":"a\u0000b"}]}`},
	{"Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xff\xfe\"}]}"},
	{"Pat\x00ient", `{"resourceType":"Patient"}`},
}

// driveWrites sends body as a create and as an update of typ and fails on a
// 5xx or an empty answer.
func driveWrites(t *testing.T, app *webtest.App, project, cookie, typ string, body []byte) {
	t.Helper()
	for _, req := range []struct{ method, path string }{
		{http.MethodPost, "/fhir/R4/" + url.PathEscape(typ)},
		{http.MethodPut, "/fhir/R4/" + url.PathEscape(typ) + "/fuzz-id"},
	} {
		r := httptest.NewRequest(req.method, req.path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/fhir+json")
		r.Header.Set("X-Enclave-Project", project)
		r.AddCookie(&http.Cookie{Name: "enclave_session", Value: cookie})
		w := httptest.NewRecorder()
		app.Server.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s with %q: status %d\n%s", req.method, req.path, body, w.Code, w.Body)
		}
		if w.Code == 0 || w.Body.Len() == 0 {
			t.Fatalf("%s %s with %q: empty answer", req.method, req.path, body)
		}
	}
}
