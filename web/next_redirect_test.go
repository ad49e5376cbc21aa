package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// browserTarget resolves a redirect target against base the way a browser
// does (WHATWG URL parsing): tabs and newlines anywhere are dropped, leading
// and trailing controls and spaces are trimmed, and a backslash is a slash in
// an http(s) URL.
func browserTarget(t *testing.T, base, loc string) *url.URL {
	t.Helper()
	loc = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, loc)
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.ReplaceAll(loc, `\`, "/")
	var b strings.Builder
	for _, r := range loc {
		if r < ' ' || r == 0x7f {
			fmt.Fprintf(&b, "%%%02X", r)
			continue
		}
		b.WriteRune(r)
	}
	u, err := url.Parse(b.String())
	if err != nil {
		t.Fatalf("redirect target %q does not parse: %v", loc, err)
	}
	bu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return bu.ResolveReference(u)
}

// redirectTarget is where an answer sends the browser: Location, or
// HX-Redirect for htmx.
func redirectTarget(r *webtest.Response) string {
	if loc := r.Header("Location"); loc != "" {
		return loc
	}
	return r.Header("HX-Redirect")
}

// TestNextNeverLeavesTheOrigin: a next= that a browser would resolve to
// another origin (a TAB or newline it drops, a backslash it reads as a
// slash, a scheme, a protocol-relative URL) is ignored after sign-in, and
// the user lands where they would without it.
func TestNextNeverLeavesTheOrigin(t *testing.T) {
	offSite := []string{
		"/\t/evil.test", "/\n/evil.test", "/\r\n/evil.test", "/\t\t/evil.test/x?y=1",
		"/\x01/evil.test", "/\x7f/evil.test", "/\u0085/evil.test",
		"//evil.test", "//evil.test/projects", "/\\evil.test", "\\\\evil.test", "/\\/evil.test", "\\/evil.test",
		"https://evil.test/", "HTTPS://evil.test", "http:evil.test", "http:/evil.test", "javascript:alert(1)",
		" //evil.test", "\t//evil.test", "evil.test", "projects", "./projects", "https:/\\evil.test",
	}
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, project := app.SignUp("ada@example.org", "Alpha")
			landing := "/projects/" + project
			base := app.HTTP.URL + "/signin"
			for _, next := range offSite {
				// The attack as a link: the sign-in page must not carry it
				// into its form.
				page := app.Client().Get("/signin?next=" + url.QueryEscape(next)).Status(http.StatusOK)
				if v, _ := page.Doc().Find(`input[name="next"]`).Attr("value"); v != "" {
					t.Errorf("next=%q: the sign-in form carries next=%q", next, v)
				}
				for _, htmx := range []bool{false, true} {
					c := app.Client()
					c.HTMX = htmx
					r := c.PostForm("/signin", url.Values{"email": {"ada@example.org"}, "password": {"password-123"}, "next": {next}})
					loc := redirectTarget(r)
					if got := browserTarget(t, base, loc); got.Scheme+"://"+got.Host != app.HTTP.URL {
						t.Errorf("next=%q (htmx %v): signed in and sent to %s (Location %q)", next, htmx, got, loc)
					}
					if loc != landing {
						t.Errorf("next=%q (htmx %v): redirects to %q, want the default landing %q", next, htmx, loc, landing)
					}
				}
			}
			// The raw attack URL, as a victim would open it.
			page := app.Client().Get("/signin?next=/%09/evil.test").Status(http.StatusOK)
			if v, _ := page.Doc().Find(`input[name="next"]`).Attr("value"); v != "" {
				t.Errorf("next=/%%09/evil.test: the sign-in form carries next=%q", v)
			}
			// Same-origin paths still work, query strings and all.
			for _, next := range []string{landing + "/resources/Patient?name=a%20b&_count=5", "/projects", landing} {
				r := app.Client().PostForm("/signin", url.Values{"email": {"ada@example.org"}, "password": {"password-123"}, "next": {next}})
				if loc := redirectTarget(r); loc != next {
					t.Errorf("next=%q: redirects to %q", next, loc)
				}
			}
			// Registration never follows a next= either.
			reg := app.Client().PostForm("/register?next=//evil.test", url.Values{"firstName": {"Bo"}, "lastName": {"B"},
				"email": {"bo@example.org"}, "password": {"password-123"}, "next": {"//evil.test"}})
			if loc := redirectTarget(reg); loc != "/register/project" {
				t.Errorf("registration with next=: redirects to %q", loc)
			}
		})
	}
}
