package web_test

import (
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestBrowserDeleteProject: with JavaScript on, an admin goes from the
// project's settings to the deletion's confirmation, is told in place (htmx,
// no reload) that the typed name is wrong, then deletes the project and
// lands on their project list, where it is no more.
func TestBrowserDeleteProject(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	ada, project := app.SignUp("ada@example.org", "Alpha Clinic")
	b := webtest.NewBrowser(t)
	base := app.HTTP.URL
	signInBrowser(b, base, "ada@example.org")
	ada.NewProject("Beta Lab")
	b.Do("open settings", chromedp.Navigate(base+"/projects/"+project+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(byID("delete-project-section"))))
	b.Do("go to the confirmation", click(byID("delete-project")), chromedp.WaitVisible(chromedp.CSS(byID("confirm-delete-project"))))
	b.WaitPath(base, "/projects/"+project+"/delete")
	b.CheckA11y("delete project")
	b.WaitHTMXReady(byID("delete-project-submit"))
	b.Eval("window.stillSamePage = true")

	b.Do("a wrong name", fill("#f-confirm", "Alpha"), click(byID("delete-project-submit")),
		chromedp.WaitVisible(chromedp.CSS(byID("error-confirm"))))
	if got := b.Text(byID("error-confirm")); !strings.Contains(got, "Alpha Clinic") {
		t.Errorf("the wrong name's error %q", got)
	}
	b.CheckA11y("delete project, wrong name")
	if !b.Eval(`document.querySelector("#f-confirm").value === "Alpha"`) {
		t.Error("the typed name did not come back")
	}
	if !b.Eval("window.stillSamePage === true") {
		t.Error("the refusal reloaded the page instead of swapping the form")
	}

	b.Do("the right name", chromedp.Clear(chromedp.CSS("#f-confirm")), fill("#f-confirm", "Alpha Clinic"),
		click(byID("delete-project-submit")), chromedp.WaitNotPresent(chromedp.CSS(byID("confirm-delete-project"))))
	b.WaitPath(base, "/projects")
	b.WaitTrue("the list shows Beta Lab only", `document.body.innerText.includes("Beta Lab") && !document.body.innerText.includes("Alpha Clinic")`)
	b.Do("the project is gone", chromedp.Navigate(base+"/projects/"+project+"/settings"),
		chromedp.WaitNotPresent(chromedp.CSS(byID("delete-project-section"))))
	if !b.Eval(`document.body.innerText.includes("does not exist, or you do not have access")`) {
		t.Errorf("the deleted project's settings: %q", b.Text("main"))
	}
}
