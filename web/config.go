// Package web wires Enclave's HTTP server: configuration, the echo router,
// middleware (sessions, CSRF, authentication, the tenant boundary) and error
// rendering.
package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"enclave/models"
	"enclave/models/oauth"
)

// Config is the server's configuration, read from the environment.
type Config struct {
	Addr        string // ENCLAVE_ADDR
	DataDir     string // ENCLAVE_DATA_DIR
	DatabaseURL string // DATABASE_URL; empty selects embedded SQLite
	SessionKey  []byte // ENCLAVE_SESSION_KEY, or generated into DataDir
	// SecretsKey seals project secrets: ENCLAVE_SECRETS_KEY (base64 of 32
	// bytes), or generated into DataDir/secrets.key (see secretkey.go).
	SecretsKey        []byte
	SecretsKeyFromEnv bool
	secretsKeyText    string
	// SecureCookies forces the Secure flag even when Enclave itself serves
	// plain HTTP behind a TLS-terminating proxy (ENCLAVE_SECURE_COOKIES=1).
	SecureCookies bool
	// BaseURL is the public address, e.g. https://enclave.example.org
	// (ENCLAVE_BASE_URL). Every absolute link uses it: invite links, and the
	// API's Location headers and Bundle links (under BaseURL + "/fhir/R4").
	// When empty they use the request's Host and the scheme of the
	// connection (or, from a trusted proxy, its X-Forwarded-* headers).
	BaseURL string
	// TrustedProxies are the peers whose X-Forwarded-For, -Proto and -Host
	// headers are believed (ENCLAVE_TRUSTED_PROXIES, read by
	// ParseTrustedProxies). Empty: no one's are.
	TrustedProxies []*net.IPNet
	// SMTP sends invite links by mail when its Host is set.
	SMTP SMTPConfig
	// RequestTimeout bounds each request, its database work included
	// (ENCLAVE_REQUEST_TIMEOUT, read by ParseRequestTimeout); zero means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MetricsAddr is a listener that serves only /metrics
	// (ENCLAVE_METRICS_ADDR); empty: none.
	MetricsAddr string
	// MetricsToken opens /metrics on the public listener to requests that
	// send it as a bearer token (ENCLAVE_METRICS_TOKEN); empty: closed.
	MetricsToken string
	// OAuthKeys sign and verify access tokens: ENCLAVE_OAUTH_KEY (PEM, with
	// ENCLAVE_OAUTH_PREVIOUS_KEY still verifying), or the key set in
	// DataDir/oauth-keys.json (see oauthkey.go).
	OAuthKeys            *oauth.Keys
	oauthKeyText         string
	oauthPreviousKeyText string
	// DeletedRetention is how long a deleted project waits before the
	// server expunges it, during which a super admin can restore it
	// (ENCLAVE_DELETED_RETENTION, read by ParseDeletedRetention); zero
	// means models.DefaultDeletedRetention.
	DeletedRetention time.Duration
}

// The range ENCLAVE_DELETED_RETENTION accepts.
const (
	minDeletedRetention = time.Minute
	maxDeletedRetention = 10 * 365 * 24 * time.Hour
)

// ParseDeletedRetention reads the ENCLAVE_DELETED_RETENTION setting: a
// duration such as "168h" or "720h" from 1m to ten years; empty means
// models.DefaultDeletedRetention (seven days).
func ParseDeletedRetention(s string) (time.Duration, error) {
	return parseDuration("ENCLAVE_DELETED_RETENTION", s, models.DefaultDeletedRetention, minDeletedRetention, maxDeletedRetention,
		"from 1m to 87600h (ten years), like 168h for seven days")
}

// deletedRetention is the retention in effect.
func (c Config) deletedRetention() time.Duration {
	if c.DeletedRetention <= 0 {
		return models.DefaultDeletedRetention
	}
	return c.DeletedRetention
}

// minMetricsToken is the shortest ENCLAVE_METRICS_TOKEN accepted.
const minMetricsToken = 16

// DefaultRequestTimeout is how long a request may run when
// ENCLAVE_REQUEST_TIMEOUT is not set.
const DefaultRequestTimeout = 30 * time.Second

// The range ENCLAVE_REQUEST_TIMEOUT accepts.
const (
	minRequestTimeout = time.Second
	maxRequestTimeout = 10 * time.Minute
)

// ParseRequestTimeout reads the ENCLAVE_REQUEST_TIMEOUT setting: a duration
// such as "30s" or "2m" from 1s to 10m; empty means DefaultRequestTimeout.
func ParseRequestTimeout(s string) (time.Duration, error) {
	return parseDuration("ENCLAVE_REQUEST_TIMEOUT", s, DefaultRequestTimeout, minRequestTimeout, maxRequestTimeout,
		fmt.Sprintf("from %s to %s, like 30s or 2m", minRequestTimeout, maxRequestTimeout))
}

// parseDuration reads the duration setting name from s: def when s is
// empty, an error that says what it takes (want) when s is not a duration
// from lo to hi.
func parseDuration(name, s string, def, lo, hi time.Duration, want string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("%s must be a duration %s, not %q", name, want, s)
	}
	return d, nil
}

// ParseTrustedProxies reads the ENCLAVE_TRUSTED_PROXIES setting: address
// ranges in CIDR notation (a bare address means just that one), separated by
// commas; empty means no proxy is trusted.
func ParseTrustedProxies(s string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			if ip := net.ParseIP(part); ip != nil {
				bits := 8 * net.IPv6len
				if ip.To4() != nil {
					ip, bits = ip.To4(), 8*net.IPv4len
				}
				out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
				continue
			}
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("ENCLAVE_TRUSTED_PROXIES must be address ranges separated by commas, like 10.0.0.0/8,127.0.0.1/32, not %q", part)
		}
		out = append(out, n)
	}
	return out, nil
}

// SMTPConfig is the mail server for invite emails (ENCLAVE_SMTP_*).
type SMTPConfig struct {
	Host     string
	Port     string // default 587; 465 means TLS from the first byte
	Username string // empty: no authentication
	Password string
	From     string
}

// ConfigFromEnv reads the configuration; lookup is os.Getenv in production.
func ConfigFromEnv(lookup func(string) string) Config {
	c := Config{
		Addr:          lookup("ENCLAVE_ADDR"),
		DataDir:       lookup("ENCLAVE_DATA_DIR"),
		DatabaseURL:   lookup("DATABASE_URL"),
		SecureCookies: lookup("ENCLAVE_SECURE_COOKIES") == "1",
	}
	c.BaseURL = strings.TrimRight(lookup("ENCLAVE_BASE_URL"), "/")
	c.MetricsAddr = strings.TrimSpace(lookup("ENCLAVE_METRICS_ADDR"))
	c.MetricsToken = lookup("ENCLAVE_METRICS_TOKEN")
	c.SMTP = SMTPConfig{Host: lookup("ENCLAVE_SMTP_HOST"), Port: lookup("ENCLAVE_SMTP_PORT"),
		Username: lookup("ENCLAVE_SMTP_USERNAME"), Password: lookup("ENCLAVE_SMTP_PASSWORD"), From: lookup("ENCLAVE_SMTP_FROM")}
	if c.SMTP.Port == "" {
		c.SMTP.Port = "587"
	}
	c.secretsKeyText = lookup("ENCLAVE_SECRETS_KEY")
	c.oauthKeyText, c.oauthPreviousKeyText = lookup("ENCLAVE_OAUTH_KEY"), lookup("ENCLAVE_OAUTH_PREVIOUS_KEY")
	c.SecretsKeyFromEnv = c.secretsKeyText != ""
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if k := lookup("ENCLAVE_SESSION_KEY"); k != "" {
		c.SessionKey = []byte(k)
	}
	return c
}

// PrepareDataDir makes sure the data directory exists and is writable, and
// loads or creates the session, secrets and OAuth keys in it when none were
// configured.
func (c *Config) PrepareDataDir() error {
	if err := models.MakePrivateDir(c.DataDir); err != nil {
		return fmt.Errorf("data directory %s cannot be created: %s", c.DataDir, errText(err))
	}
	probe := filepath.Join(c.DataDir, ".write-test")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		return fmt.Errorf("data directory %s is not writable: %s", c.DataDir, errText(err))
	}
	os.Remove(probe)
	if err := c.prepareSecretsKey(); err != nil {
		return err
	}
	if err := c.prepareOAuthKeys(); err != nil {
		return err
	}
	if len(c.SessionKey) > 0 {
		if len(c.SessionKey) < 32 {
			return errors.New("ENCLAVE_SESSION_KEY must be at least 32 characters")
		}
		return nil
	}
	key, err := loadOrCreateKey(filepath.Join(c.DataDir, "session.key"))
	if err != nil {
		return err
	}
	c.SessionKey = key
	return nil
}

// loadOrCreateKey reads a base64 key file, creating it with 32 random bytes
// on first start.
func loadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 32 {
			return nil, fmt.Errorf("%s is not a valid key file (delete it to generate a new one; existing sessions end)", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %s", path, errText(err))
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := writePrivateFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n")); err != nil {
		return nil, fmt.Errorf("%s: %s", path, errText(err))
	}
	return key, nil
}

// writePrivateFile creates (or truncates) the file at path, sets its mode to
// 0600 explicitly, so that no umask can change it, and writes data to disk.
func writePrivateFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// errText drops the operation and path that os errors repeat.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// CheckMail validates the base URL and the mail settings, so that a typo
// fails at start-up rather than at the first invitation.
func (c Config) CheckMail() error {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("ENCLAVE_BASE_URL must be an http:// or https:// address, like https://enclave.example.org")
		}
	}
	if c.SMTP.Host == "" {
		return nil
	}
	if c.BaseURL == "" {
		return errors.New("ENCLAVE_BASE_URL is required when ENCLAVE_SMTP_HOST is set: mailed invite links need the console's public address")
	}
	if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
		return errors.New("ENCLAVE_SMTP_FROM must be an email address when ENCLAVE_SMTP_HOST is set")
	}
	if n, err := strconv.Atoi(c.SMTP.Port); err != nil || n < 1 || n > 65535 {
		return errors.New("ENCLAVE_SMTP_PORT must be a port number")
	}
	return nil
}

// CheckMetrics validates the metrics settings, so that a typo fails at
// start-up rather than at the first scrape.
func (c Config) CheckMetrics() error {
	if c.MetricsToken != "" && (len(c.MetricsToken) < minMetricsToken || strings.ContainsAny(c.MetricsToken, " \t\r\n")) {
		return fmt.Errorf("ENCLAVE_METRICS_TOKEN must be at least %d characters without spaces", minMetricsToken)
	}
	if c.MetricsAddr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		return fmt.Errorf("ENCLAVE_METRICS_ADDR must be a listen address like 127.0.0.1:9090, not %q", c.MetricsAddr)
	}
	if c.MetricsAddr == c.Addr {
		return errors.New("ENCLAVE_METRICS_ADDR must differ from ENCLAVE_ADDR: the metrics listener is a second one")
	}
	return nil
}
