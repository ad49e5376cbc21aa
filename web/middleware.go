package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"enclave/handlers"
	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// contentSecurityPolicy allows scripts and styles only from our own origin:
// no inline script, no eval, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers every answer carries. Cache-Control:
// no-store is the default, because console pages, htmx fragments and API
// answers hold patient or admin data that no browser or proxy may keep;
// only the static assets (assets.go) replace it with a cache lifetime.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if c.Request().TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// requestLog names each request (see requestID), writes one structured line
// per request and counts it in the metrics. It logs the path, never the
// query string or body, which may carry secrets.
func (s *Server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := s.requestID(c.Request())
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.SetRequest(c.Request().WithContext(withRequestID(c.Request().Context(), id)))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		level := slog.LevelInfo
		if c.Response().Status >= 500 {
			level = slog.LevelError
		}
		elapsed := time.Since(start)
		s.metrics.observe(c, elapsed)
		s.log.LogAttrs(req.Context(), level, "request",
			slog.String("method", req.Method),
			slog.String("path", loggedPath(c)),
			slog.Int("status", c.Response().Status),
			slog.Int64("bytes", c.Response().Size),
			slog.Duration("duration", elapsed),
			slog.String("ip", c.RealIP()),
		)
		return nil
	}
}

// loggedPath is the request path as logs show it: an invite token is a
// credential, so it is replaced.
func loggedPath(c echo.Context) string {
	if tok := c.Param("token"); tok != "" {
		return strings.Replace(c.Request().URL.Path, tok, "[token]", 1)
	}
	return c.Request().URL.Path
}

// recoverPanic turns a panic into a logged 500 page instead of a dropped
// connection or a stack trace in the browser. The log gets the panic's
// value and its stack; the client sees only the generic 500.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.ErrorContext(c.Request().Context(), "panic", "method", c.Request().Method, "path", loggedPath(c),
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// requestDeadline runs every request under a deadline of d. Handlers pass
// the request's context to the database, so when d has passed the work is
// cancelled where it stands: PostgreSQL gets a cancel request for the running
// statement, SQLite is interrupted, and a request waiting for a pooled
// connection stops waiting. A request that fails once its deadline has
// passed answers 503 (a deadlineError; see handleError), whatever error the
// cancelled work gave.
func requestDeadline(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			parent := c.Request().Context()
			ctx, cancel := context.WithTimeout(parent, d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			err := next(c)
			if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
				return &deadlineError{limit: d, err: err}
			}
			return err
		}
	}
}

// csrfField is the form field that carries the CSRF token.
const csrfField = "_csrf"

// errCSRF answers every CSRF failure.
var errCSRF = echo.NewHTTPError(http.StatusForbidden, "This form has expired or did not come from Enclave. Reload the page and try again.")

// csrf checks a token on every state-changing request: the `_csrf` field of a
// form body or the X-CSRF-Token header htmx sends. Any failure is a 403.
//
// A token in the URL is refused: URLs end up in histories, logs and Referer
// headers. echo's form lookup reads the query string too (it calls
// FormValue), so a state-changing request with `_csrf` in its query string
// is refused before echo looks, and only the body or the header can pass.
func (s *Server) csrf() echo.MiddlewareFunc {
	check := func(secure bool) echo.MiddlewareFunc {
		return middleware.CSRFWithConfig(middleware.CSRFConfig{
			TokenLookup:    "header:" + echo.HeaderXCSRFToken + ",form:" + csrfField,
			CookieName:     "enclave_csrf",
			CookiePath:     "/",
			CookieHTTPOnly: true,
			CookieSameSite: http.SameSiteStrictMode,
			CookieSecure:   secure,
			ErrorHandler:   func(error, echo.Context) error { return errCSRF },
		})
	}
	plain, secure := check(s.cfg.SecureCookies), check(true)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		plainNext, secureNext := plain(next), secure(next)
		return func(c echo.Context) error {
			checked := plainNext
			if isHTTPS(c) {
				checked = secureNext
			}
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			default:
				if _, inURL := c.Request().URL.Query()[csrfField]; inURL {
					return errCSRF
				}
			}
			return checked(c)
		}
	}
}

// keyCaller is the echo context key of the signed-in caller's resolution.
const keyCaller = "enclave.caller"

// consoleProjects says which projects the console resolves with the caller:
// all of them, since the header's project switcher lists them and a page
// about a project is about one of them.
func consoleProjects(echo.Context) string { return models.AllProjects }

// loadCaller resolves the request's caller from its session cookie through
// the cache (one query at most, none while the cache holds it): the session's
// data for the session store, the user, and their access to the projects
// that asked returns (a project id or models.AllProjects; see
// models.System.ResolveCaller). It puts the signed-in user, if any, into the
// request context. A session whose user no longer exists counts as signed
// out.
func (s *Server) loadCaller(asked func(echo.Context) string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			meta := accounts.SessionMeta{IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
			c.SetRequest(withSessionMeta(c.Request(), meta))
			token, ok := s.sessions.store.token(c.Request(), sessionCookie)
			if !ok {
				return next(c)
			}
			caller, epoch, err := s.resolveCaller(c.Request().Context(), token, asked(c))
			if err != nil && !errors.Is(err, kit.ErrNotFound) {
				return err
			}
			if err == nil && caller.SignedIn() && time.Since(caller.SessionLastSeen) > accounts.TouchEvery {
				if err := s.sys.Sessions().Touch(c.Request().Context(), token, meta); err != nil {
					return err
				}
			}
			c.SetRequest(withResolvedSession(c.Request(), resolvedSession{token: token, data: caller.Session, found: err == nil}))
			if caller.SignedIn() {
				c.Set(keyCaller, caller)
				handlers.SetUser(c, caller.User)
				if caller.All {
					handlers.SetProjects(c, caller.User.ID, caller.ProjectsOf(), epoch)
				}
			}
			return next(c)
		}
	}
}

// callerOf returns the signed-in caller that loadCaller resolved.
func callerOf(c echo.Context) (models.Caller, bool) {
	caller, ok := c.Get(keyCaller).(models.Caller)
	return caller, ok
}

// requireUser sends anonymous visitors to sign-in, remembering where they
// were going.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := handlers.CurrentUser(c); ok {
			return next(c)
		}
		target := paths.SignIn.URL()
		if c.Request().Method == http.MethodGet {
			target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		if handlers.IsHTMX(c) {
			c.Response().Header().Set("HX-Redirect", target)
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// requireMember is the tenant boundary: it enters :project with the caller
// that loadCaller resolved for this request, which checks the active
// membership and binds a store to the project under the member's access
// policy (models.Caller.Enter), and keeps that scope for the route's handler
// (see scoped). Outsiders get the same 404 as for a project that does not
// exist.
//
// A super admin who is not a member gets the operator view instead
// (models.Caller.Operate): every page, read-only, with a banner, and their
// visit in the project's audit log. Any request that could change something
// is refused to it.
func (s *Server) requireMember(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		caller, _ := callerOf(c)
		project := c.Param("project")
		sc, err := caller.Enter(project)
		if errors.Is(err, kit.ErrNotFound) && caller.SuperAdmin() {
			sc, err = caller.Operate(c.Request().Context(), project, c.Request().URL.Path, c.RealIP())
			if err == nil && !safeMethod(c.Request().Method) {
				return errOperatorReadOnly
			}
		}
		if errors.Is(err, kit.ErrNotFound) || errors.Is(err, models.ErrPolicyMissing) {
			return echo.ErrNotFound
		}
		if err != nil {
			return err
		}
		c.Set(keyScope, sc)
		return next(c)
	}
}

// safeMethod reports whether a request of this method changes nothing.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// keyScope is the echo context key of the request's models.Scope, set by
// requireMember or requireAPICaller and read only by scoped.
const keyScope = "enclave.scope"

// scoped adapts a project route's handler, which takes the request's scope
// as a parameter. A route registered without the membership middleware in
// front has no scope: it answers 500 and logs why, instead of running
// unscoped.
func scoped(h func(echo.Context, models.Scope) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		sc, ok := c.Get(keyScope).(models.Scope)
		if !ok {
			return errors.New("web: a project route ran without requireMember or requireAPICaller")
		}
		return h(c, sc)
	}
}

// requireAdmin lets only the project's admins through; other members get a
// 403 page that says why.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if sc, ok := c.Get(keyScope).(models.Scope); !ok || !sc.Admin() {
			what := "open this page"
			if c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead {
				what = "make this change"
			}
			return echo.NewHTTPError(http.StatusForbidden, "Only admins of this project can "+what+". Ask an admin to change your role if you need it.")
		}
		return next(c)
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := models.Ping(ctx, s.sys.DB()); err != nil {
		s.log.WarnContext(ctx, "readiness check failed", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unreachable\n")
	}
	return c.String(http.StatusOK, "ok\n")
}
