// Package static embeds the compiled CSS and the scripts served under /static.
package static

import "embed"

// Files holds css/app.css (built by npm run build), js/htmx.min.js and js/app.js.
//
//go:embed css/app.css js/htmx.min.js js/app.js
var Files embed.FS
