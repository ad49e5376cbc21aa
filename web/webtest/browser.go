package webtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"enclave/models/testdb"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium.
func chromiumPath() string {
	for _, p := range []string{os.Getenv("ENCLAVE_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	return ""
}

// Browser is a headless Chromium driven by chromedp.
type Browser struct {
	t   testing.TB
	Ctx context.Context
	// noScript is set by DisableJavaScript.
	noScript bool
}

// NewBrowser starts Chromium with a fresh profile. It skips the test loudly
// when Chromium is missing, or fails it under ENCLAVE_TEST_REQUIRE_ALL=1. On
// failure it saves a screenshot of the page and logs where.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if testdb.RequireAll() {
			t.Fatal("Chromium not found and ENCLAVE_TEST_REQUIRE_ALL=1: install it (apt-get install chromium)")
		}
		t.Skip("SKIPPING browser test: Chromium not found (apt-get install chromium, or set ENCLAVE_TEST_CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// The first call starts the browser; it must not carry a timeout (STACK-NOTES).
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	b := &Browser{t: t, Ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			b.saveScreenshot()
		}
		cancel()
		cancelAlloc()
	})
	return b
}

// DisableJavaScript turns script execution off for the rest of the test, as
// for a visitor who blocks JavaScript.
func (b *Browser) DisableJavaScript() {
	b.t.Helper()
	b.setScriptsDisabled(true)
	b.noScript = true
}

func (b *Browser) setScriptsDisabled(disabled bool) {
	b.t.Helper()
	if _, err := chromedp.Call(b.Ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: disabled}); err != nil {
		b.t.Fatalf("disable JavaScript (%v): %v", disabled, err)
	}
}

// Do runs steps with a time limit, failing the test with what step failed.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// Text returns the text of the first element matching a CSS selector,
// waiting for it to appear.
func (b *Browser) Text(css string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v", css, err)
	}
	return s
}

// Location returns the current URL.
func (b *Browser) Location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.Ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browser: location: %v", err)
	}
	return loc
}

// WaitPath waits until the page's URL path matches the regular expression.
func (b *Browser) WaitPath(base, pattern string) string {
	b.t.Helper()
	re := regexp.MustCompile("^" + regexp.QuoteMeta(base) + pattern + "$")
	deadline := time.Now().Add(20 * time.Second)
	for {
		loc := b.Location()
		if re.MatchString(loc) {
			return loc
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: waited for %s%s, still at %s", base, pattern, loc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestID is a CSS selector for data-testid.
func TestID(id string) string { return `[data-testid="` + id + `"]` }

func (b *Browser) saveScreenshot() {
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(b.t.Name(), "_")
	path := filepath.Join(os.TempDir(), "enclave-failure-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("no screenshot: %v", err)
		return
	}
	b.t.Logf("screenshot of the failed page: %s", path)
}

// WaitHTMXReady waits until htmx has initialised the element matching css
// (content swapped in by htmx is wired up a moment after it appears; a click
// before that follows the plain link instead).
func (b *Browser) WaitHTMXReady(css string) {
	b.t.Helper()
	js := `(function(el){ var d = el && el["htmx-internal-data"]; return !!(d && d.initHash); })(document.querySelector(` + strconv.Quote(css) + `))`
	deadline := time.Now().Add(20 * time.Second)
	for {
		ready, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			b.t.Fatalf("browser: wait for htmx on %s: %v", css, err)
		}
		if ready {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: htmx never initialised %s", css)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// AcceptDialogs accepts every JavaScript dialog (such as hx-confirm's) from
// now on and returns a function that lists the messages seen so far.
func (b *Browser) AcceptDialogs() func() []string {
	var mu sync.Mutex
	var seen []string
	go func() {
		for ev, err := range chromedp.Events(b.Ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, ev.Message)
			mu.Unlock()
			chromedp.Call(b.Ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// Eval evaluates a JavaScript expression that yields a boolean.
func (b *Browser) Eval(js string) bool {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		b.t.Fatalf("browser: evaluate %s: %v", js, err)
	}
	return v
}

// WaitTrue waits until a JavaScript expression yields true.
func (b *Browser) WaitTrue(what, js string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !b.Eval(js) {
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: waited for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
