package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// memberRoutes are the project routes a non-admin member may open; every
// other route under /projects/:project is for admins only.
var memberRoutes = map[string]bool{
	"GET /projects/:project":           true,
	"GET /projects/:project/resources": true, "GET /projects/:project/resources/:type": true,
	"GET /projects/:project/resources/:type/new": true, "POST /projects/:project/resources/:type/new": true,
	"GET /projects/:project/resources/:type/:id": true, "GET /projects/:project/resources/:type/:id/_history/:vid": true,
	"GET /projects/:project/resources/:type/:id/edit": true, "POST /projects/:project/resources/:type/:id/edit": true,
	"GET /projects/:project/resources/:type/:id/delete": true, "POST /projects/:project/resources/:type/:id/delete": true,
}

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
	if _, err := app.Sys.Tenant(project).AddMember(t.Context(), models.Actor{}, u.ID, admin, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNonAdminsGet403OnEveryAdminRoute(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Alpha")
			member := addMember(t, app, project, "member@example.org", false)
			polID := admin.NewPolicy(project, "Readers")

			home := member.Get("/projects/" + project).Status(http.StatusOK)
			if home.TestID("project-role") != "Member" || home.Has("tab-settings") {
				t.Errorf("member's home: role %q, settings tab shown: %v", home.TestID("project-role"), home.Has("tab-settings"))
			}
			checked := 0
			for _, r := range consoleRoutes(app, project) {
				if !strings.HasPrefix(r.Key, "GET /projects/:project") && !strings.HasPrefix(r.Key, "POST /projects/:project") || memberRoutes[r.Key] {
					continue
				}
				path := fillParams(r.Path, map[string]string{":policy": polID})
				var resp *webtest.Response
				if r.Method == http.MethodGet {
					resp = member.Get(path)
				} else {
					resp = member.PostForm(path, url.Values{"name": {"Hijacked"}, "rows": {"1"}, "rules.0.resourceType": {"Patient"}})
				}
				resp.Status(http.StatusForbidden)
				if got := resp.TestID("error-message"); !strings.Contains(got, "Only admins") {
					t.Errorf("%s: 403 page says %q", r.Key, got)
				}
				checked++
			}
			if checked < 5 {
				t.Fatalf("only %d admin routes checked", checked)
			}
			// Nothing the member posted took effect.
			if p, err := app.Sys.Tenant(project).Project(t.Context()); err != nil {
				t.Fatal(err)
			} else if p.Name != "Alpha" {
				t.Errorf("member renamed the project to %q", p.Name)
			}
			if pol, err := app.Sys.Tenant(project).AccessPolicy(t.Context(), polID); err != nil {
				t.Fatal(err)
			} else if pol.Name != "Readers" {
				t.Errorf("member changed the policy: %q", pol.Name)
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
