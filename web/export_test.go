package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"enclave/models/oauth"

	"github.com/labstack/echo/v4"
)

// SetCallerClock makes the caller cache read the time from now.
func (s *Server) SetCallerClock(now func() time.Time) {
	s.callers.mu.Lock()
	defer s.callers.mu.Unlock()
	s.callers.now = now
}

// len says how many entries the cache holds.
func (c *epochCache[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// RequestIDOf returns the id of the request whose context ctx is, or "".
func RequestIDOf(ctx context.Context) string { return requestIDOf(ctx) }

// RouteOf is what the router makes of a request for target: the pattern of
// the route it picks and its parameters' values, unescaped as the path was.
func (s *Server) RouteOf(method, target string) (pattern string, params []string) {
	u, err := url.Parse(target)
	if err != nil {
		return "", nil
	}
	req := &http.Request{Method: method, URL: u, Header: http.Header{}}
	c := s.echo.NewContext(req, httptest.NewRecorder())
	s.echo.Router().Find(method, echo.GetPath(req), c)
	params = c.ParamValues()
	if req.URL.RawPath != "" {
		// echo routed on the escaped path, so its values are escaped.
		for i, v := range params {
			if u, err := url.PathUnescape(v); err == nil {
				params[i] = u
			}
		}
	}
	return c.Path(), params
}

// RegisteredRoute returns the pattern of the route echo's router picks for method
// and path (e.g. "/projects/:project"), or "" when none serves that method
// there.
func (s *Server) RegisteredRoute(method, path string) string {
	c := s.echo.NewContext(httptest.NewRequest(method, path, nil), nil)
	s.echo.Router().Find(method, path, c)
	for _, r := range s.echo.Routes() {
		if r.Method == method && r.Path == c.Path() {
			return r.Path
		}
	}
	return ""
}

// OAuthKeys are the keys the server signs and verifies access tokens with.
func (s *Server) OAuthKeys() *oauth.Keys { return s.cfg.OAuthKeys }

// DataDir is the server's data directory.
func (s *Server) DataDir() string { return s.cfg.DataDir }
