package web

import (
	"net/http"
	"strings"

	"enclave/handlers"
	"enclave/static"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// resourceBodyLimit bounds the JSON a member can submit in the resource
// editor.
var resourceBodyLimit = middleware.BodyLimit("4M")

// routes is the table of contents: every route, grouped by who may call it.
func (s *Server) routes(h *handlers.Set) {
	e := s.echo
	e.Use(s.requestLog, s.recoverPanic, securityHeaders, s.publicOrigin, requestDeadline(s.cfg.RequestTimeout), rejectUnstorableInput)

	// Probes and assets: no session, no CSRF.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	files := static.Embedded()
	e.GET("/static/*", assets(files))
	e.GET("/favicon.ico", favicon(files))

	// Metrics on the public listener only for ENCLAVE_METRICS_TOKEN's bearer;
	// ENCLAVE_METRICS_ADDR serves them on a listener of their own (Run).
	if s.cfg.MetricsToken != "" {
		e.GET("/metrics", s.metricsWithToken)
	}

	// The console: sessions and CSRF on every route.
	app := e.Group("", s.csrf(), s.loadCaller(consoleProjects))

	pub := app.Group("")
	pub.GET("/", h.Auth.Root)
	pub.GET("/register", h.Auth.RegisterPage)
	pub.POST("/register", h.Auth.Register)
	pub.GET("/signin", h.Auth.SignInPage)
	pub.POST("/signin", h.Auth.SignIn)
	pub.POST("/signout", h.Auth.SignOut)
	pub.GET("/invite/:token", h.Invites.Page)
	pub.GET("/verify/:token", h.Verify.Page)
	pub.POST("/verify/:token", h.Verify.Confirm)
	pub.GET("/forgot", h.Passwords.ForgotPage)
	pub.POST("/forgot", h.Passwords.Forgot)
	pub.GET("/reset/:token", h.Passwords.ResetPage)
	pub.POST("/reset/:token", h.Passwords.Reset)

	signedIn := s.requireUser
	app.GET("/register/project", h.Auth.FirstProjectPage, signedIn)
	app.POST("/register/project", h.Auth.FirstProject, signedIn)
	app.POST("/account/verify", h.Verify.Resend, signedIn)
	app.POST("/invitations/:invitation/accept", h.Invites.Accept, signedIn)
	app.POST("/invitations/:invitation/decline", h.Invites.Decline, signedIn)

	account := app.Group("/account", signedIn)
	account.GET("", h.Account.Page)
	account.POST("/name", h.Account.SaveName)
	account.POST("/email", h.Account.ChangeEmail)
	account.POST("/password", h.Account.ChangePassword)
	account.POST("/sessions/:session/signout", h.Account.EndSession)

	projects := app.Group("/projects", signedIn)
	projects.GET("", h.Projects.Choose)
	projects.GET("/new", h.Projects.NewPage)
	projects.POST("/new", h.Projects.Create)

	// Below here the tenant boundary holds: requireMember has entered the
	// project (checked the membership, bound the store under the member's
	// access policy), and each handler receives that scope as a parameter.
	member := projects.Group("/:project", s.requireMember)
	member.GET("", scoped(h.Projects.Home))
	member.GET("/resources", scoped(h.Resources.Types))
	member.GET("/resources/:type", scoped(h.Resources.Search))
	member.GET("/resources/:type/new", scoped(h.Resources.NewPage))
	member.POST("/resources/:type/new", scoped(h.Resources.Create), resourceBodyLimit)
	member.GET("/resources/:type/:id", scoped(h.Resources.Show))
	member.GET("/resources/:type/:id/_history/:vid", scoped(h.Resources.Version))
	member.GET("/resources/:type/:id/edit", scoped(h.Resources.EditPage))
	member.POST("/resources/:type/:id/edit", scoped(h.Resources.Update), resourceBodyLimit)
	member.GET("/resources/:type/:id/delete", scoped(h.Resources.DeletePage))
	member.POST("/resources/:type/:id/delete", scoped(h.Resources.Delete))

	// Project administration: admins only; other members get 403.
	admin := member.Group("", s.requireAdmin)
	admin.GET("/settings", scoped(h.Settings.Page))
	admin.POST("/settings", scoped(h.Settings.Save))
	admin.GET("/access-policies", scoped(h.Policies.List))
	admin.GET("/access-policies/new", scoped(h.Policies.NewPage))
	admin.POST("/access-policies/new", scoped(h.Policies.Create))
	admin.GET("/access-policies/:policy", scoped(h.Policies.EditPage))
	admin.POST("/access-policies/:policy", scoped(h.Policies.Update))
	admin.GET("/access-policies/:policy/delete", scoped(h.Policies.DeletePage))
	admin.POST("/access-policies/:policy/delete", scoped(h.Policies.Delete))
	admin.GET("/audit", scoped(h.Audit.Page))
	admin.GET("/members", scoped(h.Members.List))
	admin.POST("/members/invite", scoped(h.Members.Invite))
	admin.POST("/members/invitations/:invitation/resend", scoped(h.Members.Resend))
	admin.POST("/members/invitations/:invitation/revoke", scoped(h.Members.Revoke))
	admin.GET("/members/:member", scoped(h.Members.EditPage))
	admin.POST("/members/:member", scoped(h.Members.Update))
	admin.GET("/members/:member/remove", scoped(h.Members.RemovePage))
	admin.POST("/members/:member/remove", scoped(h.Members.Remove))
	admin.GET("/secrets", scoped(h.Secrets.List))
	admin.POST("/secrets", scoped(h.Secrets.Create))
	admin.GET("/secrets/:secret", scoped(h.Secrets.EditPage))
	admin.POST("/secrets/:secret/value", scoped(h.Secrets.Replace))
	admin.POST("/secrets/:secret/name", scoped(h.Secrets.Rename))
	admin.GET("/secrets/:secret/delete", scoped(h.Secrets.DeletePage))
	admin.POST("/secrets/:secret/delete", scoped(h.Secrets.Delete))

	// The FHIR R4 API: no CSRF token, because writes must be JSON (see
	// jsonWritesOnly); every request but metadata needs a caller and works
	// in the one project that caller resolves to.
	e.GET(handlers.FHIRBase+"/metadata", h.FHIR.Metadata)
	api := e.Group(handlers.FHIRBase, apiBodyLimit, s.loadCaller(apiProjects), s.requireAPICaller, jsonWritesOnly, utf8Bodies)
	fhirRoutes(api, map[string]map[string]echo.HandlerFunc{
		"/:type":                   {http.MethodGet: scoped(h.FHIR.Search), http.MethodPost: scoped(h.FHIR.Create)},
		"/:type/_history":          {http.MethodGet: scoped(h.FHIR.TypeHistory)},
		"/:type/:id":               {http.MethodGet: scoped(h.FHIR.Read), http.MethodPut: scoped(h.FHIR.Update), http.MethodDelete: scoped(h.FHIR.Delete)},
		"/:type/:id/_history":      {http.MethodGet: scoped(h.FHIR.History)},
		"/:type/:id/_history/:vid": {http.MethodGet: scoped(h.FHIR.VRead)},
	})
}

// fhirRoutes registers the API's paths and answers every other method on
// them with 405 and an Allow header (echo's group catch-all would say 404).
func fhirRoutes(g *echo.Group, paths map[string]map[string]echo.HandlerFunc) {
	all := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
	for path, methods := range paths {
		if get, ok := methods[http.MethodGet]; ok {
			methods[http.MethodHead] = get
		}
		var allow []string
		for _, m := range all {
			if _, ok := methods[m]; ok {
				allow = append(allow, m)
			}
		}
		for _, m := range all {
			if h, ok := methods[m]; ok {
				g.Add(m, path, h)
				continue
			}
			g.Add(m, path, func(c echo.Context) error {
				c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
				return echo.ErrMethodNotAllowed
			})
		}
	}
}
