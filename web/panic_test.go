package web_test

import (
	"net/http"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/labstack/echo/v4"
)

//go:noinline
func panicForTest(msg string) { panic(msg) }

// TestPanicLogsItsStack: a handler's panic is a 500 page that shows nothing
// of it, and the log has the stack that leads to it.
func TestPanicLogsItsStack(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.Server.Echo().GET("/test-panic", func(echo.Context) error {
				panicForTest("boom-detail")
				return nil
			})
			app.Server.Echo().GET("/fhir/R4/test-panic", func(echo.Context) error {
				panicForTest("boom-detail")
				return nil
			})
			for _, path := range []string{"/test-panic", "/fhir/R4/test-panic"} {
				r := app.Client().Get(path).Status(http.StatusInternalServerError)
				r.NotContains("boom-detail").NotContains("goroutine").NotContains("panicForTest").NotContains(".go:")
			}
			logs := app.Logs()
			if !strings.Contains(logs, "boom-detail") || !strings.Contains(logs, "panicForTest") || !strings.Contains(logs, "panic_test.go") {
				t.Errorf("the log lacks the panic's stack:\n%s", logs)
			}
		})
	}
}
