package web_test

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// outboxMail is one mail's row in the outbox.
type outboxMail struct {
	Attempts      int
	LastError     string
	Body          []byte
	NextAttemptAt time.Time
	SentAt        *time.Time
}

func outboxMailFor(t *testing.T, app *webtest.App, purpose string) outboxMail {
	t.Helper()
	var m outboxMail
	res := app.DB.DB.Raw("SELECT attempts, last_error, body, next_attempt_at, sent_at FROM outbox WHERE purpose = ?", purpose).Scan(&m)
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("the %s mail: %v, %d rows", purpose, res.Error, res.RowsAffected)
	}
	return m
}

// TestMailRetriedAfterRefusal: a mail server that turns the sender away
// gets the mail again later (half a minute later the first time); the
// failure is logged without the link, and the retried mail holds the link
// that works.
func TestMailRetriedAfterRefusal(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			smtp := startFakeSMTP(t)
			smtp.refuse = 1
			app := webtest.NewWith(t, db, func(c *web.Config) {
				c.BaseURL = "https://enclave.example.org"
				c.SMTP = web.SMTPConfig{Host: "127.0.0.1", Port: smtp.port(), From: "enclave@example.org"}
			})
			app.SignUp("ada@example.org", "Alpha")
			line := awaitLogLine(t, app, "email not sent; will retry", "purpose=email-verification")
			if !strings.Contains(line, "attempt=1") || !strings.Contains(line, "421") {
				t.Errorf("failure logged as: %s", line)
			}
			verifyLink := regexp.MustCompile(`/verify/[A-Za-z0-9_-]{20,}`)
			if verifyLink.MatchString(app.Logs()) {
				t.Fatalf("a verification link was logged:\n%s", app.Logs())
			}
			if got := mailsTo(smtp, "ada@example.org"); len(got) != 0 {
				t.Fatalf("a refused mail arrived: %+v", got)
			}
			m := outboxMailFor(t, app, "email-verification")
			if wait := time.Until(m.NextAttemptAt); m.Attempts != 1 || !strings.Contains(m.LastError, "421") || wait < 20*time.Second || wait > 31*time.Second {
				t.Fatalf("after the refusal: %d attempts, error %q, next attempt in %v (want about 30s)", m.Attempts, m.LastError, wait)
			}

			// The half minute passes.
			res := app.DB.DB.Exec("UPDATE outbox SET next_attempt_at = ? WHERE purpose = ?", time.Now().Add(-time.Second).UTC(), "email-verification")
			if res.Error != nil || res.RowsAffected != 1 {
				t.Fatalf("make the retry due: %v, %d rows", res.Error, res.RowsAffected)
			}
			got := awaitMails(t, smtp, "ada@example.org", 1)
			path := verifyLink.FindString(got[0].Body)
			if len(got) != 1 || path == "" || !strings.Contains(got[0].Body, "https://enclave.example.org"+path) {
				t.Fatalf("retried mail: %+v", got)
			}
			awaitLogLine(t, app, "email sent", "purpose=email-verification", "attempt=2")
			if m := outboxMailFor(t, app, "email-verification"); m.SentAt == nil || m.Attempts != 2 || m.Body != nil {
				t.Errorf("after sending: %d attempts, sent %v, body kept %v", m.Attempts, m.SentAt, m.Body != nil)
			}
			app.Client().Get(path).Status(http.StatusOK)
		})
	}
}

// stallingSMTP accepts connections and never says a word, like a mail
// server that hangs.
func stallingSMTP(t *testing.T) (port string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, err = net.SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 100)
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			ch <- struct{}{}
		}
	}()
	return port, ch
}

// TestSlowMailServerDoesNotSlowRequests: while the sender hangs on a mail
// server that does not answer, the requests that queue mail answer at once.
func TestSlowMailServerDoesNotSlowRequests(t *testing.T) {
	port, accepted := stallingSMTP(t)
	app := webtest.NewWith(t, testdb.SQLite(t), func(c *web.Config) {
		c.BaseURL = "https://enclave.example.org"
		c.SMTP = web.SMTPConfig{Host: "127.0.0.1", Port: port, From: "enclave@example.org"}
		c.MetricsToken = metricsToken
	})
	admin, project := app.SignUp("admin@example.org", "Alpha")
	select {
	case <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the sender never connected to the mail server")
	}

	const quick = 2 * time.Second // the mail server's timeout is 15 seconds
	for _, tc := range []struct {
		name, path string
		form       url.Values
		shows      string
	}{
		{"invite", "/projects/" + project + "/members/invite", url.Values{"email": {"nia@example.org"}}, "invite-queued"},
		{"new verification link", "/account/verify", nil, "message"},
		{"email change", "/account/email", url.Values{"email": {"admin@new.example"}, "emailPassword": {"password-123"}}, "email-queued"},
	} {
		start := time.Now()
		r := admin.PostForm(tc.path, tc.form).Status(http.StatusOK).Shows(tc.shows)
		if took := time.Since(start); took > quick {
			t.Errorf("%s took %v while the mail server hangs", tc.name, took)
		}
		if tc.shows == "message" && !strings.Contains(r.TestID("message"), "We are sending a link") {
			t.Errorf("%s: %q", tc.name, r.TestID("message"))
		}
	}
	start := time.Now()
	app.Client().PostForm("/forgot", url.Values{"email": {"admin@example.org"}}).Status(http.StatusOK).Shows("forgot-sent")
	if took := time.Since(start); took > quick {
		t.Errorf("forgot password took %v while the mail server hangs", took)
	}
	forgotSettled(t, app, 1)
	n, err := app.Sys.Outbox(app.SecretBox).Backlog(t.Context())
	if err != nil || n != 5 {
		t.Errorf("outbox backlog %d, %v; want the five mails waiting", n, err)
	}
	if got, ok := sample(scrape(t, app), "enclave_outbox_backlog", nil); !ok || got != 5 {
		t.Errorf("enclave_outbox_backlog = %v (present %v), want 5", got, ok)
	}
}
