package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// serve runs one request through the server without a network hop and
// checks what a user would see.
func serve(b *testing.B, app *webtest.App, req *http.Request, want string) {
	rec := httptest.NewRecorder()
	app.Server.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
		b.Fatalf("%s: status %d, body lacks %q", req.URL.Path, rec.Code, want)
	}
}

func BenchmarkSignInPage(b *testing.B) {
	app := webtest.New(b, testdb.SQLite(b))
	b.ReportAllocs()
	for b.Loop() {
		serve(b, app, httptest.NewRequest(http.MethodGet, "/signin", nil), "Sign in to Enclave")
	}
}

func BenchmarkProjectHome(b *testing.B) {
	for _, db := range testdb.All(b) {
		// Set up once per database, outside b.Run: a sub-benchmark's body
		// may run more than once (-count), and the account exists by then.
		app := webtest.New(b, db)
		c, project := app.SignUp("bench@example.org", "Benchmark")
		c.NewProject("Other")
		cookie := &http.Cookie{Name: "enclave_session", Value: c.Cookie("enclave_session")}
		b.Run(db.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/projects/"+project, nil)
				req.AddCookie(cookie)
				serve(b, app, req, `data-testid="project-home"`)
			}
		})
	}
}
