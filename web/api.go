package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"enclave/handlers"
	"enclave/models"
	"enclave/models/kit"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// ProjectHeader names the project a console session calls the API for.
const ProjectHeader = "X-Enclave-Project"

// apiCaller is who calls the FHIR API and for which project.
type apiCaller struct {
	// Resolved is the caller's resolution: the user and their access to the
	// project named by ProjectID or, when Resolved.All, to every project.
	Resolved models.Caller
	// Client is the API client of an access token, instead of a user.
	Client *models.ClientCaller
	// ProjectID is the project the request names (the X-Enclave-Project
	// header, or the access token's); empty when it names none.
	ProjectID string
}

// enter builds the scope of project for the caller.
func (a apiCaller) enter(project string) (models.Scope, error) {
	if a.Client != nil {
		return a.Client.Enter()
	}
	return a.Resolved.Enter(project)
}

// apiAuthenticator recognises one kind of API credential. ok is false when
// the request carries none of that kind. Console sessions are one kind;
// bearer access tokens another, fixing the project in the token.
type apiAuthenticator interface {
	authenticate(c echo.Context) (caller apiCaller, ok bool, err error)
}

// sessionAuth accepts the console's session cookie. The project is the
// X-Enclave-Project header when sent, else the user's only project: never
// the project the console happened to open last, which another tab may
// change between two calls.
type sessionAuth struct{}

// headerProject is the project the request's X-Enclave-Project header names.
func headerProject(c echo.Context) string {
	return strings.TrimSpace(c.Request().Header.Get(ProjectHeader))
}

// apiProjects says which projects loadCaller resolves for an API request:
// the one the header names, or all of them, to find the user's only one.
func apiProjects(c echo.Context) string {
	if p := headerProject(c); p != "" {
		return p
	}
	return models.AllProjects
}

func (a sessionAuth) authenticate(c echo.Context) (apiCaller, bool, error) {
	caller, ok := callerOf(c)
	// A session whose password must change first (a temporary one) opens
	// nothing but the page that changes it: not the API either.
	if !ok || caller.User.MustChangePassword {
		return apiCaller{}, false, nil
	}
	return apiCaller{Resolved: caller, ProjectID: headerProject(c)}, true, nil
}

const chooseProject = "No project named: you are a member of several projects, so send the " + ProjectHeader +
	" header with the id of the one this request is for."

// noProjects answers a caller who names no project and is a member of none.
const noProjects = "No project named, and you are a member of none: create a project in the Enclave console, or accept an " +
	"invitation to one, then send its id in the " + ProjectHeader + " header."

// requireAPICaller authenticates an API request and puts the store of the
// caller's project in the context, from the access loadCaller resolved (no
// query of its own). Anonymous callers get 401; a project the caller cannot
// enter is the same 404 as one that does not exist.
func (s *Server) requireAPICaller(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		caller, err := s.authenticateAPI(c)
		if err != nil {
			return err
		}
		if serverOperations[c.Path()] {
			if caller.Client == nil {
				handlers.SetAPIUser(c, caller.Resolved.User)
			}
			return next(c)
		}
		project := caller.ProjectID
		if project == "" {
			// Only a member of exactly one project may leave it unnamed.
			switch {
			case caller.Resolved.All && len(caller.Resolved.Projects) == 0:
				return echo.NewHTTPError(http.StatusBadRequest, noProjects)
			case caller.Client != nil || !caller.Resolved.All || len(caller.Resolved.Projects) != 1:
				return echo.NewHTTPError(http.StatusBadRequest, chooseProject)
			}
			project = caller.Resolved.Projects[0].Project.ID
		}
		sc, err := caller.enter(project)
		if errors.Is(err, kit.ErrNotFound) || errors.Is(err, models.ErrPolicyMissing) {
			return echo.NewHTTPError(http.StatusNotFound, "Project "+project+" not found, or you are not an active member")
		}
		if err != nil {
			return err
		}
		c.Set(keyScope, sc)
		return next(c)
	}
}

// authenticateAPI finds who calls the API with the first authenticator that
// recognises the request's credentials. Anonymous callers get 401.
func (s *Server) authenticateAPI(c echo.Context) (apiCaller, error) {
	for _, a := range s.apiAuth {
		caller, found, err := a.authenticate(c)
		if err != nil || found {
			return caller, err
		}
	}
	msg := "Authentication required: send an access token (Authorization: Bearer) or sign in to the Enclave console"
	if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
		msg = "This kind of Authorization is not supported: send an access token from " + paths.OAuthToken.URL() + " (Authorization: Bearer)"
	}
	return apiCaller{}, echo.NewHTTPError(http.StatusUnauthorized, msg)
}

// pathProject is the project an admin API request names in its path: the
// only one loadCaller resolves for it.
func pathProject(c echo.Context) string { return c.Param("project") }

// notProjectAdmin answers an admin API request whose caller is not an admin
// of the project the path names. It is the same whether the caller's
// credentials are for another project, they are a plain member, or the
// project does not exist, and it names nothing of the project.
var notProjectAdmin = echo.NewHTTPError(http.StatusForbidden,
	"Only admins of the project this path names can call this endpoint, with credentials for that project")

// requireProjectAdmin is the tenant boundary of the admin API: the caller
// must be an admin of the project the path names, and credentials that are
// for another project (an access token's, or the X-Enclave-Project header
// of a console session) are refused rather than applied to it. The
// handler gets the path project's scope, entered the way requireAPICaller
// enters one, so every kind of API credential works here alike.
func (s *Server) requireProjectAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		caller, err := s.authenticateAPI(c)
		if err != nil {
			return err
		}
		project := pathProject(c)
		if caller.ProjectID != "" && caller.ProjectID != project {
			return notProjectAdmin
		}
		sc, err := caller.enter(project)
		if errors.Is(err, kit.ErrNotFound) || errors.Is(err, models.ErrPolicyMissing) {
			return notProjectAdmin
		}
		if err != nil {
			return err
		}
		if sc.Project().ID != project || !sc.Admin() {
			return notProjectAdmin
		}
		c.Set(keyScope, sc)
		return next(c)
	}
}

// serverOperations are the API routes that act on the project their path
// names, not in the caller's own: they need an authenticated caller but
// enter no project, and their handlers decide who may call them (super
// admins; an API client never is one).
var serverOperations = map[string]bool{paths.FHIRProjectClone.Pattern(): true, paths.FHIRProjectExpunge.Pattern(): true}

// jsonWritesOnly refuses request bodies that are not JSON (handlers.FHIR's
// Patch refuses any but JSON Patch). No cross-site HTML form can send
// application/json or application/json-patch+json, and a cross-site script cannot
// without a CORS preflight Enclave never grants, so the API needs no CSRF
// token even though a session cookie authenticates it.
func jsonWritesOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Path() == paths.FHIRTypeSearch.Pattern() {
			// A search changes nothing, and its form body is checked by
			// its handler; a cross-site form could send one but never read
			// the answer.
			return next(c)
		}
		switch c.Request().Method {
		case http.MethodPost, http.MethodPut: // PATCH: the one route that takes it checks its JSON Patch type
			mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
			if err != nil || (mt != "application/fhir+json" && mt != "application/json") {
				return echo.NewHTTPError(http.StatusUnsupportedMediaType,
					"Send the body as application/fhir+json (or application/json)")
			}
		}
		return next(c)
	}
}

// utf8Bodies answers 400 to an API write whose body is not valid UTF-8.
// JSON text must be UTF-8 (RFC 8259), and encoding/json would quietly turn
// each bad byte into U+FFFD, storing a resource other than the one sent. (The
// console's forms get the same answer from rejectUnstorableInput.)
func utf8Bodies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if (r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch) || r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		body, err := io.ReadAll(r.Body)
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return err // apiBodyLimit's 413
		}
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The request body could not be read").SetInternal(err)
		}
		if !utf8.Valid(body) {
			return echo.NewHTTPError(http.StatusBadRequest,
				"The body is not valid UTF-8: JSON text must be encoded as UTF-8 (RFC 8259). Fix its encoding and try again.")
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		return next(c)
	}
}

// apiBodyLimit bounds request bodies of the API: a resource's (or a
// patch's) at 8 MB, a batch or transaction Bundle posted to the base at
// bundleBodyLimit. Above them the answer is 413.
func apiBodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	one, bundle := middleware.BodyLimit("8M")(next), middleware.BodyLimit(bundleBodyLimit)(next)
	return func(c echo.Context) error {
		if c.Request().URL.Path == paths.FHIRSystem.URL() {
			return bundle(c)
		}
		return one(c)
	}
}

// bundleBodyLimit bounds a Bundle posted to the base: room for a Synthea
// patient's whole history (a few MB) many times over.
const bundleBodyLimit = "32M"

// isAPI reports whether the request is for the FHIR API, a program's
// sign-in (/auth/...) or the admin API, whose errors are OperationOutcomes
// rather than pages.
func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == paths.FHIRBase || strings.HasPrefix(p, paths.FHIRBase+"/") || strings.HasPrefix(p, paths.AuthBase+"/") ||
		strings.HasPrefix(p, paths.AdminBase)
}
