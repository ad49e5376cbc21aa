package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// TestRequestPastItsDeadlineAnswers503: on a server whose requests may run
// for only a nanosecond, every request that touches the database is past its
// deadline before the first query: the console answers a 503 page and the
// API a 503 OperationOutcome, never a 500.
func TestRequestPastItsDeadlineAnswers503(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, project := app.SignUp("ada@example.org", "Alpha")
			ada.Header("X-Enclave-Project", project)
			id := create(t, ada, "Patient", `{"resourceType":"Patient","name":[{"family":"Doe"}]}`)

			hurried := webtest.NewWith(t, db, func(cfg *web.Config) { cfg.RequestTimeout = time.Nanosecond })
			c := hurried.Client()
			for _, name := range []string{"enclave_session", "enclave_csrf"} {
				c.SetCookie(name, ada.Cookie(name))
			}
			page := func(r *webtest.Response) {
				t.Helper()
				r.Status(http.StatusServiceUnavailable)
				if !strings.Contains(r.TestID("error-message"), "took longer than the 1ns") {
					t.Errorf("%s: error page says %q", r.Resp.Request.URL.Path, r.TestID("error-message"))
				}
			}
			page(c.Get("/projects/" + project))
			page(c.Get("/projects/" + project + "/resources/Patient"))
			page(c.PostForm("/projects/new", url.Values{"projectName": {"Late"}}))
			page(hurried.Client().PostForm("/signin", url.Values{"email": {"ada@example.org"}, "password": {"password-123"}}))

			c.Header("X-Enclave-Project", project)
			for _, path := range []string{"/fhir/R4/Patient/" + id, "/fhir/R4/Patient?name=Doe"} {
				r := c.API(http.MethodGet, path, "").Status(http.StatusServiceUnavailable)
				if txt := outcomeText(t, r); !strings.Contains(txt, "took longer") {
					t.Errorf("GET %s: outcome %q", path, txt)
				}
				if code := r.JSON()["issue"].([]any)[0].(map[string]any)["code"]; code != "transient" {
					t.Errorf("GET %s: issue code %v, want transient", path, code)
				}
			}
			c.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`).Status(http.StatusServiceUnavailable)

			// Nothing was written, and the ordinary server still answers.
			if got := ada.Get("/projects").Status(http.StatusOK).TestIDs("project-name"); strings.Join(got, ",") != "Alpha" {
				t.Errorf("projects: %v", got)
			}
			b := ada.API(http.MethodGet, "/fhir/R4/Patient?_total=accurate", "").Status(http.StatusOK).JSON()
			if b["total"] != float64(1) {
				t.Errorf("Patients: %v, want 1", b["total"])
			}
			// Pages that need no database are served all the same.
			hurried.Client().Get("/healthz").Status(http.StatusOK)
			hurried.Client().Get("/static/css/app.css").Status(http.StatusOK)
		})
	}
}
