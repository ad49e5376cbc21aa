package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"enclave/models"
	"enclave/views"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render writes a component with the given status.
func render(c echo.Context, status int, comp templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return comp.Render(c.Request().Context(), c.Response())
}

// renderForm answers htmx with the form fragment and plain browsers with the
// whole page, both carrying the same errors and status.
func renderForm(c echo.Context, status int, page, fragment templ.Component) error {
	if IsHTMX(c) {
		return render(c, status, fragment)
	}
	return render(c, status, page)
}

// redirect sends the browser to url: htmx follows HX-Redirect, plain
// browsers a 303.
func redirect(c echo.Context, url string) error {
	if IsHTMX(c) {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// pageFor builds the layout's view model: the user, their projects for the
// switcher and the current project, if the request is about one.
func pageFor(c echo.Context, sys Directory, title string) (views.Page, error) {
	p := views.Page{Title: title, CSRF: CSRFToken(c)}
	u, ok := CurrentUser(c)
	if !ok {
		return p, nil
	}
	p.User = &views.UserVM{Name: u.Name(), Email: u.Email, Unverified: !u.Verified(), NoMail: !MailConfigured(c)}
	list, err := projectsOf(c, sys, u.ID)
	if err != nil {
		return p, err
	}
	for _, a := range list {
		p.Projects = append(p.Projects, projectLink(a))
	}
	p.SuperAdmin = models.SuperAdminAmong(list)
	return p, nil
}

// projectPage is pageFor on a page of the scope's project: the switcher
// marks it as the current one.
func projectPage(c echo.Context, dir Directory, sc models.Scope, title string) (views.Page, error) {
	p, err := pageFor(c, dir, title)
	if err != nil {
		return p, err
	}
	l := projectLink(sc.Access())
	l.Admin, l.Operator = sc.Admin(), sc.Operator()
	p.Current, p.Operator = &l, sc.Operator()
	return p, nil
}

func projectLink(a models.ProjectAccess) views.ProjectLink {
	return views.ProjectLink{ID: a.Project.ID, Name: a.Project.Name, Description: a.Project.Description, Admin: a.Membership.Admin}
}

// maxNextLength bounds a post-sign-in destination; a longer one is dropped.
const maxNextLength = 4096

// safeNext accepts only a path on this site as a post-sign-in destination,
// so that the sign-in form cannot send anyone to another site. Browsers drop
// tabs and newlines from a URL and read a backslash as a slash, so to them
// "/\t/evil.test" and "/\\evil.test" are "//evil.test", another origin: any
// control character or backslash is refused, and the rest must parse as a
// path, without scheme or host, that does not start with two slashes.
// Anything else gives "", the default landing page.
func safeNext(next string) string {
	if len(next) > maxNextLength || !utf8.ValidString(next) || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return ""
	}
	for _, r := range next {
		if r == '\\' || unicode.IsControl(r) {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Opaque != "" || u.User != nil || u.Host != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	return next
}

// ctx is the request's context.
func ctx(c echo.Context) context.Context { return c.Request().Context() }
