package web

import "github.com/labstack/echo/v4"

// Echo exposes the router, so tests can mount a route that misbehaves on
// purpose (a panic, a slow handler) behind the real middleware.
func (s *Server) Echo() *echo.Echo { return s.echo }
