package web_test

import (
	"slices"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// resultIDs are the ids a resource list shows.
func resultIDs(t *testing.T, b *webtest.Browser) []string {
	t.Helper()
	ids, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[data-testid="result-id"]')].map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

// TestBrowserPatientJoins: in Chromium, a patient registers on a project's
// join page (a refused form first, in place), lands in the project, then
// signs in again in a fresh browser and sees their own Patient and only
// their own Observations, not another patient's. Each page passes axe.
func TestBrowserPatientJoins(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, project := app.SignUp("ada@example.org", "Clinic")
			openRegistration(t, app, project)
			other := storeResource(t, app, project, "Patient", `{"resourceType":"Patient","name":[{"family":"Other"}]}`)
			obsOf := func(subject string) string {
				return storeResource(t, app, project, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/`+subject+`"}}`)
			}
			theirs := obsOf(other)
			base := app.HTTP.URL
			projectURL := base + "/projects/" + project

			b := webtest.NewBrowser(t)
			b.Do("open join page", chromedp.Navigate(projectURL+"/join"), chromedp.WaitVisible(chromedp.CSS(byID("join-form"))))
			b.CheckA11y("join")
			b.WaitHTMXReady(byID("join-form"))
			b.Do("join without a name", fill("#f-email", "pat@example.org"),
				click(`[data-testid="join-form"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(byID("error-firstName"))))
			b.CheckA11y("join refused")
			b.Do("join", fill("#f-firstName", "Pat"), fill("#f-lastName", "Jones"), fill("#f-password", "password-123"),
				chromedp.SetValue(chromedp.CSS("#f-birthDate"), "1990-05-17"),
				click(`[data-testid="join-form"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
			b.CheckA11y("joined")

			u, err := app.Sys.UserByEmail(t.Context(), "pat@example.org")
			if err != nil {
				t.Fatal(err)
			}
			m, err := app.Sys.Tenant(project).Membership(t.Context(), u.ID)
			if err != nil || m.ProfileID == nil {
				t.Fatalf("membership %+v, %v", m, err)
			}
			me := *m.ProfileID
			mine := obsOf(me)

			// Signed in anew, in a browser of its own.
			again := webtest.NewBrowser(t)
			signInBrowser(again, base, "pat@example.org")
			again.Do("observations", chromedp.Navigate(projectURL+"/resources/Observation"), chromedp.WaitVisible(chromedp.CSS(byID("result-list"))))
			if got := resultIDs(t, again); len(got) != 1 || got[0] != mine {
				t.Errorf("the patient's Observations: %v, want only %s (not %s)", got, mine, theirs)
			}
			again.CheckA11y("own observations")
			again.Do("patients", chromedp.Navigate(projectURL+"/resources/Patient"), chromedp.WaitVisible(chromedp.CSS(byID("result-list"))))
			if got := resultIDs(t, again); len(got) != 1 || got[0] != me {
				t.Errorf("the patient's Patients: %v, want only %s", got, me)
			}
			again.Do("own patient", chromedp.Navigate(projectURL+"/resources/Patient/"+me), chromedp.WaitVisible(chromedp.CSS(byID("resource-json"))))
			if got := again.Text(byID("resource-json")); !strings.Contains(got, "Jones") || !strings.Contains(got, "1990-05-17") {
				t.Errorf("own Patient shows %q", got)
			}
			again.Do("another patient's observation", chromedp.Navigate(projectURL+"/resources/Observation/"+theirs),
				chromedp.WaitVisible(chromedp.CSS("h1")))
			if got := again.Text("main"); !strings.Contains(got, "does not exist") {
				t.Errorf("another patient's Observation shows %q", got)
			}
		})
	}
}
