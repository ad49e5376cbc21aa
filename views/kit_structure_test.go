package views_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPagesUseTheKit reads every page's template and fails on markup that
// the UI kit (components.templ) provides with its accessibility wiring, so
// that a page cannot slip back to hand-written controls, tables, alerts or
// confirmations.
func TestPagesUseTheKit(t *testing.T) {
	kit := map[string]string{
		"<textarea":          "Textarea",
		"<select":            "Select",
		`type="checkbox"`:    "Checkbox or CheckboxGroup",
		"<table":             "Table",
		"<th":                "Table",
		"hx-confirm":         "ConfirmButton",
		`role="alert"`:       "Alert",
		`role="status"`:      "Alert (or Notice)",
		`type="hidden"`:      "HiddenField",
		"text-red-700 hover": "ConfirmButton or the link-danger style",
	}
	files, err := filepath.Glob("*.templ")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d templates: run the test from views/", len(files))
	}
	for _, name := range files {
		if name == "components.templ" {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			for raw, use := range kit {
				if strings.Contains(line, raw) {
					t.Errorf("%s:%d: %s by hand: use the kit's %s", name, i+1, raw, use)
				}
			}
		}
	}
}
