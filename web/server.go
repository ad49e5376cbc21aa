package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"enclave/handlers"
	"enclave/models"
	"enclave/models/mail"
	"enclave/models/projectops"
	"enclave/models/secrets"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"
)

// Server is Enclave's HTTP server.
type Server struct {
	cfg      Config
	echo     *echo.Echo
	sys      models.System
	sessions *sessionManager
	apiAuth  []apiAuthenticator
	// callers caches resolved callers for CallerCacheTTL, clients the API
	// clients of access tokens.
	callers *callerCache
	clients *clientCache
	logins  *loginCache
	tokens  *tokenCache
	log     *slog.Logger
	metrics *metrics
	// outbox queues mail (nil without the secrets key); sender sends it
	// (nil without a mail server). See setUpMail.
	outbox *mail.Outbox
	sender *mailSender
	// started is when the server was made, for the server page's uptime.
	started time.Time
}

// New builds the server on an open, migrated database.
func New(cfg Config, db *gorm.DB, log *slog.Logger) *Server {
	log = withRequestIDs(log)
	sys := models.NewSystem(db)
	box, err := secrets.NewBox(cfg.SecretsKey)
	if err != nil {
		log.Error("project secrets are unavailable", "err", err)
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	s := &Server{
		cfg:      cfg,
		echo:     e,
		sys:      sys,
		sessions: &sessionManager{store: newDBStore(sys.Sessions(), cfg.SessionKey), secure: cfg.SecureCookies},
		callers:  newCallerCache(CallerCacheTTL, callerCacheSize),
		clients:  newClientCache(),
		logins:   newLoginCache(),
		tokens:   newTokenCache(),
		log:      log,
		metrics:  newMetrics(db, log),
		started:  time.Now(),
	}
	if cfg.OAuthKeys == nil {
		if err := cfg.prepareOAuthKeys(); err != nil {
			log.Error("access tokens are unavailable", "err", err)
		}
		s.cfg.OAuthKeys = cfg.OAuthKeys
	}
	// A bearer token, when sent, decides: a session cookie beside it is
	// not looked at.
	s.apiAuth = []apiAuthenticator{bearerAuth{s: s}, sessionAuth{}}
	e.HTTPErrorHandler = s.handleError
	postman := s.setUpMail(box)
	s.routes(&handlers.Set{
		Auth:       &handlers.Auth{Sys: sys, Sessions: s.sessions, Postman: postman, Log: log},
		Account:    &handlers.Account{Sys: sys, Sessions: s.sessions, Postman: postman, Log: log},
		Projects:   &handlers.Projects{Sys: sys},
		Join:       &handlers.Join{Sys: sys, Sessions: s.sessions, Postman: postman, Log: log},
		Settings:   &handlers.Settings{Sys: sys},
		Policies:   &handlers.Policies{Sys: sys},
		Audit:      &handlers.Audit{Sys: sys},
		Members:    &handlers.Members{Sys: sys, Postman: postman},
		Invites:    &handlers.Invites{Sys: sys},
		Verify:     &handlers.Verify{Sys: sys, Postman: postman},
		Passwords:  &handlers.Passwords{Sys: sys, Sessions: s.sessions, Postman: postman, Log: log},
		Secrets:    &handlers.Secrets{Sys: sys, Box: box},
		Clients:    &handlers.Clients{Sys: sys},
		AdminAPI:   &handlers.AdminAPI{Postman: postman},
		Resources:  &handlers.Resources{Sys: sys},
		FHIR:       &handlers.FHIR{Log: log},
		OAuth:      &handlers.OAuth{Sys: sys, Keys: s.cfg.OAuthKeys, Log: log},
		Logins:     &handlers.Logins{Sys: sys, Accounts: sys, Postman: postman, Log: log},
		Admin:      &handlers.Admin{Sys: sys, Info: s.serverInfo()},
		ProjectOps: &handlers.ProjectOps{Sys: sys, Box: box},
		Ops:        &handlers.Ops{Sys: sys, Box: box, Jobs: projectops.NewJobs(), Log: log},
		Compare:    &handlers.Compare{Sys: sys, Box: box},
		Deletion:   &handlers.Deletion{Sys: sys, Retention: cfg.deletedRetention()},
	})
	s.metrics.learnRoutes(e.Routes())
	return s
}

// ServeHTTP lets tests drive the server without a listener.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Run serves on cfg.Addr, and the metrics on cfg.MetricsAddr when set, until
// ctx is cancelled, then shuts down gracefully, letting requests in flight
// finish for up to ten seconds.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{
		Addr:              s.cfg.Addr,
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Writing may take a little longer than the longest request.
		WriteTimeout: max(60*time.Second, s.cfg.RequestTimeout+10*time.Second),
		IdleTimeout:  120 * time.Second,
	}
	servers := []*http.Server{srv}
	if s.cfg.MetricsAddr != "" {
		servers = append(servers, s.metricsServer())
	}
	errc := make(chan error, len(servers))
	for _, hs := range servers {
		go func() { errc <- hs.ListenAndServe() }()
	}
	go s.sweepSessions(ctx)
	go s.RunRetention(ctx)
	mailCtx, stopMail := context.WithCancel(ctx)
	mailDone := make(chan struct{})
	go func() { defer close(mailDone); s.RunMail(mailCtx) }()
	var err error
	select {
	case err = <-errc:
		// A listener failed (its address taken, say): stop the others too.
	case <-ctx.Done():
		s.log.Info("shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, hs := range servers {
		if serr := hs.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
	}
	stopMail()
	<-mailDone
	return err
}

// sweepSessions deletes expired session rows every hour.
func (s *Server) sweepSessions(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if n, err := s.sys.Sessions().DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("session sweep failed", "err", err)
		} else if n > 0 {
			s.log.Info("expired sessions removed", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Routes lists every registered route, so tests can check each one.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }
