package web

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// unstorable reports whether s cannot be stored as text: PostgreSQL refuses
// NUL characters and invalid UTF-8.
func unstorable(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsRune(s, 0)
}

func unstorableValues(v url.Values) bool {
	for k, vs := range v {
		if unstorable(k) {
			return true
		}
		for _, s := range vs {
			if unstorable(s) {
				return true
			}
		}
	}
	return false
}

// rejectUnstorableInput answers 400 to a request whose path, query or form
// fields hold a NUL character or invalid UTF-8, before any handler or
// database sees them. (JSON bodies are checked where they are decoded.)
func rejectUnstorableInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		bad := unstorable(r.URL.Path) || unstorableValues(r.URL.Query())
		if !bad && r.Method == http.MethodPost {
			mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
			if mt == "application/x-www-form-urlencoded" {
				form, err := c.FormParams()
				bad = err == nil && unstorableValues(form)
			}
		}
		if bad {
			return echo.NewHTTPError(http.StatusBadRequest,
				"The request contains a NUL character or text that is not valid UTF-8, which Enclave cannot store. Remove it and try again.")
		}
		return next(c)
	}
}
