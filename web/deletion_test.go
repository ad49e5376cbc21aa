package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// operatorEventsAbout counts the operator's log lines of action about project.
func operatorEventsAbout(t *testing.T, app *webtest.App, action, project string) int64 {
	t.Helper()
	var n int64
	if err := app.DB.DB.Table("operator_events").Where("action = ? AND target = ?", action, "Project/"+project).
		Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeleteProject: a project's admin deletes it from its settings, typing
// its name; from then on it is gone for every member (list, switcher, every
// page), for its API client's and its users' access tokens, and for the
// token endpoint. Plain members may not delete it. A super admin finds it
// on /admin/deleted (404 for everyone else) and restores it for all. The
// last super-admin project cannot be deleted.
func TestDeleteProject(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.NewWith(t, db, func(c *web.Config) { c.DeletedRetention = 72 * time.Hour })
			ctx := t.Context()
			owner, alpha := app.SignUp("owner@example.org", "Alpha Clinic")
			bob, bobHome := app.SignUp("bob@example.org", "Bob Home")
			op, ops := app.SignUp("op@example.org", "Operators")
			if err := app.Sys.SetSuperAdmin(ctx, ops, true); err != nil {
				t.Fatal(err)
			}
			bobUser, err := app.Sys.UserByEmail(ctx, "bob@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.Sys.Tenant(alpha).AddMember(ctx, audit.Actor{}, bobUser.ID, false, nil); err != nil {
				t.Fatal(err)
			}
			clientID, secret := newAPIClient(t, app, alpha, clients.Input{Name: "Sync"})
			api := app.Client()
			clientBearer := "Bearer " + api.ClientToken(clientID, secret)
			userBearer := "Bearer " + app.Client().UserTokens("owner@example.org")["access_token"].(string)
			api.API("GET", "/fhir/R4/Patient", "", "Authorization", clientBearer).Status(http.StatusOK)
			api.API("GET", "/fhir/R4/Patient", "", "Authorization", userBearer).Status(http.StatusOK)

			settings := "/projects/" + alpha + "/settings"
			del := "/projects/" + alpha + "/delete"
			if got := owner.Get(settings).Status(http.StatusOK).Shows("delete-project-section").Doc().
				Find(`[data-testid="delete-project"]`).AttrOr("href", ""); got != del {
				t.Errorf("the settings page links to %q", got)
			}
			bob.Get(del).Status(http.StatusForbidden)
			bob.PostForm(del, url.Values{"confirm": {"Alpha Clinic"}}).Status(http.StatusForbidden)
			page := owner.Get(del).Status(http.StatusOK)
			if page.Title() != "Delete project" || !strings.Contains(page.TestID("confirm-delete-project"), "After 3 days it is erased") {
				t.Errorf("confirmation page %q: %s", page.Title(), page.TestID("confirm-delete-project"))
			}

			wrong := owner.PostForm(del, url.Values{"confirm": {"Alpha"}}).Status(http.StatusUnprocessableEntity)
			if got := wrong.TestID("error-confirm"); !strings.Contains(got, "type the project's name exactly: “Alpha Clinic”") {
				t.Errorf("wrong name's error %q", got)
			}
			if v := wrong.Doc().Find("#f-confirm").AttrOr("value", ""); v != "Alpha" {
				t.Errorf("the typed name came back as %q", v)
			}
			bob.Get("/projects/" + alpha).Status(http.StatusOK)
			// htmx gets the form alone back, and is sent on by HX-Redirect.
			owner.Header("HX-Request", "true")
			frag := owner.PostForm(del, url.Values{"confirm": {"Alpha"}}).Status(http.StatusUnprocessableEntity).
				Shows("confirm-delete-project").Shows("error-confirm")
			if frag.Has("project-tabs") || strings.Contains(frag.Body, "<html") {
				t.Errorf("htmx got a whole page: %s", frag.Body)
			}
			bob.Get("/projects/" + alpha).Status(http.StatusOK)
			if got := owner.PostForm(del, url.Values{"confirm": {"Alpha Clinic"}}).Status(http.StatusOK).Header("HX-Redirect"); got != "/projects" {
				t.Errorf("htmx is sent to %q", got)
			}
			owner.Header("HX-Request", "")
			for name, c := range map[string]*webtest.Client{"owner": owner, "bob": bob} {
				c.Get("/projects").Status(http.StatusOK).NotContains("Alpha Clinic")
				for _, path := range []string{"/projects/" + alpha, settings, "/projects/" + alpha + "/resources", del} {
					c.Get(path).Status(http.StatusNotFound)
				}
				if r := c.API("GET", "/fhir/R4/Patient", "", "X-Enclave-Project", alpha).Status(http.StatusNotFound); r.JSON()["resourceType"] != "OperationOutcome" {
					t.Errorf("%s's session on the API: %s", name, r.Body)
				}
			}
			// The switcher of bob's other project no longer offers it.
			bob.Get("/projects/" + bobHome).Status(http.StatusOK).NotContains("Alpha Clinic")
			for _, bearer := range []string{clientBearer, userBearer} {
				r := api.API("GET", "/fhir/R4/Patient", "", "Authorization", bearer).Status(http.StatusUnauthorized)
				if r.JSON()["resourceType"] != "OperationOutcome" {
					t.Errorf("a deleted project's token: %s", r.Body)
				}
			}
			api.Token(url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}).
				Status(http.StatusUnauthorized).Contains("invalid_client")
			if n := operatorEventsAbout(t, app, audit.ActionProjectDeleted, alpha); n != 1 {
				t.Errorf("project.deleted in the operator's log: %d", n)
			}

			// The dashboard: super admins only.
			owner.Get("/admin/deleted").Status(http.StatusNotFound)
			bob.Get("/admin/deleted").Status(http.StatusNotFound)
			bob.PostForm("/admin/deleted/"+alpha+"/restore", url.Values{"confirm": {"Alpha Clinic"}}).Status(http.StatusNotFound)
			list := op.Get("/admin/deleted").Status(http.StatusOK)
			if got := list.TestIDs("deleted-project-name"); len(got) != 1 || got[0] != "Alpha Clinic" {
				t.Fatalf("deleted projects %q", got)
			}
			if got := list.TestID("deleted-project-by"); got != "owner@example.org" {
				t.Errorf("deleted by %q", got)
			}
			due, err := time.Parse("2006-01-02 15:04", list.TestID("deleted-project-due"))
			if want := time.Now().UTC().Add(72 * time.Hour); err != nil || due.Sub(want).Abs() > 2*time.Minute {
				t.Errorf("expunge due %q (%v), want about %s", list.TestID("deleted-project-due"), err, want)
			}
			if got := op.Get("/admin/server").Status(http.StatusOK).TestID("setting-ENCLAVE_DELETED_RETENTION"); got != "72h0m0s" {
				t.Errorf("the server page shows the retention as %q", got)
			}
			restore := "/admin/deleted/" + alpha + "/restore"
			refused := op.PostForm(restore, url.Values{"confirm": {"alpha"}}).Status(http.StatusUnprocessableEntity)
			if got := refused.TestID("error-confirm"); !strings.Contains(got, "“Alpha Clinic”") {
				t.Errorf("a wrong name's error on restore: %q", got)
			}
			if v := refused.Doc().Find("#f-confirm-"+alpha).AttrOr("value", ""); v != "alpha" {
				t.Errorf("the typed name came back on its row as %q", v)
			}
			bob.Get("/projects/" + alpha).Status(http.StatusNotFound)
			op.PostForm(restore, url.Values{"confirm": {"Alpha Clinic"}}).Status(http.StatusOK).
				Contains("Restored Alpha Clinic").Shows("deleted-projects-empty")
			op.PostForm(restore, url.Values{"confirm": {"Alpha Clinic"}}).Status(http.StatusNotFound)
			bob.Get("/projects/" + alpha).Status(http.StatusOK)
			owner.Get("/projects").Status(http.StatusOK).Contains("Alpha Clinic")
			api.API("GET", "/fhir/R4/Patient", "", "Authorization", clientBearer).Status(http.StatusOK)
			if n := operatorEventsAbout(t, app, audit.ActionProjectRestored, alpha); n != 1 {
				t.Errorf("project.restored in the operator's log: %d", n)
			}
			if got := owner.Get("/projects/" + alpha + "/audit").Status(http.StatusOK).TestIDs("audit-action"); !slices.Contains(got, audit.ActionProjectDeleted) ||
				!slices.Contains(got, audit.ActionProjectRestored) {
				t.Errorf("the project's audit log: %q", got)
			}

			// Without htmx, a plain form post and a redirect.
			owner.PostForm(del, url.Values{"confirm": {"Alpha Clinic"}}).RedirectsTo("/projects")
			bob.Get("/projects/" + alpha).Status(http.StatusNotFound)

			// A super admin need not wait for the retention: the deleted
			// project's row leads to its expunge. It cannot be cloned.
			op.Get("/admin/deleted").Status(http.StatusOK).Shows("deleted-project-expunge")
			op.Get("/admin/clone/" + alpha).Status(http.StatusNotFound)
			op.Get("/admin/expunge/" + alpha).Status(http.StatusOK).Shows("expunge-form")
			op.PostForm("/admin/expunge/"+alpha, url.Values{"confirm": {"Alpha Clinic"}}).RedirectsTo("/admin?expunged=" + alpha)
			op.Get("/admin/deleted").Status(http.StatusOK).Shows("deleted-projects-empty")
			op.Get("/admin/expunge/" + alpha).Status(http.StatusNotFound)

			// The server's only super-admin project stays.
			op.PostForm("/projects/"+ops+"/delete", url.Values{"confirm": {"Operators"}}).Status(http.StatusConflict).
				Contains("only super-admin project")
			op.Get("/projects/" + ops).Status(http.StatusOK)
		})
	}
}
