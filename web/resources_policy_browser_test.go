package web_test

import (
	"testing"

	"enclave/models/audit"
	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestBrowserRefusalSaysWhy: a member whose policy turned read-only while
// their page was open clicks Delete; htmx's request is refused, and the page
// says why, in the server's words, instead of "not allowed, or your session
// expired". The reloaded page then offers no Delete.
func TestBrowserRefusalSaysWhy(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, project := app.SignUp("admin@example.org", "Clinic")
			_, pol := policyMember(t, app, project, "desk@example.org", resources.PolicyRule{ResourceType: "Organization"})
			org := storeResource(t, app, project, "Organization", `{"resourceType":"Organization","name":"North Clinic"}`)
			b := webtest.NewBrowser(t)
			base := app.HTTP.URL
			b.AcceptDialogs()

			signInBrowser(b, base, "desk@example.org")
			page := base + "/projects/" + project + "/resources/Organization/" + org
			b.Do("open the organization", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(byID("delete-resource"))))
			b.CheckA11y("resource a member may change")

			if _, err := app.Sys.Tenant(project).UpdateAccessPolicy(t.Context(), audit.Actor{}, pol.ID, resources.PolicyInput{Name: pol.Name,
				Rules: []resources.PolicyRule{{ResourceType: "Organization", ReadOnly: true}}}); err != nil {
				t.Fatal(err)
			}
			b.WaitHTMXReady(byID("delete-resource"))
			b.Do("delete", click(byID("delete-resource")), chromedp.WaitVisible(chromedp.CSS("#flash-error")))
			want := "Your access policy lets you read Organization but not change it."
			if got := b.Text("#flash-error"); got != want {
				t.Errorf("the refusal says %q, want %q", got, want)
			}
			b.CheckA11y("resource, delete refused")

			b.Do("reload", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(byID("read-only-type"))))
			if b.Eval(`document.querySelector('[data-testid="delete-resource"]') !== null`) {
				t.Error("the reloaded page still offers Delete")
			}
			b.CheckA11y("resource a member may only read")
		})
	}
}
