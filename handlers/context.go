// Package handlers holds Enclave's HTTP handlers, one file per feature. They
// parse, act through a store, and render a view; the web package wires them
// to routes behind the middleware that fills the request context read here.
package handlers

import (
	"strings"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"

	"github.com/labstack/echo/v4"
)

const (
	keyUser     = "enclave.user"
	keyProjects = "enclave.projects"
	keyOrigin   = "enclave.origin"
	keyMail     = "enclave.mail"
	keyCSRF     = "csrf" // echo's CSRF middleware stores the token under this key
	keyAPIUser  = "enclave.api-user"
)

// SetUser records the signed-in user for the rest of the request.
func SetUser(c echo.Context, u accounts.User) { c.Set(keyUser, u) }

// SetAPIUser records the user an API request authenticated as, for the
// server operations, which enter no project (an API client is no user).
func SetAPIUser(c echo.Context, u accounts.User) { c.Set(keyAPIUser, u) }

// apiUser is the user SetAPIUser recorded; ok is false for anyone else.
func apiUser(c echo.Context) (accounts.User, bool) {
	u, ok := c.Get(keyAPIUser).(accounts.User)
	return u, ok && u.ID != ""
}

// CurrentUser returns the signed-in user, if any.
func CurrentUser(c echo.Context) (accounts.User, bool) {
	u, ok := c.Get(keyUser).(accounts.User)
	return u, ok
}

// projectList is a user's projects as the middleware resolved them, while
// kit.AuthEpoch() was epoch.
type projectList struct {
	userID string
	list   []models.ProjectAccess
	epoch  uint64
}

// SetProjects records userID's projects (those where they are an active
// member, by name) as the middleware resolved them under auth epoch epoch.
func SetProjects(c echo.Context, userID string, list []models.ProjectAccess, epoch uint64) {
	c.Set(keyProjects, projectList{userID: userID, list: list, epoch: epoch})
}

// projectsOf lists userID's projects: the list this request already has
// while it is about this user and nothing has changed since (a write earlier
// in this request moves the epoch), else from the database, kept for the
// rest of the request.
func projectsOf(c echo.Context, sys Directory, userID string) ([]models.ProjectAccess, error) {
	epoch := kit.AuthEpoch() // before the query: a write committed during it voids the answer
	if l, ok := c.Get(keyProjects).(projectList); ok && l.userID == userID && l.epoch == epoch {
		return l.list, nil
	}
	list, err := sys.ProjectsOf(c.Request().Context(), userID)
	if err != nil {
		return nil, err
	}
	SetProjects(c, userID, list, epoch)
	return list, nil
}

// superAdmin reports whether userID is a server operator (see
// models.System.IsSuperAdmin), from their list of projects: no query of its
// own.
func superAdmin(c echo.Context, sys Directory, userID string) (bool, error) {
	list, err := projectsOf(c, sys, userID)
	return models.SuperAdminAmong(list), err
}

// CSRFToken returns the token to embed in forms.
func CSRFToken(c echo.Context) string {
	s, _ := c.Get(keyCSRF).(string)
	return s
}

// SetOrigin records the scheme and host, like https://enclave.example.org,
// that absolute links of this request start with.
func SetOrigin(c echo.Context, origin string) { c.Set(keyOrigin, origin) }

// Origin returns the scheme and host absolute links start with, as the web
// layer decided them (the configured base URL, or the request's own address).
// Without one it uses the request's Host and the connection's scheme, never
// a forwarded header.
func Origin(c echo.Context) string {
	if o, ok := c.Get(keyOrigin).(string); ok && o != "" {
		return o
	}
	scheme := "http"
	if c.Request().TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host
}

// SetMailConfigured records whether the server can send email.
func SetMailConfigured(c echo.Context, ok bool) { c.Set(keyMail, ok) }

// MailConfigured reports whether the server can send email; links are
// written to its log when it cannot.
func MailConfigured(c echo.Context) bool {
	ok, _ := c.Get(keyMail).(bool)
	return ok
}

// IsHTMX reports whether htmx sent the request (and wants a fragment).
func IsHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// actorOf describes u, acting in this request, for the audit log.
func actorOf(c echo.Context, u accounts.User) audit.Actor {
	return audit.Actor{UserID: u.ID, Email: u.Email, IP: c.RealIP()}
}

// Actor is the signed-in user acting in this request.
func Actor(c echo.Context) audit.Actor {
	u, _ := CurrentUser(c)
	return actorOf(c, u)
}

const keyTokenScope = "enclave.token_scope"

// SetTokenScope records the scope of the access token the request came
// with (OAuth scope, space-separated).
func SetTokenScope(c echo.Context, scope string) { c.Set(keyTokenScope, scope) }

// scopeOf is the request's token scope, as a set.
func scopeOf(c echo.Context) map[string]bool {
	s, _ := c.Get(keyTokenScope).(string)
	out := map[string]bool{}
	for _, f := range strings.Fields(s) {
		out[f] = true
	}
	return out
}
