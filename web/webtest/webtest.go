// Package webtest runs a real Enclave server for tests and drives it like a
// browser would: cookies, CSRF tokens, redirects and HTML parsed with goquery.
// Helpers hide the plumbing, never the assertions.
package webtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"enclave/models"
	"enclave/models/oauth"
	"enclave/models/secrets"
	"enclave/models/testdb"
	"enclave/web"

	"github.com/PuerkitoBio/goquery"
)

// App is a running server on one test database.
type App struct {
	T      testing.TB
	DB     testdb.DB
	Sys    models.System
	Server *web.Server
	HTTP   *httptest.Server
	// SecretBox opens the project secrets the server sealed.
	SecretBox *secrets.Box
	logs      *syncBuffer
}

// New starts a server on db; it stops when the test ends.
func New(t testing.TB, db testdb.DB) *App {
	return start(t, db, false)
}

// NewTLS starts the server behind TLS, for cookie-flag tests.
func NewTLS(t testing.TB, db testdb.DB) *App {
	return start(t, db, true)
}

// NewWith starts a server whose configuration configure adjusts first
// (e.g. a mail server).
func NewWith(t testing.TB, db testdb.DB, configure func(*web.Config)) *App {
	return start(t, db, false, configure)
}

func start(t testing.TB, db testdb.DB, tls bool, configure ...func(*web.Config)) *App {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := web.Config{DataDir: t.TempDir(), SessionKey: []byte("0123456789abcdef0123456789abcdef"),
		SecretsKey: []byte("fedcba9876543210fedcba9876543210"), OAuthKeys: sharedOAuthKeys()}
	for _, f := range configure {
		f(&cfg)
	}
	srv := web.New(cfg, db.DB, log)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's last log lines:\n%s", lastLines(logs.String(), 60))
		}
	})
	var hs *httptest.Server
	if tls {
		hs = httptest.NewTLSServer(srv)
	} else {
		hs = httptest.NewServer(srv)
	}
	t.Cleanup(hs.Close)
	// The mail sender runs as under Run, and stops before the database
	// closes.
	mailCtx, stopMail := context.WithCancel(context.Background())
	mailDone := make(chan struct{})
	go func() { defer close(mailDone); srv.RunMail(mailCtx) }()
	t.Cleanup(func() { stopMail(); <-mailDone })
	box, err := secrets.NewBox(cfg.SecretsKey)
	if err != nil {
		t.Fatal(err)
	}
	return &App{T: t, DB: db, Sys: models.NewSystem(db.DB), Server: srv, HTTP: hs, SecretBox: box, logs: logs}
}

// sharedOAuthKeys is one signing key for every test server of the process:
// making an RSA key for each would slow the suite down. A test that needs
// the key file in the data directory sets Config.OAuthKeys to nil.
var sharedOAuthKeys = sync.OnceValue(func() *oauth.Keys {
	pem, err := oauth.NewKeyPEM()
	if err != nil {
		panic(err)
	}
	keys, err := oauth.FromPEM(pem, "")
	if err != nil {
		panic(err)
	}
	return keys
})

// lastLines is the end of text: its last n lines.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Logs returns everything the server logged so far.
func (a *App) Logs() string { return a.logs.String() }

// Client is one browser: its own cookie jar, no automatic redirects.
type Client struct {
	app  *App
	http *http.Client
	// HTMX makes the client send HX-Request, as htmx does.
	HTMX    bool
	headers http.Header
	// t is the test this browser reports failures to; nil means the app's.
	t testing.TB
}

// For returns the same browser (cookies and headers shared) reporting its
// failures to t: inside a subtest, a failed request must stop the subtest,
// not the test that started the app.
func (c *Client) For(t testing.TB) *Client {
	in := *c
	in.t = t
	return &in
}

// tb is the test this browser reports to.
func (c *Client) tb() testing.TB {
	if c.t != nil {
		return c.t
	}
	return c.app.T
}

// Header adds a header to every later request of this client; an empty
// value removes it.
func (c *Client) Header(name, value string) {
	if c.headers == nil {
		c.headers = http.Header{}
	}
	if value == "" {
		c.headers.Del(name)
		return
	}
	c.headers.Set(name, value)
}

// Client returns a new browser with no cookies.
func (a *App) Client() *Client {
	jar, _ := cookiejar.New(nil)
	hc := a.HTTP.Client()
	c := &http.Client{
		Transport:     hc.Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Client{app: a, http: c}
}

// Cookie returns the value of a cookie the client holds.
func (c *Client) Cookie(name string) string {
	u, _ := url.Parse(c.app.HTTP.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// SetCookie plants a cookie, e.g. to replay an old session.
func (c *Client) SetCookie(name, value string) {
	u, _ := url.Parse(c.app.HTTP.URL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Get requests path.
func (c *Client) Get(path string) *Response {
	return c.Do(http.MethodGet, path, nil, "")
}

// PostForm submits a form the way a browser does, with the CSRF token.
func (c *Client) PostForm(path string, v url.Values) *Response {
	if v == nil {
		v = url.Values{}
	}
	v = cloneValues(v)
	v.Set("_csrf", c.csrfToken())
	return c.Do(http.MethodPost, path, strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
}

// PostFormNoCSRF submits a form without any CSRF token, as a forged
// cross-site form would.
func (c *Client) PostFormNoCSRF(path string, v url.Values) *Response {
	return c.Do(http.MethodPost, path, strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
}

// csrfToken makes sure the client holds a CSRF cookie and returns it.
func (c *Client) csrfToken() string {
	if tok := c.Cookie("enclave_csrf"); tok != "" {
		return tok
	}
	c.Get("/signin")
	return c.Cookie("enclave_csrf")
}

// Do sends a request and reads the whole answer.
func (c *Client) Do(method, path string, body io.Reader, contentType string) *Response {
	t := c.tb()
	t.Helper()
	req, err := http.NewRequest(method, c.app.HTTP.URL+path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.HTMX {
		req.Header.Set("HX-Request", "true")
	}
	for k, vs := range c.headers {
		req.Header[k] = vs
	}
	return c.send(req)
}

// send performs req and reads the whole answer.
func (c *Client) send(req *http.Request) *Response {
	t := c.tb()
	t.Helper()
	method, path := req.Method, req.URL.Path
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return &Response{t: t, Resp: resp, Body: string(b), what: method + " " + path}
}

// Response is a fully read answer.
type Response struct {
	t    testing.TB
	Resp *http.Response
	Body string
	what string
	doc  *goquery.Document
}

// Status fails the test unless the answer has the given status.
func (r *Response) Status(want int) *Response {
	r.t.Helper()
	if r.Resp.StatusCode != want {
		r.t.Fatalf("%s: status %d, want %d\n%s", r.what, r.Resp.StatusCode, want, clip(r.Body))
	}
	return r
}

// RedirectsTo fails unless the answer sends the browser to path (a 303, or
// HX-Redirect for htmx), and returns the target.
func (r *Response) RedirectsTo(prefix string) string {
	r.t.Helper()
	loc := r.Resp.Header.Get("Location")
	if loc == "" {
		loc = r.Resp.Header.Get("HX-Redirect")
	}
	if !strings.HasPrefix(loc, prefix) {
		r.t.Fatalf("%s: status %d redirects to %q, want %q…\n%s", r.what, r.Resp.StatusCode, loc, prefix, clip(r.Body))
	}
	return loc
}

// Doc parses the body as HTML.
func (r *Response) Doc() *goquery.Document {
	r.t.Helper()
	if r.doc == nil {
		d, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
		if err != nil {
			r.t.Fatalf("%s: parse HTML: %v", r.what, err)
		}
		r.doc = d
	}
	return r.doc
}

// TestID returns the trimmed text of the element with data-testid=id.
func (r *Response) TestID(id string) string {
	return strings.TrimSpace(r.Doc().Find(`[data-testid="` + id + `"]`).First().Text())
}

// Title returns the page's title without the " · Enclave" that ends every
// page's.
func (r *Response) Title() string {
	return strings.TrimSuffix(strings.TrimSpace(r.Doc().Find("title").First().Text()), " · Enclave")
}

// TestIDs returns the texts of every element with data-testid=id.
func (r *Response) TestIDs(id string) []string {
	var out []string
	r.Doc().Find(`[data-testid="` + id + `"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

// Has reports whether an element with data-testid=id exists.
func (r *Response) Has(id string) bool {
	return r.Doc().Find(`[data-testid="`+id+`"]`).Length() > 0
}

// Shows fails unless an element with data-testid=id exists.
func (r *Response) Shows(id string) *Response {
	r.t.Helper()
	if !r.Has(id) {
		r.t.Fatalf("%s: no element with data-testid=%q\n%s", r.what, id, clip(r.Body))
	}
	return r
}

// Contains fails unless the body contains s.
func (r *Response) Contains(s string) *Response {
	r.t.Helper()
	if !strings.Contains(r.Body, s) {
		r.t.Fatalf("%s: body lacks %q\n%s", r.what, s, clip(r.Body))
	}
	return r
}

// NotContains fails if the body contains s.
func (r *Response) NotContains(s string) *Response {
	r.t.Helper()
	if strings.Contains(r.Body, s) {
		r.t.Fatalf("%s: body contains %q but must not", r.what, s)
	}
	return r
}

// SignUp registers a user through the two-step form and returns their
// browser and the first project's id.
func (a *App) SignUp(email, projectName string) (*Client, string) {
	a.T.Helper()
	c := a.Client()
	c.PostForm("/register", url.Values{"firstName": {"Test"}, "lastName": {strings.Split(email, "@")[0]},
		"email": {email}, "password": {"password-123"}}).RedirectsTo("/register/project")
	loc := c.PostForm("/register/project", url.Values{"projectName": {projectName}}).RedirectsTo("/projects/")
	return c, strings.TrimPrefix(loc, "/projects/")
}

// NewProject creates another project as c's user and returns its id.
func (c *Client) NewProject(name string) string {
	c.tb().Helper()
	loc := c.PostForm("/projects/new", url.Values{"projectName": {name}}).RedirectsTo("/projects/")
	return strings.TrimPrefix(loc, "/projects/")
}

// NewPolicy creates an access policy with one Patient rule and returns its id.
func (c *Client) NewPolicy(project, name string) string {
	c.tb().Helper()
	c.PostForm("/projects/"+project+"/access-policies/new", url.Values{"name": {name}, "rows": {"1"},
		"rules.0.resourceType": {"Patient"}}).RedirectsTo("/projects/" + project + "/access-policies")
	pols, err := c.app.Sys.Tenant(project).AccessPolicies(context.Background())
	if err != nil {
		c.tb().Fatal(err)
	}
	for _, p := range pols {
		if p.Name == name {
			return p.ID
		}
	}
	c.tb().Fatalf("policy %q not found after creating it", name)
	return ""
}

// SignIn signs c in with the test password.
func (c *Client) SignIn(email string) *Response {
	return c.PostForm("/signin", url.Values{"email": {email}, "password": {"password-123"}})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// LoggedLink returns the newest link of this purpose (as handlers.Postman
// names it, e.g. "email-verification") that the server wrote to its log for
// the address, as it does when no mail server is configured; "" when none.
func (a *App) LoggedLink(purpose, email string) string {
	link := ""
	for _, line := range strings.Split(a.Logs(), "\n") {
		if !strings.Contains(line, "purpose="+purpose) || !strings.Contains(line, "to="+email+" ") {
			continue
		}
		if _, after, ok := strings.Cut(line, " link="); ok {
			link, _, _ = strings.Cut(after, " ")
		}
	}
	return link
}

// VerifyEmail opens the newest verification link logged for email and
// confirms it, as the owner of the address would.
func (c *Client) VerifyEmail(email string) {
	c.tb().Helper()
	link := c.app.LoggedLink("email-verification", email)
	if link == "" {
		c.tb().Fatalf("no verification link for %s in the server log", email)
	}
	path := strings.TrimPrefix(link, c.app.HTTP.URL)
	c.Get(path).Status(http.StatusOK)
	r := c.PostForm(path, url.Values{}).Status(http.StatusOK)
	if msg := r.TestID("message"); !strings.Contains(msg, email+" is now the verified email address") {
		c.tb().Fatalf("verifying %s: the page says %q", email, msg)
	}
}

// Join makes the owner of email a member of project: admin invites the
// address, the person registers (if new), verifies it and accepts. It
// returns the new member's signed-in browser.
func (a *App) Join(admin *Client, project, email string, asAdmin bool) *Client {
	a.T.Helper()
	form := url.Values{"email": {email}}
	if asAdmin {
		form.Set("admin", "on")
	}
	admin.PostForm("/projects/"+project+"/members/invite", form).Status(http.StatusOK)
	c := a.Client()
	if _, err := a.Sys.UserByEmail(context.Background(), email); err == nil {
		c.SignIn(email)
	} else {
		c.PostForm("/register", url.Values{"firstName": {"Test"}, "lastName": {strings.Split(email, "@")[0]},
			"email": {email}, "password": {"password-123"}}).RedirectsTo("/register/project")
	}
	c.VerifyEmail(email)
	page := c.Get("/projects").Status(http.StatusOK)
	id := ""
	page.Doc().Find(`[data-testid="my-invitation"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ = s.Attr("data-invitation")
	})
	if id == "" {
		a.T.Fatalf("%s sees no invitation after verifying", email)
	}
	c.PostForm("/invitations/"+id+"/accept", url.Values{}).RedirectsTo("/projects/" + project)
	return c
}
