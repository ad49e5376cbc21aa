package web_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/brotli"
)

// firstPageBudget is what a first visit may transfer, the page with its
// stylesheet, scripts and icon (issue 9).
const firstPageBudget = 40 * 1024

// TestFirstPageWeight: a browser that accepts brotli or gzip gets the
// sign-in page or a project's home with everything it links in at most
// firstPageBudget bytes on the wire, headers included.
func TestFirstPageWeight(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	admin, project := app.SignUp("ada@example.org", "Alpha")
	for _, page := range []struct {
		name string
		c    *webtest.Client
		path string
	}{
		{"signed out, sign in", app.Client(), "/signin"},
		{"signed in, project home", admin, "/projects/" + project},
	} {
		t.Run(page.name, func(t *testing.T) {
			total, report := pageWeight(t, page.c, page.path, "br, gzip")
			t.Logf("%s with br, gzip: %d bytes\n%s", page.path, total, report)
			if total > firstPageBudget {
				t.Errorf("%s transfers %d bytes, over the budget of %d:\n%s", page.path, total, firstPageBudget, report)
			}
			// The budget is what compression buys: without it the same page
			// is over, so a server that stopped compressing fails above.
			if plain, report := pageWeight(t, page.c, page.path, "identity"); plain <= firstPageBudget {
				t.Errorf("%s uncompressed is %d bytes, within the budget; this test no longer measures compression:\n%s", page.path, plain, report)
			}
		})
	}
}

// pageWeight fetches a page and every stylesheet, script and icon it links,
// sending acceptEncoding, and counts the bytes as they came: status line,
// headers and body as sent, compressed or not.
func pageWeight(t *testing.T, c *webtest.Client, path, acceptEncoding string) (int, string) {
	t.Helper()
	c.Header("Accept-Encoding", acceptEncoding)
	defer c.Header("Accept-Encoding", "")
	var report strings.Builder
	total := 0
	fetch := func(url string) *webtest.Response {
		r := c.Get(url).Status(http.StatusOK)
		n := wireSize(r.Resp, r.Body)
		total += n
		fmt.Fprintf(&report, "  %6d  %-8s %s\n", n, r.Header("Content-Encoding"), url)
		return r
	}
	page := fetch(path)
	linked := 0
	page.Doc().Find(`link[rel=stylesheet], link[rel=icon], script[src]`).Each(func(_ int, s *goquery.Selection) {
		url := s.AttrOr("href", s.AttrOr("src", ""))
		if !strings.HasPrefix(url, "/static/") {
			t.Errorf("%s links %q, not an asset of ours", path, url)
			return
		}
		fetch(url)
		linked++
	})
	if linked < 4 {
		t.Fatalf("%s links %d assets, want the stylesheet, htmx, app.js and the icon", path, linked)
	}
	return total, report.String()
}

// wireSize is the size of an HTTP/1.1 answer as sent.
func wireSize(resp *http.Response, body string) int {
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s\r\n", resp.Proto, resp.Status)
	resp.Header.Write(&head)
	return head.Len() + len("\r\n") + len(body)
}

// TestAssetsAreHashedCompressedAndCached: the layout links content-hashed
// names that browsers may keep for a year, each answer is the compression
// the client accepts, and plain names still work with a short cache.
func TestAssetsAreHashedCompressedAndCached(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	c := app.Client()
	page := c.Get("/signin").Status(http.StatusOK)
	css := page.Doc().Find(`link[rel=stylesheet]`).AttrOr("href", "")
	if !regexp.MustCompile(`^/static/css/app\.[0-9a-f]{12}\.css$`).MatchString(css) {
		t.Fatalf("the layout links the stylesheet as %q, want a hashed name", css)
	}
	for _, src := range page.Doc().Find(`script[src]`).Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("src", "") }) {
		if !regexp.MustCompile(`^/static/js/[a-z.]+\.[0-9a-f]{12}\.js$`).MatchString(src) {
			t.Errorf("the layout links the script %q, want a hashed name", src)
		}
	}
	plain := c.Get("/static/css/app.css").Status(http.StatusOK)
	if cc := plain.Header("Cache-Control"); cc != "public, max-age=3600" {
		t.Errorf("plain name: Cache-Control %q, want a short cache", cc)
	}

	for _, tc := range []struct{ accept, encoding string }{
		{"br, gzip", "br"},
		{"gzip, deflate, br, zstd", "br"},
		{"gzip", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"*", "br"},
		{"br;q=0, *;q=0", ""},
		{"identity", ""},
	} {
		c.Header("Accept-Encoding", tc.accept)
		r := c.Get(css).Status(http.StatusOK)
		if cc := r.Header("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("hashed name: Cache-Control %q", cc)
		}
		if got := r.Header("Content-Encoding"); got != tc.encoding {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.encoding)
		}
		if vary := r.Header("Vary"); vary != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q", tc.accept, vary)
		}
		if ct := r.Header("Content-Type"); ct != "text/css; charset=utf-8" {
			t.Errorf("Accept-Encoding %q: Content-Type %q", tc.accept, ct)
		}
		if r.Header("Content-Security-Policy") == "" || r.Header("X-Content-Type-Options") != "nosniff" {
			t.Errorf("Accept-Encoding %q: the security headers are missing", tc.accept)
		}
		if body := decode(t, tc.encoding, r.Body); body != plain.Body {
			t.Errorf("Accept-Encoding %q: the body is not the stylesheet", tc.accept)
		}
		if tc.encoding != "" && len(r.Body) >= len(plain.Body)/3 {
			t.Errorf("Accept-Encoding %q: %d bytes of %d, hardly compressed", tc.accept, len(r.Body), len(plain.Body))
		}

		// A browser that holds this variant revalidates it for free.
		etag := r.Header("ETag")
		c.Header("If-None-Match", etag)
		if got := c.Get(css).Resp.StatusCode; etag == "" || got != http.StatusNotModified {
			t.Errorf("Accept-Encoding %q: ETag %q, revalidation answered %d", tc.accept, etag, got)
		}
		c.Header("If-None-Match", "")
	}
	c.Header("Accept-Encoding", "")

	stale := regexp.MustCompile(`[0-9a-f]{12}`).ReplaceAllString(css, "000000000000")
	if r := c.Get(stale); r.Resp.StatusCode != http.StatusNotFound || strings.Contains(r.Header("Cache-Control"), "public") {
		t.Errorf("unknown hash %s: status %d, Cache-Control %q", stale, r.Resp.StatusCode, r.Header("Cache-Control"))
	}
}

func decode(t *testing.T, encoding, body string) string {
	t.Helper()
	var r io.Reader = strings.NewReader(body)
	switch encoding {
	case "br":
		r = brotli.NewReader(r)
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", encoding, err)
	}
	return string(out)
}

// TestFavicon: the layout links an icon, and the /favicon.ico browsers ask
// for by themselves answers with it instead of 404.
func TestFavicon(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	c := app.Client()
	icon := c.Get("/signin").Status(http.StatusOK).Doc().Find(`link[rel=icon]`).AttrOr("href", "")
	if !regexp.MustCompile(`^/static/favicon\.[0-9a-f]{12}\.svg$`).MatchString(icon) {
		t.Fatalf("the layout links the icon as %q", icon)
	}
	linked := c.Get(icon).Status(http.StatusOK)
	if ct := linked.Header("Content-Type"); ct != "image/svg+xml" {
		t.Errorf("icon: Content-Type %q", ct)
	}
	ico := c.Get("/favicon.ico").Status(http.StatusOK).Contains("<svg")
	if ico.Body != linked.Body || ico.Header("Content-Type") != "image/svg+xml" {
		t.Errorf("/favicon.ico: Content-Type %q, not the linked icon", ico.Header("Content-Type"))
	}
	if cc := ico.Header("Cache-Control"); cc != "public, max-age=3600" {
		t.Errorf("/favicon.ico: Cache-Control %q, want a short cache", cc)
	}
}
