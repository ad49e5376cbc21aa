package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"enclave/handlers"
	"enclave/models"
	"enclave/views"

	"github.com/labstack/echo/v4"
)

// handleError is the one place errors become responses. Known HTTP errors
// keep their status and safe message; a request that ran out of time is a
// 503 (see unavailable); anything else is logged in full and shown as a
// plain 500 page without internals.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	err = unavailable(c, err)
	if isAPI(c) {
		handlers.FHIRError(c, err, s.log)
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
			s.log.Error("request failed", "path", loggedPath(c), "err", err)
		}
	} else {
		s.log.Error("request failed", "path", loggedPath(c), "err", err)
	}
	vm.Title = http.StatusText(vm.Status)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(vm.Status)
		return
	}
	p := views.Page{Title: vm.Title, CSRF: handlers.CSRFToken(c)}
	if u, ok := handlers.CurrentUser(c); ok {
		p.User = &views.UserVM{Name: u.Name(), Email: u.Email}
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(vm.Status)
	// The request's own context may be past its deadline; the page is
	// rendered all the same.
	_ = views.ErrorPage(p, vm).Render(context.WithoutCancel(c.Request().Context()), c.Response())
}

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
// message for people: a request that ran out of time, or database work that
// did. The cause stays in the error for the log. Other errors are returned
// as they are.
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
	return err
}

// httpError maps the stores' typed errors to HTTP errors; anything else is
// left for the 500 path.
func httpError(err error) error {
	switch {
	case errors.Is(err, models.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, models.ErrForbidden):
		return echo.NewHTTPError(http.StatusForbidden, "You are not allowed to do that.")
	case errors.Is(err, models.ErrStale):
		return echo.NewHTTPError(http.StatusConflict, "Someone else changed this while you were editing. Reload the page and try again.")
	}
	return err
}
