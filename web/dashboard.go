package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"enclave/handlers"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Version is the server's version, shown on the super admin's server page.
// Release builds set it: go build -ldflags "-X enclave/web.Version=1.4.0".
var Version = "dev"

// requireSuperAdmin lets only super admins through to the dashboard; to
// everyone else, signed in or not, it does not exist.
func (s *Server) requireSuperAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if caller, ok := callerOf(c); !ok || !caller.SuperAdmin() {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// errOperatorReadOnly refuses a change through a super admin's operator
// view of a project (see requireMember).
var errOperatorReadOnly = echo.NewHTTPError(http.StatusForbidden,
	"The operator view of a project is read-only: only the project's own admins can make this change.")

// passwordChangeRoutes are what an account with a temporary password may
// reach: choosing a new one, and signing out.
var passwordChangeRoutes = map[string]bool{paths.ChoosePassword.Pattern(): true, paths.SignOut.Pattern(): true}

// requirePasswordChosen sends an account whose password must change (a
// temporary one, set by a super admin) to the page that changes it, from
// every console page but that one and sign-out.
func (s *Server) requirePasswordChosen(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, ok := handlers.CurrentUser(c)
		if !ok || !u.MustChangePassword || passwordChangeRoutes[c.Path()] {
			return next(c)
		}
		if handlers.IsHTMX(c) {
			c.Response().Header().Set("HX-Redirect", paths.ChoosePassword.URL())
			return c.NoContent(http.StatusOK)
		}
		return c.Redirect(http.StatusSeeOther, paths.ChoosePassword.URL())
	}
}

// settingsInEffect is the configuration the server runs with, for the
// super admin's server page: every secret masked, saying only whether it is
// set and where from.
func (s *Server) settingsInEffect() []handlers.Setting {
	c := s.cfg
	set := func(v string) string {
		if v == "" {
			return "(unset)"
		}
		return v
	}
	secret := func(set bool, from string) string {
		if !set {
			return "(unset)"
		}
		return "•••••• (" + from + ")"
	}
	database := "embedded SQLite in the data directory"
	if c.DatabaseURL != "" {
		database = maskURL(c.DatabaseURL)
	}
	var proxies []string
	for _, p := range c.TrustedProxies {
		proxies = append(proxies, p.String())
	}
	keyFrom := func(fromEnv bool) string {
		if fromEnv {
			return "from the environment"
		}
		return "generated in the data directory"
	}
	return []handlers.Setting{
		{Name: "ENCLAVE_ADDR", Value: set(c.Addr)},
		{Name: "ENCLAVE_DATA_DIR", Value: set(c.DataDir)},
		{Name: "DATABASE_URL", Value: database},
		{Name: "ENCLAVE_BASE_URL", Value: set(c.BaseURL)},
		{Name: "ENCLAVE_TRUSTED_PROXIES", Value: set(strings.Join(proxies, ", "))},
		{Name: "ENCLAVE_SESSION_KEY", Value: secret(len(c.SessionKey) > 0, "set")},
		{Name: "ENCLAVE_SECRETS_KEY", Value: secret(len(c.SecretsKey) > 0, keyFrom(c.SecretsKeyFromEnv))},
		{Name: "ENCLAVE_OAUTH_KEY", Value: secret(c.OAuthKeys != nil, keyFrom(c.oauthKeyText != ""))},
		{Name: "ENCLAVE_SECURE_COOKIES", Value: strconv.FormatBool(c.SecureCookies)},
		{Name: "ENCLAVE_REQUEST_TIMEOUT", Value: c.RequestTimeout.String()},
		{Name: "ENCLAVE_DELETED_RETENTION", Value: c.deletedRetention().String()},
		{Name: "ENCLAVE_DB_MAX_CONNS", Value: s.poolSize()},
		{Name: "ENCLAVE_METRICS_ADDR", Value: set(c.MetricsAddr)},
		{Name: "ENCLAVE_METRICS_TOKEN", Value: secret(c.MetricsToken != "", "set")},
		{Name: "ENCLAVE_SMTP_HOST", Value: set(c.SMTP.Host)},
		{Name: "ENCLAVE_SMTP_PORT", Value: set(c.SMTP.Port)},
		{Name: "ENCLAVE_SMTP_USERNAME", Value: set(c.SMTP.Username)},
		{Name: "ENCLAVE_SMTP_PASSWORD", Value: secret(c.SMTP.Password != "", "set")},
		{Name: "ENCLAVE_SMTP_FROM", Value: set(c.SMTP.From)},
	}
}

// poolSize is the database pool's size as it is in effect.
func (s *Server) poolSize() string {
	db, err := s.sys.DB().DB()
	if err != nil {
		return "(unknown)"
	}
	return strconv.Itoa(db.Stats().MaxOpenConnections)
}

// maskURL is a database URL with its password masked.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "•••••• (unreadable URL)"
	}
	return u.Redacted()
}

// serverInfo is what the server page says of this process.
func (s *Server) serverInfo() handlers.ServerInfo {
	return handlers.ServerInfo{Version: Version, Started: s.started, Settings: s.settingsInEffect}
}
