package web

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"time"

	"enclave/handlers"
	"enclave/models"
	"enclave/models/kit"
	"enclave/models/oauth"

	"github.com/labstack/echo/v4"
)

// clientKey names one API client of one project, as its tokens name it.
type clientKey struct{ project, client string }

// clientCache holds API clients resolved for their tokens (enabled or not,
// policy, project) for CallerCacheTTL, voided on this process by every
// change (kit.AuthEpoch): a disable or delete here applies at once.
type clientCache = epochCache[clientKey, models.ClientCaller]

func newClientCache() *clientCache {
	return newEpochCache[clientKey](CallerCacheTTL, callerCacheSize,
		func(models.ClientCaller, error) time.Time { return time.Time{} })
}

// tokenCache remembers the claims of tokens whose signature passed, by the
// token's SHA-256, for CallerCacheTTL at most and never past the token's
// expiry: a client that sends the same token again and again is checked
// with a hash and a look-up instead of an RSA verification.
type tokenCache = epochCache[[sha256.Size]byte, oauth.Claims]

func newTokenCache() *tokenCache {
	return newEpochCache[[sha256.Size]byte](CallerCacheTTL, callerCacheSize,
		func(c oauth.Claims, _ error) time.Time { return c.Expiry.Time() })
}

// verifyToken checks a token, through the cache. Refused tokens are not
// remembered.
func (s *Server) verifyToken(token string) (oauth.Claims, error) {
	k := sha256.Sum256([]byte(token))
	if e, ok := s.tokens.get(k, 0); ok {
		return e.value, nil
	}
	claims, err := s.cfg.OAuthKeys.Verify(token, time.Now())
	if err == nil {
		s.tokens.put(k, claims, nil, 0)
	}
	return claims, err
}

// bearerAuth accepts the access tokens of the token endpoint: an API
// client's, or a user's (with a login_id). The signature is checked in
// process (once per token while the cache holds it) and the client or the
// login comes from a cache, so a request on the hot path costs no database
// round trip for its credentials.
type bearerAuth struct{ s *Server }

// invalidToken is the 401 of a bearer token that does not pass, with the
// challenge RFC 6750 asks for.
func invalidToken(c echo.Context, msg string) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
	return echo.NewHTTPError(http.StatusUnauthorized, msg)
}

func (a bearerAuth) authenticate(c echo.Context) (apiCaller, bool, error) {
	auth := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return apiCaller{}, false, nil
	}
	s := a.s
	if s.cfg.OAuthKeys == nil {
		return apiCaller{}, true, invalidToken(c, "This server issues no access tokens")
	}
	claims, err := s.verifyToken(strings.TrimSpace(token))
	if err != nil {
		s.loggerFor(c.Request().Context()).Info("access token refused", "reason", err.Error())
		return apiCaller{}, true, invalidToken(c, "The access token is invalid or has expired")
	}
	if p := headerProject(c); p != "" && p != claims.ProjectID {
		return apiCaller{}, true, invalidToken(c, "The access token is for another project than "+ProjectHeader+" names")
	}
	if claims.LoginID != "" {
		return s.userToken(c, claims)
	}
	cc, err := s.resolveClient(c, claims)
	if errors.Is(err, kit.ErrNotFound) || errors.Is(err, models.ErrPolicyMissing) {
		return apiCaller{}, true, invalidToken(c, "The access token's client no longer exists")
	}
	if err != nil {
		return apiCaller{}, true, err
	}
	if !cc.Client.TokenValid(claims.IssuedAt.Time()) {
		return apiCaller{}, true, invalidToken(c, "The access token's client is disabled, or the token was revoked")
	}
	return apiCaller{Client: &cc, ProjectID: claims.ProjectID}, true, nil
}

// resolveClient reads a token's client through the cache.
func (s *Server) resolveClient(c echo.Context, claims oauth.Claims) (models.ClientCaller, error) {
	k := clientKey{project: claims.ProjectID, client: claims.ClientID}
	epoch := kit.AuthEpoch() // before the query, as for callers
	if e, ok := s.clients.get(k, epoch); ok {
		return e.value, e.err
	}
	cc, err := s.sys.ResolveClient(c.Request().Context(), claims.ProjectID, claims.ClientID)
	if err != nil && !errors.Is(err, kit.ErrNotFound) && !errors.Is(err, models.ErrPolicyMissing) {
		return cc, err
	}
	s.clients.put(k, cc, err, epoch)
	return cc, err
}

// loginKey names a user's login and the project its token is for.
type loginKey struct{ login, project string }

// loginCache holds the callers of users' access tokens, resolved from
// their logins (user, membership, project, policy), like clientCache: a
// sign-out, a revoked login or a removed membership applies at once on this
// process, and within CallerCacheTTL on the others.
type loginCache = epochCache[loginKey, models.Caller]

func newLoginCache() *loginCache {
	return newEpochCache[loginKey](CallerCacheTTL, callerCacheSize,
		func(models.Caller, error) time.Time { return time.Time{} })
}

// userToken accepts the access token of a user's login: it acts as the
// login's membership, under its access policy, while the login is neither
// revoked nor its membership gone.
func (s *Server) userToken(c echo.Context, claims oauth.Claims) (apiCaller, bool, error) {
	k := loginKey{login: claims.LoginID, project: claims.ProjectID}
	epoch := kit.AuthEpoch() // before the query, as for callers
	e, ok := s.logins.get(k, epoch)
	if !ok {
		caller, err := s.sys.ResolveLogin(c.Request().Context(), claims.LoginID, claims.ProjectID)
		if err != nil && !errors.Is(err, kit.ErrNotFound) {
			return apiCaller{}, true, err
		}
		s.logins.put(k, caller, err, epoch)
		e = cacheEntry[models.Caller]{value: caller, err: err}
	}
	switch {
	case e.err != nil:
		return apiCaller{}, true, invalidToken(c, "The access token's sign-in has ended (signed out or revoked)")
	case len(e.value.Projects) == 0 || e.value.User.ID != claims.Subject:
		return apiCaller{}, true, invalidToken(c, "The access token's membership of the project is no longer active")
	}
	if claims.ClientID != "" {
		// A token issued through an API client dies with the client.
		cc, err := s.resolveClient(c, claims)
		if err != nil && !errors.Is(err, kit.ErrNotFound) && !errors.Is(err, models.ErrPolicyMissing) {
			return apiCaller{}, true, err
		}
		if err != nil || !cc.Client.TokenValid(claims.IssuedAt.Time()) {
			return apiCaller{}, true, invalidToken(c, "The access token's client is disabled or gone")
		}
	}
	handlers.SetTokenScope(c, claims.Scope)
	return apiCaller{Resolved: e.value, ProjectID: claims.ProjectID}, true, nil
}
