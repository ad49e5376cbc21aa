package forms

import (
	"strings"
	"time"
)

// Client creates an API client. Its redirect URIs are one per line; its
// token lifetime is in minutes (empty: the default).
type Client struct {
	Name          string `form:"name"`
	Description   string `form:"description"`
	RedirectURIs  string `form:"redirectUris"`
	AccessPolicy  string `form:"accessPolicy"`
	TokenLifetime Int    `form:"tokenLifetime"`
}

// URIs are the redirect URIs, a line each (the store trims them and drops
// blank lines).
func (f Client) URIs() []string {
	return strings.Split(strings.ReplaceAll(f.RedirectURIs, "\r\n", "\n"), "\n")
}

// Lifetime is the token lifetime asked for; zero when none was given.
func (f Client) Lifetime() time.Duration { return time.Duration(f.TokenLifetime.N) * time.Minute }

// Validate reports a lifetime that is not a whole number of minutes.
func (f Client) Validate() Errors {
	var e Errors
	e.Add("tokenLifetime", f.TokenLifetime.Problem())
	return e
}

// ClientRotation gives a client a new secret; the old one keeps working
// for Grace hours (empty: the default).
type ClientRotation struct {
	Grace Int `form:"grace"`
}

// GraceOr is the grace period asked for, or def when the field was left
// empty.
func (f ClientRotation) GraceOr(def time.Duration) time.Duration {
	if strings.TrimSpace(f.Grace.Text) == "" {
		return def
	}
	return time.Duration(f.Grace.N) * time.Hour
}

// Validate reports a grace period that is not a whole number of hours.
func (f ClientRotation) Validate() Errors {
	var e Errors
	e.Add("grace", f.Grace.Problem())
	return e
}
