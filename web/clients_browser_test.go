package web_test

import (
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestBrowserClients makes an API client in a real browser with htmx: the
// refused form in place, the secret shown once, then a rotation with a
// grace period and disabling it on the client's page; then without
// JavaScript, where the pages come whole and deleting asks on a page.
func TestBrowserClients(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	_, project := app.SignUp("ada@example.org", "Alpha")
	b := webtest.NewBrowser(t)
	base := app.HTTP.URL
	list := base + "/projects/" + project + "/clients"

	signInBrowser(b, base, "ada@example.org")
	b.Do("open clients", chromedp.Navigate(list), chromedp.WaitVisible(chromedp.CSS(byID("no-clients"))))
	b.CheckA11y("clients, none")
	b.Eval("window.stillSamePage = true")

	b.WaitHTMXReady(byID("save-client"))
	b.Do("bad redirect URI", fill("#f-name", "Lab sync"), fill("#f-redirectUris", "http://lab.example.org/cb"),
		click(byID("save-client")), chromedp.WaitVisible(chromedp.CSS(byID("error-redirectUris"))))
	if got := b.Text(byID("error-redirectUris")); !strings.Contains(got, "https://") {
		t.Errorf("redirect URI error %q", got)
	}
	b.CheckA11y("clients, redirect URI refused")
	b.Do("good redirect URI", chromedp.Clear(chromedp.CSS("#f-redirectUris")), fill("#f-redirectUris", "https://lab.example.org/cb"),
		click(byID("save-client")), chromedp.WaitVisible(chromedp.CSS(byID("client-secret-shown"))))
	if !b.Eval("window.stillSamePage === true") {
		t.Error("htmx create reloaded the page")
	}
	if !b.Eval(`document.querySelector("#shown-client-secret").value.length === 64`) {
		t.Error("no 64-character secret shown")
	}
	b.CheckA11y("clients, secret shown")

	b.Do("open the client", click(byID("client-name")), chromedp.WaitVisible(chromedp.CSS(byID("rotate-client"))))
	if b.Eval(`document.querySelector("#shown-client-secret") !== null`) {
		t.Error("the client's page shows a secret")
	}
	b.WaitHTMXReady(byID("rotate-secret"))
	b.Do("rotate", chromedp.Clear(chromedp.CSS("#f-grace")), fill("#f-grace", "2"), click(byID("rotate-secret")),
		chromedp.WaitVisible(chromedp.CSS(byID("client-secret-shown"))))
	if got := b.Text(byID("client-retiring")); !strings.HasPrefix(got, "Works until") {
		t.Errorf("previous secret %q", got)
	}
	b.CheckA11y("client, secret rotated")
	b.WaitHTMXReady(byID("disable-client"))
	b.Do("disable", click(byID("disable-client")), chromedp.WaitVisible(chromedp.CSS(byID("enable-client"))))
	if got := b.Text(byID("client-status")); got != "Disabled" {
		t.Errorf("status %q", got)
	}
	b.CheckA11y("client, disabled")

	// Without JavaScript: whole pages, the secret in a field to select, and
	// a confirmation page before deleting.
	b.DisableJavaScript()
	b.Do("no-JS open clients", chromedp.Navigate(list), chromedp.WaitVisible(chromedp.CSS(byID("add-client"))))
	b.Do("no-JS add", fill("#f-name", "Plain form"), click(byID("save-client")),
		chromedp.WaitVisible(chromedp.CSS(byID("client-secret-shown"))))
	if got := b.Text(`[data-testid="client-secret-shown"] strong`); got != "This secret will not be shown again." {
		t.Errorf("warning %q", got)
	}
	b.CheckA11y("clients without JavaScript, secret shown")
	b.Do("no-JS open the client", chromedp.Navigate(list), chromedp.WaitVisible(chromedp.CSS(byID("client-list"))),
		click(`[data-testid="client-name"]`), chromedp.WaitVisible(chromedp.CSS(byID("delete-client"))))
	b.Do("no-JS delete", click(byID("delete-client")), chromedp.WaitVisible(chromedp.CSS(byID("confirm-delete"))))
	b.CheckA11y("delete client without JavaScript")
	b.Do("no-JS confirm", click(byID("confirm-delete-button")), chromedp.WaitVisible(chromedp.CSS(byID("client-list"))))
	b.WaitPath(base, "/projects/"+project+"/clients")
}
