package web

import (
	"net/http"
	"strings"

	"enclave/handlers"
	"enclave/static"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// resourceBodyLimit bounds the JSON a member can submit in the resource
// editor.
var resourceBodyLimit = middleware.BodyLimit("4M")

// adminBodyLimit bounds the JSON of an admin API request: a membership, an
// invitation or a client is a few hundred bytes.
var adminBodyLimit = middleware.BodyLimit("64K")

// routes is the table of contents: every route, grouped by who may call it.
// Patterns come from package paths, which builds the URLs that pages and
// redirects send the browser to.
func (s *Server) routes(h *handlers.Set) {
	e := s.echo
	e.Use(s.requestLog, s.recoverPanic, securityHeaders, s.publicOrigin, requestDeadline(s.cfg.RequestTimeout), rejectUnstorableInput)

	// Probes and assets: no session, no CSRF.
	root := group{echo: e.Group("")}
	root.GET(paths.Healthz, s.healthz)
	root.GET(paths.Readyz, s.readyz)
	files := static.Embedded()
	root.GET(paths.Static, assets(files))
	root.GET(paths.Favicon, favicon(files))

	// Metrics on the public listener only for ENCLAVE_METRICS_TOKEN's bearer;
	// ENCLAVE_METRICS_ADDR serves them on a listener of their own (Run).
	if s.cfg.MetricsToken != "" {
		root.GET(paths.Metrics, s.metricsWithToken)
	}

	// The console: sessions and CSRF on every route.
	app := root.with(s.csrf(), s.loadCaller(consoleProjects), s.requirePasswordChosen)

	pub := app.with()
	pub.GET(paths.Root, h.Auth.Root)
	pub.GET(paths.Register, h.Auth.RegisterPage)
	pub.POST(paths.Register, h.Auth.Register)
	pub.GET(paths.SignIn, h.Auth.SignInPage)
	pub.POST(paths.SignIn, h.Auth.SignIn)
	pub.POST(paths.SignOut, h.Auth.SignOut)
	pub.GET(paths.Invite, h.Invites.Page)
	pub.GET(paths.Verify, h.Verify.Page)
	pub.POST(paths.Verify, h.Verify.Confirm)
	pub.GET(paths.Forgot, h.Passwords.ForgotPage)
	pub.POST(paths.Forgot, h.Passwords.Forgot)
	pub.GET(paths.Reset, h.Passwords.ResetPage)
	pub.POST(paths.Reset, h.Passwords.Reset)
	// An app's authorization request: the console's session says who signs
	// in (a visitor signs in first and comes back).
	pub.GET(paths.OAuthAuthorize, h.Logins.Authorize)
	// A project's open patient registration: for visitors and users alike,
	// 404 unless the project has a defaultPatientAccessPolicy.
	pub.GET(paths.Join, h.Join.Page)
	pub.POST(paths.Join, h.Join.Submit)

	signedIn := s.requireUser
	app.GET(paths.FirstProject, h.Auth.FirstProjectPage, signedIn)
	app.POST(paths.FirstProject, h.Auth.FirstProject, signedIn)
	app.POST(paths.ResendVerify, h.Verify.Resend, signedIn)
	app.POST(paths.AcceptInvitation, h.Invites.Accept, signedIn)
	app.POST(paths.DeclineInvitation, h.Invites.Decline, signedIn)

	account := app.below(paths.Account.Pattern(), signedIn)
	account.GET(paths.Account, h.Account.Page)
	account.POST(paths.AccountName, h.Account.SaveName)
	account.POST(paths.AccountEmail, h.Account.ChangeEmail)
	account.POST(paths.AccountPassword, h.Account.ChangePassword)
	account.POST(paths.EndSession, h.Account.EndSession)
	account.GET(paths.ChoosePassword, h.Account.ChoosePasswordPage)
	account.POST(paths.ChoosePassword, h.Account.ChoosePassword)

	// The super admin's dashboard: to everyone else, it does not exist.
	ops := app.below(paths.AdminProjects.Pattern(), s.requireSuperAdmin)
	ops.GET(paths.AdminProjects, h.Admin.Projects)
	ops.GET(paths.AdminUsers, h.Admin.Users)
	ops.GET(paths.AdminUser, h.Admin.User)
	ops.POST(paths.AdminDeactivateUser, h.Admin.Deactivate)
	ops.POST(paths.AdminReactivateUser, h.Admin.Reactivate)
	ops.POST(paths.AdminTemporaryPassword, h.Admin.TemporaryPassword)
	ops.GET(paths.AdminServer, h.Admin.Server)
	ops.GET(paths.AdminClone, h.Ops.ClonePage)
	ops.POST(paths.AdminClone, h.Ops.Clone)
	ops.GET(paths.AdminJob, h.Ops.Job)
	ops.GET(paths.AdminExpunge, h.Ops.ExpungePage)
	ops.POST(paths.AdminExpunge, h.Ops.Expunge)
	ops.GET(paths.AdminAudit, h.Ops.AuditLog)
	ops.GET(paths.AdminCompare, h.Compare.Operator)
	ops.POST(paths.AdminPromote, h.Compare.OperatorPromote)
	ops.GET(paths.AdminDeleted, h.Deletion.List)
	ops.POST(paths.AdminRestoreProject, h.Deletion.Restore)

	projects := app.below(paths.Projects.Pattern(), signedIn)
	projects.GET(paths.Projects, h.Projects.Choose)
	projects.GET(paths.NewProject, h.Projects.NewPage)
	projects.POST(paths.NewProject, h.Projects.Create)

	// Below here the tenant boundary holds: requireMember has entered the
	// project (checked the membership, bound the store under the member's
	// access policy, or built a super admin's read-only operator view), and
	// each handler receives that scope as a parameter.
	member := projects.below(paths.Project.Pattern(), s.requireMember)
	member.GET(paths.Project, scoped(h.Projects.Home))
	member.GET(paths.Resources, scoped(h.Resources.Types))
	member.GET(paths.ResourceSearch, scoped(h.Resources.Search))
	member.GET(paths.NewResource, scoped(h.Resources.NewPage))
	member.POST(paths.NewResource, scoped(h.Resources.Create), resourceBodyLimit)
	member.GET(paths.Resource, scoped(h.Resources.Show))
	member.GET(paths.ResourceVersion, scoped(h.Resources.Version))
	member.GET(paths.EditResource, scoped(h.Resources.EditPage))
	member.POST(paths.EditResource, scoped(h.Resources.Update), resourceBodyLimit)
	member.GET(paths.DeleteResource, scoped(h.Resources.DeletePage))
	member.POST(paths.DeleteResource, scoped(h.Resources.Delete))

	// Project administration: admins only; other members get 403.
	admin := member.with(s.requireAdmin)
	admin.GET(paths.Settings, scoped(h.Settings.Page))
	admin.POST(paths.Settings, scoped(h.Settings.Save))
	admin.GET(paths.Policies, scoped(h.Policies.List))
	admin.GET(paths.NewPolicy, scoped(h.Policies.NewPage))
	admin.POST(paths.NewPolicy, scoped(h.Policies.Create))
	admin.GET(paths.Policy, scoped(h.Policies.EditPage))
	admin.POST(paths.Policy, scoped(h.Policies.Update))
	admin.GET(paths.DeletePolicy, scoped(h.Policies.DeletePage))
	admin.POST(paths.DeletePolicy, scoped(h.Policies.Delete))
	admin.GET(paths.Audit, scoped(h.Audit.Page))
	admin.GET(paths.Members, scoped(h.Members.List))
	admin.POST(paths.InviteMember, scoped(h.Members.Invite))
	admin.POST(paths.ResendInvitation, scoped(h.Members.Resend))
	admin.POST(paths.RevokeInvitation, scoped(h.Members.Revoke))
	admin.GET(paths.Member, scoped(h.Members.EditPage))
	admin.POST(paths.Member, scoped(h.Members.Update))
	admin.GET(paths.RemoveMember, scoped(h.Members.RemovePage))
	admin.POST(paths.RemoveMember, scoped(h.Members.Remove))
	admin.GET(paths.Secrets, scoped(h.Secrets.List))
	admin.POST(paths.Secrets, scoped(h.Secrets.Create))
	admin.GET(paths.Secret, scoped(h.Secrets.EditPage))
	admin.POST(paths.SecretValue, scoped(h.Secrets.Replace))
	admin.POST(paths.SecretName, scoped(h.Secrets.Rename))
	admin.GET(paths.DeleteSecret, scoped(h.Secrets.DeletePage))
	admin.POST(paths.DeleteSecret, scoped(h.Secrets.Delete))
	admin.GET(paths.Clients, scoped(h.Clients.List))
	admin.POST(paths.Clients, scoped(h.Clients.Create))
	admin.GET(paths.Client, scoped(h.Clients.Show))
	admin.POST(paths.RotateClient, scoped(h.Clients.Rotate))
	admin.POST(paths.DisableClient, scoped(h.Clients.Disable))
	admin.POST(paths.EnableClient, scoped(h.Clients.Enable))
	admin.GET(paths.DeleteClient, scoped(h.Clients.DeletePage))
	admin.POST(paths.DeleteClient, scoped(h.Clients.Delete))
	admin.GET(paths.Compare, scoped(h.Compare.Page))
	admin.POST(paths.PromoteProject, scoped(h.Compare.Promote))
	admin.GET(paths.DeleteProject, scoped(h.Deletion.Page))
	admin.POST(paths.DeleteProject, scoped(h.Deletion.Delete))

	// OAuth 2.0: the token endpoint takes no cookie, so no CSRF token; its
	// answers are RFC 6749 JSON. Discovery documents are public.
	root.POST(paths.OAuthToken, h.OAuth.Token)
	root.POST(paths.OAuthRevoke, h.OAuth.Revoke)
	// Routes for the bearer of an access token (or a console session):
	// middleware per route, since a group's would catch unknown paths too.
	tokenUser := []echo.MiddlewareFunc{s.loadCaller(apiProjects), s.requireAPICaller}
	root.GET(paths.OAuthLogout, scoped(h.OAuth.Logout), tokenUser...)
	root.POST(paths.OAuthLogout, scoped(h.OAuth.Logout), tokenUser...)
	root.GET(paths.OAuthUserInfo, scoped(h.OAuth.UserInfo), tokenUser...)
	root.POST(paths.OAuthUserInfo, scoped(h.OAuth.UserInfo), tokenUser...)
	root.GET(paths.JWKS, h.OAuth.JWKS)
	root.GET(paths.OpenIDConfiguration, h.OAuth.OpenIDConfiguration)
	root.GET(paths.SMARTConfiguration, h.OAuth.SMARTConfiguration)

	// A program's sign-in for a user (Medplum's SDK): JSON bodies, which no
	// cross-site form can send, so no CSRF token; errors are
	// OperationOutcomes. /auth/me answers for a bearer token or a session.
	root.POST(paths.AuthLogin, h.Logins.Login)
	root.POST(paths.AuthProfile, h.Logins.Profile)
	root.POST(paths.AuthNewUser, h.Logins.NewUser)
	root.POST(paths.AuthNewProject, h.Logins.NewProject)
	root.POST(paths.AuthNewPatient, h.Logins.NewPatient)
	root.GET(paths.AuthMe, scoped(h.Logins.Me), tokenUser...)

	// The admin JSON API that Medplum's SDK calls: like the FHIR API, no
	// CSRF token because writes must be JSON; only admins of the project the
	// path names, which is the project every handler works in.
	adminAPI := root.below(paths.AdminProject.Pattern(), adminBodyLimit, s.loadCaller(pathProject), s.requireProjectAdmin,
		jsonWritesOnly, utf8Bodies)
	adminAPI.GET(paths.AdminProject, scoped(h.AdminAPI.Project))
	adminAPI.POST(paths.AdminClient, scoped(h.AdminAPI.CreateClient))
	adminAPI.POST(paths.AdminInvite, scoped(h.AdminAPI.Invite))
	adminAPI.GET(paths.AdminMember, scoped(h.AdminAPI.Member))
	adminAPI.POST(paths.AdminMember, scoped(h.AdminAPI.UpdateMember))
	adminAPI.DELETE(paths.AdminMember, scoped(h.AdminAPI.RemoveMember))

	// The FHIR R4 API: no CSRF token, because writes must be JSON (see
	// jsonWritesOnly); every request but metadata needs a caller and works
	// in the one project that caller resolves to.
	root.GET(paths.FHIRMetadata, h.FHIR.Metadata)
	api := root.below(paths.FHIRBase, apiBodyLimit, s.loadCaller(apiProjects), s.requireAPICaller, jsonWritesOnly, utf8Bodies)
	fhirRoutes(api, map[paths.Route]map[string]echo.HandlerFunc{
		paths.FHIRType: {http.MethodGet: scoped(h.FHIR.Search), http.MethodPost: scoped(h.FHIR.Create),
			http.MethodPut: scoped(h.FHIR.ConditionalUpdate), http.MethodPatch: scoped(h.FHIR.ConditionalPatch),
			http.MethodDelete: scoped(h.FHIR.ConditionalDelete)},
		paths.FHIRTypeHistory: {http.MethodGet: scoped(h.FHIR.TypeHistory)},
		paths.FHIRResource: {http.MethodGet: scoped(h.FHIR.Read), http.MethodPut: scoped(h.FHIR.Update),
			http.MethodPatch: scoped(h.FHIR.Patch), http.MethodDelete: scoped(h.FHIR.Delete)},
		paths.FHIRHistory: {http.MethodGet: scoped(h.FHIR.History)},
		paths.FHIRVersion: {http.MethodGet: scoped(h.FHIR.VRead)},
		// Super admins only (the handlers check): a whole project copied
		// or deleted. They enter no project (see serverOperations).
		paths.FHIRProjectClone:   {http.MethodPost: h.ProjectOps.Clone},
		paths.FHIRProjectExpunge: {http.MethodPost: h.ProjectOps.Expunge},
		// Operations of every member: validation (nothing written), a
		// patient's record, and the shared terminology.
		paths.FHIRTypeValidate:      {http.MethodPost: scoped(h.FHIR.Validate)},
		paths.FHIRResourceValidate:  {http.MethodPost: scoped(h.FHIR.Validate)},
		paths.FHIRPatientEverything: {http.MethodGet: scoped(h.FHIR.Everything), http.MethodPost: scoped(h.FHIR.Everything)},
		paths.FHIRValueSetExpand:    {http.MethodGet: scoped(h.FHIR.Expand)},
		paths.FHIRValueSetIDExpand:  {http.MethodGet: scoped(h.FHIR.Expand)},
		paths.FHIRCodeSystemLookup:  {http.MethodGet: scoped(h.FHIR.Lookup)},
		// Searches beyond one type's GET, and the project's history; batch
		// and transaction Bundles posted to the base.
		paths.FHIRSystem:        {http.MethodGet: scoped(h.FHIR.SystemSearch), http.MethodPost: scoped(h.FHIR.Bundle)},
		paths.FHIRSystemHistory: {http.MethodGet: scoped(h.FHIR.SystemHistory)},
		paths.FHIRTypeSearch:    {http.MethodPost: scoped(h.FHIR.SearchPost)},
		paths.FHIRCompartment:   {http.MethodGet: scoped(h.FHIR.Compartment)},
	})
}

// group is an echo group whose routes come from package paths: each is
// registered by its pattern below the group's prefix, itself a pattern.
type group struct {
	echo   *echo.Group
	prefix string
}

// below is a group for the routes under prefix, with more middleware.
func (g group) below(prefix string, m ...echo.MiddlewareFunc) group {
	return group{echo: g.echo.Group(g.relative(prefix), m...), prefix: prefix}
}

// with is a group for the same routes with more middleware.
func (g group) with(m ...echo.MiddlewareFunc) group { return g.below(g.prefix, m...) }

func (g group) GET(r paths.Route, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	g.add(http.MethodGet, r, h, m...)
}

func (g group) POST(r paths.Route, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	g.add(http.MethodPost, r, h, m...)
}

func (g group) DELETE(r paths.Route, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	g.add(http.MethodDelete, r, h, m...)
}

func (g group) add(method string, r paths.Route, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	g.echo.Add(method, g.relative(r.Pattern()), h, m...)
}

// relative is pattern below the group's prefix. A pattern outside it is a
// mistake in routes, which stops the server before it starts.
func (g group) relative(pattern string) string {
	rest, ok := strings.CutPrefix(pattern, g.prefix)
	if !ok || (g.prefix != "" && rest != "" && rest[0] != '/') {
		panic("route " + pattern + " is not below " + g.prefix)
	}
	return rest
}

// fhirRoutes registers the API's paths and answers every other method on
// them with 405 and an Allow header (echo's group catch-all would say 404).
func fhirRoutes(g group, routes map[paths.Route]map[string]echo.HandlerFunc) {
	all := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
	for route, methods := range routes {
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
				g.add(m, route, h)
				continue
			}
			g.add(m, route, func(c echo.Context) error {
				if strings.HasPrefix(c.Param("target"), "$") {
					return echo.ErrNotFound // an operation Enclave does not have
				}
				c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
				return echo.ErrMethodNotAllowed
			})
		}
	}
}
