package webtest

import (
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
