package web_test

import (
	"net/http"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// An error inside a project keeps the project's shell for its members: the
// name, the tabs (the section's tab marked) and a way back to the overview.
// An outsider gets the bare page, which names nothing of the project.
func TestErrorPagesKeepTheProjectShell(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, project := app.SignUp("ada@example.org", "Alpha Clinic")
			pp := "/projects/" + project
			bob := addMember(t, app, project, "bob@example.org", false)
			eve, _ := app.SignUp("eve@example.org", "Elsewhere")
			gone := storeResource(t, app, project, "Patient", `{"resourceType":"Patient"}`)
			if err := app.Sys.Tenant(project).DeleteResource(t.Context(), "Patient", gone); err != nil {
				t.Fatal(err)
			}

			for _, c := range []struct {
				name   string
				who    *webtest.Client
				path   string
				status int
				tab    string
			}{
				{"a missing resource", ada, pp + "/resources/Patient/no-such-id", http.StatusNotFound, "tab-resources"},
				{"an unknown type", ada, pp + "/resources/Nonsense", http.StatusNotFound, "tab-resources"},
				{"a deleted resource", bob, pp + "/resources/Patient/" + gone, http.StatusGone, "tab-resources"},
				{"a missing member", ada, pp + "/members/no-such-member", http.StatusNotFound, "tab-members"},
				{"an admin page, to a member", bob, pp + "/settings", http.StatusForbidden, ""},
			} {
				r := c.who.Get(c.path).Status(c.status).Shows("error-page").Shows("project-tabs")
				if got := r.TestID("project-title"); got != "Alpha Clinic" {
					t.Errorf("%s: project title %q", c.name, got)
				}
				if c.tab != "" && r.Doc().Find(byID(c.tab)).AttrOr("aria-current", "") != "page" {
					t.Errorf("%s: %s is not the current tab", c.name, c.tab)
				}
				if back := r.Doc().Find(byID("error-back")).AttrOr("href", ""); back != pp {
					t.Errorf("%s: the way back is %q, want %q", c.name, back, pp)
				}
				if c.who == bob && r.Has("tab-settings") {
					t.Errorf("%s: a member's shell lists the admin tabs", c.name)
				}
			}

			// Eve is no member: a 404 as for a project that does not exist.
			for _, path := range []string{pp, pp + "/resources/Patient/no-such-id", pp + "/settings"} {
				r := eve.Get(path).Status(http.StatusNotFound).Shows("error-page")
				if r.Has("project-tabs") || r.Has("project-title") {
					t.Errorf("%s: an outsider's 404 shows the project's shell", path)
				}
				r.NotContains("Alpha Clinic").NotContains(project)
				if r.TestID("current-project") != "" {
					t.Errorf("%s: the switcher marks a current project for an outsider", path)
				}
			}
			// Signed out: the bare page.
			app.Client().Get(pp + "/resources/Patient/no-such-id").Status(http.StatusSeeOther)
			app.Client().Get("/no-such-page").Status(http.StatusNotFound).Shows("error-page").NotContains("Alpha Clinic")
		})
	}
}
