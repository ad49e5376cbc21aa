package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// checkUnavailable fails unless r is a 503 that asks the client to retry.
func checkUnavailable(t *testing.T, what string, r *webtest.Response) {
	t.Helper()
	if r.Resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("%s: status %d, want 503\n%.500s", what, r.Resp.StatusCode, r.Body)
		return
	}
	if got := r.Header("Retry-After"); got != "5" {
		t.Errorf("%s: Retry-After %q, want 5", what, got)
	}
	if strings.HasPrefix(r.Header("Content-Type"), "application/fhir+json") {
		if txt := outcomeText(t, r); !strings.Contains(txt, "database cannot be reached") {
			t.Errorf("%s: outcome %q", what, txt)
		}
		return
	}
	if !strings.Contains(r.TestID("error-message"), "database cannot be reached") {
		t.Errorf("%s: error page says %q", what, r.TestID("error-message"))
	}
}

// TestClosedDatabaseAnswers503: once the server's connection pool is closed,
// console pages and API reads answer 503 with Retry-After, not 500.
func TestClosedDatabaseAnswers503(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			api := app.Client()
			api.SignIn("ada@example.org")
			api.Header("X-Enclave-Project", project)
			id := create(t, api, "Patient", `{"resourceType":"Patient","name":[{"family":"Doe"}]}`)

			sqlDB, err := db.DB.DB()
			if err != nil {
				t.Fatal(err)
			}
			if err := sqlDB.Close(); err != nil {
				t.Fatal(err)
			}
			checkUnavailable(t, "project home", c.Get("/projects/"+project))
			checkUnavailable(t, "resource page", c.Get("/projects/"+project+"/resources/Patient/"+id))
			checkUnavailable(t, "sign-in", app.Client().PostForm("/signin", url.Values{"email": {"ada@example.org"}, "password": {"password-123"}}))
			checkUnavailable(t, "API read", api.API(http.MethodGet, "/fhir/R4/Patient/"+id, ""))
			checkUnavailable(t, "API search", api.API(http.MethodGet, "/fhir/R4/Patient?name=Doe", ""))
			checkUnavailable(t, "API create", api.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`))
			// A new visitor's session lookup fails the same way.
			fresh := app.Client()
			fresh.SetCookie("enclave_session", c.Cookie("enclave_session"))
			fresh.Header("X-Enclave-Project", project)
			checkUnavailable(t, "API read, caller not cached", fresh.API(http.MethodGet, "/fhir/R4/Patient/"+id, ""))
			if logs := app.Logs(); !strings.Contains(logs, "database is closed") {
				t.Errorf("the log does not say why:\n%s", logs)
			}
		})
	}
}

// tcpProxy forwards connections to a PostgreSQL server until it is cut, which
// is what a database outage looks like from the server: open connections
// break and new ones are refused.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{t: t, target: target}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) listen(addr string) {
	p.t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", p.target)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(server, client); server.Close() }()
			go func() { _, _ = io.Copy(client, server); client.Close() }()
		}
	}()
}

// cut closes the listener and every forwarded connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore listens again on the same address.
func (p *tcpProxy) restore() { p.listen(p.addr) }

// TestDatabaseOutageAnswers503: when PostgreSQL goes away under a running
// server (its connections cut, new ones refused), console pages and API
// reads answer 503 with Retry-After, and the server recovers by itself once
// the database is back.
func TestDatabaseOutageAnswers503(t *testing.T) {
	pg, ok := testdb.Postgres(t)
	if !ok {
		return
	}
	u, err := url.Parse(pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	u.Host = proxy.addr
	db, err := models.Open(context.Background(), u.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	app := webtest.NewWith(t, testdb.DB{Name: "postgres", DB: db, DSN: u.String()}, func(*web.Config) {})
	c, project := app.SignUp("ada@example.org", "Alpha")
	api := app.Client()
	api.SignIn("ada@example.org")
	api.Header("X-Enclave-Project", project)
	id := create(t, api, "Patient", `{"resourceType":"Patient","name":[{"family":"Doe"}]}`)
	c.Get("/projects/" + project).Status(http.StatusOK)

	proxy.cut()
	for i := 0; i < 3; i++ { // the pool's open connections break one by one
		checkUnavailable(t, "project home", c.Get("/projects/"+project))
		checkUnavailable(t, "members page", c.Get("/projects/"+project+"/members"))
		checkUnavailable(t, "API read", api.API(http.MethodGet, "/fhir/R4/Patient/"+id, ""))
		checkUnavailable(t, "API search", api.API(http.MethodGet, "/fhir/R4/Patient?name=Doe", ""))
	}
	// Past the caller cache, the session lookup itself fails.
	time.Sleep(web.CallerCacheTTL + 100*time.Millisecond)
	checkUnavailable(t, "API read, caller not cached", api.API(http.MethodGet, "/fhir/R4/Patient/"+id, ""))
	checkUnavailable(t, "project home, caller not cached", c.Get("/projects/"+project))
	if t.Failed() {
		t.Logf("server log:\n%s", app.Logs())
	}

	proxy.restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := api.API(http.MethodGet, "/fhir/R4/Patient/"+id, "")
		if r.Resp.StatusCode == http.StatusOK {
			break
		}
		if r.Resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after the outage: status %d\n%s", r.Resp.StatusCode, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.Get("/projects/" + project).Status(http.StatusOK)
}
