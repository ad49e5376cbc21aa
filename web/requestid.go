package web

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// maxRequestIDLen bounds an X-Request-ID taken from a trusted proxy.
const maxRequestIDLen = 128

type requestIDKey struct{}

// requestID names the request in the response's X-Request-ID header and in
// the log: the id a trusted proxy sent, when it is short and plain, so that
// the proxy's log and ours can be matched; otherwise a new random one. An
// id from anyone else is ignored, so a client cannot make its requests pass
// for another's in the log.
func (s *Server) requestID(r *http.Request) string {
	if id := r.Header.Get(echo.HeaderXRequestID); s.trustedPeer(r) && plainRequestID(id) {
		return id
	}
	return rand.Text()
}

// plainRequestID accepts ids made of letters, digits and -_.:+/= (UUIDs,
// hex and base64 ids), which a log line shows as they are.
func plainRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '-', r == '_', r == '.', r == ':', r == '+', r == '/', r == '=':
		default:
			return false
		}
	}
	return true
}

// withRequestID returns ctx carrying the request id.
func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestIDOf returns the request id ctx carries, or "".
func requestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestIDHandler adds request_id to every record logged with a request's
// context (InfoContext, LogAttrs, ...), or to every record when bound to one
// request (see loggerFor). Server.New wraps its logger in it, so the loggers
// handlers get add it too when given the request's context.
type requestIDHandler struct {
	slog.Handler
	id string
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	id := h.id
	if id == "" {
		id = requestIDOf(ctx)
	}
	if id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithAttrs(attrs), id: h.id}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithGroup(name), id: h.id}
}

// withRequestIDs wraps log so that records logged with a request's context
// carry its id.
func withRequestIDs(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(requestIDHandler); ok {
		return log
	}
	return slog.New(requestIDHandler{Handler: log.Handler()})
}

// loggerFor returns the server's logger bound to the request of ctx, for
// code that logs without passing a context (handlers.FHIRError).
func (s *Server) loggerFor(ctx context.Context) *slog.Logger {
	h, ok := s.log.Handler().(requestIDHandler)
	id := requestIDOf(ctx)
	if !ok || id == "" {
		return s.log
	}
	return slog.New(requestIDHandler{Handler: h.Handler, id: id})
}
