package web_test

import (
	"net/http"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestBrowserOps: in Chromium, with JavaScript and without, a super admin
// finds a project on the dashboard and clones it from its row (the progress
// page refreshes itself with htmx, or by its Refresh link, until it links
// to the copy), finds the clone in the global audit log, compares the
// source with the copy and promotes a setting changed since, and expunges
// the copy by typing its name. Each page passes axe-core.
func TestBrowserOps(t *testing.T) {
	for _, js := range []bool{true, false} {
		name := "with JavaScript"
		if !js {
			name = "without JavaScript"
		}
		t.Run(name, func(t *testing.T) {
			d := newDashboard(t, testdb.SQLite(t))
			withPatients(t, d.ada, d.alpha, 2)
			b := webtest.NewBrowser(t)
			if !js {
				b.DisableJavaScript()
			}
			base := d.app.HTTP.URL
			signInBrowser(b, base, "ops@example.org")

			b.Do("find Alpha", chromedp.Navigate(base+"/admin?q=alpha"), chromedp.WaitVisible(chromedp.CSS(byID("admin-project-clone"))))
			b.Do("clone it", click(byID("admin-project-clone")), chromedp.WaitVisible(chromedp.CSS(byID("clone-form"))))
			b.CheckA11y("clone form (" + name + ")")
			b.Do("uncheck Observation", click(byID("clone-type-Observation")), chromedp.Clear(chromedp.CSS("#f-name")), fill("#f-name", "Alpha Dev"),
				click(byID("clone-submit")), chromedp.WaitVisible(chromedp.CSS(byID("clone-progress"))))
			b.CheckA11y("clone progress (" + name + ")")
			if !js {
				// Without JavaScript the page stays as it was served:
				// its Refresh link fetches it again.
				for range 50 {
					if b.Eval(`!!document.querySelector('[data-testid="clone-done-link"]')`) {
						break
					}
					b.Do("refresh", click(byID("clone-refresh")), chromedp.WaitVisible(chromedp.CSS(byID("clone-progress"))))
				}
			}
			b.WaitTrue("the clone is done", `!!document.querySelector('[data-testid="clone-done-link"]')`)
			b.Do("open the copy", click(byID("clone-done-link")), chromedp.WaitVisible(chromedp.CSS(byID("project-role"))))
			copyID := strings.TrimPrefix(strings.SplitN(b.Location(), "?", 2)[0], base+"/projects/")
			if counts := typeCounts(t, d.app, copyID); counts["Patient"] != 2 || counts["Observation"] != 0 {
				t.Errorf("the copy holds %v", counts)
			}

			b.Do("the audit log", chromedp.Navigate(base+"/admin"), click(byID("admin-tab-audit")),
				chromedp.WaitVisible(chromedp.CSS(byID("audit-filter"))))
			// The filter is a plain GET form: wait for the filtered page, not
			// the table of the page it leaves.
			b.Do("filter by the copy", fill("#f-project", "alpha dev"), click(byID("audit-filter-submit")))
			b.WaitTrue("the filtered log", `location.search.indexOf("project=") >= 0 && document.readyState === "complete" &&
				!!document.querySelector('[data-testid="audit-action"]')`)
			if got := b.Text(byID("audit-action")); !strings.HasPrefix(got, "project.cloned") {
				t.Errorf("the copy's newest line: %q", got)
			}
			b.CheckA11y("global audit log (" + name + ")")

			// dev → staging: a setting changed in the source since the copy
			// is compared and promoted to the copy.
			form := settingsForm(t, d.ada, d.alpha)
			form.Set("description", "Tried in Alpha")
			d.ada.PostForm("/projects/"+d.alpha+"/settings", form).Status(http.StatusOK)
			b.Do("compare", chromedp.Navigate(base+"/admin"), click(byID("admin-tab-compare")),
				chromedp.WaitVisible(chromedp.CSS(byID("compare-form"))))
			b.Do("the source and the copy", fill("#f-a", d.alpha), fill("#f-b", copyID), click(byID("compare-submit")),
				chromedp.WaitVisible(chromedp.CSS(byID("promote-item-setting-description"))))
			b.CheckA11y("compare the source and the copy (" + name + ")")
			b.Do("promote the description", click(byID("promote-item-setting-description")), fill("#f-confirm", "Alpha Dev"),
				click(byID("promote-submit")), chromedp.WaitVisible(chromedp.CSS(byID("notice"))))
			if got := b.Text(byID("notice")); got != "Promoted 1 item from Alpha Clinic to Alpha Dev." {
				t.Errorf("promotion notice %q", got)
			}
			if got := description(t, d.app, copyID); got != "Tried in Alpha" {
				t.Errorf("the copy's description after the promotion: %q", got)
			}

			b.Do("expunge the copy", chromedp.Navigate(base+"/admin/expunge/"+copyID), chromedp.WaitVisible(chromedp.CSS(byID("expunge-form"))))
			b.CheckA11y("expunge form (" + name + ")")
			b.Do("mistyped", fill("#f-confirm", "alpha dev"), click(byID("expunge-submit")),
				chromedp.WaitVisible(chromedp.CSS(byID("error-confirm"))))
			b.Do("typed", chromedp.Clear(chromedp.CSS("#f-confirm")), fill("#f-confirm", "Alpha Dev"), click(byID("expunge-submit")),
				chromedp.WaitVisible(chromedp.CSS(byID("notice"))))
			if got := b.Text(byID("notice")); got != "Expunged Alpha Dev with everything of it." {
				t.Errorf("notice %q", got)
			}
			b.CheckA11y("project expunged (" + name + ")")
		})
	}
}
