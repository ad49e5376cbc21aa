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

// dashboard is a super admin (ops, of the project "Operators") and a
// customer (ada, admin of "Alpha Clinic" with a secret) on one server.
type dashboard struct {
	app   *webtest.App
	ops   *webtest.Client
	ada   *webtest.Client
	alpha string
	adaID string
}

func newDashboard(t *testing.T, db testdb.DB) dashboard {
	t.Helper()
	app := webtest.New(t, db)
	ops, opsProject := app.SignUp("ops@example.org", "Operators")
	if err := app.Sys.SetSuperAdmin(t.Context(), opsProject, true); err != nil {
		t.Fatal(err)
	}
	ada, alpha := app.SignUp("ada@example.org", "Alpha Clinic")
	ada.PostForm("/projects/"+alpha+"/secrets", url.Values{"name": {"ALPHA_TOKEN"}, "value": {"s3cr3t-value"}}).Status(http.StatusOK)
	u, err := app.Sys.UserByEmail(t.Context(), "ada@example.org")
	if err != nil {
		t.Fatal(err)
	}
	return dashboard{app: app, ops: ops, ada: ada, alpha: alpha, adaID: u.ID}
}

// Only super admins see the dashboard and its header link; to anyone else
// every page of it is the plain 404.
func TestDashboardIsForSuperAdmins(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			d := newDashboard(t, db)
			pages := []string{"/admin", "/admin/users", "/admin/users/" + d.adaID, "/admin/server"}
			for _, path := range pages {
				d.ada.Get(path).Status(http.StatusNotFound).NotContains("ops@example.org")
				d.app.Client().Get(path).Status(http.StatusNotFound)
				d.ops.Get(path).Status(http.StatusOK)
			}
			d.ada.PostForm("/admin/users/"+d.adaID+"/deactivate", url.Values{"confirm": {"ada@example.org"}}).Status(http.StatusNotFound)
			if d.ada.Get("/projects/" + d.alpha).Has("admin-link") {
				t.Error("a customer is offered the dashboard")
			}
			if r := d.ops.Get("/projects"); !r.Has("admin-link") {
				t.Error("the super admin has no dashboard link")
			}
		})
	}
}

// The project list finds a project by name with its counts, and opens it in
// the operator view: a banner on every page, read-only, secret values never
// shown, and the visit in the project's audit log.
func TestDashboardOperatorView(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			d := newDashboard(t, db)
			r := d.ops.Get("/admin?q=alpha").Status(http.StatusOK)
			if names := r.TestIDs("admin-project-open"); len(names) != 1 || names[0] != "Alpha Clinic" {
				t.Fatalf("search for alpha: %v", names)
			}
			if m := r.TestID("admin-project-members"); m != "1" {
				t.Errorf("Alpha's members: %q", m)
			}
			d.ops.Get("/admin?page=x").Status(http.StatusUnprocessableEntity)
			d.ops.Get("/admin?sort=size").Status(http.StatusUnprocessableEntity)

			base := "/projects/" + d.alpha
			for _, path := range []string{"", "/settings", "/members", "/secrets", "/resources", "/audit", "/clients"} {
				page := d.ops.Get(base + path).Status(http.StatusOK).NotContains("s3cr3t-value")
				if !page.Has("operator-banner") {
					t.Errorf("%s has no operator banner", path)
				}
			}
			if d.ada.Get(base).Has("operator-banner") {
				t.Error("the project's own admin sees the operator banner")
			}
			// Read-only: no change goes through, and nothing changes.
			d.ops.PostForm(base+"/secrets", url.Values{"name": {"OPS_MADE"}, "value": {"x"}}).Status(http.StatusForbidden)
			d.ops.PostForm(base+"/settings", url.Values{"name": {"Taken over"}}).Status(http.StatusForbidden)
			if p, err := d.app.Sys.Tenant(d.alpha).Project(t.Context()); err != nil || p.Name != "Alpha Clinic" {
				t.Errorf("project after refused writes: %q, %v", p.Name, err)
			}
			events, _, err := d.app.Sys.Tenant(d.alpha).AuditLog(t.Context(), audit.Filter{Action: audit.ActionOperatorVisited})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].ActorEmail != "ops@example.org" {
				t.Errorf("operator visits in Alpha's log: %+v", events)
			}
			// The project's admins read it there.
			log := d.ada.Get(base + "/audit?action=operator.visited").Status(http.StatusOK)
			if who := log.TestIDs("audit-who-email"); len(who) != 1 || who[0] != "ops@example.org" {
				t.Errorf("Alpha's admin reads visits by %v", who)
			}
			// A project that does not exist is still the plain 404.
			d.ops.Get("/projects/00000000-0000-0000-0000-000000000000").Status(http.StatusNotFound)
		})
	}
}

// Deactivating ends the account's sessions at once and refuses its
// sign-in with a clear message; reactivating lets it back in. The account's
// email must be typed.
func TestDashboardDeactivate(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			d := newDashboard(t, db)
			path := "/admin/users/" + d.adaID
			r := d.ops.PostForm(path+"/deactivate", url.Values{"confirm": {"ada@example"}}).Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("error-confirm"), "type the account's email") {
				t.Errorf("wrong confirmation: %q", r.TestID("error-confirm"))
			}
			d.ada.Get("/projects/" + d.alpha).Status(http.StatusOK)

			r = d.ops.PostForm(path+"/deactivate", url.Values{"confirm": {"ada@example.org"}}).Status(http.StatusOK)
			if !strings.Contains(r.TestID("notice"), "Deactivated ada@example.org") {
				t.Errorf("notice: %q", r.TestID("notice"))
			}
			d.ada.Get("/projects/" + d.alpha).RedirectsTo("/signin")
			refused := d.app.Client().SignIn("ada@example.org").Status(http.StatusForbidden)
			if !strings.Contains(refused.TestID("form-error"), "deactivated") {
				t.Errorf("sign-in refusal: %q", refused.TestID("form-error"))
			}
			users := d.ops.Get("/admin/users?q=ada").Status(http.StatusOK)
			if s := users.TestID("admin-user-state"); !strings.Contains(s, "Deactivated") {
				t.Errorf("the list says %q", s)
			}
			events, _, err := d.app.Sys.Tenant(d.alpha).AuditLog(t.Context(), audit.Filter{Action: audit.ActionUserDeactivated})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Target != "ada@example.org" {
				t.Errorf("deactivation in Alpha's log: %+v", events)
			}

			d.ops.PostForm(path+"/reactivate", url.Values{"confirm": {"ada@example.org"}}).Status(http.StatusOK)
			d.app.Client().SignIn("ada@example.org").RedirectsTo("/projects/" + d.alpha)
			// No act on one's own account.
			opsUser, err := d.app.Sys.UserByEmail(t.Context(), "ops@example.org")
			if err != nil {
				t.Fatal(err)
			}
			d.ops.PostForm("/admin/users/"+opsUser.ID+"/deactivate", url.Values{"confirm": {"ops@example.org"}}).Status(http.StatusUnprocessableEntity)
			d.ops.PostForm("/admin/users/not-a-user/deactivate", url.Values{"confirm": {"x"}}).Status(http.StatusNotFound)
		})
	}
}

// A temporary password is shown once; the account's sessions end, and at
// the next sign-in it can open nothing but the page that replaces it.
func TestDashboardTemporaryPassword(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			d := newDashboard(t, db)
			r := d.ops.PostForm("/admin/users/"+d.adaID+"/temporary-password", url.Values{"confirm": {"ada@example.org"}}).Status(http.StatusOK)
			pw, ok := r.Doc().Find(`[data-testid="temporary-password-value"]`).Attr("value")
			if !ok || len(pw) < 16 {
				t.Fatalf("temporary password %q", pw)
			}
			if r.Header("Cache-Control") != "no-store" {
				t.Errorf("the answer with the password may be kept: %q", r.Header("Cache-Control"))
			}
			d.ops.Get("/admin/users/" + d.adaID).NotContains(pw)
			d.ada.Get("/projects/" + d.alpha).RedirectsTo("/signin")

			c := d.app.Client()
			c.PostForm("/signin", url.Values{"email": {"ada@example.org"}, "password": {pw}}).RedirectsTo("/account/new-password")
			for _, path := range []string{"/projects/" + d.alpha, "/account", "/projects"} {
				c.Get(path).RedirectsTo("/account/new-password")
			}
			c.PostForm("/projects/new", url.Values{"projectName": {"Sneaky"}}).RedirectsTo("/account/new-password")
			c.API(http.MethodGet, "/fhir/R4/Patient", "").Status(http.StatusUnauthorized)
			c.Get("/account/new-password").Status(http.StatusOK)
			c.PostForm("/account/new-password", url.Values{"current": {pw}, "password": {"chosen-789"}, "confirm": {"other-789"}}).
				Status(http.StatusUnprocessableEntity)
			c.PostForm("/account/new-password", url.Values{"current": {pw}, "password": {"chosen-789"}, "confirm": {"chosen-789"}}).
				RedirectsTo("/")
			c.Get("/projects/" + d.alpha).Status(http.StatusOK)
			c.Get("/account/new-password").RedirectsTo("/account")
		})
	}
}

// The server page tells the version, the database, migrations, uptime and
// counts, and the configuration with its secrets masked.
func TestDashboardServer(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			d := newDashboard(t, db)
			r := d.ops.Get("/admin/server").Status(http.StatusOK)
			if v := r.TestID("server-version"); v != "dev" {
				t.Errorf("version %q", v)
			}
			if got := r.TestID("server-database"); got != db.Name {
				t.Errorf("database %q, want %q", got, db.Name)
			}
			if n := r.TestID("server-count-Users"); n != "2" {
				t.Errorf("users: %q", n)
			}
			if s := r.TestID("setting-ENCLAVE_SESSION_KEY"); !strings.HasPrefix(s, "••••••") {
				t.Errorf("the session key shows as %q", s)
			}
			if r.TestID("server-size") == "—" || r.TestID("server-migrations") == "" {
				t.Errorf("size %q, migrations %q", r.TestID("server-size"), r.TestID("server-migrations"))
			}
		})
	}
}
