package web

import (
	"bytes"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"enclave/static"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Cache lifetimes of the assets: a hashed name always means the same bytes,
// so browsers keep it for a year; a plain name may change with the next
// release.
const (
	immutableCache = "public, max-age=31536000, immutable"
	shortCache     = "public, max-age=3600"
)

// assets serves the files under /static/. The layout links them by hashed
// name; plain names keep working for anything that linked them before.
// Folders are not listed: anything but a file is the 404 page.
func assets(set *static.Set) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(c.Request().URL.Path, paths.Static.URL(""))), "/")
		return serveAsset(c, set, name)
	}
}

// favicon answers the /favicon.ico that browsers ask for on their own with
// the SVG icon the layout links.
func favicon(set *static.Set) echo.HandlerFunc {
	return func(c echo.Context) error { return serveAsset(c, set, "favicon.svg") }
}

// serveAsset sends the smallest body the client accepts, compressed once at
// start-up. Pages are not compressed: they hold the CSRF token next to text
// the visitor typed, which compression would leak through the size (BREACH).
func serveAsset(c echo.Context, set *static.Set, name string) error {
	a, hashed := set.Lookup(name)
	if a == nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Cache-Control", shortCache)
	if hashed {
		h.Set("Cache-Control", immutableCache)
	}
	h.Set("Content-Type", a.Type)
	h.Add("Vary", "Accept-Encoding")
	body, etag := a.Body, a.Digest
	accept := c.Request().Header.Get("Accept-Encoding")
	switch {
	case a.Brotli != nil && acceptsEncoding(accept, "br"):
		body, etag = a.Brotli, etag+"-br"
		h.Set("Content-Encoding", "br")
	case a.Gzip != nil && acceptsEncoding(accept, "gzip"):
		body, etag = a.Gzip, etag+"-gzip"
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", `"`+etag+`"`)
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(body))
	return nil
}

// acceptsEncoding reports whether an Accept-Encoding header allows coding:
// named with a q-value above zero, or covered by a "*" that is.
func acceptsEncoding(header, coding string) bool {
	star := false
	for _, item := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(item, ";")
		name = strings.TrimSpace(name)
		allowed := qualityAboveZero(params)
		if strings.EqualFold(name, coding) {
			return allowed
		}
		if name == "*" {
			star = allowed
		}
	}
	return star
}

func qualityAboveZero(params string) bool {
	for _, p := range strings.Split(params, ";") {
		key, value, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(key), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return err == nil && q > 0
		}
	}
	return true
}
