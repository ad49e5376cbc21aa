package web_test

import (
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdminJourney walks issue 3's journey end to end with htmx on:
// create a project, change its settings, add a secret, invite a new person,
// who opens the link in a fresh browser, sets a password and lands in the
// project as a member who cannot open the settings.
func TestBrowserAdminJourney(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.SignUp("admin@example.org", "Existing")
			base := app.HTTP.URL
			admin := webtest.NewBrowser(t)

			admin.Do("open sign in", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(byID("signin-form"))))
			admin.CheckA11y("sign in")
			admin.Do("sign in", fill("#f-email", "admin@example.org"), fill("#f-password", "password-123"),
				click(`[data-testid="signin-form"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))

			admin.Do("open new project", chromedp.Navigate(base+"/projects/new"), chromedp.WaitVisible(chromedp.CSS(byID("project-form"))))
			admin.CheckA11y("new project")
			admin.Do("create project", fill("#f-projectName", "Clinic Staging"), click(`[data-testid="project-form"] button[type=submit]`),
				chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
			loc := admin.WaitPath(base, "/projects/[0-9a-f-]{36}")
			project := strings.TrimPrefix(loc, base+"/projects/")
			admin.CheckA11y("project home")

			admin.Do("settings", click(byID("tab-settings")), chromedp.WaitVisible(chromedp.CSS(byID("settings-form"))),
				fill("#f-description", "Pre-production copy"), click(byID("check-references")),
				click(byID("save-settings")), chromedp.WaitVisible(chromedp.CSS(byID("notice"))))
			if got := admin.Text(byID("notice")); got != "Saved. Changed: description, check references on write." {
				t.Fatalf("settings notice %q", got)
			}
			admin.CheckA11y("settings, saved")

			admin.Do("secrets", click(byID("tab-secrets")), chromedp.WaitVisible(chromedp.CSS(byID("no-secrets"))),
				fill("#f-name", "LAB_API_KEY"), fill("#f-value", "lab-key-0123456789"),
				click(byID("save-secret")), chromedp.WaitVisible(chromedp.CSS(byID("secret-row"))))
			if got := admin.Text(byID("secret-name")); got != "LAB_API_KEY" {
				t.Fatalf("secret listed as %q", got)
			}
			if strings.Contains(admin.Text("body"), "lab-key-0123456789") {
				t.Fatal("the secret value is shown after saving")
			}
			admin.CheckA11y("secrets, one saved")

			admin.Do("invite", click(byID("tab-members")), chromedp.WaitVisible(chromedp.CSS(byID("invite-form"))),
				fill("#f-email", "nurse@example.org"),
				click(byID("invite-submit")), chromedp.WaitVisible(chromedp.CSS(byID("invite-link"))))
			link, err := chromedp.Run(admin.Ctx, chromedp.Value(chromedp.CSS(byID("invite-link"))))
			if err != nil || !strings.HasPrefix(link, base+"/invite/") {
				t.Fatalf("invite link %q: %v", link, err)
			}
			admin.CheckA11y("members, invited")

			nurse := webtest.NewBrowser(t)
			acceptInBrowser(t, app, nurse, link, "nurse@example.org", "Nora", "Nurse")
			nurse.WaitPath(base, "/projects/"+project)
			if got := nurse.Text(byID("project-title")); got != "Clinic Staging" {
				t.Fatalf("nurse landed in %q", got)
			}
			if got := nurse.Text(byID("project-role")); got != "Member" {
				t.Fatalf("nurse's role %q", got)
			}
			if strings.Contains(nurse.Text(byID("project-tabs")), "Settings") {
				t.Fatal("a member sees the Settings tab")
			}
			nurse.CheckA11y("project home, member")
			nurse.Do("settings refused", chromedp.Navigate(base+"/projects/"+project+"/settings"),
				chromedp.WaitVisible(chromedp.CSS(byID("error-page"))))
			if got := nurse.Text(byID("error-message")); !strings.Contains(got, "Only admins") {
				t.Fatalf("settings page for a member: %q", got)
			}
			nurse.CheckA11y("settings refused")
		})
	}
}
