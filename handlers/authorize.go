package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"enclave/models"
	"enclave/models/kit"
	"enclave/models/logins"
	"enclave/views"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Authorize answers GET /oauth2/authorize, the browser's part of the
// authorization-code flow (RFC 6749 §4.1) for an app registered as an API
// client. The client and its redirect URI are checked first: while either
// is wrong the browser gets an error page and is never sent anywhere.
// Then errors go back to the app (error and state on the redirect URI); a
// visitor signs in to the console and comes back here; and a member of the
// client's project is sent back with a one-time code. A client belongs to
// one project, where a user has one membership at most, so there is no
// membership to choose.
func (h *Logins) Authorize(c echo.Context) error {
	q := c.QueryParams()
	cl, err := h.Sys.ClientByID(ctx(c), q.Get("client_id"))
	if errors.Is(err, kit.ErrNotFound) {
		return h.authorizeRefused(c, "This app is not registered with this server, or its access was disabled (unknown client_id).")
	}
	if err != nil {
		return err
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" || !slices.Contains(cl.RedirectURIs, redirect) {
		return h.authorizeRefused(c, "This app asked to be sent to an address that is not registered for it (redirect_uri), so it is not sent there.")
	}
	back := func(params url.Values) error {
		if s := q.Get("state"); s != "" {
			params.Set("state", s)
		}
		sep := "?"
		if strings.Contains(redirect, "?") {
			sep = "&"
		}
		return c.Redirect(http.StatusFound, redirect+sep+params.Encode())
	}
	refuse := func(code, desc string) error {
		return back(url.Values{"error": {code}, "error_description": {desc}})
	}
	for k, vs := range q {
		if len(vs) > 1 {
			return refuse("invalid_request", "The parameter "+k+" is sent more than once")
		}
	}
	if q.Get("response_type") != "code" {
		return refuse("unsupported_response_type", "This server supports response_type=code only")
	}
	scope := q.Get("scope")
	if scope == "" {
		scope = defaultScope
	}
	n := logins.NewLogin{ProjectID: cl.ProjectID, ClientID: cl.ID, RedirectURI: redirect, Scope: scope, Nonce: q.Get("nonce"),
		CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: q.Get("code_challenge_method"), IP: c.RealIP()}
	if fields := kit.FieldErrors(n.Validate()); len(fields) > 0 {
		return refuse("invalid_request", "PKCE is required: send code_challenge and code_challenge_method (S256 or plain)")
	}
	u, ok := CurrentUser(c)
	if !ok {
		return c.Redirect(http.StatusSeeOther, paths.SignIn.URL()+"?"+url.Values{"next": {c.Request().URL.RequestURI()}}.Encode())
	}
	list, err := projectsOf(c, h.Sys, u.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(a models.ProjectAccess) bool { return a.Project.ID == cl.ProjectID })
	if i < 0 {
		return refuse("access_denied", "The signed-in user is not a member of this app's project")
	}
	n.UserID = u.ID
	l, err := h.Sys.StartLogin(ctx(c), n)
	if err != nil {
		return err
	}
	code, err := h.Sys.IssueLoginCode(ctx(c), l.ID, cl.ProjectID, list[i].Membership.ID)
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx(c), "app authorized", "user", u.ID, "client", cl.ID, "login", l.ID)
	return back(url.Values{"code": {code}})
}

// authorizeRefused shows why an authorization request cannot go on, on a
// page of this server: the app it came from cannot be trusted with it.
func (h *Logins) authorizeRefused(c echo.Context, msg string) error {
	vm := views.ErrorVM{Status: http.StatusBadRequest, Title: "Cannot sign in to this app", Message: msg}
	return render(c, vm.Status, ErrorPage(c, h.Sys, nil, vm))
}
