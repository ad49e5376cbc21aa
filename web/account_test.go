package web_test

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"

	"github.com/PuerkitoBio/goquery"
)

const (
	firefoxLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	chromeMac    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

func TestAccountRename(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, _ := app.SignUp("ada@example.org", "Alpha")

			page := c.Get("/account").Status(http.StatusOK).Shows("name-form")
			if v, _ := page.Doc().Find("#f-firstName").Attr("value"); v != "Test" {
				t.Errorf("first name field holds %q, want the current name", v)
			}
			if href, _ := page.Doc().Find(`[data-testid="account-link"]`).Attr("href"); href != "/account" {
				t.Errorf("the header's account link goes to %q", href)
			}

			r := c.PostForm("/account/name", url.Values{"firstName": {" Ada "}, "lastName": {"Lovelace"}}).Status(http.StatusOK)
			if got := r.TestID("notice"); !strings.Contains(got, "Ada Lovelace") {
				t.Errorf("notice %q", got)
			}
			if got := r.TestID("user-name"); got != "Ada Lovelace" {
				t.Errorf("header shows %q right after the rename", got)
			}
			if got := c.Get("/account").Status(http.StatusOK).TestID("user-name"); got != "Ada Lovelace" {
				t.Errorf("header shows %q on the next page", got)
			}
			u, err := app.Sys.UserByEmail(t.Context(), "ada@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if u.FirstName != "Ada" || u.LastName != "Lovelace" {
				t.Errorf("stored name %q %q", u.FirstName, u.LastName)
			}

			for _, tc := range []struct {
				name, first, last, field, msg string
			}{
				{"first missing", "  ", "Lovelace", "firstName", "required"},
				{"last too long", "Ada", strings.Repeat("x", 101), "lastName", "at most 100"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					c.HTMX = false
					r := c.PostForm("/account/name", url.Values{"firstName": {tc.first}, "lastName": {tc.last}}).
						Status(http.StatusUnprocessableEntity)
					if got := r.TestID("error-" + tc.field); !strings.Contains(got, tc.msg) {
						t.Errorf("error by %s: %q, want %q", tc.field, got, tc.msg)
					}
					if !strings.Contains(r.Body, "<html") {
						t.Error("a plain POST must get the whole page")
					}
					c.HTMX = true
					r = c.PostForm("/account/name", url.Values{"firstName": {tc.first}, "lastName": {tc.last}}).
						Status(http.StatusUnprocessableEntity)
					if strings.Contains(r.Body, "<html") || !r.Has("account-panel") || !r.Has("error-"+tc.field) {
						t.Error("an htmx POST must get the panel with the error")
					}
					c.HTMX = false
				})
			}
			u, err = app.Sys.UserByEmail(t.Context(), "ada@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if u.Name() != "Ada Lovelace" {
				t.Errorf("refused renames changed the name to %q", u.Name())
			}
		})
	}
}

func TestAccountPassword(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, _ := app.SignUp("ada@example.org", "Alpha")
			other := app.Client()
			other.SignIn("ada@example.org").Status(http.StatusSeeOther)
			other.Get("/account").Status(http.StatusOK)

			for _, tc := range []struct {
				name          string
				current, next string
				confirm       string
				field, msg    string
			}{
				{"wrong current password", "not-my-password", "brand-new-pw", "brand-new-pw", "current", "incorrect"},
				{"confirmation differs", "password-123", "brand-new-pw", "brand-new-px", "confirm", "do not match"},
				{"new password too short", "password-123", "short", "short", "password", "at least 8"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := c.PostForm("/account/password", url.Values{"current": {tc.current}, "password": {tc.next}, "confirm": {tc.confirm}}).
						Status(http.StatusUnprocessableEntity)
					if got := r.TestID("error-" + tc.field); !strings.Contains(got, tc.msg) {
						t.Errorf("error by %s: %q, want %q", tc.field, got, tc.msg)
					}
					r.NotContains(tc.current).NotContains(tc.next)
				})
			}
			if _, err := app.Sys.Authenticate(t.Context(), "ada@example.org", "password-123"); err != nil {
				t.Fatalf("refused changes changed the password: %v", err)
			}
			other.Get("/account").Status(http.StatusOK)

			r := c.PostForm("/account/password", url.Values{"current": {"password-123"}, "password": {"brand-new-pw"}, "confirm": {"brand-new-pw"}}).
				Status(http.StatusOK)
			if got := r.TestID("notice"); !strings.Contains(got, "signed out") {
				t.Errorf("notice %q should say the other sessions were signed out", got)
			}
			if rows := r.TestIDs("session-row"); len(rows) != 1 {
				t.Errorf("%d sessions listed after the change, want this one", len(rows))
			}
			if _, err := app.Sys.Authenticate(t.Context(), "ada@example.org", "brand-new-pw"); err != nil {
				t.Errorf("new password refused: %v", err)
			}
			if _, err := app.Sys.Authenticate(t.Context(), "ada@example.org", "password-123"); !errors.Is(err, accounts.ErrBadCredentials) {
				t.Errorf("old password: %v, want it refused", err)
			}
			other.Get("/account").Status(http.StatusSeeOther).RedirectsTo("/signin")
			c.Get("/account").Status(http.StatusOK)
		})
	}
}

// TestAccountPasswordGuessesSlowDown: a stolen session is no way to try
// passwords without limit, on either form that asks for one.
func TestAccountPasswordGuessesSlowDown(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	c, _ := app.SignUp("ada@example.org", "Alpha")
	wrong := url.Values{"current": {"guess"}, "password": {"brand-new-pw"}, "confirm": {"brand-new-pw"}}
	for i := range accounts.SignInPerAccount.Free {
		if code := c.PostForm("/account/password", wrong).Resp.StatusCode; code != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d: status %d, want 422", i+1, code)
		}
	}
	r := c.PostForm("/account/password", url.Values{"current": {"password-123"}, "password": {"brand-new-pw"}, "confirm": {"brand-new-pw"}}).
		Status(http.StatusTooManyRequests)
	if r.Resp.Header.Get("Retry-After") == "" || !strings.Contains(r.TestID("form-error"), "Too many") {
		t.Errorf("Retry-After %q, form error %q", r.Resp.Header.Get("Retry-After"), r.TestID("form-error"))
	}
	c.PostForm("/account/email", url.Values{"email": {"new@example.org"}, "emailPassword": {"password-123"}}).
		Status(http.StatusTooManyRequests)
	if _, err := app.Sys.Authenticate(t.Context(), "ada@example.org", "password-123"); err != nil {
		t.Errorf("a refused change changed the password: %v", err)
	}
}

// loggedLinks returns the verification links the server logged for the
// address to, oldest first.
func loggedLinks(logs, to string) []string {
	var out []string
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, " to="+to+" ") {
			continue
		}
		if m := regexp.MustCompile(` link=(\S+/verify/\S+)`).FindStringSubmatch(line); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

func TestAccountEmailChange(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, _ := app.SignUp("ada@example.org", "Alpha")
			app.SignUp("bob@example.org", "Bob's")

			for _, tc := range []struct {
				name, email, password, field, msg string
			}{
				{"wrong password", "ada@new.example", "not-my-password", "emailPassword", "incorrect"},
				{"malformed address", "ada-at-new", "password-123", "email", "valid email"},
				{"another account's address", "BOB@example.org", "password-123", "email", "Another account"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := c.PostForm("/account/email", url.Values{"email": {tc.email}, "emailPassword": {tc.password}}).
						Status(http.StatusUnprocessableEntity)
					if got := r.TestID("error-" + tc.field); !strings.Contains(got, tc.msg) {
						t.Errorf("error by %s: %q, want %q", tc.field, got, tc.msg)
					}
					if v, _ := r.Doc().Find("#f-email").Attr("value"); v != tc.email {
						t.Errorf("email field holds %q, want what was typed", v)
					}
					r.NotContains(tc.password)
				})
			}
			if links := loggedLinks(app.Logs(), "ada@new.example"); len(links) != 0 {
				t.Fatalf("a refused change sent a link: %v", links)
			}

			r := c.PostForm("/account/email", url.Values{"email": {"Ada@New.example"}, "emailPassword": {"password-123"}}).
				Status(http.StatusOK)
			if got := r.TestID("email-logged"); !strings.Contains(got, "ada@new.example") || !strings.Contains(got, "server log") {
				t.Errorf("delivery note %q should say the link is in the server log", got)
			}
			if got := r.TestID("current-email"); got != "ada@example.org" {
				t.Errorf("page shows %q before the link is opened", got)
			}
			if _, err := app.Sys.UserByEmail(t.Context(), "ada@example.org"); err != nil {
				t.Errorf("the old address stopped working before the link was opened: %v", err)
			}
			if _, err := app.Sys.UserByEmail(t.Context(), "ada@new.example"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("the new address: %v, want no account before the link is opened", err)
			}

			links := loggedLinks(app.Logs(), "ada@new.example")
			if len(links) != 1 {
				t.Fatalf("%d verification links for the new address in the server log, want 1:\n%s", len(links), app.Logs())
			}
			link := links[0]
			token := link[strings.LastIndex(link, "/")+1:]
			if !strings.HasPrefix(link, app.HTTP.URL+"/verify/") {
				t.Errorf("link %q does not lead to this server", link)
			}
			r.NotContains(token)

			// Opening the link (and confirming) changes the address.
			path := strings.TrimPrefix(link, app.HTTP.URL)
			c.Get(path).Status(http.StatusOK)
			c.PostForm(path, nil).Status(http.StatusOK)
			page := c.Get("/account").Status(http.StatusOK)
			if got := page.TestID("current-email"); got != "ada@new.example" {
				t.Errorf("address %q after the link was opened", got)
			}
			if got := page.TestID("email-status"); got != "Verified" {
				t.Errorf("status %q after the link was opened", got)
			}
			if _, err := app.Sys.UserByEmail(t.Context(), "ada@example.org"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("the old address: %v, want it gone", err)
			}
		})
	}
}

func TestAccountEmailMailed(t *testing.T) {
	smtp := startFakeSMTP(t)
	const base = "https://enclave.example.org"
	app := webtest.NewWith(t, testdb.SQLite(t), func(c *web.Config) {
		c.BaseURL = base
		c.SMTP = web.SMTPConfig{Host: "127.0.0.1", Port: smtp.port(), From: "enclave@example.org"}
	})
	c, _ := app.SignUp("ada@example.org", "Alpha")
	awaitMails(t, smtp, "ada@example.org", 1)
	before, _ := smtp.received()
	r := c.PostForm("/account/email", url.Values{"email": {"ada@new.example"}, "emailPassword": {"password-123"}}).
		Status(http.StatusOK)
	if got := r.TestID("email-queued"); !strings.Contains(got, "ada@new.example") || !strings.Contains(got, "We are sending") {
		t.Errorf("delivery note %q", got)
	}
	awaitMails(t, smtp, "ada@new.example", 1)
	msgs, _ := smtp.received()
	if len(msgs) != len(before)+1 {
		t.Fatalf("%d mails after the change, %d before: want one more", len(msgs), len(before))
	}
	m := msgs[len(msgs)-1]
	if m.To != "ada@new.example" || !strings.Contains(m.Body, base+"/verify/") {
		t.Errorf("mail to %q, body:\n%s", m.To, m.Body)
	}
	token := regexp.MustCompile(`/verify/([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Body)
	if token == nil || strings.Contains(app.Logs(), token[1]) {
		t.Errorf("the mailed token is missing or was logged")
	}
}

// TestAccountEmailWhenMailFails: the request does not wait for the mail
// server, so it cannot tell of its failure: the link is queued, and the
// sender logs the failure, without the link, and tries again later.
func TestAccountEmailWhenMailFails(t *testing.T) {
	app := newAppWithDeadMail(t, false)
	c, _ := app.SignUp("ada@example.org", "Alpha")
	r := c.PostForm("/account/email", url.Values{"email": {"ada@new.example"}, "emailPassword": {"password-123"}}).
		Status(http.StatusOK)
	if got := r.TestID("email-queued"); !strings.Contains(got, "ada@new.example") {
		t.Errorf("delivery note %q", got)
	}
	if r.Has("email-logged") {
		t.Error("with a mail server the link must not go to the server log")
	}
	awaitLogLine(t, app, "email not sent; will retry", "purpose=email-verification")
	if link := regexp.MustCompile(`/verify/[A-Za-z0-9_-]{20,}`).FindString(app.Logs()); link != "" {
		t.Errorf("a verification link was logged: %s", link)
	}
	n, err := app.Sys.Outbox(app.SecretBox).Backlog(t.Context())
	if err != nil || n != 2 {
		t.Errorf("outbox backlog %d, %v: want registration's and the change's links waiting", n, err)
	}
}

// sessionRow is one row of the account page's session list.
type sessionRow struct {
	Device, IP, LastSeen string
	// Action is where the row's sign-out button posts.
	Action  string
	Current bool
}

func sessionRows(r *webtest.Response) []sessionRow {
	var out []sessionRow
	r.Doc().Find(`[data-testid="session-row"]`).Each(func(_ int, s *goquery.Selection) {
		action, _ := s.Find("form").Attr("action")
		out = append(out, sessionRow{
			Device:   strings.TrimSpace(s.Find(`[data-testid="session-device"]`).Text()),
			IP:       strings.TrimSpace(s.Find(`[data-testid="session-ip"]`).Text()),
			LastSeen: strings.TrimSpace(s.Find(`[data-testid="session-last-seen"]`).Text()),
			Action:   action,
			Current:  s.Find(`[data-testid="this-session"]`).Length() > 0,
		})
	})
	return out
}

func TestAccountSessions(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, _ := app.SignUp("ada@example.org", "Alpha")
			c.Header("User-Agent", firefoxLinux)
			c.SignIn("ada@example.org").Status(http.StatusSeeOther)
			laptop := app.Client()
			laptop.Header("User-Agent", chromeMac)
			laptop.SignIn("ada@example.org").Status(http.StatusSeeOther)

			rows := sessionRows(c.Get("/account").Status(http.StatusOK))
			if len(rows) != 2 {
				t.Fatalf("%d sessions listed, want 2: %+v", len(rows), rows)
			}
			devices := map[string]bool{}
			var mine, theirs string
			for _, s := range rows {
				devices[s.Device] = true
				if s.IP != "127.0.0.1" || s.LastSeen != "just now" {
					t.Errorf("session %+v: want IP 127.0.0.1, seen just now", s)
				}
				if s.Current {
					mine = s.Device
				} else {
					theirs = s.Action
				}
			}
			if !devices["Firefox on Linux"] || !devices["Chrome on macOS"] || mine != "Firefox on Linux" {
				t.Errorf("devices %v, this session %q", devices, mine)
			}
			if !strings.HasPrefix(theirs, "/account/sessions/") {
				t.Fatalf("the other session's sign-out posts to %q", theirs)
			}

			c.PostForm(theirs, nil).Status(http.StatusSeeOther).RedirectsTo("/account")
			laptop.Get("/account").Status(http.StatusSeeOther).RedirectsTo("/signin")
			rows = sessionRows(c.Get("/account").Status(http.StatusOK))
			if len(rows) != 1 || !rows[0].Current {
				t.Errorf("after signing the laptop out: %+v, want only this session", rows)
			}
			// Ended already: nothing to sign out.
			c.PostForm(theirs, nil).Status(http.StatusNotFound)

			// With htmx the panel comes back, saying what was signed out.
			phone := app.Client()
			phone.Header("User-Agent", chromeMac)
			phone.SignIn("ada@example.org").Status(http.StatusSeeOther)
			for _, s := range sessionRows(c.Get("/account")) {
				if !s.Current {
					theirs = s.Action
				}
			}
			c.HTMX = true
			r := c.PostForm(theirs, nil).Status(http.StatusOK)
			c.HTMX = false
			if strings.Contains(r.Body, "<html") || !strings.Contains(r.TestID("notice"), "Chrome on macOS") {
				t.Errorf("htmx sign-out answered:\n%s", r.Body)
			}
			phone.Get("/account").Status(http.StatusSeeOther).RedirectsTo("/signin")

			// This session's button is signing out.
			rows = sessionRows(c.Get("/account"))
			if len(rows) != 1 || rows[0].Action != "/signout" {
				t.Fatalf("this session's button: %+v, want the sign-out form", rows)
			}
			ownPath := "/account/sessions/" + currentSessionID(t, app, c)
			c.PostForm(ownPath+"/signout", nil).Status(http.StatusSeeOther).RedirectsTo("/signin")
			c.Get("/account").Status(http.StatusSeeOther).RedirectsTo("/signin")
		})
	}
}

// currentSessionID is the id the account page gives c's own session.
func currentSessionID(t *testing.T, app *webtest.App, c *webtest.Client) string {
	t.Helper()
	u, err := app.Sys.UserByEmail(t.Context(), "ada@example.org")
	if err != nil {
		t.Fatal(err)
	}
	list, err := app.Sys.UserSessions(t.Context(), u.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d sessions, want 1", len(list))
	}
	return list[0].ID
}

func TestAccountSessionsOfOthersAreNotFound(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, _ := app.SignUp("ada@example.org", "Alpha")
			mallory, _ := app.SignUp("mallory@example.org", "Mallory's")

			rows := sessionRows(ada.Get("/account").Status(http.StatusOK))
			if len(rows) != 1 {
				t.Fatalf("ada has %d sessions, want 1", len(rows))
			}
			adas := "/account/sessions/" + currentSessionID(t, app, ada) + "/signout"
			mallory.PostForm(adas, nil).Status(http.StatusNotFound)
			mallory.PostForm("/account/sessions/no-such-session/signout", nil).Status(http.StatusNotFound)
			ada.Get("/account").Status(http.StatusOK)
			rows = sessionRows(mallory.Get("/account").Status(http.StatusOK))
			if len(rows) != 1 || !rows[0].Current {
				t.Errorf("mallory's list %+v, want only their own session", rows)
			}
		})
	}
}

func TestAccountNeedsSessionAndCSRF(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, _ := app.SignUp("ada@example.org", "Alpha")
			app.Client().Get("/account").Status(http.StatusSeeOther).RedirectsTo("/signin?next=%2Faccount")
			app.Client().PostForm("/account/name", url.Values{"firstName": {"X"}, "lastName": {"Y"}}).
				Status(http.StatusSeeOther).RedirectsTo("/signin")
			if got := c.Get("/account").Resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}

			other := app.Client()
			other.SignIn("ada@example.org").Status(http.StatusSeeOther)
			theirs := ""
			for _, s := range sessionRows(c.Get("/account")) {
				if !s.Current {
					theirs = s.Action
				}
			}
			if theirs == "" {
				t.Fatal("the second session is not listed")
			}
			for _, post := range []struct {
				path string
				form url.Values
			}{
				{"/account/name", url.Values{"firstName": {"Forged"}, "lastName": {"Name"}}},
				{"/account/email", url.Values{"email": {"forged@example.org"}, "emailPassword": {"password-123"}}},
				{"/account/password", url.Values{"current": {"password-123"}, "password": {"forged-pw-1"}, "confirm": {"forged-pw-1"}}},
				{theirs, nil},
			} {
				c.PostFormNoCSRF(post.path, post.form).Status(http.StatusForbidden)
			}
			u, err := app.Sys.Authenticate(t.Context(), "ada@example.org", "password-123")
			if err != nil {
				t.Fatalf("forged posts changed the password: %v", err)
			}
			if u.FirstName == "Forged" {
				t.Error("a forged post renamed the account")
			}
			if strings.Contains(app.Logs(), "forged@example.org") {
				t.Error("a forged post sent a verification link")
			}
			other.Get("/account").Status(http.StatusOK)
		})
	}
}
