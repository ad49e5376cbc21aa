package web_test

import (
	"context"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// acceptInBrowser walks a new person through an invite link in their own
// browser: the link's page sends them to register, they open the
// verification link the server logged (no mail server in tests), come back
// to the invite link and accept, landing in the project.
func acceptInBrowser(t *testing.T, app *webtest.App, b *webtest.Browser, link, email, first, last string) {
	t.Helper()
	b.Do("open link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(byID("invite-register"))))
	if got := b.Text(byID("invite-email")); got != email {
		t.Fatalf("invite page names %q", got)
	}
	b.CheckA11y("invite landing")
	b.Do("open register", click(byID("invite-register")), chromedp.WaitVisible(chromedp.CSS(byID("register-form"))))
	b.CheckA11y("register from an invitation")
	b.Do("register", fill("#f-firstName", first), fill("#f-lastName", last), fill("#f-email", email), fill("#f-password", "password-123"),
		click(`[data-testid="register-form"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(byID("verify-banner"))))
	b.CheckA11y("registered, not verified")
	verify := app.LoggedLink("email-verification", email)
	if verify == "" {
		t.Fatal("no verification link in the server log")
	}
	b.Do("open verify", chromedp.Navigate(verify), chromedp.WaitVisible(chromedp.CSS(byID("verify-form"))))
	b.CheckA11y("verify email")
	b.Do("verify", click(`[data-testid="verify-form"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(byID("message"))))
	b.CheckA11y("email verified")
	b.Do("open invitation", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(byID("accept-invitation"))))
	b.CheckA11y("invitation to accept")
	b.Do("accept", click(byID("accept-invitation")), chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
}

// TestBrowserInviteJourney: an admin invites a new person in place (htmx),
// copies the link, and the person opens it in a fresh browser with no shared
// cookies, registers, verifies the address, accepts and lands in the project
// as a plain member who has no admin tabs and is refused the admin pages.
func TestBrowserInviteJourney(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, project := app.SignUp("admin@example.org", "Alpha")
			base := app.HTTP.URL
			admin := webtest.NewBrowser(t)

			admin.Do("sign in", chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(byID("signin-form"))),
				fill("#f-email", "admin@example.org"), fill("#f-password", "password-123"),
				click(`[data-testid="signin-form"] button[type=submit]`),
				chromedp.WaitVisible(chromedp.CSS(byID("project-home"))))
			admin.Do("members page", click(byID("tab-members")), chromedp.WaitVisible(chromedp.CSS(byID("invite-form"))))
			admin.CheckA11y("members")
			admin.Do("mark page", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("window.stillSamePage = true"))
				return err
			}))
			admin.Do("invite", fill("#f-email", "nia@example.org"),
				click(byID("invite-submit")), chromedp.WaitVisible(chromedp.CSS(byID("invite-link"))))
			if same, err := chromedp.Run(admin.Ctx, chromedp.Evaluate[bool]("window.stillSamePage === true")); err != nil || !same {
				t.Fatalf("the invitation reloaded the page (marker %v, %v)", same, err)
			}
			link, err := chromedp.Run(admin.Ctx, chromedp.Value(chromedp.CSS(byID("invite-link"))))
			if err != nil || !strings.HasPrefix(link, base+"/invite/") {
				t.Fatalf("invite link %q: %v", link, err)
			}
			niaStatus := byID("member-row") + ":nth-child(2) " + byID("member-status")
			if got := admin.Text(byID("invitation-email")); got != "nia@example.org" {
				t.Fatalf("open invitation after inviting: %q", got)
			}
			admin.CheckA11y("members, invited")

			nia := webtest.NewBrowser(t)
			acceptInBrowser(t, app, nia, link, "nia@example.org", "Nia", "New")
			nia.WaitPath(base, "/projects/"+project)
			if got := nia.Text(byID("project-role")); got != "Member" {
				t.Fatalf("role %q", got)
			}
			tabs := nia.Text(byID("project-tabs"))
			if strings.Contains(tabs, "Settings") || strings.Contains(tabs, "Members") {
				t.Fatalf("a plain member sees admin tabs: %q", tabs)
			}
			for _, page := range []string{"/settings", "/members"} {
				nia.Do("open "+page, chromedp.Navigate(base+"/projects/"+project+page), chromedp.WaitVisible(chromedp.CSS(byID("error-page"))))
				if got := nia.Text(byID("error-message")); !strings.Contains(got, "Only admins") {
					t.Fatalf("%s: %q", page, got)
				}
				nia.CheckA11y(page + " refused")
			}

			// The admin sees Nia as an active member now, and the link is gone.
			admin.Do("reload members", chromedp.Navigate(base+"/projects/"+project+"/members"),
				chromedp.WaitVisible(chromedp.CSS(byID("member-list"))))
			if got := admin.Text(niaStatus); got != "Active" || strings.Contains(admin.Text("body"), link) {
				t.Fatalf("after acceptance Nia's status is %q", got)
			}
			admin.CheckA11y("members, two active")

			// Removing her asks first (hx-confirm), then updates the list in
			// place; her very next request is refused.
			asked := make(chan string, 1)
			dialogs := chromedp.Events(admin.Ctx, page.JavascriptDialogOpening)
			go func() {
				for ev, err := range dialogs {
					if err != nil {
						return
					}
					asked <- ev.Message
					if _, err := chromedp.Call(admin.Ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
						return
					}
				}
			}()
			admin.Do("remove", click(byID("member-row")+":nth-child(2) "+byID("remove-member")),
				chromedp.WaitVisible(chromedp.CSS(byID("notice"))))
			if msg := <-asked; !strings.Contains(msg, "nia@example.org") {
				t.Fatalf("confirmation %q", msg)
			}
			if got := admin.Text(byID("notice")); !strings.Contains(got, "Removed Nia New") {
				t.Fatalf("notice %q", got)
			}
			admin.CheckA11y("members, one removed")
			nia.Do("reload", chromedp.Navigate(base+"/projects/"+project), chromedp.WaitVisible(chromedp.CSS(byID("error-page"))))
			if got := nia.Text(byID("error-message")); !strings.Contains(got, "does not exist") {
				t.Fatalf("removed member sees %q", got)
			}
			nia.CheckA11y("project not found")
		})
	}
}
