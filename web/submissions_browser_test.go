package web_test

import (
	"strconv"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/chromedp"
)

// signInBrowser signs b in as email (with the test password) and waits for
// the project home.
func signInBrowser(b *webtest.Browser, base, email string) {
	b.Do("sign in", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(byID("signin-form"))),
		fill("#f-email", email), fill("#f-password", "password-123"),
		click(`[data-testid="signin-form"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
}

// doubleClick presses the element twice in quick succession, as a person
// double-clicking does; the second press lands on whatever the first left
// there.
func doubleClick(t *testing.T, b *webtest.Browser, css string) {
	t.Helper()
	type point struct{ X, Y float64 }
	b.Do("scroll to "+css, chromedp.ScrollIntoView(chromedp.CSS(css)))
	at, err := chromedp.Run(b.Ctx, chromedp.Evaluate[point](`(function () {
		var r = document.querySelector(`+strconv.Quote(css)+`).getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2};
	})()`))
	if err != nil {
		t.Fatalf("browser: locate %s: %v", css, err)
	}
	b.Do("double-click "+css, chromedp.MouseClickXY(at.X, at.Y, chromedp.ClickCount(1)), chromedp.MouseClickXY(at.X, at.Y, chromedp.ClickCount(2)))
}

// TestBrowserDoubleClickCreatesOneProject: double-clicking "Create project"
// makes one project. With JavaScript the first click disables the button
// until the answer is in (shown here with the form's one-time token taken
// out, so that only the page guards); without JavaScript too. A second copy
// that reaches the server all the same is answered with the first one's
// project (TestCreateFormsActOnce).
func TestBrowserDoubleClickCreatesOneProject(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.SignUp("ada@example.org", "Alpha")
			b := webtest.NewBrowser(t)
			base := app.HTTP.URL
			submit := `[data-testid="project-form"] button[type=submit]`

			signInBrowser(b, base, "ada@example.org")

			for i, name := range []string{"Beta", "Gamma"} {
				if i == 1 {
					b.DisableJavaScript()
				}
				b.Do("new project", chromedp.Navigate(base+"/projects/new"), chromedp.WaitVisible(chromedp.CSS(byID("project-form"))))
				b.CheckA11y("new project")
				if i == 0 {
					b.WaitHTMXReady(byID("project-form"))
					if !b.Eval(`(function () { var t = document.querySelector('input[name="formToken"]'); t.remove(); return true; })()`) {
						t.Fatal("no form token to take out")
					}
				}
				b.Do("name it", fill("#f-projectName", name))
				doubleClick(t, b, submit)
				b.Do("created", chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
				b.WaitPath(base, "/projects/[0-9a-f-]{36}")
				if got := b.Text(byID("project-title")); got != name {
					t.Errorf("landed on %q, want %q", got, name)
				}
				b.CheckA11y("project home")
				if n := projectCount(t, app, "ada@example.org"); n != 2+i {
					t.Errorf("after double-clicking to create %s: %d projects, want %d", name, n, 2+i)
				}
			}
		})
	}
}
