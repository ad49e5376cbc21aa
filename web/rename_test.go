package web_test

import (
	"net/http"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestRenameShowsAtOnce: saving settings with a new name updates the
// header's project switcher and the project title in the same answer: for
// htmx, as out-of-band swaps next to the form; for a plain browser, in the
// page. A save that keeps the name sends no swaps.
func TestRenameShowsAtOnce(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("admin@example.org", "Alpha")
			path := "/projects/" + project + "/settings"

			form := settingsForm(t, c, project)
			form.Set("name", "Alpha Prod")
			c.HTMX = true
			r := c.PostForm(path, form).Status(http.StatusOK)
			switcher := r.Doc().Find(`#project-switcher[hx-swap-oob="true"]`)
			if switcher.Length() != 1 {
				t.Fatalf("no out-of-band project switcher in the htmx answer\n%s", r.Body)
			}
			if got := switcher.Find(`[data-testid="current-project"]`).Text(); got != "Alpha Prod" {
				t.Errorf("the switcher says %q", got)
			}
			if got := switcher.Find(`[data-testid="switch-project"][aria-current="true"]`).Text(); got != "Alpha Prod" {
				t.Errorf("the switcher lists the project as %q", got)
			}
			if got := r.Doc().Find(`#project-title[hx-swap-oob="true"]`).Text(); got != "Alpha Prod" {
				t.Errorf("the out-of-band title says %q", got)
			}
			r.Shows("settings-form")

			// Nothing renamed: the form alone.
			form = settingsForm(t, c, project)
			form.Set("description", "Production")
			r = c.PostForm(path, form).Status(http.StatusOK)
			if r.Doc().Find(`[hx-swap-oob]`).Length() != 0 {
				t.Errorf("a save that kept the name sent out-of-band swaps\n%s", r.Body)
			}

			// Without htmx the whole page shows the new name.
			c.HTMX = false
			form = settingsForm(t, c, project)
			form.Set("name", "Alpha Live")
			r = c.PostForm(path, form).Status(http.StatusOK)
			if r.TestID("project-title") != "Alpha Live" || r.TestID("current-project") != "Alpha Live" {
				t.Errorf("the page after a rename shows title %q, switcher %q", r.TestID("project-title"), r.TestID("current-project"))
			}
			if r.Doc().Find(`[hx-swap-oob]`).Length() != 0 {
				t.Error("a full page carries out-of-band swaps")
			}
		})
	}
}

// TestBrowserRenameShowsAtOnce: in a browser, the header and the title show
// a project's new name as soon as its settings are saved, without a reload.
func TestBrowserRenameShowsAtOnce(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, project := app.SignUp("ada@example.org", "Alpha")
			b := webtest.NewBrowser(t)
			base := app.HTTP.URL

			signInBrowser(b, base, "ada@example.org")
			b.Do("settings", chromedp.Navigate(base+"/projects/"+project+"/settings"), chromedp.WaitVisible(chromedp.CSS(byID("settings-form"))))
			b.WaitHTMXReady(byID("settings-form"))
			b.Eval("window.stillSamePage = true")
			b.Do("rename", chromedp.SetValue(chromedp.CSS("#f-name"), "Alpha Prod"), click(byID("save-settings")),
				chromedp.WaitVisible(chromedp.CSS(byID("notice"))))
			b.WaitTrue("the new name in the header", `document.querySelector('[data-testid="current-project"]').textContent.trim() === "Alpha Prod"`)
			if got := b.Text(byID("project-title")); got != "Alpha Prod" {
				t.Errorf("title %q", got)
			}
			if !b.Eval("window.stillSamePage === true") {
				t.Error("the save reloaded the page")
			}
			b.CheckA11y("settings, renamed")
		})
	}
}
