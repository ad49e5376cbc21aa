package web_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/oauth"
	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"

	"github.com/go-jose/go-jose/v4/jwt"
)

// newAPIClient makes an API client in project through the store, as an
// admin would in the console, and returns its id and secret.
func newAPIClient(t *testing.T, app *webtest.App, project string, in clients.Input) (string, string) {
	t.Helper()
	c, secret, err := app.Sys.Tenant(project).CreateClient(t.Context(), audit.Actor{}, in)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID, secret
}

// tokenClaims reads a JWT's claims without checking it.
func tokenClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func basic(id, secret string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))}
}

// invalidToken checks a refused bearer request: 401, the RFC 6750
// challenge, and an OperationOutcome.
func invalidToken(t *testing.T, r *webtest.Response) {
	t.Helper()
	r.Status(http.StatusUnauthorized)
	if got := r.Header("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
		t.Errorf("%s: WWW-Authenticate %q", r.Resp.Request.URL.Path, got)
	}
	if r.JSON()["resourceType"] != "OperationOutcome" {
		t.Errorf("not an OperationOutcome: %s", r.Body)
	}
}

func TestClientCredentialsToken(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("ada@example.org", "Alpha")
			patient := admin.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","name":[{"family":"Nia"}]}`,
				"X-Enclave-Project", project).Status(http.StatusCreated).JSON()["id"].(string)
			id, secret := newAPIClient(t, app, project, clients.Input{Name: "Lab sync"})
			prog := app.Client()

			r := prog.Token(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}).
				Status(http.StatusOK)
			if r.Header("Cache-Control") != "no-store" || !strings.HasPrefix(r.Header("Content-Type"), "application/json") {
				t.Errorf("headers %v", r.Resp.Header)
			}
			body := r.JSON()
			if body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) ||
				body["project"].(map[string]any)["reference"] != "Project/"+project ||
				body["profile"].(map[string]any)["reference"] != "ClientApplication/"+id {
				t.Errorf("token answer %s", r.Body)
			}
			token := body["access_token"].(string)
			claims := tokenClaims(t, token)
			if claims["iss"] != app.HTTP.URL || claims["sub"] != id || claims["client_id"] != id || claims["project_id"] != project ||
				claims["jti"] == "" || claims["exp"].(float64)-claims["iat"].(float64) != 3600 {
				t.Errorf("claims %v", claims)
			}
			if _, ok := claims["login_id"]; ok {
				t.Error("a client token carries login_id")
			}

			// HTTP Basic works too; both at once is refused.
			prog.Token(url.Values{"grant_type": {"client_credentials"}}, basic(id, secret)...).Status(http.StatusOK)
			r = prog.Token(url.Values{"grant_type": {"client_credentials"}, "client_secret": {secret}}, basic(id, secret)...)
			tokenError(t, r, http.StatusBadRequest, "invalid_request")

			// The token reads and searches its project, with no cookie.
			prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(token)...).Status(http.StatusOK)
			if n := len(prog.API(http.MethodGet, "/fhir/R4/Patient", "", bearer(token)...).Status(http.StatusOK).JSON()["entry"].([]any)); n != 1 {
				t.Errorf("search found %d", n)
			}
			prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", append(bearer(token), "X-Enclave-Project", project)...).Status(http.StatusOK)

			// Exactly its project: another project named in the header is a
			// 401, and another project's resource is not found.
			other, otherProject := app.SignUp("bob@example.org", "Beta")
			theirs := other.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`).Status(http.StatusCreated).JSON()["id"].(string)
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", append(bearer(token), "X-Enclave-Project", otherProject)...))
			prog.API(http.MethodGet, "/fhir/R4/Patient/"+theirs, "", bearer(token)...).Status(http.StatusNotFound)
			// A session cookie beside the token changes nothing.
			other.API(http.MethodGet, "/fhir/R4/Patient/"+theirs, "", bearer(token)...).Status(http.StatusNotFound)

			// Tokens that do not pass.
			parts := strings.Split(token, ".")
			payload := tokenClaims(t, token)
			payload["project_id"] = otherProject
			forgedPayload, _ := json.Marshal(payload)
			otherKeys, err := oauth.FromPEM(mustKeyPEM(t), "")
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			valid := oauth.Claims{Claims: jwt.Claims{Subject: id, IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour))},
				ClientID: id, ProjectID: project}
			otherKey, _ := otherKeys.Issue(valid)
			expiredClaims := valid
			expiredClaims.IssuedAt, expiredClaims.Expiry = jwt.NewNumericDate(now.Add(-2*time.Hour)), jwt.NewNumericDate(now.Add(-time.Hour))
			expired, _ := app.Server.OAuthKeys().Issue(expiredClaims)
			for name, bad := range map[string]string{
				"tampered payload": parts[0] + "." + base64.RawURLEncoding.EncodeToString(forgedPayload) + "." + parts[2],
				"tampered signature": parts[0] + "." + parts[1] + "." + strings.Map(func(r rune) rune {
					if r == 'A' {
						return 'B'
					}
					return 'A'
				}, parts[2]),
				"other key": otherKey,
				"expired":   expired,
				"not a JWT": "abc",
			} {
				t.Run(name, func(t *testing.T) {
					invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(bad)...))
				})
			}
			r = prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
			r.Status(http.StatusUnauthorized)

			// Disabled: its tokens stop at once, and stay void once enabled
			// again; a new token works then.
			ten := app.Sys.Tenant(project)
			if _, err := ten.SetClientEnabled(t.Context(), audit.Actor{}, id, false); err != nil {
				t.Fatal(err)
			}
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(token)...))
			tokenError(t, prog.Token(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}),
				http.StatusUnauthorized, "invalid_client")
			time.Sleep(1100 * time.Millisecond) // tokens count time in whole seconds
			if _, err := ten.SetClientEnabled(t.Context(), audit.Actor{}, id, true); err != nil {
				t.Fatal(err)
			}
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(token)...))
			token = prog.ClientToken(id, secret)
			prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(token)...).Status(http.StatusOK)

			// Deleted: at once.
			if err := ten.DeleteClient(t.Context(), audit.Actor{}, id); err != nil {
				t.Fatal(err)
			}
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(token)...))
		})
	}
}

func mustKeyPEM(t *testing.T) string {
	t.Helper()
	p, err := oauth.NewKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tokenError checks an RFC 6749 error answer.
func tokenError(t *testing.T, r *webtest.Response, status int, code string) map[string]any {
	t.Helper()
	r.Status(status)
	body := r.JSON()
	if body["error"] != code || body["error_description"] == "" {
		t.Errorf("error %s, want %s", r.Body, code)
	}
	return body
}

func TestTokenEndpointErrors(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	_, project := app.SignUp("ada@example.org", "Alpha")
	id, secret := newAPIClient(t, app, project, clients.Input{Name: "Lab"})
	c := app.Client()
	cc := url.Values{"grant_type": {"client_credentials"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	tokenError(t, c.Token(url.Values{}), http.StatusBadRequest, "invalid_request")
	tokenError(t, c.Token(with("grant_type", "password", "username", "a", "password", "b")), http.StatusBadRequest, "unsupported_grant_type")
	tokenError(t, c.Token(with("grant_type", "client_credentials", "client_id", id)), http.StatusBadRequest, "invalid_request")
	tokenError(t, c.Token(with("grant_type", "client_credentials", "client_secret", secret)), http.StatusBadRequest, "invalid_request")
	tokenError(t, c.Token(with("grant_type", "client_credentials", "grant_type", "client_credentials", "client_id", id, "client_secret", secret)),
		http.StatusBadRequest, "invalid_request")
	tokenError(t, c.API(http.MethodPost, "/oauth2/token", `{"grant_type":"client_credentials"}`, "Content-Type", "application/json"),
		http.StatusBadRequest, "invalid_request")
	r := c.Token(with("grant_type", "client_credentials", "client_id", id, "client_secret", "wrong"))
	tokenError(t, r, http.StatusUnauthorized, "invalid_client")
	if r.Header("WWW-Authenticate") != "" {
		t.Error("a challenge for body credentials")
	}
	r = c.Token(cc, basic(id, "wrong")...)
	tokenError(t, r, http.StatusUnauthorized, "invalid_client")
	if !strings.HasPrefix(r.Header("WWW-Authenticate"), "Basic ") {
		t.Errorf("no Basic challenge: %q", r.Header("WWW-Authenticate"))
	}
	tokenError(t, c.Token(with("grant_type", "client_credentials", "client_id", "not-a-client", "client_secret", secret)),
		http.StatusUnauthorized, "invalid_client")
	tokenError(t, c.API(http.MethodGet, "/oauth2/nowhere", ""), http.StatusNotFound, "invalid_request")

	// Bad secrets are throttled like passwords, per client and address:
	// two wrong ones above, three more, and the next waits.
	var last *webtest.Response
	for range 3 {
		last = c.Token(with("grant_type", "client_credentials", "client_id", id, "client_secret", "wrong"))
	}
	tokenError(t, last, http.StatusUnauthorized, "invalid_client")
	last = c.Token(with("grant_type", "client_credentials", "client_id", id, "client_secret", secret))
	tokenError(t, last, http.StatusTooManyRequests, "slow_down")
	if last.Header("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestClientSecretRotationGrace(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	_, project := app.SignUp("ada@example.org", "Alpha")
	id, secret := newAPIClient(t, app, project, clients.Input{Name: "Lab"})
	now := kit.Now()
	t.Cleanup(clients.SetClockForTests(func() time.Time { return now }))
	_, fresh, err := app.Sys.Tenant(project).RotateClientSecret(t.Context(), audit.Actor{}, id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := app.Client()
	c.ClientToken(id, secret)
	c.ClientToken(id, fresh)
	now = now.Add(time.Hour + time.Second)
	tokenError(t, c.Token(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}),
		http.StatusUnauthorized, "invalid_client")
	c.ClientToken(id, fresh)
}

func TestClientPolicyOnTheAPI(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	_, project := app.SignUp("ada@example.org", "Alpha")
	pol, err := app.Sys.Tenant(project).CreateAccessPolicy(t.Context(), audit.Actor{},
		resources.PolicyInput{Name: "Read patients", Rules: resources.PolicyRules{{ResourceType: "Patient", ReadOnly: true}}})
	if err != nil {
		t.Fatal(err)
	}
	id, secret := newAPIClient(t, app, project, clients.Input{Name: "Reader", AccessPolicyID: pol.ID, TokenLifetime: 10 * time.Minute})
	c := app.Client()
	r := c.Token(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}).Status(http.StatusOK)
	if r.JSON()["expires_in"] != float64(600) {
		t.Errorf("expires_in %v", r.JSON()["expires_in"])
	}
	token := r.JSON()["access_token"].(string)
	c.API(http.MethodGet, "/fhir/R4/Patient", "", bearer(token)...).Status(http.StatusOK)
	c.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`, bearer(token)...).Status(http.StatusForbidden)
	c.API(http.MethodGet, "/fhir/R4/Observation", "", bearer(token)...).Status(http.StatusForbidden)
}

func TestDiscoveryDocuments(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	c := app.Client()
	jwks := c.API(http.MethodGet, "/.well-known/jwks.json", "").Status(http.StatusOK)
	keys := jwks.JSON()["keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("keys %s", jwks.Body)
	}
	k := keys[0].(map[string]any)
	if k["kty"] != "RSA" || k["alg"] != "RS256" || k["kid"] != app.Server.OAuthKeys().CurrentKeyID() || k["d"] != nil {
		t.Errorf("key %v", k)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/fhir/R4/.well-known/smart-configuration"} {
		doc := c.API(http.MethodGet, path, "").Status(http.StatusOK).JSON()
		grants, _ := json.Marshal(doc["grant_types_supported"])
		methods, _ := json.Marshal(doc["code_challenge_methods_supported"])
		if doc["issuer"] != app.HTTP.URL || doc["token_endpoint"] != app.HTTP.URL+"/oauth2/token" ||
			doc["jwks_uri"] != app.HTTP.URL+"/.well-known/jwks.json" ||
			string(grants) != `["authorization_code","client_credentials","refresh_token"]` || string(methods) != `["S256","plain"]` ||
			doc["userinfo_endpoint"] != app.HTTP.URL+"/oauth2/userinfo" || doc["revocation_endpoint"] != app.HTTP.URL+"/oauth2/revoke" {
			t.Errorf("%s: %v", path, doc)
		}
		// Each endpoint it names is served.
		for _, k := range []string{"token_endpoint", "userinfo_endpoint", "revocation_endpoint", "authorization_endpoint"} {
			if u, ok := doc[k].(string); ok {
				if r := c.API(http.MethodPost, strings.TrimPrefix(u, app.HTTP.URL), ""); r.Resp.StatusCode == http.StatusNotFound {
					t.Errorf("%s %s is not served", k, u)
				}
			}
		}
	}
}

// TestSigningKeyRotation: the key file is made on first start (0600), and
// after `enclave oauth rotate-key` the server signs with the new key while
// tokens of the previous one keep working.
func TestSigningKeyRotation(t *testing.T) {
	app := webtest.NewWith(t, testdb.SQLite(t), func(cfg *web.Config) { cfg.OAuthKeys = nil })
	info, err := os.Stat(filepath.Join(app.Server.DataDir(), oauth.KeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", info, err)
	}
	_, project := app.SignUp("ada@example.org", "Alpha")
	id, secret := newAPIClient(t, app, project, clients.Input{Name: "Lab"})
	c := app.Client()
	before := c.ClientToken(id, secret)
	kid, err := oauth.Rotate(app.Server.DataDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Server.OAuthKeys().Refresh(); err != nil {
		t.Fatal(err)
	}
	after := c.ClientToken(id, secret)
	if header := strings.Split(after, ".")[0]; !strings.Contains(decodeSegment(t, header), kid) {
		t.Errorf("the new token is not signed by the new key %s", kid)
	}
	for _, tok := range []string{before, after} {
		c.API(http.MethodGet, "/fhir/R4/Patient", "", bearer(tok)...).Status(http.StatusOK)
	}
	if n := len(c.API(http.MethodGet, "/.well-known/jwks.json", "").JSON()["keys"].([]any)); n != 2 {
		t.Errorf("%d keys published", n)
	}
}

func decodeSegment(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
