package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"enclave/models"
	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/logins"
	"enclave/models/oauth"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// userTokenLifetime is how long a user's access token lives when no API
// client says otherwise (as Medplum: one hour).
const userTokenLifetime = clients.DefaultTokenLifetime

// idTokenLifetime is how long an ID token is valid.
const idTokenLifetime = time.Hour

func invalidGrant(desc string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: "invalid_grant", desc: desc}
}

// grantError turns the logins' refusals into RFC 6749 errors.
func grantError(err error) *tokenError {
	switch {
	case errors.Is(err, logins.ErrBadCode):
		return invalidGrant("Invalid code: unknown, or expired (a code works for " + logins.CodeLifetime.String() + ")")
	case errors.Is(err, logins.ErrCodeReused):
		return invalidGrant("Token already granted: the code was used before, so every token of its sign-in is revoked")
	case errors.Is(err, logins.ErrRevoked):
		return invalidGrant("Token revoked: the sign-in has ended")
	case errors.Is(err, logins.ErrBadRefresh):
		return invalidGrant("Invalid refresh token: unknown, or expired")
	case errors.Is(err, logins.ErrRefreshReused):
		return invalidGrant("Refresh token already used: every token of its sign-in is revoked")
	}
	var te *tokenError
	if errors.As(err, &te) {
		return te
	}
	return nil
}

// presented is the client a code or refresh-token request names.
type presented struct {
	// id is the client id sent, "" when none.
	id string
	// authenticated is id when its secret was sent and checked out.
	authenticated string
	// basic says the credentials came as HTTP Basic.
	basic bool
}

// presentedClient reads the client of a code or refresh-token request and
// checks its secret when one is sent. missing, when not empty, refuses the
// request for a missing parameter. done says the refusal is answered.
func (h *OAuth) presentedClient(c echo.Context, form url.Values, missing string) (presented, bool, error) {
	id, secret, basic, terr := clientCredentialsOf(c, form)
	if terr == nil && missing != "" {
		terr = badRequest(missing)
	}
	if terr != nil {
		return presented{}, true, writeTokenError(c, terr)
	}
	if h.Keys == nil {
		return presented{}, true, OAuthError(c, http.StatusServiceUnavailable)
	}
	p := presented{id: id, basic: basic}
	if secret == "" {
		return p, false, nil
	}
	cl, terr, err := h.authenticateClient(c, id, secret, basic)
	if err != nil {
		return p, true, err
	}
	if terr != nil {
		return p, true, writeTokenError(c, terr)
	}
	p.authenticated = cl.ID
	return p, false, nil
}

// authorizationCode redeems a one-time code (RFC 6749 §4.1.3) with its
// PKCE verifier (RFC 7636). Codes from /auth/login (no redirect URI) take
// an empty client_id and redirect_uri, as Medplum's SDK sends them; codes
// from /oauth2/authorize need the client's id, its secret and the same
// redirect URI.
func (h *OAuth) authorizationCode(c echo.Context, form url.Values) error {
	code, verifier := form.Get("code"), form.Get("code_verifier")
	missing := ""
	switch {
	case code == "":
		missing = "Missing code"
	case verifier == "":
		missing = "Missing code_verifier: this server requires PKCE (RFC 7636)"
	}
	cl, done, err := h.presentedClient(c, form, missing)
	if done || err != nil {
		return err
	}
	id, authenticated, basic := cl.id, cl.authenticated, cl.basic
	redirect := form.Get("redirect_uri")
	l, err := h.Sys.RedeemLoginCode(ctx(c), code, c.RealIP(), func(l logins.Login) error {
		switch {
		case id != "" && id != l.ClientID:
			return &tokenError{status: http.StatusBadRequest, code: "invalid_grant", desc: "Invalid client: the code was issued to another client"}
		case l.RedirectURI != "" && authenticated != l.ClientID:
			return &tokenError{status: http.StatusUnauthorized, code: "invalid_client",
				desc: "Authenticate the client (HTTP Basic or client_secret) to redeem its code", basic: basic}
		case l.RedirectURI != "" && redirect != l.RedirectURI:
			return invalidGrant("Invalid redirect_uri: it must be the one of the authorization request")
		case !l.VerifierMatches(verifier):
			return invalidGrant("Invalid code verifier")
		}
		return nil
	})
	if te := grantError(err); te != nil {
		h.Log.InfoContext(ctx(c), "authorization code refused", "reason", err.Error())
		return writeTokenError(c, te)
	}
	if err != nil {
		return err
	}
	refresh, err := h.Sys.IssueRefreshToken(ctx(c), l.ID)
	if err != nil {
		return err
	}
	return h.userTokens(c, l, refresh)
}

// refreshToken trades a refresh token for new tokens (RFC 6749 §6), and
// rotates it: the one presented is spent, and presenting it again revokes
// the sign-in. A confidential client's token needs its secret.
func (h *OAuth) refreshToken(c echo.Context, form url.Values) error {
	token := form.Get("refresh_token")
	missing := ""
	if token == "" {
		missing = "Missing refresh_token"
	}
	cl, done, err := h.presentedClient(c, form, missing)
	if done || err != nil {
		return err
	}
	id, authenticated, basic := cl.id, cl.authenticated, cl.basic
	// The client is checked before the token is spent: a refusal must not
	// use it up.
	prior, err := h.Sys.LoginOfRefreshToken(ctx(c), token)
	switch {
	case errors.Is(err, kit.ErrNotFound):
		return writeTokenError(c, grantError(logins.ErrBadRefresh))
	case err != nil:
		return err
	case id != "" && id != prior.ClientID:
		return writeTokenError(c, invalidGrant("Invalid client: the refresh token was issued to another client"))
	case prior.RedirectURI != "" && authenticated != prior.ClientID:
		return writeTokenError(c, &tokenError{status: http.StatusUnauthorized, code: "invalid_client",
			desc: "Authenticate the client (HTTP Basic or client_secret) to use its refresh token", basic: basic})
	}
	l, next, err := h.Sys.RotateRefreshToken(ctx(c), token, c.RealIP())
	if te := grantError(err); te != nil {
		h.Log.WarnContext(ctx(c), "refresh token refused", "login", prior.ID, "reason", err.Error())
		return writeTokenError(c, te)
	}
	if err != nil {
		return err
	}
	return h.userTokens(c, l, next)
}

// userTokens answers the tokens of a granted login: an access token acting
// as its membership, the refresh token, and an ID token when the scope
// asks for openid.
func (h *OAuth) userTokens(c echo.Context, l logins.Login, refresh string) error {
	project := kit.Deref(l.ProjectID)
	caller, err := h.Sys.ResolveLogin(ctx(c), l.ID, project)
	if errors.Is(err, kit.ErrNotFound) || (err == nil && len(caller.Projects) != 1) {
		return writeTokenError(c, invalidGrant("Invalid profile: the membership of this sign-in is no longer active"))
	}
	if err != nil {
		return err
	}
	a := caller.Projects[0].ProjectAccess
	u := caller.User
	lifetime := userTokenLifetime
	if l.ClientID != "" {
		cl, err := h.Sys.ClientByID(ctx(c), l.ClientID)
		if errors.Is(err, kit.ErrNotFound) || (err == nil && cl.ProjectID != project) {
			return writeTokenError(c, invalidGrant("Invalid client: the client of this sign-in is disabled or gone"))
		}
		if err != nil {
			return err
		}
		lifetime = cl.TokenLifetime
	}
	profile := profileRef(a, u)
	now := time.Now()
	access, err := h.Keys.Issue(oauth.Claims{
		Claims: jwt.Claims{Issuer: Origin(c), Subject: u.ID, IssuedAt: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(now.Add(lifetime)), ID: uuid.NewString()},
		ClientID: l.ClientID, ProjectID: a.Project.ID, Profile: profile.Reference, LoginID: l.ID, Scope: l.Scope,
	})
	if err != nil {
		return err
	}
	out := map[string]any{
		"access_token":  access,
		"token_type":    "Bearer",
		"expires_in":    int(lifetime / time.Second),
		"refresh_token": refresh,
		"scope":         l.Scope,
		"project":       projectRef(a),
		"profile":       profile,
	}
	if l.HasScope("openid") {
		aud := l.ClientID
		if aud == "" {
			aud = Origin(c)
		}
		claims := oauth.IDClaims{
			Claims: jwt.Claims{Issuer: Origin(c), Subject: u.ID, Audience: jwt.Audience{aud}, IssuedAt: jwt.NewNumericDate(now),
				Expiry: jwt.NewNumericDate(now.Add(idTokenLifetime))},
			Nonce: l.Nonce, AuthTime: l.CreatedAt.Unix(), LoginID: l.ID, FHIRUser: profile.Reference,
		}
		if l.HasScope("email") {
			claims.Email = u.Email
		}
		if l.HasScope("profile") {
			claims.Name = u.Name()
		}
		if out["id_token"], err = h.Keys.IssueIDToken(claims); err != nil {
			return err
		}
	}
	h.Log.InfoContext(ctx(c), "user tokens issued", "user", u.ID, "login", l.ID, "project", a.Project.ID)
	c.Response().Header().Set("Pragma", "no-cache")
	return c.JSON(http.StatusOK, out)
}

// Revoke answers POST /oauth2/revoke (RFC 7009): the sign-in of a refresh
// token or a user's access token ends. The answer is 200 whatever the
// token was, so that it tells nothing about tokens it does not know.
func (h *OAuth) Revoke(c echo.Context) error {
	form, terr := tokenForm(c)
	if terr != nil {
		return writeTokenError(c, terr)
	}
	token := form.Get("token")
	if token == "" {
		return writeTokenError(c, badRequest("Missing token"))
	}
	loginID := ""
	if l, err := h.Sys.LoginOfRefreshToken(ctx(c), token); err == nil {
		loginID = l.ID
	} else if !errors.Is(err, kit.ErrNotFound) {
		return err
	} else if h.Keys != nil {
		if claims, err := h.Keys.Verify(token, time.Now()); err == nil {
			loginID = claims.LoginID
		}
	}
	if loginID != "" {
		if err := h.Sys.RevokeLogin(ctx(c), "", loginID, c.RealIP(), "revoked (RFC 7009)"); err != nil && !errors.Is(err, kit.ErrNotFound) {
			return err
		}
		h.Log.InfoContext(ctx(c), "sign-in revoked", "login", loginID)
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.NoContent(http.StatusOK)
}

// Logout answers GET|POST /oauth2/logout with a user's access token: its
// sign-in ends, and every token of it stops working at once.
func (h *OAuth) Logout(c echo.Context, sc models.Scope) error {
	id, err := loginOf(c, sc)
	if err != nil {
		return err
	}
	if err := h.Sys.RevokeLogin(ctx(c), sc.User().ID, id, c.RealIP(), "signed out"); err != nil && !errors.Is(err, kit.ErrNotFound) {
		return err
	}
	h.Log.InfoContext(ctx(c), "signed out", "user", sc.User().ID, "login", id)
	return writeJSON(c, http.StatusOK, outcome("information", "informational", "", "All OK"))
}

// UserInfo answers GET|POST /oauth2/userinfo (OpenID Connect Core §5.3)
// with a user's access token: sub, and the claims its scope asks for.
func (h *OAuth) UserInfo(c echo.Context, sc models.Scope) error {
	if _, err := loginOf(c, sc); err != nil {
		return err
	}
	u, a := sc.User(), sc.Access()
	out := map[string]any{"sub": u.ID, "fhirUser": profileRef(a, u).Reference}
	scope := scopeOf(c)
	if scope["profile"] {
		out["name"], out["given_name"], out["family_name"] = u.Name(), u.FirstName, u.LastName
		out["updated_at"] = u.UpdatedAt.Unix()
	}
	if scope["email"] {
		out["email"], out["email_verified"] = u.Email, u.Verified()
	}
	return c.JSON(http.StatusOK, out)
}
