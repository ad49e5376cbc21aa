package web_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"enclave/models/accounts"
	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// resetLink finds password-reset links (their path) in text.
var resetLink = regexp.MustCompile(`/reset/[A-Za-z0-9_-]{20,}`)

// forgotSettled waits until the server has finished n POST /forgot
// requests: the link is issued and delivered after the answer went out, and
// the request's log line is written when that work is done.
func forgotSettled(t *testing.T, app *webtest.App, n int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		logs := app.Logs()
		if got := strings.Count(logs, "method=POST path=/forgot "); got >= n {
			return logs
		} else if time.Now().After(deadline) {
			t.Fatalf("%d POST /forgot requests finished, want %d; logs:\n%s", got, n, logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// askForReset posts the forgot form for email and returns the reset links
// the server logged since the request before, once it is done.
func askForReset(t *testing.T, app *webtest.App, c *webtest.Client, email string) (*webtest.Response, []string) {
	t.Helper()
	before := strings.Count(app.Logs(), "method=POST path=/forgot ")
	seen := len(resetLink.FindAllString(app.Logs(), -1))
	r := c.PostForm("/forgot", url.Values{"email": {email}})
	logs := forgotSettled(t, app, before+1)
	return r, resetLink.FindAllString(logs, -1)[seen:]
}

func TestForgotPasswordAnswersAlike(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.SignUp("ada@example.org", "Alpha")
			c := app.Client()
			link := c.Get("/signin").Status(http.StatusOK).Doc().Find(`[data-testid="forgot-link"]`).AttrOr("href", "")
			if link != "/forgot" {
				t.Fatalf("sign-in form's forgot link %q", link)
			}
			c.Get("/forgot").Status(http.StatusOK).Shows("forgot-form")

			unknown, links := askForReset(t, app, c, "nobody@example.org")
			unknown.Status(http.StatusOK).Shows("forgot-sent").Shows("forgot-no-mail")
			if len(links) != 0 {
				t.Fatalf("a reset link was logged for an address without an account: %v", links)
			}
			known, links := askForReset(t, app, c, "Ada@Example.org")
			known.Status(http.StatusOK)
			if len(links) != 1 {
				t.Fatalf("%d reset links logged for the account's address, want 1", len(links))
			}
			line := logLine(app.Logs(), links[0])
			if !strings.Contains(line, "purpose=password-reset") || !strings.Contains(line, "to=ada@example.org") {
				t.Errorf("log line of the link: %s", line)
			}
			if a, b := strings.ReplaceAll(unknown.Body, "nobody@example.org", "ADDRESS"), strings.ReplaceAll(known.Body, "ada@example.org", "ADDRESS"); a != b {
				t.Errorf("the answers differ:\n%s\n----\n%s", a, b)
			}
			if !strings.Contains(known.TestID("forgot-sent"), "ada@example.org") {
				t.Errorf("the answer does not name the address: %q", known.TestID("forgot-sent"))
			}

			// htmx gets the same answer as a fragment, in place of the form.
			c.HTMX = true
			unknown, _ = askForReset(t, app, c, "nobody@example.org")
			known, _ = askForReset(t, app, c, "ada@example.org")
			unknown.Status(http.StatusOK).Shows("forgot-sent").NotContains("<html")
			if a, b := strings.ReplaceAll(unknown.Body, "nobody@example.org", "ADDRESS"), strings.ReplaceAll(known.Body, "ada@example.org", "ADDRESS"); a != b {
				t.Errorf("the htmx answers differ:\n%s\n----\n%s", a, b)
			}

			// A malformed address is refused by the form, before anything else.
			c.HTMX = false
			r := c.PostForm("/forgot", url.Values{"email": {"ada@"}}).Status(http.StatusUnprocessableEntity)
			if r.TestID("error-email") == "" || !r.Has("forgot-form") {
				t.Errorf("malformed address: error %q", r.TestID("error-email"))
			}
		})
	}
}

// logLine returns the log line that holds s.
func logLine(logs, s string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// TestForgotPasswordMailed: with a mail server, the link is mailed, not
// logged, and the answer does not mention the server log.
func TestForgotPasswordMailed(t *testing.T) {
	smtp := startFakeSMTP(t)
	const base = "https://enclave.example.org"
	app := webtest.NewWith(t, testdb.SQLite(t), func(c *web.Config) {
		c.BaseURL = base
		c.SMTP = web.SMTPConfig{Host: "127.0.0.1", Port: smtp.port(), From: "enclave@example.org"}
	})
	app.SignUp("ada@example.org", "Alpha")
	c := app.Client()
	unknown := c.PostForm("/forgot", url.Values{"email": {"nobody@example.org"}}).Status(http.StatusOK)
	known := c.PostForm("/forgot", url.Values{"email": {"ada@example.org"}}).Status(http.StatusOK)
	forgotSettled(t, app, 2)
	if known.Has("forgot-no-mail") || !known.Has("forgot-sent") {
		t.Error("with a mail server the answer must not send people to the server log")
	}
	if a, b := strings.ReplaceAll(unknown.Body, "nobody@example.org", "ADDRESS"), strings.ReplaceAll(known.Body, "ada@example.org", "ADDRESS"); a != b {
		t.Errorf("the answers differ:\n%s\n----\n%s", a, b)
	}
	// Registration's verification mail, then the reset link.
	awaitMails(t, smtp, "ada@example.org", 2)
	awaitLogLine(t, app, "email sent", "purpose=password-reset")
	logs := app.Logs()
	msgs, _ := smtp.received()
	var resets []receivedMail
	for _, m := range msgs {
		if resetLink.MatchString(m.Body) {
			resets = append(resets, m)
		}
	}
	if len(resets) != 1 || resets[0].To != "ada@example.org" || resets[0].Subject != "Reset your Enclave password" {
		t.Fatalf("reset mails: %+v", resets)
	}
	path := resetLink.FindString(resets[0].Body)
	if !strings.Contains(resets[0].Body, base+path+"\r\n") {
		t.Errorf("the mail does not hold the absolute link:\n%s", resets[0].Body)
	}
	if strings.Contains(logs, path) {
		t.Error("a mailed reset link was logged too")
	}
	app.Client().Get(path).Status(http.StatusOK).Shows("reset-form")
}

func TestResetPassword(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, project := app.SignUp("ada@example.org", "Alpha")
			laptop := app.Client()
			laptop.SignIn("ada@example.org").Status(http.StatusSeeOther)
			laptop.Get("/projects/" + project).Status(http.StatusOK)
			before, err := app.Sys.UserByEmail(t.Context(), "ada@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if before.Verified() {
				t.Fatal("the address is verified before the reset: the test proves nothing")
			}

			c := app.Client()
			_, links := askForReset(t, app, c, "ada@example.org")
			if len(links) != 1 {
				t.Fatalf("%d reset links logged, want 1", len(links))
			}
			link := links[0]
			page := c.Get(link).Status(http.StatusOK).Shows("reset-form")
			if got := page.TestID("reset-email"); got != "ada@example.org" {
				t.Errorf("the page is for %q", got)
			}
			if rp, cc := page.Header("Referrer-Policy"), page.Header("Cache-Control"); rp != "no-referrer" || cc != "no-store" {
				t.Errorf("Referrer-Policy %q, Cache-Control %q", rp, cc)
			}

			// Field errors come back inline, with the form, and use nothing up.
			r := c.PostForm(link, url.Values{"password": {"new-password-456"}, "confirm": {"new-password-457"}}).
				Status(http.StatusUnprocessableEntity).Shows("reset-form")
			if !strings.Contains(r.TestID("error-confirm"), "do not match") || !strings.Contains(r.Body, "<html") {
				t.Errorf("mismatch: error %q", r.TestID("error-confirm"))
			}
			if r.Header("Referrer-Policy") != "no-referrer" {
				t.Errorf("Referrer-Policy %q on the refused form", r.Header("Referrer-Policy"))
			}
			r.NotContains("new-password-45")
			c.HTMX = true
			r = c.PostForm(link, url.Values{"password": {"short"}, "confirm": {"short"}}).Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("error-password"), "at least 8") || strings.Contains(r.Body, "<html") || !r.Has("reset-form") {
				t.Errorf("htmx short password: error %q, body %s", r.TestID("error-password"), r.Body)
			}
			c.HTMX = false

			c.PostForm(link, url.Values{"password": {"new-password-456"}, "confirm": {"new-password-456"}}).
				Status(http.StatusSeeOther).RedirectsTo("/")
			c.Get("/").RedirectsTo("/projects/" + project)
			c.Get("/projects/" + project).Status(http.StatusOK)

			// Every session from before ends.
			for name, other := range map[string]*webtest.Client{"registration": ada, "laptop": laptop} {
				r := other.Get("/projects/" + project)
				if r.Resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header("Location"), "/signin") {
					t.Errorf("the %s session survived the reset: status %d, Location %q", name, r.Resp.StatusCode, r.Header("Location"))
				}
			}
			app.Client().SignIn("ada@example.org").Status(http.StatusUnauthorized)
			app.Client().PostForm("/signin", url.Values{"email": {"ada@example.org"}, "password": {"new-password-456"}}).
				Status(http.StatusSeeOther)
			after, err := app.Sys.UserByEmail(t.Context(), "ada@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if !after.Verified() {
				t.Error("the reset did not mark the address verified")
			}

			// The link works once.
			c.Get(link).Status(http.StatusGone).Shows("reset-gone")
			late := app.Client()
			late.HTMX = true
			if got := late.PostForm(link, url.Values{"password": {"third-password-789"}, "confirm": {"third-password-789"}}).
				Status(http.StatusOK).RedirectsTo(link); got != link {
				t.Errorf("htmx is sent to %q, want the link's page", got)
			}
			app.Client().PostForm(link, url.Values{"password": {"third-password-789"}, "confirm": {"third-password-789"}}).
				Status(http.StatusGone).Shows("reset-gone")
			if _, err := app.Sys.Authenticate(t.Context(), "ada@example.org", "third-password-789"); !errors.Is(err, accounts.ErrBadCredentials) {
				t.Errorf("a used link set a password: %v", err)
			}
		})
	}
}

// TestResetLinkRefused: garbage, expired, replaced and verification links
// get the page that says the link no longer works, never a 500, and change
// nothing.
func TestResetLinkRefused(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.SignUp("ada@example.org", "Alpha")
			c := app.Client()
			_, first := askForReset(t, app, c, "ada@example.org")
			_, second := askForReset(t, app, c, "ada@example.org")
			if len(first) != 1 || len(second) != 1 || first[0] == second[0] {
				t.Fatalf("links %v and %v", first, second)
			}
			verify := regexp.MustCompile(`/verify/([A-Za-z0-9_-]{20,})`).FindStringSubmatch(app.Logs())

			refused := map[string]string{
				"garbage":  "/reset/not-a-token",
				"too long": "/reset/" + strings.Repeat("A", 300),
				"replaced": first[0],
			}
			if verify != nil {
				refused["verification link"] = "/reset/" + verify[1]
			}
			for name, path := range refused {
				page := c.Get(path).Status(http.StatusGone).Shows("reset-gone")
				if href := page.Doc().Find(`[data-testid="forgot-again"]`).AttrOr("href", ""); href != "/forgot" {
					t.Errorf("%s: no way to ask for a new link (%q)", name, href)
				}
				c.PostForm(path, url.Values{"password": {"hijacked-password"}, "confirm": {"hijacked-password"}}).
					Status(http.StatusGone).Shows("reset-gone")
				c.PostForm(path, url.Values{"password": {"x"}, "confirm": {"y"}}).Status(http.StatusGone)
			}

			res := app.DB.DB.Exec("UPDATE account_tokens SET expires_at = ? WHERE purpose = ? AND used_at IS NULL",
				time.Now().Add(-time.Minute).UTC(), accounts.PurposeReset)
			if res.Error != nil || res.RowsAffected != 1 {
				t.Fatalf("expire the live link: %v, %d rows", res.Error, res.RowsAffected)
			}
			c.Get(second[0]).Status(http.StatusGone).Shows("reset-gone")
			c.PostForm(second[0], url.Values{"password": {"hijacked-password"}, "confirm": {"hijacked-password"}}).Status(http.StatusGone)

			if _, err := app.Sys.Authenticate(t.Context(), "ada@example.org", "password-123"); err != nil {
				t.Errorf("a refused link changed the password: %v", err)
			}
			if strings.Contains(app.Logs(), "level=ERROR") {
				t.Errorf("refused links logged errors:\n%s", app.Logs())
			}
		})
	}
}

// TestForgotPasswordIsThrottled: one address cannot be sent links without
// end, and one client cannot ask for links for address after address.
func TestForgotPasswordIsThrottled(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.SignUp("ada@example.org", "Alpha")
			c := app.Client()
			asked := 0
			ask := func(email string) *webtest.Response {
				asked++
				return c.PostForm("/forgot", url.Values{"email": {email}})
			}
			for range accounts.ResetPerEmail.Free {
				ask("ada@example.org").Status(http.StatusOK)
			}
			r := ask("ADA@example.org").Status(http.StatusTooManyRequests)
			if !strings.Contains(r.TestID("form-error"), "Too many") || r.Header("Retry-After") == "" || !r.Has("forgot-form") {
				t.Errorf("per address: message %q, Retry-After %q", r.TestID("form-error"), r.Header("Retry-After"))
			}
			// An address without an account is limited the same way.
			for range accounts.ResetPerEmail.Free {
				ask("nobody@example.org").Status(http.StatusOK)
			}
			ask("nobody@example.org").Status(http.StatusTooManyRequests)

			// Other addresses still get answers, until the client has asked
			// too often.
			for i := asked; i < accounts.ResetPerAddress.Free; i++ {
				ask(fmt.Sprintf("someone%d@example.org", i)).Status(http.StatusOK)
			}
			r = ask("one-more@example.org").Status(http.StatusTooManyRequests)
			if r.Header("Retry-After") == "" {
				t.Error("per client: no Retry-After")
			}
			logs := forgotSettled(t, app, asked)
			if n := len(resetLink.FindAllString(logs, -1)); n != accounts.ResetPerEmail.Free {
				t.Errorf("%d reset links logged, want %d (one per accepted request for the account)", n, accounts.ResetPerEmail.Free)
			}
		})
	}
}

// TestForgotPasswordWhenMailFails: a mail server that cannot be reached
// changes nothing in the answer (which would tell that the account exists);
// the sender's failure goes to the log, without the link.
func TestForgotPasswordWhenMailFails(t *testing.T) {
	app := newAppWithDeadMail(t, true)
	app.SignUp("ada@example.org", "Alpha")
	c := app.Client()
	unknown := c.PostForm("/forgot", url.Values{"email": {"nobody@example.org"}}).Status(http.StatusOK)
	known := c.PostForm("/forgot", url.Values{"email": {"ada@example.org"}}).Status(http.StatusOK).Shows("forgot-sent")
	if a, b := strings.ReplaceAll(unknown.Body, "nobody@example.org", "ADDRESS"), strings.ReplaceAll(known.Body, "ada@example.org", "ADDRESS"); a != b {
		t.Errorf("the answers differ:\n%s\n----\n%s", a, b)
	}
	forgotSettled(t, app, 2)
	awaitLogLine(t, app, "email not sent", "purpose=password-reset")
	logs := app.Logs()
	if line := logLine(logs, "purpose=password-reset"); !strings.Contains(line, "email not sent") || resetLink.MatchString(logs) {
		t.Errorf("logs must report the failure without the link:\n%s", logs)
	}
}
