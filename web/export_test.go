package web

import (
	"context"
	"time"
)

// SetCallerClock makes the caller cache read the time from now.
func (s *Server) SetCallerClock(now func() time.Time) {
	s.callers.mu.Lock()
	defer s.callers.mu.Unlock()
	s.callers.now = now
}

// len says how many entries the cache holds.
func (c *callerCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// RequestIDOf returns the id of the request whose context ctx is, or "".
func RequestIDOf(ctx context.Context) string { return requestIDOf(ctx) }
