package web

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"enclave/handlers"
	"enclave/models"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// ProjectHeader names the project a console session calls the API for.
const ProjectHeader = "X-Enclave-Project"

// apiCaller is who calls the FHIR API and for which project.
type apiCaller struct {
	UserID string
	// ProjectID is the project the credential names; empty when it names
	// none (a session that never opened a project and sent no header).
	ProjectID string
	// Chosen is true when the caller named the project explicitly for this
	// request, so a project they cannot enter is a 404 rather than a prompt
	// to choose.
	Chosen bool
}

// apiAuthenticator recognises one kind of API credential. ok is false when
// the request carries none of that kind. Console sessions are one kind;
// bearer access tokens will be another, fixing the project in the token.
type apiAuthenticator interface {
	authenticate(c echo.Context) (caller apiCaller, ok bool, err error)
}

// sessionAuth accepts the console's session cookie. The project is the
// X-Enclave-Project header when sent, else the project last opened in the
// console, else the user's only project.
type sessionAuth struct{ sessions *sessionManager }

func (a sessionAuth) authenticate(c echo.Context) (apiCaller, bool, error) {
	u, ok := handlers.CurrentUser(c)
	if !ok {
		return apiCaller{}, false, nil
	}
	if p := strings.TrimSpace(c.Request().Header.Get(ProjectHeader)); p != "" {
		return apiCaller{UserID: u.ID, ProjectID: p, Chosen: true}, true, nil
	}
	p, err := a.sessions.lastProject(c)
	return apiCaller{UserID: u.ID, ProjectID: p}, true, err
}

const chooseProject = "No project chosen: send the " + ProjectHeader + " header with a project id, or open the project in the Enclave console first."

// requireAPICaller authenticates an API request and puts the store of the
// caller's project in the context. Anonymous callers get 401; a project the
// caller cannot enter is the same 404 as one that does not exist.
func (s *Server) requireAPICaller(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var caller apiCaller
		found := false
		for _, a := range s.apiAuth {
			var err error
			caller, found, err = a.authenticate(c)
			if err != nil {
				return err
			}
			if found {
				break
			}
		}
		if !found {
			msg := "Authentication required: sign in to the Enclave console"
			if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
				msg = "This kind of Authorization is not supported yet: sign in to the Enclave console"
			}
			return echo.NewHTTPError(http.StatusUnauthorized, msg)
		}
		a, err := s.sys.Access(c.Request().Context(), caller.UserID, caller.ProjectID)
		switch {
		case errors.Is(err, models.ErrNotFound) && caller.Chosen:
			return echo.NewHTTPError(http.StatusNotFound, "Project "+caller.ProjectID+" not found, or you are not an active member")
		case errors.Is(err, models.ErrNotFound) && caller.ProjectID == "":
			// Nothing remembered: a member of exactly one project needs no
			// choice.
			if a, err = s.onlyProject(c, caller.UserID); err != nil {
				return err
			}
		case errors.Is(err, models.ErrNotFound):
			// The remembered project is out of reach now; never fall back
			// silently to another, where writes would land unnoticed.
			return echo.NewHTTPError(http.StatusBadRequest, chooseProject)
		case err != nil:
			return err
		}
		if err := s.enterProject(c, a); err != nil {
			return err
		}
		return next(c)
	}
}

// onlyProject returns the caller's one project, or asks them to choose when
// they have several (or none).
func (s *Server) onlyProject(c echo.Context, userID string) (models.ProjectAccess, error) {
	list, err := s.sys.ProjectsOf(c.Request().Context(), userID)
	if err != nil {
		return models.ProjectAccess{}, err
	}
	if len(list) != 1 {
		return models.ProjectAccess{}, echo.NewHTTPError(http.StatusBadRequest, chooseProject)
	}
	return list[0], nil
}

// jsonWritesOnly refuses request bodies that are not JSON. No cross-site
// HTML form can send application/json, and a cross-site script cannot
// without a CORS preflight Enclave never grants, so the API needs no CSRF
// token even though a session cookie authenticates it.
func jsonWritesOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodPost, http.MethodPut: // PATCH is not supported: the router answers 405
			mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
			if err != nil || (mt != "application/fhir+json" && mt != "application/json") {
				return echo.NewHTTPError(http.StatusUnsupportedMediaType,
					"Send the body as application/fhir+json (or application/json)")
			}
		}
		return next(c)
	}
}

// apiBodyLimit bounds request bodies of the API.
var apiBodyLimit = middleware.BodyLimit("8M")

// isAPI reports whether the request is for the FHIR API, whose errors are
// OperationOutcomes rather than pages.
func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == handlers.FHIRBase || strings.HasPrefix(p, handlers.FHIRBase+"/")
}
