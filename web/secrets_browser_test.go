package web_test

import (
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestBrowserSecrets uses the secrets editor in a real browser, first with
// htmx (errors in place, delete through hx-confirm), then without
// JavaScript (full pages, a confirmation page for delete).
func TestBrowserSecrets(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	_, project := app.SignUp("ada@example.org", "Alpha")
	b := webtest.NewBrowser(t)
	base := app.HTTP.URL
	secrets := base + "/projects/" + project + "/secrets"

	dialogs := b.AcceptDialogs()
	evalBool := b.Eval

	b.Do("sign in", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(byID("signin-form"))),
		fill("#f-email", "ada@example.org"), fill("#f-password", "password-123"),
		click(`[data-testid="signin-form"] button[type=submit]`), chromedp.WaitNotPresent(chromedp.CSS(byID("signin-form"))))
	b.Do("open secrets", chromedp.Navigate(secrets), chromedp.WaitVisible(chromedp.CSS(byID("no-secrets"))))
	b.CheckA11y("secrets, none")
	evalBool("window.stillSamePage = true")

	b.Do("bad name", fill("#f-name", "bad name"), fill("#f-value", "browser-value-0001"),
		click(byID("save-secret")), chromedp.WaitVisible(chromedp.CSS(byID("error-name"))))
	if got := b.Text(byID("error-name")); !strings.Contains(got, "letters, digits") {
		t.Errorf("name error %q", got)
	}
	b.CheckA11y("secrets, name refused")
	if !evalBool("window.stillSamePage === true") || !evalBool(`document.querySelector("#f-value").value === ""`) {
		t.Fatal("the error reloaded the page, or the value came back")
	}
	b.Do("good name", chromedp.Clear(chromedp.CSS("#f-name")), fill("#f-name", "BROWSER_KEY"), fill("#f-value", "browser-value-0001"),
		click(byID("save-secret")), chromedp.WaitVisible(chromedp.CSS(byID("secret-row"))))
	if got := b.Text(byID("secret-hint")); got != "••••••0001" {
		t.Errorf("hint %q", got)
	}
	b.CheckA11y("secrets, one saved")
	b.WaitHTMXReady(byID("delete-secret"))
	b.Do("delete with hx-confirm", click(byID("delete-secret")), chromedp.WaitVisible(chromedp.CSS(byID("no-secrets"))))
	if d := dialogs(); len(d) != 1 || !strings.Contains(d[0], "Delete the secret BROWSER_KEY?") {
		t.Errorf("confirmation dialogs: %q", d)
	}
	if !evalBool("window.stillSamePage === true") {
		t.Error("htmx add or delete reloaded the page")
	}
	if got := b.Text(byID("notice")); got != "Secret BROWSER_KEY deleted." {
		t.Errorf("notice %q", got)
	}
	b.CheckA11y("secrets, one deleted")

	b.DisableJavaScript()
	b.Do("reload without JavaScript", chromedp.Navigate(secrets), chromedp.WaitVisible(chromedp.CSS(byID("no-secrets"))))
	b.Do("no-JS bad value", fill("#f-name", "PLAIN"), click(byID("save-secret")),
		chromedp.WaitVisible(chromedp.CSS(byID("error-value"))))
	b.CheckA11y("secrets without JavaScript, value refused")
	b.Do("no-JS add", fill("#f-value", "plain-form-value-0002"), click(byID("save-secret")),
		chromedp.WaitVisible(chromedp.CSS(byID("secret-row"))))
	b.Do("no-JS delete", click(byID("delete-secret")), chromedp.WaitVisible(chromedp.CSS(byID("confirm-delete"))))
	b.CheckA11y("delete secret without JavaScript")
	b.Do("no-JS confirm", click(byID("confirm-delete-button")), chromedp.WaitVisible(chromedp.CSS(byID("no-secrets"))))
	b.WaitPath(base, "/projects/"+project+"/secrets")
	if d := dialogs(); len(d) != 1 {
		t.Errorf("a dialog opened without JavaScript: %q", d)
	}
}
