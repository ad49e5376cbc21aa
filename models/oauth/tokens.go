package oauth

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// tokenType is the "typ" header of an access token (RFC 9068), so that no
// other JWT the server signs can pass for one.
const tokenType = "at+jwt"

// leeway is how far apart the clocks of the instances that issue and check
// a token may be.
const leeway = 5 * time.Second

// Claims are an access token's claims: the registered ones (iss, sub, exp,
// iat, jti) and Enclave's.
type Claims struct {
	jwt.Claims
	// ClientID is the API client the token was issued to (what Medplum's
	// SDK compares with the client id it was given).
	ClientID string `json:"client_id,omitempty"`
	// ProjectID is the one project the token works in.
	ProjectID string `json:"project_id"`
	// Profile is the token's principal as a FHIR reference, e.g.
	// "ClientApplication/<id>", or a member's "Practitioner/<id>".
	Profile string `json:"profile,omitempty"`
	// LoginID is the login a user's token belongs to (what Medplum's SDK
	// looks for to call /auth/me); empty for an API client's token.
	LoginID string `json:"login_id,omitempty"`
	// Scope is what the program asked for at sign-in, for a user's token.
	Scope string `json:"scope,omitempty"`
}

// IDClaims are an OpenID Connect ID token's claims.
type IDClaims struct {
	jwt.Claims
	Nonce    string `json:"nonce,omitempty"`
	AuthTime int64  `json:"auth_time,omitempty"`
	LoginID  string `json:"login_id,omitempty"`
	// FHIRUser is the member's profile as a FHIR reference (SMART).
	FHIRUser string `json:"fhirUser,omitempty"`
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"`
}

// IssueIDToken signs an ID token with the current key. Its type is JWT,
// not at+jwt, so it never passes for an access token.
func (k *Keys) IssueIDToken(c IDClaims) (string, error) {
	k.refreshNow()
	return jwt.Signed(k.snapshot().idSigner).Claims(c).Serialize()
}

// ErrInvalidToken refuses a token: malformed, signed by no key of this
// server, of another type, expired, or not yet valid. The wrapped text says
// which, for the log only.
var ErrInvalidToken = errors.New("invalid token")

// Issue signs c with the current key.
func (k *Keys) Issue(c Claims) (string, error) {
	k.refreshNow()
	return jwt.Signed(k.snapshot().signer).Claims(c).Serialize()
}

// Verify checks a token's signature with the key its header names, its type
// and its times at now, and returns its claims.
func (k *Keys) Verify(token string, now time.Time) (Claims, error) {
	var c Claims
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return c, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].ExtraHeaders[jose.HeaderType] != tokenType {
		return c, fmt.Errorf("%w: not an access token", ErrInvalidToken)
	}
	kid := tok.Headers[0].KeyID
	key, ok := k.snapshot().verify[kid]
	if !ok {
		// A key another process added (rotate-key) may be new to us.
		_ = k.Refresh()
		if key, ok = k.snapshot().verify[kid]; !ok {
			return c, fmt.Errorf("%w: unknown key %q", ErrInvalidToken, kid)
		}
	}
	if err := tok.Claims(key.Key.Public().Key, &c); err != nil {
		return c, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if c.Expiry == nil || c.IssuedAt == nil {
		return c, fmt.Errorf("%w: no exp or iat", ErrInvalidToken)
	}
	if err := c.Claims.ValidateWithLeeway(jwt.Expected{Time: now}, leeway); err != nil {
		return c, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return c, nil
}
