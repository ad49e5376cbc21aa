package web_test

import (
	"bufio"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// fakeSMTP is a tiny SMTP server on 127.0.0.1 that keeps what it receives.
type fakeSMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	auth []string
	msgs []receivedMail
	// refuse turns this many connections away, as a busy server does.
	refuse int
}

type receivedMail struct {
	To      string
	Subject string
	Body    string
}

func startFakeSMTP(t *testing.T) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeSMTP{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(t, conn)
		}
	}()
	return s
}

func (s *fakeSMTP) port() string {
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	return port
}

func (s *fakeSMTP) serve(t *testing.T, conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	reply := func(line string) { io.WriteString(conn, line+"\r\n") }
	s.mu.Lock()
	busy := s.refuse > 0
	if busy {
		s.refuse--
	}
	s.mu.Unlock()
	if busy {
		reply("421 4.3.2 fake busy, try again later")
		return
	}
	reply("220 fake ESMTP")
	var to string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(cmd, " ", 2)[0])
		switch verb {
		case "EHLO":
			reply("250-fake")
			reply("250 AUTH PLAIN")
		case "AUTH":
			parts := strings.Fields(cmd)
			raw, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
			if err != nil {
				t.Errorf("fake SMTP: AUTH %q: %v", cmd, err)
			}
			s.mu.Lock()
			s.auth = append(s.auth, string(raw))
			s.mu.Unlock()
			reply("235 ok")
		case "MAIL":
			reply("250 ok")
		case "RCPT":
			to = strings.Trim(strings.TrimPrefix(cmd, "RCPT TO:"), "<>")
			reply("250 ok")
		case "DATA":
			reply("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			msg, err := mail.ReadMessage(strings.NewReader(data.String()))
			if err != nil {
				t.Errorf("fake SMTP: unreadable message: %v", err)
				reply("554 bad message")
				continue
			}
			body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if err != nil {
				t.Errorf("fake SMTP: undecodable body: %v", err)
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if err != nil {
				t.Errorf("fake SMTP: undecodable subject: %v", err)
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, receivedMail{To: to, Subject: subject, Body: string(body)})
			s.mu.Unlock()
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("250 ok")
		}
	}
}

func (s *fakeSMTP) received() ([]receivedMail, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.msgs...), append([]string(nil), s.auth...)
}

// mailsTo returns the mails received for one address.
func mailsTo(smtp *fakeSMTP, to string) []receivedMail {
	msgs, _ := smtp.received()
	var out []receivedMail
	for _, m := range msgs {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// awaitMails waits until the server has received at least n mails for to
// (the outbox's sender delivers them in the background) and returns them.
func awaitMails(t *testing.T, smtp *fakeSMTP, to string, n int) []receivedMail {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := mailsTo(smtp, to)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails to %s, want %d", len(got), to, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// awaitLogLine waits until the server logs a line holding every one of
// parts (the mail sender logs in the background) and returns it.
func awaitLogLine(t *testing.T, app *webtest.App, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, line := range strings.Split(app.Logs(), "\n") {
			found := true
			for _, p := range parts {
				found = found && strings.Contains(line, p)
			}
			if found {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line holds all of %q:\n%s", parts, app.Logs())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestInviteMailedWhenSMTPIsConfigured(t *testing.T) {
	smtp := startFakeSMTP(t)
	const base = "https://enclave.example.org"
	app := webtest.NewWith(t, testdb.SQLite(t), func(c *web.Config) {
		c.BaseURL = base
		c.SMTP = web.SMTPConfig{Host: "127.0.0.1", Port: smtp.port(), Username: "mailer", Password: "smtp-secret-pw", From: "enclave@example.org"}
	})
	admin, project := app.SignUp("admin@example.org", "Alpha")
	members := "/projects/" + project + "/members"

	// Registration mails the verification link instead of logging it.
	sent := awaitMails(t, smtp, "admin@example.org", 1)
	if len(sent) != 1 || sent[0].Subject != "Confirm your email address" || !strings.Contains(sent[0].Body, base+"/verify/") {
		t.Fatalf("verification mail: %+v", sent)
	}
	if app.LoggedLink("email-verification", "admin@example.org") != "" {
		t.Error("with a mail server the verification link must not be logged")
	}
	if r := admin.Get("/projects/" + project).Shows("verify-banner"); !strings.Contains(r.TestID("verify-banner"), "Open the link we emailed you") {
		t.Errorf("banner %q", r.TestID("verify-banner"))
	}

	r := admin.PostForm(members+"/invite", url.Values{"email": {"nia@example.org"}}).Status(http.StatusOK)
	link := inviteLink(r)
	if !strings.HasPrefix(link, base+"/invite/") || !strings.Contains(r.TestID("invite-queued"), "nia@example.org") {
		t.Fatalf("link %q, queued %q", link, r.TestID("invite-queued"))
	}
	msgs := awaitMails(t, smtp, "nia@example.org", 1)
	if len(msgs) != 1 {
		t.Fatalf("%d mails to the invitee, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "You are invited to Alpha" || !strings.Contains(m.Body, link+"\r\n") {
		t.Errorf("mail subject %q, body:\n%s", m.Subject, m.Body)
	}
	if _, auth := smtp.received(); len(auth) != 2 || auth[0] != "\x00mailer\x00smtp-secret-pw" {
		t.Errorf("SMTP authentication %q", auth)
	}
	// The mailed link is the one that works.
	app.Client().Get(strings.TrimPrefix(link, base)).Status(http.StatusOK)

	// An address with an account gets the same invitation, not a membership.
	app.SignUp("bob@example.org", "Bob's")
	admin.PostForm(members+"/invite", url.Values{"email": {"bob@example.org"}}).Status(http.StatusOK)
	if bob := awaitMails(t, smtp, "bob@example.org", 2); len(bob) != 2 || bob[1].Subject != "You are invited to Alpha" {
		t.Errorf("mails to an existing user: %+v", bob)
	}
	logs := app.Logs()
	if strings.Contains(logs, "smtp-secret-pw") || strings.Contains(logs, strings.TrimPrefix(link, base+"/invite/")) {
		t.Error("the SMTP password or an invite token was logged")
	}
}

// newAppWithDeadMail starts a server whose mail server cannot be reached
// (a port that was just closed); withBase sets ENCLAVE_BASE_URL to
// https://enclave.example.org.
func newAppWithDeadMail(t *testing.T, withBase bool) *webtest.App {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closedPort, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return webtest.NewWith(t, testdb.SQLite(t), func(c *web.Config) {
		if withBase {
			c.BaseURL = "https://enclave.example.org"
		}
		c.SMTP = web.SMTPConfig{Host: "127.0.0.1", Port: closedPort, From: "enclave@example.org"}
	})
}

// TestInviteWhenMailFails: the admin has the link on screen at once; the
// sender's failure goes to the log, without the token, and the mail waits
// in the outbox for its next attempt.
func TestInviteWhenMailFails(t *testing.T) {
	app := newAppWithDeadMail(t, true)
	admin, project := app.SignUp("admin@example.org", "Alpha")
	r := admin.PostForm("/projects/"+project+"/members/invite", url.Values{"email": {"nia@example.org"}}).Status(http.StatusOK)
	link := inviteLink(r)
	if link == "" || !r.Has("invite-queued") {
		t.Fatalf("link %q, queued %v", link, r.Has("invite-queued"))
	}
	token := strings.TrimPrefix(link, "https://enclave.example.org/invite/")
	line := awaitLogLine(t, app, "email not sent; will retry", "purpose=invitation")
	if !strings.Contains(line, "attempt=1") || !strings.Contains(line, "connect") {
		t.Errorf("failure logged as: %s", line)
	}
	if strings.Contains(app.Logs(), token) {
		t.Errorf("the invite token was logged:\n%s", app.Logs())
	}
	var row struct {
		Attempts      int
		LastError     string
		NextAttemptAt time.Time
	}
	res := app.DB.DB.Raw("SELECT attempts, last_error, next_attempt_at FROM outbox WHERE purpose = ?", "invitation").Scan(&row)
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("the invitation's mail: %v, %d rows", res.Error, res.RowsAffected)
	}
	if row.Attempts != 1 || !strings.Contains(row.LastError, "connect") || strings.Contains(row.LastError, token) || !row.NextAttemptAt.After(time.Now()) {
		t.Errorf("the invitation's mail after a failure: %+v", row)
	}
}

func TestMailConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	cfg := web.ConfigFromEnv(env("ENCLAVE_BASE_URL", "https://enclave.example.org/", "ENCLAVE_SMTP_HOST", "mail.example.org",
		"ENCLAVE_SMTP_USERNAME", "u", "ENCLAVE_SMTP_PASSWORD", "p", "ENCLAVE_SMTP_FROM", "Enclave <enclave@example.org>"))
	if cfg.BaseURL != "https://enclave.example.org" || cfg.SMTP.Port != "587" || cfg.SMTP.Username != "u" || cfg.SMTP.Password != "p" {
		t.Errorf("config %+v", cfg)
	}
	if err := cfg.CheckMail(); err != nil {
		t.Errorf("valid mail settings refused: %v", err)
	}
	if err := web.ConfigFromEnv(env()).CheckMail(); err != nil {
		t.Errorf("no mail settings must be fine: %v", err)
	}
	bad := map[string][]string{
		"ENCLAVE_BASE_URL":             {"ENCLAVE_BASE_URL", "enclave.example.org"},
		"ENCLAVE_BASE_URL is required": {"ENCLAVE_SMTP_HOST", "mail.example.org", "ENCLAVE_SMTP_FROM", "a@example.org"},
		"ENCLAVE_SMTP_FROM":            {"ENCLAVE_BASE_URL", "https://x.example.org", "ENCLAVE_SMTP_HOST", "mail.example.org"},
		"ENCLAVE_SMTP_PORT": {"ENCLAVE_BASE_URL", "https://x.example.org", "ENCLAVE_SMTP_HOST", "mail.example.org",
			"ENCLAVE_SMTP_FROM", "a@example.org", "ENCLAVE_SMTP_PORT", "smtp"},
	}
	for want, kv := range bad {
		err := web.ConfigFromEnv(env(kv...)).CheckMail()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want one naming %s", kv, err, want)
		}
	}
}
