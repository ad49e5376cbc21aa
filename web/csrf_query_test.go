package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestCSRFTokenOnlyFromBodyOrHeader: a token in the URL leaks (history,
// logs, Referer), so a state-changing request that carries it only in the
// query string is refused like one without a token.
func TestCSRFTokenOnlyFromBodyOrHeader(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, _ := app.SignUp("ada@example.org", "Alpha")
			tok := c.Cookie("enclave_csrf")
			if tok == "" {
				t.Fatal("no CSRF cookie after sign-up")
			}
			q := "?_csrf=" + url.QueryEscape(tok)
			const form = "application/x-www-form-urlencoded"
			c.Do(http.MethodPost, "/projects/new"+q, strings.NewReader("projectName=FromQuery"), form).Status(http.StatusForbidden)
			c.Do(http.MethodPost, "/projects/new"+q, strings.NewReader("projectName=FromQuery&_csrf=forged"), form).Status(http.StatusForbidden)
			c.Do(http.MethodPost, "/projects/new"+q, strings.NewReader(`{"projectName":"FromQuery"}`), "application/json").Status(http.StatusForbidden)
			c.HTMX = true
			c.Do(http.MethodPost, "/projects/new"+q, strings.NewReader("projectName=FromQuery"), form).Status(http.StatusForbidden)
			c.HTMX = false
			// Sign-out through a link is refused too: still signed in.
			c.Do(http.MethodPost, "/signout"+q, nil, "").Status(http.StatusForbidden)

			// The body and the header still work.
			c.Do(http.MethodPost, "/projects/new", strings.NewReader("projectName=FromBody&_csrf="+url.QueryEscape(tok)), form).
				Status(http.StatusSeeOther).RedirectsTo("/projects/")
			c.Header("X-CSRF-Token", tok)
			c.Do(http.MethodPost, "/projects/new", strings.NewReader("projectName=FromHeader"), form).
				Status(http.StatusSeeOther).RedirectsTo("/projects/")
			got := c.Get("/projects").Status(http.StatusOK).TestIDs("project-name")
			if strings.Join(got, ",") != "Alpha,FromBody,FromHeader" {
				t.Errorf("projects: %v, want Alpha,FromBody,FromHeader", got)
			}
		})
	}
}
