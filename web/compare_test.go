package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// promotedEvents counts the project's audit events of promotions.
func promotedEvents(t *testing.T, app *webtest.App, project string) int {
	t.Helper()
	evs, _, err := app.Sys.Tenant(project).AuditLog(t.Context(), audit.Filter{Action: audit.ActionProjectPromoted})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// operatorEvents counts the lines of the operator's log.
func operatorEvents(t *testing.T, app *webtest.App) int {
	t.Helper()
	evs, err := audit.OperatorLog(t.Context(), app.DB.DB, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func description(t *testing.T, app *webtest.App, project string) string {
	t.Helper()
	p, err := app.Sys.Tenant(project).Project(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return p.Description
}

// TestCompareInTheConsole: an admin of two projects compares them below
// either and promotes chosen items, confirmed by the target's name; a plain
// member is refused, and a project the user is not an admin of does not
// exist for them.
func TestCompareInTheConsole(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, dev := app.SignUp("ada@example.org", "Dev")
			prod := ada.NewProject("Prod")
			form := settingsForm(t, ada, dev)
			form.Set("description", "Tried in dev")
			ada.PostForm("/projects/"+dev+"/settings", form).Status(http.StatusOK)
			ada.PostForm("/projects/"+dev+"/secrets", url.Values{"name": {"API_KEY"}, "value": {"dev-secret-value-xyz"}}).Status(http.StatusOK)
			_, elsewhere := app.SignUp("eve@example.org", "Elsewhere")
			if err := app.DB.DB.Exec("UPDATE projects SET features = ? WHERE id = ?", kit.StringList{"bots"}, prod).Error; err != nil {
				t.Fatal(err)
			}

			// The settings page links to the comparison, which offers the
			// other project.
			if href, _ := ada.Get("/projects/" + dev + "/settings").Doc().Find(`[data-testid="compare-link"]`).Attr("href"); href != "/projects/"+dev+"/compare" {
				t.Errorf("the settings page links to %q", href)
			}
			pick := ada.Get("/projects/" + dev + "/compare").Status(http.StatusOK)
			if !pick.Has("compare-form") || pick.Has("compare-table") {
				t.Error("the compare page without a choice shows no form, or a table")
			}
			if opts := pick.Doc().Find(`[data-testid="compare-with"] option[value="` + prod + `"]`).Text(); opts != "Prod" {
				t.Errorf("Prod is offered as %q", opts)
			}

			page := ada.Get("/projects/" + dev + "/compare?with=" + prod).Status(http.StatusOK).NotContains("dev-secret-value-xyz")
			doc := page.Doc()
			row := doc.Find(`[data-testid="promote-item-setting-description"]`).Closest("tr")
			if st := strings.TrimSpace(row.Find(`[data-testid="compare-state"]`).Text()); st != "differs" {
				t.Errorf("the description is %q", st)
			}
			if st := strings.TrimSpace(doc.Find(`[data-testid="promote-item-secret-API_KEY"]`).Closest("tr").Find(`[data-testid="compare-state"]`).Text()); st != "only in Dev" {
				t.Errorf("the secret is %q", st)
			}
			if !page.Has("promote-form") || !page.Has("compare-table") {
				t.Error("no promote form or table")
			}
			// Features differ, but only a super admin may promote them.
			if _, off := doc.Find(`[data-testid="promote-item-setting-features"]`).Attr("disabled"); !off {
				t.Error("an admin may choose to promote features")
			}

			// A wrong name changes nothing and says so at the field.
			promote := url.Values{"with": {prod}, "direction": {"a-b"}, "items": {"setting:description", "secret:API_KEY"}, "confirm": {"Dev"}}
			r := ada.PostForm("/projects/"+dev+"/compare/promote", promote).Status(http.StatusUnprocessableEntity)
			if msg := r.TestID("error-confirm"); !strings.Contains(msg, "Prod") {
				t.Errorf("wrong name: %q", msg)
			}
			if _, checked := r.Doc().Find(`[data-testid="promote-item-secret-API_KEY"]`).Attr("checked"); !checked {
				t.Error("the refused form lost the chosen items")
			}
			if description(t, app, prod) != "" || promotedEvents(t, app, prod) != 0 {
				t.Fatal("a refused promotion changed the target")
			}

			// Promoted with htmx: the result is swapped in place.
			hx := ada.For(t)
			hx.HTMX = true
			promote.Set("confirm", "Prod")
			r = hx.PostForm("/projects/"+dev+"/compare/promote", promote).Status(http.StatusOK).NotContains("<html").NotContains("dev-secret-value-xyz")
			if n := r.TestID("notice"); !strings.Contains(n, "Promoted 2 items from Dev to Prod") {
				t.Errorf("notice %q", n)
			}
			if st := strings.TrimSpace(r.Doc().Find(`[data-testid="promote-item-setting-description"]`).Closest("tr").Find(`[data-testid="compare-state"]`).Text()); st != "same" {
				t.Errorf("after the promotion the description is %q", st)
			}
			// The promoted setting is what the target's settings show; the
			// secret opens to the same value there.
			if got := ada.Get("/projects/" + prod + "/settings").TestID("field-description"); !strings.Contains(got, "Tried in dev") {
				t.Errorf("Prod's settings show %q", got)
			}
			if v, err := app.Sys.Tenant(prod).Secrets(app.SecretBox).Value(t.Context(), "API_KEY"); err != nil || v != "dev-secret-value-xyz" {
				t.Errorf("Prod's API_KEY: %q, %v", v, err)
			}
			if promotedEvents(t, app, dev) != 1 || promotedEvents(t, app, prod) != 1 || operatorEvents(t, app) != 0 {
				t.Errorf("audit: dev %d, prod %d, operator %d", promotedEvents(t, app, dev), promotedEvents(t, app, prod), operatorEvents(t, app))
			}

			// A plain member is refused; an admin of Dev who is only a
			// member of Prod, or no member of the other, finds no such
			// project.
			member := addMember(t, app, dev, "member@example.org", false)
			member.Get("/projects/" + dev + "/compare?with=" + prod).Status(http.StatusForbidden)
			member.PostForm("/projects/"+dev+"/compare/promote", promote).Status(http.StatusForbidden)
			carol := addMember(t, app, dev, "carol@example.org", true)
			carolUser, err := app.Sys.UserByEmail(t.Context(), "carol@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.Sys.Tenant(prod).AddMember(t.Context(), audit.Actor{}, carolUser.ID, false, nil); err != nil {
				t.Fatal(err)
			}
			carolPick := carol.Get("/projects/" + dev + "/compare").Status(http.StatusOK)
			if carolPick.Doc().Find(`[data-testid="compare-with"] option[value="`+prod+`"]`).Length() != 0 || !carolPick.Has("compare-no-choices") {
				t.Error("Prod is offered to a plain member of it")
			}
			for _, other := range []string{prod, elsewhere, "00000000-0000-4000-8000-000000000000"} {
				carol.Get("/projects/" + dev + "/compare?with=" + other).Status(http.StatusNotFound).NotContains("Elsewhere")
				carol.PostForm("/projects/"+dev+"/compare/promote", url.Values{"with": {other}, "direction": {"a-b"},
					"items": {"setting:name"}, "confirm": {"Prod"}}).Status(http.StatusNotFound)
			}
			if promotedEvents(t, app, prod) != 1 {
				t.Error("a refused caller promoted")
			}
		})
	}
}

// TestCompareOnTheDashboard: a super admin compares any two projects, named
// by id or name, and promotes between them without JavaScript; the
// promotion is in both projects' logs and the operator's.
func TestCompareOnTheDashboard(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			op, ops := app.SignUp("ops@example.org", "Operators")
			if err := app.Sys.SetSuperAdmin(t.Context(), ops, true); err != nil {
				t.Fatal(err)
			}
			team, staging := app.SignUp("team@example.org", "Staging")
			live := team.NewProject("Live")
			form := settingsForm(t, team, staging)
			form.Set("description", "Ready to ship")
			team.PostForm("/projects/"+staging+"/settings", form).Status(http.StatusOK)
			if err := app.DB.DB.Exec("UPDATE projects SET features = ? WHERE id = ?", kit.StringList{"bots"}, live).Error; err != nil {
				t.Fatal(err)
			}

			team.Get("/admin/compare").Status(http.StatusNotFound)
			if !op.Get("/admin/compare").Status(http.StatusOK).Has("compare-form") {
				t.Error("no pick form on the dashboard")
			}
			r := op.Get("/admin/compare?a=Staging&b=Nowhere").Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("error-b"), "No project") || r.Has("compare-table") {
				t.Errorf("an unknown project: %q", r.TestID("error-b"))
			}
			r = op.Get("/admin/compare?a=Staging&b=" + live).Status(http.StatusOK)
			if r.TestID("compare-a-name") != "Staging" || r.TestID("compare-b-name") != "Live" || !r.Has("promote-item-setting-description") {
				t.Fatalf("the comparison: %q and %q", r.TestID("compare-a-name"), r.TestID("compare-b-name"))
			}
			if _, off := r.Doc().Find(`[data-testid="promote-item-setting-superAdmin"]`).Attr("disabled"); !off {
				t.Error("the super-admin flag can be chosen")
			}
			if features := r.Doc().Find(`[data-testid="promote-item-setting-features"]`); features.Length() != 1 {
				t.Error("no features row")
			} else if _, off := features.Attr("disabled"); off {
				t.Error("a super admin may not choose to promote features")
			}

			promote := url.Values{"a": {staging}, "b": {live}, "direction": {"a-b"}, "items": {"setting:description"}, "confirm": {"Staging"}}
			r = op.PostForm("/admin/compare/promote", promote).Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("error-confirm"), "Live") || description(t, app, live) != "" {
				t.Errorf("wrong name: %q", r.TestID("error-confirm"))
			}
			promote.Set("confirm", "Live")
			r = op.PostForm("/admin/compare/promote", promote).Status(http.StatusOK)
			if !strings.Contains(r.TestID("notice"), "Promoted 1 item from Staging to Live") || !r.Has("compare-table") {
				t.Errorf("notice %q", r.TestID("notice"))
			}
			if got := team.Get("/projects/" + live + "/settings").TestID("field-description"); !strings.Contains(got, "Ready to ship") {
				t.Errorf("Live's settings show %q", got)
			}
			if promotedEvents(t, app, staging) != 1 || promotedEvents(t, app, live) != 1 || operatorEvents(t, app) != 1 {
				t.Errorf("audit: staging %d, live %d, operator %d", promotedEvents(t, app, staging), promotedEvents(t, app, live), operatorEvents(t, app))
			}

			// Back the other way, B to A: the target is then A.
			promote = url.Values{"a": {staging}, "b": {live}, "direction": {"b-a"}, "items": {"setting:name"}, "confirm": {"Staging"}}
			r = op.PostForm("/admin/compare/promote", promote).Status(http.StatusOK)
			if n := r.TestID("notice"); n != "Promoted 1 item from Live to Staging." {
				t.Errorf("notice %q", n)
			}
			if p, err := app.Sys.Tenant(staging).Project(t.Context()); err != nil || p.Name != "Live" {
				t.Errorf("Staging after promoting Live's name to it: %q, %v", p.Name, err)
			}
		})
	}
}
