package web

import (
	"net"
	"net/http"
	"strings"

	"enclave/handlers"

	"github.com/labstack/echo/v4"
)

// ipExtractor finds the client's address: the peer's own, unless the peer is
// a configured trusted proxy, whose X-Forwarded-For is then believed. Echo
// trusts loopback, link-local and private peers by default; only the
// configured ranges are trusted here.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		// Never trust X-Forwarded-For from arbitrary clients (see STACK-NOTES).
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// publicOrigin records the scheme and host that absolute links of this
// request start with (see Server.origin).
func (s *Server) publicOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		handlers.SetOrigin(c, s.origin(c.Request()))
		handlers.SetMailConfigured(c, s.cfg.SMTP.Host != "")
		if s.viaHTTPS(c.Request()) {
			c.Set(keyHTTPS, true)
			c.Response().Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// origin is ENCLAVE_BASE_URL when set. Otherwise it is the request's Host
// with the scheme of the connection itself; a trusted proxy's
// X-Forwarded-Proto and X-Forwarded-Host replace them. Echo's c.Scheme()
// believes X-Forwarded-Proto from anyone, so it is not used.
func (s *Server) origin(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if s.trustedPeer(r) {
		switch p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p {
		case "http", "https":
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
			host = h
		}
	}
	return scheme + "://" + host
}

// keyHTTPS marks, in the echo context, a request that reached Enclave over
// HTTPS, directly or through a trusted proxy.
const keyHTTPS = "enclave.https"

// viaHTTPS reports whether the browser's connection is HTTPS: Enclave's own
// TLS, or a trusted proxy's X-Forwarded-Proto saying so. Cookies are then
// marked Secure and HSTS is sent.
func (s *Server) viaHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return s.trustedPeer(r) && strings.EqualFold(firstValue(r.Header.Get("X-Forwarded-Proto")), "https")
}

// isHTTPS reports what viaHTTPS said of this request.
func isHTTPS(c echo.Context) bool {
	ok, _ := c.Get(keyHTTPS).(bool)
	return ok
}

// trustedPeer reports whether the connection comes from a trusted proxy.
func (s *Server) trustedPeer(r *http.Request) bool {
	if len(s.cfg.TrustedProxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range s.cfg.TrustedProxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// firstValue is the first of a header's comma-separated values: the one the
// proxy nearest the client set.
func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// validHost accepts a host[:port] made only of the characters a host name,
// an IPv4 or a bracketed IPv6 address and a port use.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(".-:[]", r):
		default:
			return false
		}
	}
	return true
}
