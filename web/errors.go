package web

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"enclave/handlers"
	"enclave/models"
	"enclave/views"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"
)

// handleError is the one place errors become responses. Known HTTP errors
// keep their status and safe message; a request that ran out of time or could
// not reach the database is a 503 (see unavailable); anything else is logged
// in full and shown as a plain 500 page without internals.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	err = unavailable(c, err)
	if isAPI(c) {
		handlers.FHIRError(c, err, s.loggerFor(c.Request().Context()))
		return
	}
	if strings.HasPrefix(c.Request().URL.Path, "/oauth2/") {
		status := http.StatusInternalServerError
		var he *echo.HTTPError
		if errors.As(httpError(err), &he) {
			status = he.Code
		}
		if status >= 500 {
			s.log.ErrorContext(c.Request().Context(), "request failed", "path", loggedPath(c), "err", err)
		}
		_ = handlers.OAuthError(c, status)
		return
	}
	vm := views.ErrorVM{Status: http.StatusInternalServerError, Title: "500",
		Message: "Something went wrong on our side. It has been logged; please try again."}
	err = httpError(err)
	var he *echo.HTTPError
	if errors.As(err, &he) {
		vm.Status = he.Code
		switch he.Code {
		case http.StatusNotFound:
			vm.Message = "This page does not exist, or you do not have access to it."
		case http.StatusMethodNotAllowed:
			vm.Message = "This address does not accept that kind of request."
		default:
			if msg, ok := he.Message.(string); ok && (he.Code < 500 || he.Code == http.StatusServiceUnavailable) {
				vm.Message = msg
			}
		}
		if he.Code >= 500 {
			s.log.ErrorContext(c.Request().Context(), "request failed", "path", loggedPath(c), "err", err)
		}
	} else {
		s.log.ErrorContext(c.Request().Context(), "request failed", "path", loggedPath(c), "err", err)
	}
	vm.Title = http.StatusText(vm.Status)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(vm.Status)
		return
	}
	// On a project route the membership middleware has entered the
	// project: a member's error page keeps the project's tabs.
	var sc *models.Scope
	if entered, ok := c.Get(keyScope).(models.Scope); ok {
		sc = &entered
	}
	page := handlers.ErrorPage(c, s.sys, sc, vm)
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(vm.Status)
	// The request's own context may be past its deadline; the page is
	// rendered all the same.
	_ = page.Render(context.WithoutCancel(c.Request().Context()), c.Response())
}

// RetryAfter is what a 503 for an unreachable database tells clients to wait
// before trying again (the Retry-After header, in seconds).
const RetryAfter = 5

// deadlineError is a request that failed after its deadline had passed
// (requestDeadline).
type deadlineError struct {
	limit time.Duration
	err   error
}

func (e *deadlineError) Error() string {
	return fmt.Sprintf("request deadline of %s passed: %v", e.limit, e.err)
}

func (e *deadlineError) Unwrap() error { return e.err }

// unavailable turns the errors that say the server cannot answer now, rather
// than that the request is wrong or the code broken, into a 503 with a
// message for people: a request that ran out of time, and a database that
// cannot be reached (which also gets Retry-After). The cause stays in the
// error for the log. Other errors are returned as they are.
func unavailable(c echo.Context, err error) error {
	var de *deadlineError
	if errors.As(err, &de) {
		return &echo.HTTPError{Code: http.StatusServiceUnavailable, Internal: err,
			Message: fmt.Sprintf("This request took longer than the %s the server allows and was stopped. Try again, or ask for less at once.", de.limit)}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &echo.HTTPError{Code: http.StatusServiceUnavailable, Internal: err,
			Message: "The database did not answer in time. Try again in a few seconds."}
	}
	if databaseUnreachable(err) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(RetryAfter))
		return &echo.HTTPError{Code: http.StatusServiceUnavailable, Internal: err,
			Message: "The database cannot be reached right now. Try again in a few seconds."}
	}
	return err
}

// databaseUnreachable reports whether err says the database cannot be reached
// or the connection to it broke: database/sql's closed pool and bad
// connections, PostgreSQL connection failures (refused, reset, cut off
// mid-answer, the server shutting down or out of connection slots), and a
// SQLite database that stays locked or cannot be opened.
func databaseUnreachable(err error) bool {
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		// database/sql's error for a closed *sql.DB is not exported.
		if e.Error() == "sql: database is closed" {
			return true
		}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exceptions; 57P01-57P03: the server is
		// shutting down, crashed or not accepting connections yet; 53300:
		// too many connections.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || pe.Code == "53300"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	var se interface{ Code() int }
	if errors.As(err, &se) {
		// SQLite's SQLITE_BUSY (5) and SQLITE_LOCKED (6) after the busy
		// timeout, SQLITE_CANTOPEN (14); extended codes keep the primary
		// code in their low byte.
		switch se.Code() & 0xff {
		case 5, 6, 14:
			return true
		}
	}
	return false
}

// httpError maps the stores' typed errors to HTTP errors through the one
// table the API shares (handlers.PageError); anything else is left for the
// 500 path.
func httpError(err error) error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return err
	}
	if status, msg, ok := handlers.PageError(err); ok {
		return echo.NewHTTPError(status, msg).SetInternal(err)
	}
	return err
}
