package web_test

import (
	"net/http"
	"strings"
	"testing"

	"enclave/models/audit"
	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestBrowserDashboard: in Chromium, with JavaScript and without, a super
// admin finds a project by name on the dashboard, opens it (the operator
// banner shows, the visit is in the project's audit log), and deactivates a
// user, whose session in another browser ends at once. Each page passes
// axe-core.
func TestBrowserDashboard(t *testing.T) {
	for _, js := range []bool{true, false} {
		name := "with JavaScript"
		if !js {
			name = "without JavaScript"
		}
		t.Run(name, func(t *testing.T) {
			d := newDashboard(t, testdb.SQLite(t))
			d.ada.NewProject("Beta Lab")
			b := webtest.NewBrowser(t)
			if !js {
				b.DisableJavaScript()
			}
			base := d.app.HTTP.URL

			signInBrowser(b, base, "ops@example.org")
			b.Do("open the dashboard", click(byID("admin-link")), chromedp.WaitVisible(chromedp.CSS(byID("admin-projects"))))
			b.CheckA11y("dashboard, projects (" + name + ")")
			b.Do("search", fill("#f-q", "alpha"), click(byID("project-search-submit")),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="project-total"]`)))
			b.WaitTrue("one project found", `document.querySelectorAll('[data-testid="admin-project"]').length === 1`)
			if got := b.Text(byID("admin-project-open")); got != "Alpha Clinic" {
				t.Fatalf("found %q", got)
			}
			b.Do("open the project", click(byID("admin-project-open")), chromedp.WaitVisible(chromedp.CSS(byID("operator-banner"))))
			b.CheckA11y("project in the operator view (" + name + ")")
			events, _, err := d.app.Sys.Tenant(d.alpha).AuditLog(t.Context(), audit.Filter{Action: audit.ActionOperatorVisited})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 {
				t.Errorf("operator visits in the audit log: %d", len(events))
			}
			b.Do("its secrets", click(byID("tab-secrets")), chromedp.WaitVisible(chromedp.CSS(byID("operator-banner"))))

			b.Do("users", chromedp.Navigate(base+"/admin/users?q=ada"), chromedp.WaitVisible(chromedp.CSS(byID("admin-users"))))
			b.CheckA11y("dashboard, users (" + name + ")")
			b.Do("open ada", click(byID("admin-user-open")), chromedp.WaitVisible(chromedp.CSS(byID("act-deactivate-form"))))
			b.CheckA11y("dashboard, a user (" + name + ")")
			b.Do("mistyped", fill("#f-confirm-deactivate", "ada@example"), click(byID("act-deactivate-submit")),
				chromedp.WaitVisible(chromedp.CSS(byID("error-confirm"))))
			b.CheckA11y("dashboard, deactivation refused (" + name + ")")
			d.ada.Get("/projects/" + d.alpha).Status(http.StatusOK)
			b.Do("deactivate", fill("#f-confirm-deactivate", "ada@example.org"), click(byID("act-deactivate-submit")),
				chromedp.WaitVisible(chromedp.CSS(byID("notice"))))
			if got := b.Text(byID("notice")); !strings.Contains(got, "Deactivated ada@example.org") {
				t.Errorf("notice %q", got)
			}
			b.CheckA11y("dashboard, user deactivated (" + name + ")")
			d.ada.Get("/projects/" + d.alpha).RedirectsTo("/signin")
		})
	}
}
