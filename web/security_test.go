package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/PuerkitoBio/goquery"
)

// consoleRoutes returns every console route with :project filled in, so new
// routes are covered by the permission tests below without being listed.
func consoleRoutes(app *webtest.App, project string) []struct{ Method, Path, Key string } {
	var out []struct{ Method, Path, Key string }
	for _, r := range app.Server.Routes() {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			continue // echo's catch-alls for unknown paths below a group
		}
		if strings.HasPrefix(r.Path, "/fhir/") {
			continue // the FHIR API has its own tests (fhir_test.go)
		}
		if strings.HasPrefix(r.Path, "/admin/") {
			continue // the admin API takes JSON only, like the FHIR API (admin_api_test.go)
		}
		if strings.HasPrefix(r.Path, "/oauth2/") || strings.HasPrefix(r.Path, "/.well-known/") {
			continue // OAuth takes no cookie and has its own tests (oauth_test.go)
		}
		if strings.HasPrefix(r.Path, "/auth/") {
			continue // JSON only, which no cross-site form can send (userauth_test.go)
		}
		key := r.Method + " " + r.Path
		out = append(out, struct{ Method, Path, Key string }{r.Method, strings.ReplaceAll(r.Path, ":project", project), key})
	}
	return out
}

func TestEveryStateChangeNeedsCSRF(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			checked := 0
			for _, r := range consoleRoutes(app, project) {
				if r.Method == http.MethodGet {
					continue
				}
				checked++
				resp := c.PostFormNoCSRF(r.Path, url.Values{"projectName": {"Forged"}, "email": {"ada@example.org"}, "password": {"password-123"}})
				if resp.Resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s without a CSRF token: status %d, want 403", r.Key, resp.Resp.StatusCode)
				}
				// A wrong token is refused too.
				resp = c.PostFormNoCSRF(r.Path, url.Values{"_csrf": {"forged"}, "projectName": {"Forged"}})
				if resp.Resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s with a wrong CSRF token: status %d, want 403", r.Key, resp.Resp.StatusCode)
				}
			}
			if checked < 5 {
				t.Fatalf("only %d state-changing routes found", checked)
			}
			// The forged requests changed nothing: still one project, still signed in.
			if got := c.Get("/projects").TestIDs("project-name"); len(got) != 1 {
				t.Errorf("projects after forged posts: %v", got)
			}
			// An htmx request without the header is refused like a form.
			c.HTMX = true
			c.Do(http.MethodPost, "/projects/new", strings.NewReader("projectName=ViaHeader"), "application/x-www-form-urlencoded").
				Status(http.StatusForbidden)
		})
	}
}

func TestCSRFHeaderAccepted(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	c, _ := app.SignUp("ada@example.org", "Alpha")
	c.HTMX = true
	c.Header("X-CSRF-Token", c.Cookie("enclave_csrf"))
	c.Do(http.MethodPost, "/projects/new", strings.NewReader("projectName=ViaHeader"), "application/x-www-form-urlencoded").
		Status(http.StatusOK).RedirectsTo("/projects/")
}

// Where each route sends a signed-out visitor is in the access matrix;
// htmx, which would swap a redirect's page into the current one, is told
// to go there instead.
func TestSignedOutHTMXIsSentToSignIn(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, project := app.SignUp("ada@example.org", "Alpha")
			anon := app.Client()
			anon.HTMX = true
			r := anon.Get("/projects/" + project)
			if r.Resp.StatusCode != http.StatusUnauthorized || r.Resp.Header.Get("HX-Redirect") == "" {
				t.Errorf("htmx without session: %d, HX-Redirect %q", r.Resp.StatusCode, r.Resp.Header.Get("HX-Redirect"))
			}
		})
	}
}

func TestOtherProjectsAreNotFound(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.SignUp("owner@example.org", "Secret Project Zeta")
			mallory, own := app.SignUp("mallory@example.org", "Mallory's")
			missing := "00000000-0000-4000-8000-000000000000"
			projectRoutes := 0
			// Another member's project is in the access matrix; one that does
			// not exist, or whose id is malformed, must look the same.
			for _, target := range []string{missing, "not-a-uuid"} {
				for _, r := range consoleRoutes(app, target) {
					if !strings.Contains(r.Key, ":project") {
						continue
					}
					projectRoutes++
					var resp *webtest.Response
					if r.Method == http.MethodGet {
						resp = mallory.Get(r.Path)
					} else {
						resp = mallory.PostForm(r.Path, url.Values{"projectName": {"Hijacked"}})
					}
					resp.Status(http.StatusNotFound).NotContains("Secret Project Zeta")
					if got := resp.TestID("error-message"); !strings.Contains(got, "does not exist") {
						t.Errorf("%s: 404 page says %q", r.Key, got)
					}
				}
			}
			if projectRoutes == 0 {
				t.Fatal("no project routes found")
			}
			// Mallory's own project works, and the switcher never lists the other one.
			home := mallory.Get("/projects/" + own).Status(http.StatusOK)
			home.NotContains("Secret Project Zeta")
			if got := home.TestIDs("switch-project"); len(got) != 1 || got[0] != "Mallory's" {
				t.Errorf("switcher lists %v", got)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	for _, path := range []string{"/signin", "/register", "/nope"} {
		r := app.Client().Get(path)
		h := r.Resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, h)
		}
		// No inline scripts in the page, so the CSP costs nothing.
		r.Doc().Find("script").Each(func(_ int, s *goquery.Selection) {
			if strings.TrimSpace(s.Text()) != "" {
				t.Errorf("%s: inline script found", path)
			}
		})
	}
}

func TestProbesAndStatic(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c := app.Client()
			c.Get("/healthz").Status(http.StatusOK).Contains("ok")
			c.Get("/readyz").Status(http.StatusOK).Contains("ok")
			c.Get("/static/css/app.css").Status(http.StatusOK).Contains(".btn")
			c.Get("/static/js/htmx.min.js").Status(http.StatusOK).Contains("htmx")
			c.Get("/static/js/app.js").Status(http.StatusOK).Contains("X-CSRF-Token")

			sqlDB, err := db.DB.DB()
			if err != nil {
				t.Fatal(err)
			}
			if err := sqlDB.Close(); err != nil {
				t.Fatal(err)
			}
			c.Get("/readyz").Status(http.StatusServiceUnavailable).Contains("database unreachable")
			c.Get("/healthz").Status(http.StatusOK)
		})
	}
}

func TestUnknownPagesAndMethods(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	c := app.Client()
	r := c.Get("/no/such/page").Status(http.StatusNotFound)
	if !r.Has("error-page") {
		t.Error("404 must render the error page")
	}
	// A wrong method on a known path is an ordinary error page, not a crash.
	r = c.Get("/signout")
	if code := r.Resp.StatusCode; code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		t.Errorf("GET /signout: status %d", code)
	}
	if !r.Has("error-page") {
		t.Error("GET /signout must render the error page")
	}
}
