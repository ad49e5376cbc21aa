package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestPrivateAnswersAreNotStored: every console page and fragment and every
// API answer carries Cache-Control: no-store, errors included; static assets
// keep their cache lifetime.
func TestPrivateAnswersAreNotStored(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			api := app.Client()
			api.SignIn("ada@example.org")
			api.Header("X-Enclave-Project", project)
			id := create(t, api, "Patient", `{"resourceType":"Patient","name":[{"family":"Doe"}]}`)
			fill := strings.NewReplacer(":project", project, ":type", "Patient", ":id", id, ":vid", "1",
				":member", "x", ":policy", "x", ":secret", "x", ":client", "x", ":token", "x", "*", "x")
			check := func(what string, r *webtest.Response) {
				t.Helper()
				if cc := r.Header("Cache-Control"); !strings.Contains(cc, "no-store") {
					t.Errorf("%s: status %d, Cache-Control %q, want no-store", what, r.Resp.StatusCode, cc)
				}
			}
			checked := 0
			for _, rt := range app.Server.Routes() {
				if rt.Method != http.MethodGet || strings.HasPrefix(rt.Path, "/static/") || rt.Path == "/favicon.ico" || rt.Path == "/fhir/R4/metadata" {
					continue
				}
				path := fill.Replace(rt.Path)
				checked++
				if strings.HasPrefix(path, "/fhir/") {
					check("API "+rt.Path, api.API(http.MethodGet, path, ""))
					check("anonymous API "+rt.Path, app.Client().API(http.MethodGet, path, ""))
					continue
				}
				c.HTMX = false
				check("GET "+rt.Path, c.Get(path))
				c.HTMX = true
				check("htmx GET "+rt.Path, c.Get(path))
				c.HTMX = false
				check("anonymous GET "+rt.Path, app.Client().Get(path))
			}
			if checked < 20 {
				t.Fatalf("only %d GET routes checked", checked)
			}
			// Form answers, a search fragment, writes and errors.
			c.HTMX = true
			check("search fragment", c.Get("/projects/"+project+"/resources/Patient?name=Doe").Status(http.StatusOK))
			c.HTMX = false
			check("settings refused", c.PostForm("/projects/"+project+"/settings", url.Values{"name": {""}}))
			check("new project", c.PostForm("/projects/new", url.Values{"projectName": {"Beta"}}))
			check("API create", api.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`).Status(http.StatusCreated))
			check("API search", api.API(http.MethodGet, "/fhir/R4/Patient?name=Doe", "").Status(http.StatusOK))
			check("API 404", api.API(http.MethodGet, "/fhir/R4/Patient/nope", "").Status(http.StatusNotFound))
			check("API 400", api.API(http.MethodPost, "/fhir/R4/Patient", `{`).Status(http.StatusBadRequest))

			asset := c.Get("/static/css/app.css").Status(http.StatusOK)
			if cc := asset.Header("Cache-Control"); cc != "public, max-age=3600" {
				t.Errorf("static asset: Cache-Control %q", cc)
			}
		})
	}
}

// TestStaticHasNoDirectoryListings: the asset folders answer 404, not an
// index of their files.
func TestStaticHasNoDirectoryListings(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	c := app.Client()
	for _, path := range []string{"/static/", "/static/css/", "/static/js/", "/static/css", "/static/./css/", "/static/css/..%2f"} {
		r := c.Get(path)
		if r.Resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, r.Resp.StatusCode)
		}
		// The 404 page links the stylesheet; a listing would link bare names.
		r.NotContains(`href="app.css"`).NotContains(`href="css/"`).NotContains(`href="js/"`).NotContains(`href="htmx.min.js"`)
		if !r.Has("error-page") {
			t.Errorf("GET %s: not the 404 page", path)
		}
		if cc := r.Header("Cache-Control"); strings.Contains(cc, "public") {
			t.Errorf("GET %s: a 404 is cached publicly (%q)", path, cc)
		}
	}
	c.Get("/static/css/app.css").Status(http.StatusOK).Contains(".btn")
	c.Get("/static/js/htmx.min.js").Status(http.StatusOK)
}
