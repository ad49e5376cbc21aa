package web_test

import (
	"strconv"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestBrowserResources walks the resource browser in a real browser: create
// a Patient (after a refused attempt), find it by name, open it, edit it into
// version 2 and delete it through hx-confirm; then, without JavaScript,
// delete another one through the confirmation page.
func TestBrowserResources(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, project := app.SignUp("ada@example.org", "Alpha")
			storeResource(t, app, project, "Patient", `{"resourceType":"Patient","name":[{"given":["Alan"],"family":"Turing"}]}`)
			b := webtest.NewBrowser(t)
			base := app.HTTP.URL
			patients := "/projects/" + project + "/resources/Patient"

			dialogs := b.AcceptDialogs()
			rows := func(n int) string {
				return `document.querySelectorAll('[data-testid="result-row"]').length === ` + strconv.Itoa(n)
			}

			b.Do("sign in", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(byID("signin-form"))),
				fill("#f-email", "ada@example.org"), fill("#f-password", "password-123"),
				click(`[data-testid="signin-form"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
			b.Do("open the browser", click(byID("tab-resources")), chromedp.WaitVisible(chromedp.CSS(byID("common-types"))))
			b.CheckA11y("resource types")
			b.Do("open Patient", click(byID("type-Patient")), chromedp.WaitVisible(chromedp.CSS(byID("search-form"))))
			b.WaitTrue("the listing", rows(1))
			b.CheckA11y("resource search")

			// Create: a refused resource shows its issues in place, then a good one is saved.
			b.Do("new", click(byID("new-resource")), chromedp.WaitVisible(chromedp.CSS(byID("resource-form"))))
			b.CheckA11y("new resource")
			b.Eval("window.stillSamePage = true")
			b.WaitHTMXReady(byID("resource-form"))
			b.Do("refused", chromedp.SetValue(chromedp.CSS("#f-json"), `{"resourceType":"Patient","gender":"robot"}`),
				click(byID("save-resource")), chromedp.WaitVisible(chromedp.CSS(byID("resource-issues"))))
			if got := b.Text(byID("issue-expression")); got != "Patient.gender" {
				t.Errorf("issue at %q", got)
			}
			b.CheckA11y("new resource, refused")
			if !b.Eval("window.stillSamePage === true") || !b.Eval(`document.querySelector("#f-json").value.includes("robot")`) {
				t.Fatal("the refusal reloaded the page or lost the JSON")
			}
			b.WaitHTMXReady(byID("resource-form"))
			b.Do("create", chromedp.SetValue(chromedp.CSS("#f-json"),
				`{"resourceType":"Patient","name":[{"given":["Grace"],"family":"Hopper"}],"birthDate":"1906-12-09"}`),
				click(byID("save-resource")), chromedp.WaitVisible(chromedp.CSS(byID("resource-summary"))))
			loc := b.WaitPath(base, patients+"/[0-9a-f-]{36}")
			id := loc[strings.LastIndex(loc, "/")+1:]
			if got := b.Text(byID("resource-summary")); got != "Grace Hopper" {
				t.Errorf("summary %q", got)
			}
			b.CheckA11y("resource")

			// Find it by name.
			b.Do("back to the search", chromedp.Navigate(base+patients), chromedp.WaitVisible(chromedp.CSS(byID("search-form"))))
			b.WaitTrue("both patients", rows(2))
			b.WaitHTMXReady(byID("search-form"))
			b.Do("search", fill(byID("search-name"), "hop"), click(byID("search-submit")))
			b.WaitTrue("one match", rows(1))
			if got := b.Text(byID("result-summary")); got != "Grace Hopper" {
				t.Fatalf("search found %q", got)
			}
			if loc := b.Location(); !strings.Contains(loc, "name=hop") {
				t.Errorf("the search is not in the address bar: %s", loc)
			}
			b.CheckA11y("resource search, one match")
			b.Do("open", click(byID("result-id")), chromedp.WaitVisible(chromedp.CSS(byID("resource-json"))))
			b.WaitPath(base, patients+"/"+id)

			// Edit into version 2.
			b.Do("edit", click(byID("edit-resource")), chromedp.WaitVisible(chromedp.CSS(byID("resource-form"))))
			b.WaitHTMXReady(byID("resource-form"))
			edited, err := chromedp.Run(b.Ctx, chromedp.Value(chromedp.CSS("#f-json")))
			if err != nil || !strings.Contains(edited, "Hopper") {
				t.Fatalf("editor holds %q: %v", edited, err)
			}
			b.CheckA11y("edit resource")
			b.Do("save", chromedp.SetValue(chromedp.CSS("#f-json"), strings.Replace(edited, "Hopper", "Murray Hopper", 1)),
				click(byID("save-resource")), chromedp.WaitVisible(chromedp.CSS(byID("history-version-2"))))
			if got := b.Text(byID("resource-version")); got != "2" {
				t.Errorf("version %q", got)
			}
			if got := b.Text(byID("resource-summary")); got != "Grace Murray Hopper" {
				t.Errorf("summary after edit %q", got)
			}
			b.WaitTrue("two versions in the history", `document.querySelectorAll('[data-testid="history-entry"]').length === 2`)
			if got := b.Text(byID("notice")); got != "Saved Patient/"+id+" as version 2." {
				t.Errorf("notice after saving %q", got)
			}
			b.CheckA11y("resource, version 2")

			// Delete through hx-confirm.
			b.WaitHTMXReady(byID("delete-resource"))
			b.Do("delete", click(byID("delete-resource")), chromedp.WaitVisible(chromedp.CSS(byID("search-results"))))
			if got := b.Text(byID("notice")); got != "Patient/"+id+" deleted." {
				t.Errorf("notice %q", got)
			}
			if d := dialogs(); len(d) != 1 || !strings.Contains(d[0], "Delete Patient/"+id+"?") {
				t.Errorf("confirmation dialogs %q", d)
			}
			b.WaitTrue("only Alan left", rows(1))
			if got := b.Text(byID("result-summary")); got != "Alan Turing" {
				t.Errorf("left after delete: %q", got)
			}
			b.CheckA11y("resource search, one deleted")

			// Without JavaScript the Delete button opens a confirmation page.
			b.DisableJavaScript()
			b.Do("open Alan", click(byID("result-id")), chromedp.WaitVisible(chromedp.CSS(byID("delete-resource"))))
			b.Do("no-JS delete", click(byID("delete-resource")), chromedp.WaitVisible(chromedp.CSS(byID("confirm-delete"))))
			b.CheckA11y("delete resource without JavaScript")
			b.Do("no-JS confirm", click(byID("confirm-delete-button")), chromedp.WaitVisible(chromedp.CSS(byID("no-results"))))
			b.CheckA11y("resource search, none left")
			if d := dialogs(); len(d) != 1 {
				t.Errorf("a dialog opened without JavaScript: %q", d)
			}
		})
	}
}
