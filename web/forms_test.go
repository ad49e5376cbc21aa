package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestFormValuesThatDoNotRead: a value that does not fit its field (a word
// where the form sends a number, a day that is not one) is an error shown
// with the form as it was sent, never a failed request; a body that is not
// a web form is refused with 415.
func TestFormValuesThatDoNotRead(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			base := "/projects/" + project

			r := c.PostForm(base+"/settings", url.Values{"name": {"Beta"}, "version": {"seven"}}).Status(http.StatusUnprocessableEntity)
			if got := r.TestID("form-error"); !strings.Contains(got, "version is not a number") {
				t.Errorf("settings form error %q", got)
			}
			if v := r.Doc().Find(`input[name="name"]`).AttrOr("value", ""); v != "Beta" {
				t.Errorf("name shown as %q", v)
			}
			c.Get(base + "/settings").Status(http.StatusOK).Contains("Alpha")

			r = c.PostForm(base+"/access-policies/new", url.Values{"name": {"Nurses"}, "rows": {"two"}, "rules.0.resourceType": {"Patient"}}).
				Status(http.StatusUnprocessableEntity)
			if got := r.TestID("form-error"); !strings.Contains(got, "number of rules is not a number") {
				t.Errorf("policy form error %q", got)
			}

			c.NewPolicy(project, "Readers")
			audit := c.Get(base + "/audit?from=yesterday&to=2999-12-31").Status(http.StatusOK)
			if !strings.Contains(audit.TestID("error-from"), "YYYY-MM-DD") || audit.Has("error-to") {
				t.Errorf("day errors: from %q, to %q", audit.TestID("error-from"), audit.TestID("error-to"))
			}
			if v := audit.Doc().Find("#f-from").AttrOr("value", ""); v != "yesterday" {
				t.Errorf("from shown as %q", v)
			}
			if link := audit.Doc().Find(`[data-testid="audit-who-email"]`).AttrOr("href", ""); strings.Contains(link, "yesterday") ||
				!strings.Contains(link, "to=2999-12-31") {
				t.Errorf("a link keeps the filter as %q", link)
			}

			c.Header("X-CSRF-Token", c.Cookie("enclave_csrf"))
			c.Do(http.MethodPost, "/projects/new", strings.NewReader(`{"projectName":"FromJSON"}`), "application/json").
				Status(http.StatusUnsupportedMediaType)
			if got := c.Get("/projects").Status(http.StatusOK).TestIDs("project-name"); strings.Join(got, ",") != "Alpha" {
				t.Errorf("projects %v", got)
			}
		})
	}
}
