package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// overflowing names the deepest elements that reach past the right edge of
// the window, for the failure message.
const overflowing = `(function () {
	var out = [];
	document.querySelectorAll("body *").forEach(function (el) {
		var r = el.getBoundingClientRect();
		if (r.right <= window.innerWidth + 0.5 || r.width === 0) return;
		for (var c = el.firstElementChild; c; c = c.nextElementSibling) {
			if (c.getBoundingClientRect().right > window.innerWidth + 0.5) return;
		}
		var name = el.tagName.toLowerCase() + (el.dataset.testid ? "[data-testid=" + el.dataset.testid + "]" : "") +
			(el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
		out.push(name + " reaches " + Math.round(r.right) + "px");
	});
	return out.slice(0, 8).join("\n");
})()`

// TestBrowserLongNamesFitTheWindow: 200-character unbroken names (the
// project, a member, a policy, a secret, a patient, an invited address)
// never widen a page beyond the window, on a 390 px phone or a 1280 px
// desktop. Wide tables scroll inside their own frame.
func TestBrowserLongNamesFitTheWindow(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	long := func(c string) string { return strings.Repeat(c, 200) }
	ada, project := app.SignUp("ada@example.org", long("P"))
	pp := "/projects/" + project
	policy := ada.NewPolicy(project, long("R"))
	ada.PostForm(pp+"/secrets", url.Values{"name": {"API_KEY"}, "value": {"s3cr3t-value"}}).Status(http.StatusOK)
	addMember(t, app, project, "bob@example.org", false)
	bob := memberRow(t, ada.Get(pp+"/members"), "bob@example.org")["id"]
	ada.PostForm(pp+"/members/"+bob, url.Values{"active": {"on"}, "accessPolicy": {policy}}).Status(http.StatusSeeOther)
	invitee := strings.Repeat("i", 64) + "@" + strings.Repeat("d", 60) + ".example.org"
	ada.PostForm(pp+"/members/invite", url.Values{"email": {invitee}}).Status(http.StatusOK)
	patient := storeResource(t, app, project, "Patient", `{"resourceType":"Patient","name":[{"family":"`+long("F")+`"}]}`)
	// Names longer than the forms allow, as older data or a later limit
	// may hold them.
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"UPDATE users SET first_name = ?, last_name = '' WHERE email = ?", []any{long("A"), "ada@example.org"}},
		{"UPDATE users SET first_name = ?, last_name = '' WHERE email = ?", []any{long("B"), "bob@example.org"}},
		{"UPDATE project_secrets SET name = ? WHERE project_id = ?", []any{long("S"), project}},
	} {
		if err := app.DB.DB.Exec(q.sql, q.args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	secret := ada.Get(pp+"/secrets").Status(http.StatusOK).Doc().Find(byID("edit-secret")).AttrOr("href", "")
	if secret == "" {
		t.Fatal("setup: no secret")
	}

	b := webtest.NewBrowser(t)
	base := app.HTTP.URL
	b.Do("sign in", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(byID("signin-form"))),
		fill("#f-email", "ada@example.org"), fill("#f-password", "password-123"),
		click(`[data-testid="signin-form"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
	pages := []struct{ name, path string }{
		{"project home", pp},
		{"members", pp + "/members"},
		{"audit", pp + "/audit"},
		{"secrets", pp + "/secrets"},
		{"access policies", pp + "/access-policies"},
		{"resource types", pp + "/resources"},
		{"projects", "/projects"},
		{"account", "/account"},
		{"settings", pp + "/settings"},
		{"edit member", pp + "/members/" + bob},
		{"remove member", pp + "/members/" + bob + "/remove"},
		{"edit secret", secret},
		{"edit access policy", pp + "/access-policies/" + policy},
		{"delete access policy", pp + "/access-policies/" + policy + "/delete"},
		{"resource search", pp + "/resources/Patient"},
		{"resource", pp + "/resources/Patient/" + patient},
		{"not found, in a project", pp + "/resources/Patient/no-such-id"},
	}
	for _, width := range []int64{390, 1280} {
		b.Do("window "+strconv.FormatInt(width, 10), chromedp.EmulateViewport(width, 844))
		for _, p := range pages {
			name := p.name + " at " + strconv.FormatInt(width, 10) + " px"
			b.Do(name, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS("main")))
			if !b.Eval(`document.documentElement.scrollWidth <= window.innerWidth`) {
				what, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](overflowing))
				t.Errorf("%s: the page is wider than the window:\n%s", name, what)
			}
			if width == 390 {
				b.CheckA11y(name)
			}
		}
		// The project menu opens within the window too.
		b.Do("open the project menu", chromedp.Navigate(base+pp), chromedp.WaitVisible(chromedp.CSS("main")),
			click(byID("project-switcher")+" summary"), chromedp.WaitVisible(chromedp.CSS(byID("switch-project"))))
		if !b.Eval(`(function () { var r = document.querySelector('[data-testid="switch-project"]').parentElement.getBoundingClientRect();
			return r.left >= 0 && r.right <= window.innerWidth; })()`) {
			t.Errorf("at %d px the project menu reaches outside the window", width)
		}
	}
}
