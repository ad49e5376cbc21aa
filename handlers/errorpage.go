package handlers

import (
	"enclave/models"
	"enclave/views"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// ErrorPage is the page that tells a signed-in user or a visitor why a
// request failed. sc is the scope of the project route the request was on,
// when the membership middleware entered one (nil elsewhere, and for
// outsiders, who learn nothing of the project): the page then keeps the
// project's name and tabs, so a member is not lost. Only a 4xx answer looks
// anything up, from what the request resolved already; a failure to build
// the full page falls back to the bare one.
func ErrorPage(c echo.Context, dir Directory, sc *models.Scope, vm views.ErrorVM) templ.Component {
	bare := views.Page{Title: vm.Title, CSRF: CSRFToken(c)}
	if u, ok := CurrentUser(c); ok {
		bare.User = &views.UserVM{Name: u.Name(), Email: u.Email}
	}
	if vm.Status >= 500 || bare.User == nil {
		return views.ErrorPage(bare, vm)
	}
	if sc != nil {
		if p, err := projectPage(c, dir, *sc, vm.Title); err == nil {
			return views.ProjectErrorPage(p, views.TabFor(c.Request().URL.Path, sc.Project().ID), vm)
		}
	} else if p, err := pageFor(c, dir, vm.Title); err == nil {
		return views.ErrorPage(p, vm)
	}
	return views.ErrorPage(bare, vm)
}
