package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// slowQuery stands in for database work that honours its context: it takes
// d unless the context ends first, and then fails the way a driver does.
func slowQuery(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return fmt.Errorf("query: %w", ctx.Err())
	case <-time.After(d):
		return nil
	}
}

// TestRequestDeadlineCancelsSlowWork: the handler's context carries the
// deadline, slow work is cancelled when it passes (not after it finishes),
// and the request fails with a deadlineError that handleError answers 503;
// fast requests and errors before the deadline are left alone.
func TestRequestDeadlineCancelsSlowWork(t *testing.T) {
	e := echo.New()
	var seen time.Duration
	e.GET("/slow", func(c echo.Context) error {
		if dl, ok := c.Request().Context().Deadline(); ok {
			seen = time.Until(dl)
		}
		if err := slowQuery(c.Request().Context(), 10*time.Second); err != nil {
			return err
		}
		return c.String(http.StatusOK, "finished")
	})
	e.GET("/fast", func(c echo.Context) error {
		if err := slowQuery(c.Request().Context(), time.Millisecond); err != nil {
			return err
		}
		return c.String(http.StatusOK, "finished")
	})
	e.GET("/broken", func(echo.Context) error { return errors.New("a bug") })

	var got error
	mw := requestDeadline(50 * time.Millisecond)
	run := func(path string) (*httptest.ResponseRecorder, time.Duration) {
		got = nil
		rec := httptest.NewRecorder()
		c := e.NewContext(httptest.NewRequest(http.MethodGet, path, nil), rec)
		e.Router().Find(http.MethodGet, path, c)
		start := time.Now()
		got = mw(c.Handler())(c)
		return rec, time.Since(start)
	}

	_, took := run("/slow")
	if seen <= 0 || seen > 50*time.Millisecond {
		t.Errorf("the handler saw a deadline %s away, want at most 50ms", seen)
	}
	var de *deadlineError
	if !errors.As(got, &de) || !errors.Is(got, context.DeadlineExceeded) {
		t.Fatalf("slow request: error %v, want a deadlineError wrapping the cancelled query", got)
	}
	if took > 2*time.Second {
		t.Errorf("the slow work ran %s: the deadline did not cancel it", took)
	}
	he, ok := unavailable(e.NewContext(httptest.NewRequest(http.MethodGet, "/slow", nil), httptest.NewRecorder()), got).(*echo.HTTPError)
	if !ok || he.Code != http.StatusServiceUnavailable {
		t.Errorf("a request past its deadline maps to %v, want 503", he)
	}

	rec, _ := run("/fast")
	if got != nil || rec.Body.String() != "finished" {
		t.Errorf("fast request: error %v, body %q", got, rec.Body.String())
	}
	if _, _ = run("/broken"); got == nil || errors.As(got, &de) {
		t.Errorf("an error before the deadline must stay as it is, got %v", got)
	}

	// A client that hangs up is not a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	rec = httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/slow", nil).WithContext(ctx), rec)
	e.Router().Find(http.MethodGet, "/slow", c)
	cancel()
	if err := mw(c.Handler())(c); err == nil || errors.As(err, &de) {
		t.Errorf("cancelled by the client: error %v, want the plain cancellation", err)
	}
}

func TestParseRequestTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"": DefaultRequestTimeout, "30s": 30 * time.Second, " 2m ": 2 * time.Minute, "1s": time.Second, "10m": 10 * time.Minute} {
		got, err := ParseRequestTimeout(in)
		if err != nil || got != want {
			t.Errorf("ParseRequestTimeout(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"30", "abc", "0s", "-5s", "999ms", "11m", "1h"} {
		if d, err := ParseRequestTimeout(in); err == nil {
			t.Errorf("ParseRequestTimeout(%q) = %s, want an error", in, d)
		}
	}
}
