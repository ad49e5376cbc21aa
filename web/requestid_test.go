package web_test

import (
	"errors"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"

	"github.com/labstack/echo/v4"
)

// logLines returns the lines of the server log that contain every one of
// parts.
func logLines(app *webtest.App, parts ...string) []string {
	var out []string
lines:
	for _, line := range strings.Split(app.Logs(), "\n") {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue lines
			}
		}
		out = append(out, line)
	}
	return out
}

var generatedID = regexp.MustCompile(`^[A-Z2-7]{26}$`)

// requestIDOf returns the X-Request-ID of an answer, failing when it has none.
func requestIDOf(t *testing.T, r *webtest.Response) string {
	t.Helper()
	id := r.Resp.Header.Get("X-Request-ID")
	if id == "" {
		t.Fatalf("no X-Request-ID on the answer")
	}
	return id
}

// TestRequestIDGenerated: every answer names its request, the request's log
// line carries that name once, and two requests get two names. A client's
// own X-Request-ID is not believed.
func TestRequestIDGenerated(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			first := requestIDOf(t, app.Client().Get("/healthz").Status(http.StatusOK))
			second := requestIDOf(t, app.Client().Get("/signin").Status(http.StatusOK))
			if first == second {
				t.Errorf("two requests share the id %s", first)
			}
			for _, id := range []string{first, second} {
				if !generatedID.MatchString(id) {
					t.Errorf("generated id %q is not 26 base32 characters", id)
				}
				lines := logLines(app, "msg=request", "request_id="+id)
				if len(lines) != 1 || strings.Count(lines[0], "request_id=") != 1 {
					t.Errorf("request log lines with %s: %q", id, lines)
				}
			}

			forger := app.Client()
			forger.Header("X-Request-ID", "forged-id-123")
			id := requestIDOf(t, forger.Get("/healthz").Status(http.StatusOK))
			if id == "forged-id-123" || !generatedID.MatchString(id) {
				t.Errorf("an untrusted client chose its request id: %q", id)
			}
			if strings.Contains(app.Logs(), "forged-id-123") {
				t.Error("the forged request id reached the log")
			}
		})
	}
}

// TestRequestIDFromTrustedProxy: a trusted proxy's plain X-Request-ID names
// the request; one that is not plain is replaced.
func TestRequestIDFromTrustedProxy(t *testing.T) {
	app := webtest.NewWith(t, testdb.SQLite(t), func(c *web.Config) {
		c.TrustedProxies = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(32, 32)}}
	})
	proxy := app.Client()
	proxy.Header("X-Request-ID", "3f2c9a1e-7b4d-4e8a-9c1f-0d2b6e5a7c31")
	if id := requestIDOf(t, proxy.Get("/healthz").Status(http.StatusOK)); id != "3f2c9a1e-7b4d-4e8a-9c1f-0d2b6e5a7c31" {
		t.Errorf("the trusted proxy's id was replaced by %q", id)
	}
	if len(logLines(app, "msg=request", "request_id=3f2c9a1e-7b4d-4e8a-9c1f-0d2b6e5a7c31")) != 1 {
		t.Errorf("the proxy's id is not on the request's log line:\n%s", app.Logs())
	}
	for _, bad := range []string{`a "quoted" id`, "id;with;semicolons", strings.Repeat("x", 129)} {
		proxy.Header("X-Request-ID", bad)
		if id := requestIDOf(t, proxy.Get("/healthz").Status(http.StatusOK)); !generatedID.MatchString(id) {
			t.Errorf("unplain id %q was kept as %q", bad, id)
		}
	}
}

// TestRequestIDInErrorLogs: the lines a failing request writes besides the
// request line (a panic, an unexpected error, on the console and on the
// API) carry the request's id.
func TestRequestIDInErrorLogs(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			e := app.Server.Echo()
			e.GET("/test-panic", func(echo.Context) error { panic("request-id-panic") })
			e.GET("/test-error", func(echo.Context) error { return errors.New("request-id-error") })
			e.GET("/fhir/R4/test-error", func(echo.Context) error { return errors.New("request-id-fhir-error") })
			for path, msg := range map[string]string{
				"/test-panic":         "request-id-panic",
				"/test-error":         "request-id-error",
				"/fhir/R4/test-error": "request-id-fhir-error",
			} {
				id := requestIDOf(t, app.Client().Get(path).Status(http.StatusInternalServerError))
				lines := logLines(app, msg)
				if len(lines) == 0 {
					t.Fatalf("%s: nothing logged", path)
				}
				for _, line := range lines {
					if strings.Count(line, "request_id=") != 1 || !strings.Contains(line, "request_id="+id) {
						t.Errorf("%s: log line lacks request_id=%s (once):\n%s", path, id, line)
					}
				}
				if len(logLines(app, "msg=request", "status=500", "request_id="+id)) != 1 {
					t.Errorf("%s: the request line lacks the id %s", path, id)
				}
			}
		})
	}
}
