package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// forgedHeaders are what a client (or a proxy it goes through) may send to
// make links point elsewhere.
var forgedHeaders = [][2]string{
	{"X-Forwarded-Proto", "https"},
	{"X-Forwarded-Host", "evil.test"},
	{"X-Forwarded-For", "203.0.113.9"},
}

// absoluteLinks creates resources and an invitation through a client that
// sends forgedHeaders and returns every absolute URL the server built: the
// Location header, search and history Bundle links and fullUrls, and the
// invite link.
func absoluteLinks(t *testing.T, app *webtest.App) []string {
	t.Helper()
	admin, project := app.SignUp("admin@example.org", "Alpha")
	for _, h := range forgedHeaders {
		admin.Header(h[0], h[1])
	}
	var links []string
	api := app.Client()
	api.SignIn("admin@example.org")
	for _, h := range forgedHeaders {
		api.Header(h[0], h[1])
	}
	api.Header("X-Enclave-Project", project)
	for _, name := range []string{"Lovelace", "Byron"} {
		r := api.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","name":[{"family":"`+name+`"}]}`).
			Status(http.StatusCreated)
		links = append(links, r.Header("Location"))
	}
	for _, path := range []string{"/fhir/R4/Patient?_count=1", "/fhir/R4/Patient?_count=1&_offset=1", "/fhir/R4/Patient/_history"} {
		b := api.API(http.MethodGet, path, "").Status(http.StatusOK).JSON()
		for _, l := range asList(b["link"]) {
			u, _ := l.(map[string]any)["url"].(string)
			links = append(links, u)
		}
		for _, e := range asList(b["entry"]) {
			u, _ := e.(map[string]any)["fullUrl"].(string)
			links = append(links, u)
		}
	}
	r := admin.PostForm("/projects/"+project+"/members/invite", url.Values{"email": {"nia@example.org"},
		"firstName": {"Nia"}, "lastName": {"New"}}).Status(http.StatusOK)
	links = append(links, inviteLink(r))
	if len(links) < 10 {
		t.Fatalf("only %d links: %q", len(links), links)
	}
	return links
}

// checkLinks fails unless every link starts with base + "/".
func checkLinks(t *testing.T, links []string, base string) {
	t.Helper()
	for _, l := range links {
		if !strings.HasPrefix(l, base+"/") {
			t.Errorf("link %q, want it under %s", l, base)
		}
	}
}

// TestLinksIgnoreForwardedHeadersByDefault: without ENCLAVE_BASE_URL and
// trusted proxies, X-Forwarded-Proto and X-Forwarded-Host from a client
// change no link (an invite link to evil.test would hand its token over), and
// X-Forwarded-For is not the client's address.
func TestLinksIgnoreForwardedHeadersByDefault(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			if !strings.HasPrefix(app.HTTP.URL, "http://127.0.0.1:") {
				t.Fatalf("test server at %s", app.HTTP.URL)
			}
			checkLinks(t, absoluteLinks(t, app), app.HTTP.URL)
			if logs := app.Logs(); strings.Contains(logs, "203.0.113.9") {
				t.Error("X-Forwarded-For from an untrusted peer was taken as the client's address")
			}
		})
	}
}

// TestLinksUseConfiguredBaseURL: with ENCLAVE_BASE_URL every absolute link,
// API links included, uses it, whatever the request's headers say.
func TestLinksUseConfiguredBaseURL(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			const base = "https://enclave.example.org"
			app := webtest.NewWith(t, db, func(c *web.Config) { c.BaseURL = base })
			checkLinks(t, absoluteLinks(t, app), base)
		})
	}
}

// TestTrustedProxyHeaders: X-Forwarded-Proto, -Host and -For are honoured
// from a peer in ENCLAVE_TRUSTED_PROXIES, and only from such a peer.
func TestTrustedProxyHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, proxies string
		honoured      bool
	}{
		{"peer trusted", "10.0.0.0/8, 127.0.0.1", true},
		{"peer not trusted", "10.0.0.0/8,::1/128", false},
	} {
		for _, db := range testdb.All(t) {
			t.Run(tc.name+"/"+db.Name, func(t *testing.T) {
				trusted, err := web.ParseTrustedProxies(tc.proxies)
				if err != nil {
					t.Fatal(err)
				}
				app := webtest.NewWith(t, db, func(c *web.Config) { c.TrustedProxies = trusted })
				links, logs := absoluteLinks(t, app), app.Logs()
				if tc.honoured {
					checkLinks(t, links, "https://evil.test")
					if !strings.Contains(logs, "ip=203.0.113.9") {
						t.Error("X-Forwarded-For from a trusted proxy was not taken as the client's address")
					}
					return
				}
				checkLinks(t, links, app.HTTP.URL)
				if strings.Contains(logs, "203.0.113.9") {
					t.Error("X-Forwarded-For from an untrusted peer was taken as the client's address")
				}
			})
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	for in, want := range map[string]int{"": 0, " ": 0, "10.0.0.0/8": 1, "10.0.0.0/8, 192.168.1.7 ,fd00::/8": 3, "::1": 1} {
		got, err := web.ParseTrustedProxies(in)
		if err != nil || len(got) != want {
			t.Errorf("%q: %d ranges, %v; want %d", in, len(got), err, want)
		}
	}
	for _, in := range []string{"10.0.0.0/33", "localhost", "10.0.0.0/8;127.0.0.1", "*"} {
		if _, err := web.ParseTrustedProxies(in); err == nil || !strings.Contains(err.Error(), "ENCLAVE_TRUSTED_PROXIES") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line naming the setting", in, err)
		}
	}
}
