// Package paths declares every route of the server once: the echo pattern
// the router registers, and a builder of its URL. Handlers and views take
// their URLs from here, so a route changes in one place and no URL is
// glued together by hand.
//
// A route's type says how many parameters its pattern has (Route2 has
// two), so a builder called with too few or too many does not compile. The
// builder fills them in the pattern's order, each path-escaped: an id with
// a "/" or "?" stays one segment. web/paths_test.go checks that each
// constant's type fits its pattern and that the router registers exactly
// the patterns declared here.
package paths

import (
	"net/url"
	"strings"
)

// Route is what the router needs of every route: its pattern.
type Route interface{ Pattern() string }

// Route0 is a route without parameters.
type Route0 string

// Route1 is a route with one parameter.
type Route1 string

// Route2 is a route with two parameters.
type Route2 string

// Route3 is a route with three parameters.
type Route3 string

// Route4 is a route with four parameters.
type Route4 string

// Files is a route that serves every path below it: its pattern ends in
// "*", which stands for the rest of the path.
type Files string

func (r Route0) Pattern() string { return string(r) }
func (r Route1) Pattern() string { return string(r) }
func (r Route2) Pattern() string { return string(r) }
func (r Route3) Pattern() string { return string(r) }
func (r Route4) Pattern() string { return string(r) }
func (r Files) Pattern() string  { return string(r) }

func (r Route0) URL() string                  { return string(r) }
func (r Route1) URL(a string) string          { return fill(string(r), a) }
func (r Route2) URL(a, b string) string       { return fill(string(r), a, b) }
func (r Route3) URL(a, b, c string) string    { return fill(string(r), a, b, c) }
func (r Route4) URL(a, b, c, d string) string { return fill(string(r), a, b, c, d) }

// URL is the file at name, a path below the route whose segments are
// escaped one by one: "css/app.css" is "/static/css/app.css".
func (r Files) URL(name string) string {
	segments := strings.Split(name, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	return strings.TrimSuffix(string(r), "*") + strings.Join(segments, "/")
}

// fill puts args, path-escaped, in place of the pattern's ":name"
// segments, in order.
func fill(pattern string, args ...string) string {
	var b strings.Builder
	rest := pattern
	for _, a := range args {
		i := strings.IndexByte(rest, ':')
		if i < 0 {
			panic("paths: more arguments than parameters in " + pattern)
		}
		b.WriteString(rest[:i])
		b.WriteString(url.PathEscape(a))
		rest = rest[i:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			rest = rest[j:]
		} else {
			rest = ""
		}
	}
	b.WriteString(rest)
	return b.String()
}

// Probes, assets and metrics: no session.
const (
	Healthz Route0 = "/healthz"
	Readyz  Route0 = "/readyz"
	Static  Files  = "/static/*"
	Favicon Route0 = "/favicon.ico"
	Metrics Route0 = "/metrics"
)

// The console's pages for visitors: sign-in, registration and the links
// that mail sends.
const (
	Root     Route0 = "/"
	Register Route0 = "/register"
	SignIn   Route0 = "/signin"
	SignOut  Route0 = "/signout"
	Invite   Route1 = "/invite/:token"
	Verify   Route1 = "/verify/:token"
	Forgot   Route0 = "/forgot"
	Reset    Route1 = "/reset/:token"
	// Join is a project's open patient registration: a page for anyone,
	// found only when the project has a defaultPatientAccessPolicy.
	Join Route1 = "/projects/:project/join"
)

// The signed-in user's own pages.
const (
	FirstProject      Route0 = "/register/project"
	ResendVerify      Route0 = "/account/verify"
	AcceptInvitation  Route1 = "/invitations/:invitation/accept"
	DeclineInvitation Route1 = "/invitations/:invitation/decline"
	Account           Route0 = "/account"
	AccountName       Route0 = "/account/name"
	AccountEmail      Route0 = "/account/email"
	AccountPassword   Route0 = "/account/password"
	EndSession        Route1 = "/account/sessions/:session/signout"
	// ChoosePassword is where an account with a temporary password must
	// choose a new one before anything else.
	ChoosePassword Route0 = "/account/new-password"
	Projects       Route0 = "/projects"
	NewProject     Route0 = "/projects/new"
)

// A project's pages for every member: its home and the resource browser.
// The first parameter is the project's id.
const (
	Project         Route1 = "/projects/:project"
	Resources       Route1 = "/projects/:project/resources"
	ResourceSearch  Route2 = "/projects/:project/resources/:type"
	NewResource     Route2 = "/projects/:project/resources/:type/new"
	Resource        Route3 = "/projects/:project/resources/:type/:id"
	ResourceVersion Route4 = "/projects/:project/resources/:type/:id/_history/:vid"
	EditResource    Route3 = "/projects/:project/resources/:type/:id/edit"
	DeleteResource  Route3 = "/projects/:project/resources/:type/:id/delete"
)

// A project's administration, for its admins. The first parameter is the
// project's id.
const (
	Settings         Route1 = "/projects/:project/settings"
	Policies         Route1 = "/projects/:project/access-policies"
	NewPolicy        Route1 = "/projects/:project/access-policies/new"
	Policy           Route2 = "/projects/:project/access-policies/:policy"
	DeletePolicy     Route2 = "/projects/:project/access-policies/:policy/delete"
	Audit            Route1 = "/projects/:project/audit"
	Members          Route1 = "/projects/:project/members"
	InviteMember     Route1 = "/projects/:project/members/invite"
	ResendInvitation Route2 = "/projects/:project/members/invitations/:invitation/resend"
	RevokeInvitation Route2 = "/projects/:project/members/invitations/:invitation/revoke"
	Member           Route2 = "/projects/:project/members/:member"
	RemoveMember     Route2 = "/projects/:project/members/:member/remove"
	Secrets          Route1 = "/projects/:project/secrets"
	Secret           Route2 = "/projects/:project/secrets/:secret"
	SecretValue      Route2 = "/projects/:project/secrets/:secret/value"
	SecretName       Route2 = "/projects/:project/secrets/:secret/name"
	DeleteSecret     Route2 = "/projects/:project/secrets/:secret/delete"
	Clients          Route1 = "/projects/:project/clients"
	Client           Route2 = "/projects/:project/clients/:client"
	RotateClient     Route2 = "/projects/:project/clients/:client/rotate"
	DisableClient    Route2 = "/projects/:project/clients/:client/disable"
	EnableClient     Route2 = "/projects/:project/clients/:client/enable"
	DeleteClient     Route2 = "/projects/:project/clients/:client/delete"
)

// The super admin's dashboard: server-wide, for super admins only (404 to
// everyone else). Its pages are HTML; /admin/projects/... is the JSON admin
// API's, so the project list is the dashboard's home.
const (
	AdminProjects          Route0 = "/admin"
	AdminUsers             Route0 = "/admin/users"
	AdminUser              Route1 = "/admin/users/:user"
	AdminDeactivateUser    Route1 = "/admin/users/:user/deactivate"
	AdminReactivateUser    Route1 = "/admin/users/:user/reactivate"
	AdminTemporaryPassword Route1 = "/admin/users/:user/temporary-password"
	AdminServer            Route0 = "/admin/server"
	// The dashboard's acts on whole projects (clone, expunge) and the
	// server's whole audit log.
	AdminClone   Route1 = "/admin/clone/:project"
	AdminJob     Route1 = "/admin/jobs/:job"
	AdminExpunge Route1 = "/admin/expunge/:project"
	AdminAudit   Route0 = "/admin/audit"
)

// Deleting a project: its admins' confirmation page, and the dashboard's
// list of deleted projects waiting for their expunge, with their restore.
const (
	DeleteProject       Route1 = "/projects/:project/delete"
	AdminDeleted        Route0 = "/admin/deleted"
	AdminRestoreProject Route1 = "/admin/deleted/:project/restore"
)

// OAuth 2.0 and its discovery documents: no session, no CSRF token.
const (
	OAuthToken          Route0 = "/oauth2/token"
	OAuthAuthorize      Route0 = "/oauth2/authorize"
	OAuthRevoke         Route0 = "/oauth2/revoke"
	OAuthLogout         Route0 = "/oauth2/logout"
	OAuthUserInfo       Route0 = "/oauth2/userinfo"
	JWKS                Route0 = "/.well-known/jwks.json"
	OpenIDConfiguration Route0 = "/.well-known/openid-configuration"
	SMARTConfiguration  Route0 = "/fhir/R4/.well-known/smart-configuration"
)

// A program's sign-in for a user, as Medplum's SDK calls it: JSON in and
// out, no session and no CSRF token (GET /auth/me takes a bearer token, or
// a console session).
const (
	AuthLogin      Route0 = "/auth/login"
	AuthProfile    Route0 = "/auth/profile"
	AuthMe         Route0 = "/auth/me"
	AuthNewUser    Route0 = "/auth/newuser"
	AuthNewProject Route0 = "/auth/newproject"
	AuthNewPatient Route0 = "/auth/newpatient"
)

// AuthBase is the prefix of those routes, whose errors are OperationOutcomes.
const AuthBase = "/auth"

// AdminBase is the prefix of the admin JSON API (the dashboard's pages
// under /admin are HTML and stay outside it).
const AdminBase = "/admin/projects/"

// The admin JSON API that Medplum's SDK calls, for a project's admins:
// answers are JSON, errors OperationOutcomes. The first parameter is the
// project's id.
const (
	AdminProject Route1 = "/admin/projects/:project"
	AdminClient  Route1 = "/admin/projects/:project/client"
	AdminInvite  Route1 = "/admin/projects/:project/invite"
	AdminMember  Route2 = "/admin/projects/:project/members/:member"
)

// FHIRBase is where the FHIR R4 API is served: the prefix of its routes.
const FHIRBase = "/fhir/R4"

// The FHIR R4 API. Its links are absolute: the request's origin (or
// ENCLAVE_BASE_URL) before these.
const (
	FHIRMetadata    Route0 = "/fhir/R4/metadata"
	FHIRType        Route1 = "/fhir/R4/:type"
	FHIRTypeHistory Route1 = "/fhir/R4/:type/_history"
	FHIRResource    Route2 = "/fhir/R4/:type/:id"
	FHIRHistory     Route2 = "/fhir/R4/:type/:id/_history"
	FHIRVersion     Route3 = "/fhir/R4/:type/:id/_history/:vid"
	// Searches beyond one type's GET: the whole project's (?_type=...), a
	// form body, one Patient's compartment (/Patient/{id}/{type}), and the
	// whole project's history.
	FHIRSystem        Route0 = "/fhir/R4"
	FHIRTypeSearch    Route1 = "/fhir/R4/:type/_search"
	FHIRCompartment   Route3 = "/fhir/R4/:type/:id/:target"
	FHIRSystemHistory Route0 = "/fhir/R4/_history"
)

// The super admins' operations on whole projects. The parameter is the
// project's id.
const (
	FHIRProjectClone   Route1 = "/fhir/R4/Project/:id/$clone"
	FHIRProjectExpunge Route1 = "/fhir/R4/Project/:id/$expunge"
)

// The FHIR operations every member may call, on their own project's
// resources or the shared definitions.
const (
	FHIRTypeValidate      Route1 = "/fhir/R4/:type/$validate"
	FHIRResourceValidate  Route2 = "/fhir/R4/:type/:id/$validate"
	FHIRPatientEverything Route1 = "/fhir/R4/Patient/:id/$everything"
	FHIRValueSetExpand    Route0 = "/fhir/R4/ValueSet/$expand"
	FHIRValueSetIDExpand  Route1 = "/fhir/R4/ValueSet/:id/$expand"
	FHIRCodeSystemLookup  Route0 = "/fhir/R4/CodeSystem/$lookup"
)

// Compare two projects and promote chosen items from one to the other: on
// the dashboard for super admins (any two projects), and below a project
// for the admins of both (the other project comes in ?with=).
const (
	AdminCompare   Route0 = "/admin/compare"
	AdminPromote   Route0 = "/admin/compare/promote"
	Compare        Route1 = "/projects/:project/compare"
	PromoteProject Route1 = "/projects/:project/compare/promote"
)
