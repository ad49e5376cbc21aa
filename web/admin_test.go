package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/audit"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// addMember registers a user and makes them a member (or admin) of project,
// returning their signed-in browser.
func addMember(t *testing.T, app *webtest.App, project, email string, admin bool) *webtest.Client {
	t.Helper()
	c := app.Client()
	c.PostForm("/register", url.Values{"firstName": {"Plain"}, "lastName": {"Member"}, "email": {email}, "password": {"password-123"}}).
		RedirectsTo("/register/project")
	u, err := app.Sys.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Sys.Tenant(project).AddMember(t.Context(), audit.Actor{}, u.ID, admin, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// A plain member's overview says so and offers no admin tab. What every
// admin route answers them is in the access matrix.
func TestMemberHomeHasNoAdminTabs(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, project := app.SignUp("admin@example.org", "Alpha")
			member := addMember(t, app, project, "member@example.org", false)

			home := member.Get("/projects/" + project).Status(http.StatusOK)
			if home.TestID("project-role") != "Member" || !home.Has("tab-resources") {
				t.Errorf("member's home: role %q, resources tab %v", home.TestID("project-role"), home.Has("tab-resources"))
			}
			for _, tab := range []string{"tab-settings", "tab-members", "tab-secrets", "tab-clients", "tab-access-policies", "tab-audit"} {
				if home.Has(tab) {
					t.Errorf("member's home offers %s", tab)
				}
			}
		})
	}
}

// fillParams replaces route parameters other than :project.
func fillParams(path string, values map[string]string) string {
	for k, v := range values {
		path = strings.ReplaceAll(path, k, v)
	}
	return path
}
