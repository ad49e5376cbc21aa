package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// TestHTTPSBehindTrustedProxy: behind a TLS-terminating proxy that is
// trusted (ENCLAVE_TRUSTED_PROXIES), X-Forwarded-Proto: https makes the
// session and CSRF cookies Secure and sends HSTS; the same header from a
// client that is not a trusted proxy changes nothing.
func TestHTTPSBehindTrustedProxy(t *testing.T) {
	db := testdb.SQLite(t)
	loopback, err := web.ParseTrustedProxies("127.0.0.1/32,::1/128")
	if err != nil {
		t.Fatal(err)
	}
	for _, trusted := range []bool{false, true} {
		app := webtest.NewWith(t, db, func(c *web.Config) {
			if trusted {
				c.TrustedProxies = loopback
			}
		})
		c := app.Client()
		c.Header("X-Forwarded-Proto", "https")
		page := c.Get("/register").Status(http.StatusOK)
		r := c.PostForm("/register", url.Values{"firstName": {"A"}, "lastName": {"B"},
			"email": {map[bool]string{false: "direct@example.org", true: "proxied@example.org"}[trusted]}, "password": {"password-123"}})
		secure := map[string]bool{}
		for _, resp := range []*webtest.Response{page, r} {
			for _, ck := range resp.Resp.Cookies() {
				secure[ck.Name] = ck.Secure
			}
		}
		if len(secure) < 2 || secure["enclave_session"] != trusted || secure["enclave_csrf"] != trusted {
			t.Errorf("trusted=%v: cookies Secure: %v", trusted, secure)
		}
		if hsts := page.Resp.Header.Get("Strict-Transport-Security"); (hsts != "") != trusted {
			t.Errorf("trusted=%v: HSTS %q", trusted, hsts)
		}
	}
}
