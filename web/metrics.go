package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"enclave/views/paths"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gorm.io/gorm"
)

// unmatchedRoute labels requests that matched no registered route, so that
// probing for random paths cannot mint new series.
const unmatchedRoute = "unmatched"

// metrics is one server's Prometheus registry. Each Server has its own, not
// the client library's global one, so that tests can run many servers in
// one process.
type metrics struct {
	registry *prometheus.Registry
	handler  http.Handler
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	backlog  *backlogCollector
	// routes holds the patterns of the routes registered when the server
	// was built: the only values the route label takes, besides
	// unmatchedRoute.
	routes map[string]bool
}

func newMetrics(db *gorm.DB, log *slog.Logger) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enclave_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "enclave_http_request_duration_seconds",
			Help: "Time taken to answer HTTP requests, by route pattern and method.",
			// Up to the default request timeout, past which requests fail.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		backlog: &backlogCollector{log: log, desc: prometheus.NewDesc("enclave_outbox_backlog",
			"Emails waiting in the outbox to be sent.", nil, nil)},
	}
	m.registry.MustRegister(m.requests, m.duration, m.backlog,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// One database/sql pool serves GORM and the pgx pipelines alike (see
	// models/pipeline.go), so its statistics cover every connection.
	if sqlDB, err := db.DB(); err != nil {
		log.Warn("database pool metrics are unavailable", "err", err)
	} else {
		m.registry.MustRegister(collectors.NewDBStatsCollector(sqlDB, "enclave"))
	}
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelError),
		MaxRequestsInFlight: 4,
	})
	return m
}

// learnRoutes records the route patterns the route label may take.
func (m *metrics) learnRoutes(routes []*echo.Route) {
	m.routes = map[string]bool{}
	for _, r := range routes {
		if r.Method != echo.RouteNotFound {
			m.routes[r.Path] = true
		}
	}
}

// observe counts one answered request and its duration under its route
// pattern (c.Path(), never the path itself, whose ids would make a series
// per resource).
func (m *metrics) observe(c echo.Context, d time.Duration) {
	route := c.Path()
	if !m.routes[route] {
		route = unmatchedRoute
	}
	method := methodLabel(c.Request().Method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

// methodLabel keeps the method label to the methods Enclave answers: a
// client may send any token as its method.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}

// backlogCollector exports enclave_outbox_backlog by calling count at each
// scrape. Until count is set the gauge is absent rather than a false zero.
type backlogCollector struct {
	desc  *prometheus.Desc
	log   *slog.Logger
	count atomic.Pointer[func(context.Context) (int64, error)]
}

func (b *backlogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	count := b.count.Load()
	if count == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := (*count)(ctx)
	if err != nil {
		b.log.Warn("outbox backlog not counted", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, float64(n))
}

// SetOutboxBacklog sets how the enclave_outbox_backlog gauge counts the
// emails waiting in the outbox; it is called at each scrape, under a
// five-second deadline. The gauge is not exported until this is set, nor
// when count fails (the failure is logged).
func (s *Server) SetOutboxBacklog(count func(context.Context) (int64, error)) {
	s.metrics.backlog.count.Store(&count)
}

// metricsWithToken serves the metrics on the public listener to a caller
// that sends ENCLAVE_METRICS_TOKEN as a bearer token; anyone else gets the
// same 404 as for a path that does not exist.
func (s *Server) metricsWithToken(c echo.Context) error {
	if !bearerIs(c.Request(), s.cfg.MetricsToken) {
		return echo.ErrNotFound
	}
	s.metrics.handler.ServeHTTP(c.Response(), c.Request())
	return nil
}

// bearerIs reports whether the request's Authorization header carries the
// bearer token want. The comparison takes the same time whatever the token
// sent, its length included.
func bearerIs(r *http.Request, want string) bool {
	scheme, got, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || want == "" {
		return false
	}
	g, w := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// metricsServer is the listener of ENCLAVE_METRICS_ADDR: /metrics and
// nothing else, without a token, since only the network it listens on can
// reach it.
func (s *Server) metricsServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET "+paths.Metrics.Pattern(), s.metrics.handler)
	return &http.Server{
		Addr:              s.cfg.MetricsAddr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
}
