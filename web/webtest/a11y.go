package webtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"enclave/models/testdb"

	"github.com/chromedp/chromedp"
)

// axeScript is axe-core's browser build, which npm ci installs (package.json
// pins the version); "" when it is not installed.
var axeScript = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
			if errors.Is(err, os.ErrNotExist) {
				return "", nil
			}
			return string(b), err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's folder")
		}
		dir = parent
	}
})

var warnNoAxe sync.Once

// runAxe reports the serious and critical violations only: the rules for
// minor and moderate ones (a landmark around every bit of text, one h1 per
// page) are advice, not barriers.
const runAxe = `axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
	return JSON.stringify(r.violations.filter(function (v) {
		return v.impact === "serious" || v.impact === "critical";
	}).map(function (v) {
		return {id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
			nodes: v.nodes.map(function (n) { return {target: JSON.stringify(n.target), summary: n.failureSummary}; })};
	}));
})`

type axeViolation struct {
	ID, Impact, Help, HelpURL string
	Nodes                     []struct{ Target, Summary string }
}

// CheckA11y runs axe-core on the page as it is now and fails the test (and
// goes on) for each serious or critical violation, with the rule, the
// elements and how to fix them. Without axe-core installed the check is
// skipped with a warning, or fails under ENCLAVE_TEST_REQUIRE_ALL=1.
func (b *Browser) CheckA11y(page string) {
	b.t.Helper()
	script, err := axeScript()
	if err != nil {
		b.t.Fatalf("accessibility: read axe-core: %v", err)
	}
	if script == "" {
		if testdb.RequireAll() {
			b.t.Fatal("axe-core not found and ENCLAVE_TEST_REQUIRE_ALL=1: run npm ci at the repository root")
		}
		warnNoAxe.Do(func() {
			fmt.Fprintln(os.Stderr, "SKIPPING accessibility checks: node_modules/axe-core/axe.min.js not found (run npm ci)")
		})
		b.t.Logf("SKIPPING accessibility check of %s: axe-core not installed (npm ci)", page)
		return
	}
	if b.noScript {
		// axe-core needs scripts; the page was loaded without them and stays
		// as it is, since turning them on runs none of its own.
		b.setScriptsDisabled(false)
		defer b.setScriptsDisabled(true)
	}
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if err != nil {
		b.t.Fatalf("accessibility: %s: %v", page, err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script+"\n;true")); err != nil {
			b.t.Fatalf("accessibility: %s: inject axe-core: %v", page, err)
		}
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](runAxe, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("accessibility: %s: run axe-core: %v", page, err)
	}
	var found []axeViolation
	if err := json.Unmarshal([]byte(out), &found); err != nil {
		b.t.Fatalf("accessibility: %s: read axe-core's answer: %v", page, err)
	}
	if len(found) == 0 {
		return
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "accessibility: %s (%s): %d serious or critical violation(s)", page, b.Location(), len(found))
	for _, v := range found {
		fmt.Fprintf(&msg, "\n  %s (%s): %s\n    %s", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&msg, "\n    at %s\n      %s", n.Target, strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
	}
	b.t.Error(msg.String())
}

// focusedControl names the focused element and says whether it shows a focus
// ring: an outline (the UI kit's, or the browser's own) or the brand-coloured
// ring that inputs draw as a shadow.
const focusedControl = `(function () {
	var el = document.activeElement;
	if (!el || el === document.body) return "";
	var cs = getComputedStyle(el);
	var outline = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 1 && !/, 0\)$/.test(cs.outlineColor);
	var ring = cs.boxShadow.indexOf("rgb(79, 70, 229)") >= 0;
	var name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
		(el.dataset.testid ? "[data-testid=" + el.dataset.testid + "]" : "") +
		" " + JSON.stringify((el.textContent || el.value || "").trim().slice(0, 40));
	return (outline || ring ? "ring " : "none ") + name;
})()`

// CheckFocusRings tabs through the page as a keyboard user does and fails
// the test for every control that shows no focus ring when it has the focus.
func (b *Browser) CheckFocusRings(page string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 30*time.Second)
	defer cancel()
	first, reached := "", 0
	for range 150 {
		if _, err := chromedp.Run(ctx, chromedp.KeyEvent("\t")); err != nil {
			b.t.Fatalf("focus rings: %s: press Tab: %v", page, err)
		}
		state, err := chromedp.Run(ctx, chromedp.Evaluate[string](focusedControl))
		if err != nil {
			b.t.Fatalf("focus rings: %s: %v", page, err)
		}
		if state == "" {
			continue
		}
		ring, control, _ := strings.Cut(state, " ")
		if control == first {
			break
		}
		if first == "" {
			first = control
		}
		reached++
		if ring != "ring" {
			b.t.Errorf("focus rings: %s: %s shows no focus ring", page, control)
		}
	}
	if reached < 2 {
		b.t.Errorf("focus rings: %s: Tab reached %d controls", page, reached)
	}
}
