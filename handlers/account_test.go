package handlers

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDescribeDevice(t *testing.T) {
	cases := []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on macOS"},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87", "Edge on Windows"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0", "Opera on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", "Chrome on iOS"},
		{"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15", "Firefox on iPadOS"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
		{"Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko", "Internet Explorer on Windows"},
		{"Mozilla/5.0 Firefox/128.0", "Firefox"},
		{"curl/8.5.0", "curl"},
		{"Wget/1.21.4", "Wget"},
		{"python-requests/2.32.3", "Python requests"},
		{"Go-http-client/1.1", "Go HTTP client"},
		{"PostmanRuntime/7.39.0", "Postman"},
		{"  ", "Unknown device"},
		{"", "Unknown device"},
		{"my-bot/1.0", "my-bot/1.0"},
		// A tool's name elsewhere in a browser's User-Agent is not the tool.
		{"Mozilla/5.0 (X11; Linux x86_64) curl/8.0 Firefox/128.0", "Firefox on Linux"},
	}
	for _, tc := range cases {
		if got := describeDevice(tc.ua); got != tc.want {
			t.Errorf("describeDevice(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}

	long := "SomeUnknownAgent/1.0 " + strings.Repeat("é", 100)
	got := describeDevice(long)
	if utf8.RuneCountInString(got) != maxRawDevice || !strings.HasPrefix(got, "SomeUnknownAgent/1.0 é") || !strings.HasSuffix(got, "…") {
		t.Errorf("describeDevice(long) = %q (%d characters), want the start, %d characters with an ellipsis",
			got, utf8.RuneCountInString(got), maxRawDevice)
	}
	if !utf8.ValidString(got) {
		t.Errorf("describeDevice cut a character in two: %q", got)
	}
}

func TestAgo(t *testing.T) {
	at := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"}, {59 * time.Second, "just now"}, {-time.Minute, "just now"},
		{time.Minute, "1 minute ago"}, {59 * time.Minute, "59 minutes ago"},
		{time.Hour, "1 hour ago"}, {23*time.Hour + 59*time.Minute, "23 hours ago"},
		{24 * time.Hour, "1 day ago"}, {6 * 24 * time.Hour, "6 days ago"},
	}
	for _, tc := range cases {
		if got := ago(at.Add(-tc.d), at); got != tc.want {
			t.Errorf("ago(%v before) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestMoveError(t *testing.T) {
	in := map[string]string{"current": "wrong", "email": "bad"}
	out := moveError(in, "current", "emailPassword")
	if len(out) != 2 || out["emailPassword"] != "wrong" || out["email"] != "bad" {
		t.Errorf("moveError = %v", out)
	}
	if in["current"] != "wrong" || len(in) != 2 {
		t.Errorf("moveError changed its input: %v", in)
	}
}
