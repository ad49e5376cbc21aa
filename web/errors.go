package web

import (
	"errors"
	"net/http"

	"enclave/handlers"
	"enclave/models"
	"enclave/views"

	"github.com/labstack/echo/v4"
)

// handleError is the one place errors become responses. Known HTTP errors
// keep their status and safe message; anything else is logged in full and
// shown as a plain 500 page without internals.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
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
			if msg, ok := he.Message.(string); ok && he.Code < 500 {
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
	_ = views.ErrorPage(p, vm).Render(c.Request().Context(), c.Response())
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
