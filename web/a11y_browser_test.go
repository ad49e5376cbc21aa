package web_test

import (
	"net/http"
	"net/url"
	"path"
	"testing"
	"time"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestBrowserAccessibilityTour opens every page of the console, signed out
// and signed in, with lists that have something in them, and runs axe-core
// on each; the journeys check the pages again in the states they reach
// (errors shown, fragments swapped in).
func TestBrowserAccessibilityTour(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	admin, project := app.SignUp("ada@example.org", "Alpha")
	pp := "/projects/" + project
	patient := storeResource(t, app, project, "Patient", `{"resourceType":"Patient","name":[{"given":["Alan"],"family":"Turing"}]}`)
	policy := admin.NewPolicy(project, "Patients only")
	admin.PostForm(pp+"/secrets", url.Values{"name": {"API_KEY"}, "value": {"tour-value-0001"}}).Status(http.StatusOK)
	client, _ := shownClient(t, admin.PostForm(pp+"/clients", url.Values{"name": {"Tour client"},
		"redirectUris": {"https://tour.example.org/cb"}, "accessPolicy": {policy}}).Status(http.StatusOK))
	app.Join(admin, project, "bob@example.org", false)
	invite := admin.PostForm(pp+"/members/invite", url.Values{"email": {"nia@example.org"}}).Status(http.StatusOK).
		Doc().Find(byID("invite-link")).AttrOr("value", "")
	members := admin.Get(pp + "/members").Status(http.StatusOK)
	member := members.Doc().Find(byID("edit-member")).Last().AttrOr("href", "")
	secret := admin.Get(pp+"/secrets").Status(http.StatusOK).Doc().Find(byID("edit-secret")).AttrOr("href", "")
	if invite == "" || member == "" || secret == "" {
		t.Fatalf("setup: invite link %q, member %q, secret %q", invite, member, secret)
	}
	anon := app.Client()
	anon.PostForm("/forgot", url.Values{"email": {"ada@example.org"}}).Status(http.StatusOK)
	reset := ""
	for deadline := time.Now().Add(10 * time.Second); reset == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		reset = app.LoggedLink("password-reset", "ada@example.org") // logged after the answer
	}
	if reset == "" {
		t.Fatal("setup: no password-reset link in the server log")
	}

	b := webtest.NewBrowser(t)
	base := app.HTTP.URL
	visit := func(name, path string) {
		t.Helper()
		b.Do(name, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main")))
		b.CheckA11y(name)
	}
	// Pages that hold every button style and link of the UI kit between them.
	keyboard := map[string]bool{"project home": true, "project home, new project": true, "secrets": true, "edit secret": true,
		"members": true, "edit access policy": true, "resource": true, "API client": true}
	visit("sign in", "/signin")
	b.CheckFocusRings("sign in")
	visit("register", "/register")
	visit("forgot password", "/forgot")
	visit("reset password", reset[len(base):])
	visit("invite landing, signed out", invite[len(base):])
	visit("not found", "/no-such-page")

	b.Do("sign in", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(byID("signin-form"))),
		fill("#f-email", "ada@example.org"), fill("#f-password", "password-123"),
		click(`[data-testid="signin-form"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
	fresh := admin.NewProject("Fresh") // every next step still to do
	for _, p := range []struct{ name, path string }{
		{"project home", pp},
		{"project home, new project", "/projects/" + fresh},
		{"projects", "/projects"},
		{"new project", "/projects/new"},
		{"account", "/account"},
		{"invite landing, signed in", invite[len(base):]},
		{"settings", pp + "/settings"},
		{"members", pp + "/members"},
		{"edit member", member},
		{"remove member", member + "/remove"},
		{"secrets", pp + "/secrets"},
		{"edit secret", secret},
		{"delete secret", secret + "/delete"},
		{"API clients", pp + "/clients"},
		{"API client", pp + "/clients/" + client},
		{"delete API client", pp + "/clients/" + client + "/delete"},
		{"access policies", pp + "/access-policies"},
		{"access policies, saved", pp + "/access-policies?saved=" + policy},
		{"members, saved", pp + "/members?saved=" + path.Base(member)},
		{"resource, created", pp + "/resources/Patient/" + patient + "?saved=created"},
		{"new access policy", pp + "/access-policies/new"},
		{"edit access policy", pp + "/access-policies/" + policy},
		{"delete access policy", pp + "/access-policies/" + policy + "/delete"},
		{"audit", pp + "/audit"},
		{"audit, filtered", pp + "/audit?actor=ada%40example.org&from=2020-01-01&to=2099-12-31"},
		{"audit, no match", pp + "/audit?actor=nobody%40example.org"},
		{"resource types", pp + "/resources"},
		{"resource search", pp + "/resources/Patient"},
		{"resource search, no match", pp + "/resources/Patient?name=nobody"},
		{"new resource", pp + "/resources/Patient/new"},
		{"resource", pp + "/resources/Patient/" + patient},
		{"resource version", pp + "/resources/Patient/" + patient + "/_history/1"},
		{"edit resource", pp + "/resources/Patient/" + patient + "/edit"},
		{"delete resource", pp + "/resources/Patient/" + patient + "/delete"},
		{"not found, in a project", pp + "/resources/Patient/no-such-id"},
	} {
		visit(p.name, p.path)
		if keyboard[p.name] {
			b.CheckFocusRings(p.name)
		}
	}
	// A save's notice shows once: the address drops ?saved=.
	b.Do("saved notice", chromedp.Navigate(base+pp+"/access-policies?saved="+policy), chromedp.WaitVisible(chromedp.CSS(byID("notice"))))
	b.WaitTrue("the address to drop ?saved=", `location.search === ""`)
}
