package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"enclave/models/clients"
	"enclave/models/logins"
	"enclave/models/oauth"
	"enclave/views/paths"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// OAuth serves the OAuth 2.0 token endpoint (client_credentials,
// authorization_code with PKCE, refresh_token), revocation, sign-out,
// userinfo and the discovery documents.
type OAuth struct {
	Sys Grants
	// Keys sign the access tokens; nil when the server has none, and then
	// the token endpoint is unavailable.
	Keys *oauth.Keys
	Log  *slog.Logger
}

// The grants and client authentication methods that work today; the
// discovery documents list exactly these.
var (
	grantTypes       = []string{"authorization_code", "client_credentials", "refresh_token"}
	responseTypes    = []string{"code"}
	tokenAuthMethods = []string{"client_secret_basic", "client_secret_post"}
)

// tokenError is an RFC 6749 (§5.2) error answer.
type tokenError struct {
	status int
	code   string
	desc   string
	// basic asks for HTTP Basic (WWW-Authenticate), after a client that
	// authenticated with it was refused.
	basic bool
	// retry is the Retry-After of a throttled attempt.
	retry time.Duration
}

func (e *tokenError) Error() string { return e.code + ": " + e.desc }

func badRequest(desc string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: "invalid_request", desc: desc}
}

// writeTokenError answers err as RFC 6749 JSON.
func writeTokenError(c echo.Context, e *tokenError) error {
	h := c.Response().Header()
	h.Set("Pragma", "no-cache")
	if e.basic {
		h.Set(echo.HeaderWWWAuthenticate, `Basic realm="enclave", charset="UTF-8"`)
	}
	if e.retry > 0 {
		h.Set("Retry-After", retryAfter(e.retry))
	}
	return c.JSON(e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

// OAuthError answers a failure on an /oauth2/ route that no handler turned
// into an answer of its own (an outage, an unknown route) as RFC 6749 JSON.
func OAuthError(c echo.Context, status int) error {
	code := "invalid_request"
	switch {
	case status == http.StatusServiceUnavailable:
		code = "temporarily_unavailable"
	case status >= 500:
		code = "server_error"
	case status == http.StatusUnauthorized:
		code = "invalid_token" // a bearer token refused (RFC 6750 §3.1)
	}
	return writeTokenError(c, &tokenError{status: status, code: code, desc: http.StatusText(status)})
}

// Token answers POST /oauth2/token: a form-encoded request (RFC 6749 §4.4)
// answered with a token or an RFC 6749 error, never an error page.
func (h *OAuth) Token(c echo.Context) error {
	form, terr := tokenForm(c)
	if terr == nil {
		switch grant := form.Get("grant_type"); grant {
		case "":
			terr = badRequest("Missing grant_type")
		case "client_credentials":
			return h.clientCredentials(c, form)
		case "authorization_code":
			return h.authorizationCode(c, form)
		case "refresh_token":
			return h.refreshToken(c, form)
		default:
			terr = &tokenError{status: http.StatusBadRequest, code: "unsupported_grant_type",
				desc: "Unsupported grant_type: this server supports " + strings.Join(grantTypes, ", ")}
		}
	}
	return writeTokenError(c, terr)
}

// tokenForm reads the form body: application/x-www-form-urlencoded, no
// parameter twice (RFC 6749 §3.2), nothing in the query string.
func tokenForm(c echo.Context) (url.Values, *tokenError) {
	r := c.Request()
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationForm {
		return nil, badRequest("Send the parameters as application/x-www-form-urlencoded")
	}
	if r.URL.RawQuery != "" {
		return nil, badRequest("Send the parameters in the body, not in the URL")
	}
	if err := r.ParseForm(); err != nil {
		return nil, badRequest("The body is not a valid form")
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return nil, badRequest("The parameter " + k + " is sent more than once")
		}
	}
	return r.PostForm, nil
}

// clientCredentials authenticates the client (HTTP Basic or the body, not
// both) and issues an access token for its project.
func (h *OAuth) clientCredentials(c echo.Context, form url.Values) error {
	id, secret, basic, terr := clientCredentialsOf(c, form)
	if terr == nil {
		switch {
		case id == "":
			terr = badRequest("Missing client_id")
		case secret == "":
			terr = badRequest("Missing client_secret")
		}
	}
	if terr != nil {
		return writeTokenError(c, terr)
	}
	if h.Keys == nil {
		return OAuthError(c, http.StatusServiceUnavailable)
	}
	cl, terr, err := h.authenticateClient(c, id, secret, basic)
	if err != nil {
		return err
	}
	if terr != nil {
		return writeTokenError(c, terr)
	}
	now := time.Now()
	profile := "ClientApplication/" + cl.ID
	token, err := h.Keys.Issue(oauth.Claims{
		Claims: jwt.Claims{Issuer: Origin(c), Subject: cl.ID, IssuedAt: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(now.Add(cl.TokenLifetime)), ID: uuid.NewString()},
		ClientID: cl.ID, ProjectID: cl.ProjectID, Profile: profile,
	})
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx(c), "client signed in", "client", cl.ID, "project", cl.ProjectID)
	c.Response().Header().Set("Pragma", "no-cache")
	return c.JSON(http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   int(cl.TokenLifetime / time.Second),
		"project":      map[string]string{"reference": "Project/" + cl.ProjectID},
		"profile":      map[string]string{"reference": profile, "display": cl.Name},
	})
}

// clientCredentialsOf reads the client's credentials from HTTP Basic or the
// body (not both); id and secret are empty when none are sent.
func clientCredentialsOf(c echo.Context, form url.Values) (id, secret string, basic bool, terr *tokenError) {
	id, secret, basic = c.Request().BasicAuth()
	if !basic {
		return form.Get("client_id"), form.Get("client_secret"), false, nil
	}
	// RFC 6749 §2.3.1: Basic credentials are form-encoded first.
	var err1, err2 error
	id, err1 = url.QueryUnescape(id)
	secret, err2 = url.QueryUnescape(secret)
	if err1 != nil || err2 != nil {
		return "", "", true, &tokenError{status: http.StatusUnauthorized, code: "invalid_client",
			desc: "The Basic credentials are not form-encoded", basic: true}
	}
	if form.Has("client_secret") || (form.Has("client_id") && form.Get("client_id") != id) {
		return "", "", true, badRequest("Authenticate the client one way: HTTP Basic or the body, not both")
	}
	return id, secret, true, nil
}

// authenticateClient checks a client's secret, throttled like passwords
// per client and address and per address alone.
func (h *OAuth) authenticateClient(c echo.Context, id, secret string, basic bool) (clients.Client, *tokenError, error) {
	ip := c.RealIP()
	clientKey, addressKey := "client:"+id+"|"+ip, "client-ip:"+ip
	wait, err := signInAttempt(c, h.Sys, clientKey, addressKey)
	if err != nil {
		return clients.Client{}, nil, err
	}
	if wait > 0 {
		h.Log.WarnContext(ctx(c), "client sign-in refused: too many attempts", "ip", ip)
		return clients.Client{}, &tokenError{status: http.StatusTooManyRequests, code: "slow_down",
			desc: fmt.Sprintf("Too many attempts: try again in %s seconds", retryAfter(wait)), retry: wait}, nil
	}
	cl, err := h.Sys.AuthenticateClient(ctx(c), id, secret)
	if errors.Is(err, clients.ErrBadClient) {
		h.Log.InfoContext(ctx(c), "client sign-in failed", "ip", ip, "reason", err.Error())
		return cl, &tokenError{status: http.StatusUnauthorized, code: "invalid_client",
			desc: "Invalid client: unknown or disabled client, or wrong secret", basic: basic}, nil
	}
	if err != nil {
		return cl, nil, err
	}
	if err := h.Sys.ResetAttempts(ctx(c), clientKey); err != nil {
		return cl, nil, err
	}
	return cl, nil, h.Sys.RefundAttempt(ctx(c), addressKey)
}

// JWKS answers GET /.well-known/jwks.json: the public keys that verify
// access tokens.
func (h *OAuth) JWKS(c echo.Context) error {
	if h.Keys == nil {
		return echo.ErrNotFound
	}
	return c.JSON(http.StatusOK, h.Keys.JWKS())
}

// discovery is what both discovery documents say.
func discovery(c echo.Context) map[string]any {
	base := Origin(c)
	return map[string]any{
		"issuer":                                base,
		"jwks_uri":                              base + paths.JWKS.URL(),
		"token_endpoint":                        base + paths.OAuthToken.URL(),
		"authorization_endpoint":                base + paths.OAuthAuthorize.URL(),
		"userinfo_endpoint":                     base + paths.OAuthUserInfo.URL(),
		"revocation_endpoint":                   base + paths.OAuthRevoke.URL(),
		"grant_types_supported":                 grantTypes,
		"response_types_supported":              responseTypes,
		"code_challenge_methods_supported":      []string{logins.MethodS256, logins.MethodPlain},
		"token_endpoint_auth_methods_supported": tokenAuthMethods,
	}
}

// OpenIDConfiguration answers GET /.well-known/openid-configuration.
func (h *OAuth) OpenIDConfiguration(c echo.Context) error {
	doc := discovery(c)
	doc["subject_types_supported"] = []string{"public"}
	doc["id_token_signing_alg_values_supported"] = []string{"RS256"}
	doc["scopes_supported"] = []string{"openid", "profile", "email", "offline_access"}
	return c.JSON(http.StatusOK, doc)
}

// SMARTConfiguration answers GET /fhir/R4/.well-known/smart-configuration
// (SMART App Launch 2).
func (h *OAuth) SMARTConfiguration(c echo.Context) error {
	doc := discovery(c)
	doc["capabilities"] = []string{"client-confidential-symmetric"}
	return c.JSON(http.StatusOK, doc)
}
