package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestBrowserCompareAndPromote: in Chromium with htmx, an admin of two
// projects compares them from the settings page and promotes a setting;
// the pages pass the accessibility checks.
func TestBrowserCompareAndPromote(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, dev := app.SignUp("ada@example.org", "Dev")
			form := settingsForm(t, ada, dev)
			form.Set("description", "Tried in dev")
			ada.PostForm("/projects/"+dev+"/settings", form).Status(http.StatusOK)
			ada.PostForm("/projects/"+dev+"/secrets", url.Values{"name": {"API_KEY"}, "value": {"dev-secret-value-xyz"}}).Status(http.StatusOK)
			base := app.HTTP.URL
			b := webtest.NewBrowser(t)
			signInBrowser(b, base, "ada@example.org")
			prod := ada.NewProject("Prod")

			b.Do("open the comparison from the settings", chromedp.Navigate(base+"/projects/"+dev+"/settings"),
				chromedp.WaitVisible(chromedp.CSS(byID("compare-link"))), click(byID("compare-link")),
				chromedp.WaitVisible(chromedp.CSS(byID("compare-form"))))
			b.CheckA11y("compare, nothing chosen")
			b.Do("compare with Prod", chromedp.SetValue(chromedp.CSS("#f-with"), prod), click(byID("compare-submit")),
				chromedp.WaitVisible(chromedp.CSS(byID("compare-table"))))
			b.CheckA11y("compare, Dev and Prod")
			if strings.Contains(b.Text("body"), "dev-secret-value-xyz") {
				t.Fatal("the comparison shows a secret's value")
			}
			b.Do("promote the description", click(byID("promote-item-setting-description")), fill("#f-confirm", "Prod"),
				click(byID("promote-submit")), chromedp.WaitVisible(chromedp.CSS(byID("notice"))))
			if got := b.Text(byID("notice")); got != "Promoted 1 item from Dev to Prod." {
				t.Fatalf("notice %q", got)
			}
			b.CheckA11y("compare, promoted")
			if got := description(t, app, prod); got != "Tried in dev" {
				t.Fatalf("Prod's description is %q", got)
			}
		})
	}
}
