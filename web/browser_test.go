package web_test

import (
	"context"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

var byID = webtest.TestID

func fill(css, value string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(css), value)
}

func click(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(css))
}

// TestBrowserProjectsJourney walks the foundation in a real browser with
// JavaScript (htmx) on: register, create and switch projects, sign out, sign
// in again and choose a project.
func TestBrowserProjectsJourney(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			b := webtest.NewBrowser(t)
			base := app.HTTP.URL

			b.Do("open register", chromedp.Navigate(base+"/register"), chromedp.WaitVisible(chromedp.CSS(byID("register-form"))))
			b.CheckA11y("register")
			// A too-short password is refused inline by htmx, without a page load:
			// a marker set on the window survives the round trip.
			b.Do("mark page", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("window.stillSamePage = true"))
				return err
			}))
			b.Do("bad password",
				fill("#f-firstName", "Grace"), fill("#f-lastName", "Hopper"),
				fill("#f-email", "grace@example.org"), fill("#f-password", "short"),
				click(`[data-testid="register-form"] button[type=submit]`),
				chromedp.WaitVisible(chromedp.CSS(byID("error-password"))))
			if got := b.Text(byID("error-password")); !strings.Contains(got, "at least 8") {
				t.Fatalf("password error %q", got)
			}
			b.CheckA11y("register, password refused")
			if same, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool]("window.stillSamePage === true")); err != nil || !same {
				t.Fatalf("the inline error reloaded the page (marker %v, %v)", same, err)
			}
			b.Do("fix password",
				fill("#f-password", "cobol-1959"),
				click(`[data-testid="register-form"] button[type=submit]`),
				chromedp.WaitVisible(chromedp.CSS(byID("project-form"))))
			b.WaitPath(base, "/register/project")
			b.CheckA11y("first project")

			b.Do("first project", fill("#f-projectName", "Navy Prod"), click(`[data-testid="project-form"] button[type=submit]`),
				chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
			first := b.WaitPath(base, "/projects/[0-9a-f-]{36}")
			if got := b.Text(byID("project-title")); got != "Navy Prod" {
				t.Fatalf("project title %q", got)
			}
			if got := b.Text(byID("project-role")); got != "Admin" {
				t.Fatalf("role %q", got)
			}
			b.CheckA11y("project home")

			// A second project, through the switcher's "New project".
			b.Do("project switcher", click(byID("project-switcher")+" summary"), chromedp.WaitVisible(chromedp.CSS(byID("new-project"))))
			b.CheckA11y("project switcher, open")
			b.Do("new project", click(byID("new-project")), chromedp.WaitVisible(chromedp.CSS(byID("project-form"))))
			b.CheckA11y("new project")
			b.Do("second project", fill("#f-projectName", "Navy Dev"), click(`[data-testid="project-form"] button[type=submit]`),
				chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
			b.WaitPath(base, "/projects/[0-9a-f-]{36}")
			if got := b.Text(byID("project-title")); got != "Navy Dev" {
				t.Fatalf("second project title %q", got)
			}

			// Switch back to the first one.
			b.Do("switch", click(byID("project-switcher")+" summary"),
				click(byID("switch-project")+`[href="`+strings.TrimPrefix(first, base)+`"]`),
				chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
			b.WaitPath(base, strings.TrimPrefix(first, base))
			if got := b.Text(byID("current-project")); got != "Navy Prod" {
				t.Fatalf("switcher shows %q after switching", got)
			}

			b.Do("sign out", click(byID("signout")), chromedp.WaitVisible(chromedp.CSS(byID("signin-form"))))
			b.WaitPath(base, "/signin")
			b.CheckA11y("sign in")

			// Wrong password: the generic message, inline.
			b.Do("bad sign in", fill("#f-email", "grace@example.org"), fill("#f-password", "wrong-password"),
				click(`[data-testid="signin-form"] button[type=submit]`),
				chromedp.WaitVisible(chromedp.CSS(byID("form-error"))))
			if got := b.Text(byID("form-error")); got != "Email or password is incorrect." {
				t.Fatalf("sign-in error %q", got)
			}
			b.CheckA11y("sign in, refused")
			b.Do("sign in", fill("#f-password", "cobol-1959"),
				click(`[data-testid="signin-form"] button[type=submit]`),
				chromedp.WaitVisible(chromedp.CSS(byID("project-list"))))
			b.WaitPath(base, "/projects")
			if got := b.Text(byID("project-list")); !strings.Contains(got, "Navy Dev") || !strings.Contains(got, "Navy Prod") {
				t.Fatalf("chooser lists %q", got)
			}
			b.CheckA11y("project chooser")
			b.Do("choose", click(byID("choose-project")+`[href="`+strings.TrimPrefix(first, base)+`"]`),
				chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
			if got := b.Text(byID("project-title")); got != "Navy Prod" {
				t.Fatalf("chose %q", got)
			}
		})
	}
}

// TestBrowserRegisterWithoutJavaScript shows every step works as plain HTML
// forms: errors come back with a full page, then the account and project are
// created.
func TestBrowserRegisterWithoutJavaScript(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	b := webtest.NewBrowser(t)
	b.DisableJavaScript()
	base := app.HTTP.URL
	app.SignUp("taken@example.org", "Existing")

	b.Do("open register", chromedp.Navigate(base+"/register"), chromedp.WaitVisible(chromedp.CSS(byID("register-form"))))
	b.Do("taken email",
		fill("#f-firstName", "Alan"), fill("#f-lastName", "Turing"),
		fill("#f-email", "taken@example.org"), fill("#f-password", "enigma-1939"),
		click(`[data-testid="register-form"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(byID("error-email"))))
	if got := b.Text(byID("error-email")); !strings.Contains(got, "already exists") {
		t.Fatalf("email error %q", got)
	}
	b.CheckA11y("register without JavaScript, email refused")
	b.Do("other email",
		chromedp.Clear(chromedp.CSS("#f-email")), fill("#f-email", "alan@example.org"),
		fill("#f-password", "enigma-1939"),
		click(`[data-testid="register-form"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(byID("project-form"))))
	b.Do("empty project name", click(`[data-testid="project-form"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(byID("error-projectName"))))
	if got := b.Text(byID("error-projectName")); !strings.Contains(got, "required") {
		t.Fatalf("project name error %q", got)
	}
	b.CheckA11y("first project without JavaScript, name refused")
	b.Do("project", fill("#f-projectName", "Bletchley"), click(`[data-testid="project-form"] button[type=submit]`),
		chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
	if got := b.Text(byID("project-title")); got != "Bletchley" {
		t.Fatalf("project title %q", got)
	}
}
