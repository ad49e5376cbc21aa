package webtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Token posts form to the token endpoint, form-encoded, with the extra
// headers (name, value pairs), e.g. HTTP Basic credentials.
func (c *Client) Token(form url.Values, headers ...string) *Response {
	c.app.T.Helper()
	h := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)
	return c.API(http.MethodPost, "/oauth2/token", form.Encode(), h...)
}

// ClientToken signs an API client in with the client_credentials grant and
// returns its access token, failing the test unless that works.
func (c *Client) ClientToken(id, secret string) string {
	c.app.T.Helper()
	r := c.Token(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}).
		Status(http.StatusOK)
	tok, _ := r.JSON()["access_token"].(string)
	if strings.Count(tok, ".") != 2 {
		c.app.T.Fatalf("no access token in %s", r.Body)
	}
	return tok
}

// PKCE is a code verifier with its S256 challenge (RFC 7636).
type PKCE struct{ Verifier, Challenge string }

// NewPKCE makes a random verifier and its challenge.
func NewPKCE() PKCE {
	v := rand.Text() + rand.Text() // 52 characters of base32
	sum := sha256.Sum256([]byte(v))
	return PKCE{Verifier: v, Challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// Login posts body (JSON) to /auth/login as Medplum's SDK does
// (application/fhir+json).
func (c *Client) Login(body map[string]any) *Response {
	c.app.T.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		c.app.T.Fatal(err)
	}
	return c.API(http.MethodPost, "/auth/login", string(b))
}

// LoginCode signs email in (the test password) with an S256 challenge and
// returns the one-time code and the verifier, failing the test unless the
// answer is a code.
func (c *Client) LoginCode(email string, extra map[string]any) (code string, pkce PKCE) {
	c.app.T.Helper()
	pkce = NewPKCE()
	body := map[string]any{"email": email, "password": "password-123", "codeChallenge": pkce.Challenge,
		"codeChallengeMethod": "S256", "clientId": ""}
	for k, v := range extra {
		body[k] = v
	}
	r := c.Login(body).Status(http.StatusOK)
	code, _ = r.JSON()["code"].(string)
	if code == "" {
		c.app.T.Fatalf("no code in %s", r.Body)
	}
	return code, pkce
}

// RedeemCode trades a code for tokens as the SDK in Node does (empty
// client_id and redirect_uri).
func (c *Client) RedeemCode(code, verifier string) *Response {
	c.app.T.Helper()
	return c.Token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"client_id": {""}, "redirect_uri": {""}})
}

// UserTokens signs email in through /auth/login and the token endpoint
// and returns the token answer.
func (c *Client) UserTokens(email string) map[string]any {
	c.app.T.Helper()
	code, pkce := c.LoginCode(email, nil)
	return c.RedeemCode(code, pkce.Verifier).Status(http.StatusOK).JSON()
}
