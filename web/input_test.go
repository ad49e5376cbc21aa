package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestUnstorableInput: NUL characters and invalid UTF-8 get a clear 400 on
// both databases (PostgreSQL cannot store them), never a 500.
func TestUnstorableInput(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			h := []string{"X-Enclave-Project", project}

			r := c.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","name":[{"family":"a\u0000b"}]}`, h...).Status(http.StatusBadRequest)
			if txt := outcomeText(t, r); !strings.Contains(txt, "NUL") {
				t.Errorf("NUL in a resource: %q", txt)
			}
			c.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","name":[{"family":"ok","a\u0000":1}]}`, h...).Status(http.StatusBadRequest)
			for _, path := range []string{"/fhir/R4/Patient?name=a%00b", "/fhir/R4/Patient?identifier=a%00|b", "/fhir/R4/Observation?code=%ff%ff", "/fhir/R4/Patient/a%00b"} {
				r := c.API(http.MethodGet, path, "", h...).Status(http.StatusBadRequest)
				if txt := outcomeText(t, r); !strings.Contains(txt, "UTF-8") {
					t.Errorf("%s: %q", path, txt)
				}
			}
			// The console says the same on a page.
			for _, tc := range []struct{ path, field, value string }{
				{"/register", "firstName", "a\x00"}, {"/signin", "email", "a\x00@x.io"}, {"/projects/new", "projectName", "x\xffy"},
			} {
				r := c.PostForm(tc.path, url.Values{tc.field: {tc.value}, "password": {"password-123"}}).Status(http.StatusBadRequest)
				if !strings.Contains(r.TestID("error-message"), "not valid UTF-8") {
					t.Errorf("POST %s: %q", tc.path, r.TestID("error-message"))
				}
			}
			c.Get("/projects/" + project + "/resources/Patient?name=a%00").Status(http.StatusBadRequest)
			c.Get("/projects/" + project + "/secrets/a%00").Status(http.StatusBadRequest)
			if got := c.Get("/projects/").Resp.StatusCode; got >= 500 {
				t.Errorf("status %d", got)
			}
		})
	}
}
