// Package static embeds the compiled CSS, the scripts and the icon served
// under /static, and prepares them for serving: content-hashed names that
// may be cached for ever, and bodies compressed once, in memory.
package static

import "embed"

// Files holds css/app.css (built by npm run build), js/htmx.min.js, js/app.js
// and favicon.svg.
//
//go:embed css/app.css js/htmx.min.js js/app.js favicon.svg
var Files embed.FS
