package handlers

import (
	"strings"
	"testing"
)

// TestSafeNext: only same-origin paths survive; everything a browser could
// read as another origin, or that holds a control character, is dropped.
func TestSafeNext(t *testing.T) {
	keep := []string{"/", "/projects", "/projects/abc/resources/Patient?name=a%20b&_count=5", "/projects/abc#x",
		"/projects/%2F%2Fevil.test", "/projects/é"}
	drop := []string{"", "projects", "./x", "../x", "//evil.test", "///evil.test", "/\\evil.test", "/\\/evil.test",
		"\\\\evil.test", "/\t/evil.test", "/\n/evil.test", "/\r/evil.test", "/\x00/evil.test", "/\x01/evil.test",
		"/\x1f/evil.test", "/\x7f/evil.test", "/\u0085/evil.test", "/\u009f/evil.test", "/a\\b",
		"https://evil.test", "http:evil.test", "javascript:alert(1)", " /x", "/x\xff", "/%2F/evil.test",
		"/" + strings.Repeat("a", maxNextLength)}
	for _, s := range keep {
		if got := safeNext(s); got != s {
			t.Errorf("safeNext(%q) = %q, want it kept", s, got)
		}
	}
	for _, s := range drop {
		if got := safeNext(s); got != "" {
			t.Errorf("safeNext(%q) = %q, want it dropped", s, got)
		}
	}
}
