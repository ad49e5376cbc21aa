package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"enclave/models/audit"
	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/PuerkitoBio/goquery"
)

// settingsForm returns the saved settings as the editor would post them.
func settingsForm(t *testing.T, c *webtest.Client, project string) url.Values {
	t.Helper()
	r := c.Get("/projects/" + project + "/settings").Status(http.StatusOK)
	doc := r.Doc()
	v := url.Values{}
	doc.Find(`[data-testid="settings-form"] input, [data-testid="settings-form"] textarea, [data-testid="settings-form"] select`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if name == "" || name == "_csrf" {
			return
		}
		if _, disabled := s.Attr("disabled"); disabled {
			return
		}
		switch {
		case goquery.NodeName(s) == "textarea":
			v.Add(name, s.Text())
		case goquery.NodeName(s) == "select":
			val, _ := s.Find("option[selected]").Attr("value")
			v.Add(name, val)
		default:
			typ, _ := s.Attr("type")
			val, _ := s.Attr("value")
			if typ == "checkbox" {
				if _, on := s.Attr("checked"); !on {
					return
				}
			}
			v.Add(name, val)
		}
	})
	return v
}

func TestSettingsEditor(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("admin@example.org", "Alpha")
			path := "/projects/" + project + "/settings"

			page := c.Get(path).Status(http.StatusOK)
			if v, _ := page.Doc().Find("#f-name").Attr("value"); v != "Alpha" {
				t.Errorf("name field %q", v)
			}
			if _, on := page.Doc().Find(`[data-testid="strict-mode"]`).Attr("checked"); !on {
				t.Error("strict mode must default to on")
			}
			if _, on := page.Doc().Find(`[data-testid="check-references"]`).Attr("checked"); on {
				t.Error("check references must default to off")
			}
			if page.TestID("operator-readonly") == "" || len(page.Doc().Find(`[data-testid="features"] input[disabled]`).Nodes) != 11 {
				t.Error("a project admin must see the 11 features read-only")
			}

			// Save with htmx: the form fragment comes back with what changed.
			form := settingsForm(t, c, project)
			form.Set("name", "Alpha Prod")
			form.Set("checkReferencesOnWrite", "on")
			c.HTMX = true
			r := c.PostForm(path, form).Status(http.StatusOK)
			if strings.Contains(r.Body, "<html") {
				t.Error("htmx save must return the fragment")
			}
			if got := r.TestID("notice"); got != "Saved. Changed: name, check references on write." {
				t.Errorf("notice %q", got)
			}
			c.HTMX = false
			if got := c.Get("/projects/" + project).TestID("project-title"); got != "Alpha Prod" {
				t.Errorf("home shows %q after rename", got)
			}

			// Bad input: inline error, input kept, nothing saved.
			form = settingsForm(t, c, project)
			form.Set("name", strings.Repeat("x", 201))
			r = c.PostForm(path, form).Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("error-name"), "at most 200") {
				t.Errorf("name error %q", r.TestID("error-name"))
			}

			// Strict mode off asks first, then goes through.
			form = settingsForm(t, c, project)
			form.Del("strictMode")
			r = c.PostForm(path, form).Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("error-strictMode"), "stops validating") || !r.Has("confirm-strict-off") {
				t.Fatalf("no confirmation for strict mode off: %q", r.TestID("error-strictMode"))
			}
			form.Set("confirmStrictOff", "on")
			c.PostForm(path, form).Status(http.StatusOK).Contains("strict mode")
			if p, err := app.Sys.Tenant(project).Project(t.Context()); err != nil {
				t.Fatal(err)
			} else if p.StrictMode {
				t.Error("strict mode still on after a confirmed save")
			}

			// A forged form with features from a project admin is refused.
			form = settingsForm(t, c, project)
			form.Add("features", "bots")
			c.PostForm(path, form).Status(http.StatusForbidden)
			form.Del("features")
			form.Set("superAdmin", "on")
			c.PostForm(path, form).Status(http.StatusForbidden)
			if p, err := app.Sys.Tenant(project).Project(t.Context()); err != nil {
				t.Fatal(err)
			} else if p.SuperAdmin || len(p.Features) != 0 {
				t.Errorf("forged operator fields saved: superAdmin=%v features=%v", p.SuperAdmin, p.Features)
			}

			// A super admin may set them.
			_, ops := app.SignUp("ops@example.org", "Operators")
			if err := app.Sys.SetSuperAdmin(t.Context(), ops, true); err != nil {
				t.Fatal(err)
			}
			opsUser, err := app.Sys.UserByEmail(t.Context(), "ops@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.Sys.Tenant(project).AddMember(t.Context(), audit.Actor{}, opsUser.ID, true, nil); err != nil {
				t.Fatal(err)
			}
			op := app.Client()
			op.SignIn("ops@example.org")
			form = settingsForm(t, op, project)
			if form.Get("operatorFields") != "on" {
				t.Fatal("a super admin's form must carry the operator fields")
			}
			form.Add("features", "bots")
			form.Add("features", "email")
			r = op.PostForm(path, form).Status(http.StatusOK)
			if !strings.Contains(r.TestID("notice"), "features") {
				t.Errorf("operator notice %q", r.TestID("notice"))
			}
			form.Add("features", "teleport")
			r = op.PostForm(path, settingsWithVersion(t, op, project, form)).Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("error-features"), "teleport") {
				t.Errorf("unknown feature error %q", r.TestID("error-features"))
			}
			if p, err := app.Sys.Tenant(project).Project(t.Context()); err != nil {
				t.Fatal(err)
			} else if strings.Join(p.Features, ",") != "bots,email" {
				t.Errorf("features %v", p.Features)
			}

			// The audit log has before and after of each change.
			audit := c.Get("/projects/" + project + "/audit?action=settings.updated").Status(http.StatusOK)
			details := strings.Join(audit.TestIDs("audit-details"), "\n")
			if !strings.Contains(details, "name: “Alpha” → “Alpha Prod”") {
				t.Errorf("audit details:\n%s", details)
			}
		})
	}
}

// settingsWithVersion refreshes the version field of a form to the saved one.
func settingsWithVersion(t *testing.T, c *webtest.Client, project string, form url.Values) url.Values {
	form.Set("version", settingsForm(t, c, project).Get("version"))
	return form
}

func TestConcurrentSettingsEdits(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ann, project := app.SignUp("ann@example.org", "Shared")
			bob := addMember(t, app, project, "bob@example.org", true)

			path := "/projects/" + project + "/settings"
			annForm := settingsForm(t, ann, project)
			bobForm := settingsForm(t, bob, project)
			annForm.Set("description", "Ann's description")
			ann.PostForm(path, annForm).Status(http.StatusOK)

			bobForm.Set("description", "Bob's description")
			r := bob.PostForm(path, bobForm).Status(http.StatusConflict)
			if !strings.Contains(r.TestID("form-error"), "Someone else saved") {
				t.Errorf("conflict message %q", r.TestID("form-error"))
			}
			if got := r.Doc().Find("#f-description").Text(); got != "Bob's description" {
				t.Errorf("Bob's input was lost: %q", got)
			}
			p, err := app.Sys.Tenant(project).Project(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if p.Description != "Ann's description" {
				t.Errorf("description %q: the second save overwrote the first", p.Description)
			}
			if v, err := strconv.Atoi(bobForm.Get("version")); err != nil {
				t.Fatalf("version field %q: %v", bobForm.Get("version"), err)
			} else if p.Version != v+1 {
				t.Errorf("version %d, want %d", p.Version, v+1)
			}
		})
	}
}
