package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

func TestAuthorizeFlow(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("ada@example.org", "Alpha")
			const cb = "https://app.example.org/cb"
			id, secret := newAPIClient(t, app, project, clients.Input{Name: "Chart app", RedirectURIs: []string{cb},
				TokenLifetime: 10 * time.Minute})
			pkce := webtest.NewPKCE()
			authorize := func(c *webtest.Client, change map[string]string) *webtest.Response {
				q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {cb}, "state": {"st-42"},
					"scope": {"openid email"}, "nonce": {"n-1"}, "code_challenge": {pkce.Challenge}, "code_challenge_method": {"S256"}}
				for k, v := range change {
					if v == "" {
						q.Del(k)
					} else {
						q.Set(k, v)
					}
				}
				return c.Get("/oauth2/authorize?" + q.Encode())
			}
			// back checks a redirect to the app and returns its query.
			back := func(r *webtest.Response) url.Values {
				t.Helper()
				r.Status(http.StatusFound)
				loc, err := url.Parse(r.Header("Location"))
				if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != cb {
					t.Fatalf("sent to %q", r.Header("Location"))
				}
				if loc.Query().Get("state") != "st-42" {
					t.Errorf("state not round-tripped: %s", loc)
				}
				return loc.Query()
			}

			// A bad client or redirect URI: a page here, never a redirect.
			for name, change := range map[string]map[string]string{
				"unknown client":        {"client_id": "2c1a4bde-0000-4000-8000-000000000000"},
				"no client":             {"client_id": ""},
				"unregistered URI":      {"redirect_uri": "https://evil.example.net/cb"},
				"a URI that only looks": {"redirect_uri": cb + "/../x"},
				"no URI":                {"redirect_uri": ""},
			} {
				r := authorize(admin, change).Status(http.StatusBadRequest)
				if r.Header("Location") != "" || !r.Has("error-page") || strings.Contains(r.Body, "evil.example.net") {
					t.Errorf("%s: %s", name, r.Header("Location"))
				}
			}
			// Errors after that go back to the app, with the state.
			if q := back(authorize(admin, map[string]string{"response_type": "token"})); q.Get("error") != "unsupported_response_type" {
				t.Errorf("response_type=token: %v", q)
			}
			if q := back(authorize(admin, map[string]string{"code_challenge": ""})); q.Get("error") != "invalid_request" {
				t.Errorf("no PKCE: %v", q)
			}
			other, _ := app.SignUp("bob@example.org", "Beta")
			if q := back(authorize(other, nil)); q.Get("error") != "access_denied" || q.Get("code") != "" {
				t.Errorf("a user of another project: %v", q)
			}

			// A visitor signs in and comes back.
			visitor := app.Client()
			r := authorize(visitor, nil).Status(http.StatusSeeOther)
			loc, _ := url.Parse(r.Header("Location"))
			next := loc.Query().Get("next")
			if loc.Path != "/signin" || !strings.HasPrefix(next, "/oauth2/authorize?") {
				t.Fatalf("visitor sent to %s", r.Header("Location"))
			}
			back2 := visitor.PostForm("/signin", url.Values{"email": {"ada@example.org"}, "password": {"password-123"}, "next": {next}}).
				RedirectsTo("/oauth2/authorize")
			q := back(visitor.Get(back2).Status(http.StatusFound))
			code := q.Get("code")
			if code == "" {
				t.Fatalf("no code: %v", q)
			}

			// The app redeems the code with its secret and the same URI.
			prog := app.Client()
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {pkce.Verifier},
				"redirect_uri": {cb}, "client_id": {id}}
			tokenError(t, prog.Token(form), http.StatusUnauthorized, "invalid_client")
			form.Set("redirect_uri", cb+"?x=1")
			tokenError(t, prog.Token(form, basic(id, secret)...), http.StatusBadRequest, "invalid_grant")
			form.Set("redirect_uri", cb)
			tok := prog.Token(form, basic(id, secret)...).Status(http.StatusOK).JSON()
			claims := tokenClaims(t, tok["access_token"].(string))
			if claims["client_id"] != id || claims["login_id"] == nil || tok["expires_in"] != float64(600) {
				t.Errorf("token %v claims %v", tok, claims)
			}
			if idt := tokenClaims(t, tok["id_token"].(string)); idt["aud"] != id || idt["nonce"] != "n-1" {
				t.Errorf("id token %v", idt)
			}
			prog.API(http.MethodGet, "/fhir/R4/Patient", "", bearer(tok["access_token"].(string))...).Status(http.StatusOK)
			// Its refresh token needs the client's secret too.
			rt := tok["refresh_token"].(string)
			tokenError(t, refresh(prog, rt), http.StatusUnauthorized, "invalid_client")
			prog.Token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic(id, secret)...).Status(http.StatusOK)

			// Medplum's SDK naming the client at /auth/login: no secret,
			// and the token carries the client id.
			code, p := prog.LoginCode("ada@example.org", map[string]any{"clientId": id})
			tok = prog.Token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {p.Verifier},
				"client_id": {id}, "redirect_uri": {""}}).Status(http.StatusOK).JSON()
			if tokenClaims(t, tok["access_token"].(string))["client_id"] != id {
				t.Errorf("SDK with a client: %v", tok)
			}
			// Disabling the client ends the tokens issued through it.
			userToken := tok["access_token"].(string)
			prog.API(http.MethodGet, "/fhir/R4/Patient", "", bearer(userToken)...).Status(http.StatusOK)
			if _, err := app.Sys.Tenant(project).SetClientEnabled(t.Context(), audit.Actor{}, id, false); err != nil {
				t.Fatal(err)
			}
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient", "", bearer(userToken)...))
			tokenError(t, prog.Token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}),
				http.StatusBadRequest, "invalid_grant")
		})
	}
}
