package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"enclave/models/audit"
	"enclave/models/logins"
	"enclave/models/members"
	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// refusal checks an OperationOutcome answer with status and returns its
// text (outcomeText).
func refusal(t *testing.T, r *webtest.Response, status int) string {
	t.Helper()
	r.Status(status)
	return outcomeText(t, r)
}

// refresh uses a refresh token.
func refresh(c *webtest.Client, token string) *webtest.Response {
	return c.Token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
}

// revoke posts a token to the revocation endpoint.
func revoke(c *webtest.Client, token string) *webtest.Response {
	return c.API(http.MethodPost, "/oauth2/revoke", url.Values{"token": {token}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded")
}

func TestUserSignIn(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("ada@example.org", "Alpha")
			ada, err := app.Sys.UserByEmail(t.Context(), "ada@example.org")
			if err != nil {
				t.Fatal(err)
			}
			patient := admin.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`).
				Status(http.StatusCreated).JSON()["id"].(string)
			prog := app.Client()

			// The SDK's sign-in: one membership, so a code at once.
			code, pkce := prog.LoginCode("ada@example.org", map[string]any{"scope": "openid email profile", "nonce": "n-0S6"})
			tokenError(t, prog.RedeemCode(code, webtest.NewPKCE().Verifier), http.StatusBadRequest, "invalid_grant")
			r := prog.RedeemCode(code, pkce.Verifier).Status(http.StatusOK)
			if r.Header("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.Header("Cache-Control"))
			}
			body := r.JSON()
			prof := body["profile"].(map[string]any)
			if body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) || body["refresh_token"] == "" ||
				body["project"].(map[string]any)["reference"] != "Project/"+project || body["project"].(map[string]any)["display"] != "Alpha" ||
				!strings.HasPrefix(prof["reference"].(string), "Practitioner/") || prof["display"] != "Test ada" {
				t.Errorf("token answer %s", r.Body)
			}
			access := body["access_token"].(string)
			claims := tokenClaims(t, access)
			loginID, _ := claims["login_id"].(string)
			if loginID == "" || claims["sub"] != ada.ID || claims["project_id"] != project || claims["profile"] != prof["reference"] ||
				claims["exp"].(float64)-claims["iat"].(float64) != 3600 {
				t.Errorf("claims %v", claims)
			}
			for _, k := range []string{"cid", "client_id"} {
				if _, ok := claims[k]; ok {
					t.Errorf("a user token without a client carries %s", k)
				}
			}
			id := tokenClaims(t, body["id_token"].(string))
			if id["aud"] != app.HTTP.URL || id["nonce"] != "n-0S6" || id["sub"] != ada.ID || id["email"] != "ada@example.org" ||
				id["login_id"] != loginID || id["fhirUser"] != prof["reference"] {
				t.Errorf("id token %v", id)
			}
			// An ID token is no access token.
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(body["id_token"].(string))...))

			// The token reads and writes its project's resources.
			prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(access)...).Status(http.StatusOK)
			prog.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`, bearer(access)...).Status(http.StatusCreated)

			// /auth/me as the SDK reads it.
			me := prog.API(http.MethodGet, "/auth/me", "", bearer(access)...).Status(http.StatusOK).JSON()
			user, proj, mem, profile := me["user"].(map[string]any), me["project"].(map[string]any),
				me["membership"].(map[string]any), me["profile"].(map[string]any)
			if user["id"] != ada.ID || user["email"] != "ada@example.org" || proj["id"] != project || proj["name"] != "Alpha" ||
				proj["superAdmin"] != false || mem["admin"] != true || mem["id"] == nil ||
				profile["resourceType"] != "Practitioner" || "Practitioner/"+profile["id"].(string) != prof["reference"] ||
				me["config"] == nil || me["accessPolicy"].(map[string]any)["resourceType"] != "AccessPolicy" {
				t.Errorf("/auth/me %v", me)
			}
			// The same from the console session, naming the project.
			if got := admin.API(http.MethodGet, "/auth/me", "", "X-Enclave-Project", project).Status(http.StatusOK).JSON()["project"].(map[string]any)["id"]; got != project {
				t.Errorf("/auth/me by session: project %v", got)
			}
			info := prog.API(http.MethodGet, "/oauth2/userinfo", "", bearer(access)...).Status(http.StatusOK).JSON()
			if info["sub"] != ada.ID || info["email"] != "ada@example.org" || info["name"] != "Test ada" {
				t.Errorf("userinfo %v", info)
			}

			// The code works once: a replay revokes the sign-in's tokens.
			tokenError(t, prog.RedeemCode(code, pkce.Verifier), http.StatusBadRequest, "invalid_grant")
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(access)...))
			tokenError(t, refresh(prog, body["refresh_token"].(string)), http.StatusBadRequest, "invalid_grant")

			// Refresh tokens rotate; a spent one revokes the family, the
			// newer access token included.
			tokens := prog.UserTokens("ada@example.org")
			first := tokens["refresh_token"].(string)
			next := refresh(prog, first).Status(http.StatusOK).JSON()
			if next["refresh_token"] == first || next["access_token"] == "" {
				t.Fatalf("refresh answer %v", next)
			}
			newer := next["access_token"].(string)
			prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(newer)...).Status(http.StatusOK)
			tokenError(t, refresh(prog, first), http.StatusBadRequest, "invalid_grant")
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(newer)...))
			tokenError(t, refresh(prog, next["refresh_token"].(string)), http.StatusBadRequest, "invalid_grant")

			// Sign-out: the token stops at once, its refresh token too.
			tokens = prog.UserTokens("ada@example.org")
			access = tokens["access_token"].(string)
			prog.API(http.MethodPost, "/oauth2/logout", "", bearer(access)...).Status(http.StatusOK)
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(access)...))
			tokenError(t, refresh(prog, tokens["refresh_token"].(string)), http.StatusBadRequest, "invalid_grant")
			// The project's audit log shows the program's sign-ins and why
			// they ended.
			actions := strings.Join(admin.Get("/projects/"+project+"/audit").Status(http.StatusOK).TestIDs("audit-action"), " ")
			for _, a := range []string{"login.granted", "login.revoked"} {
				if !strings.Contains(actions, a) {
					t.Errorf("the audit log lacks %s: %s", a, actions)
				}
			}
			// Sign-out needs a user's token: a session alone is refused.
			admin.API(http.MethodPost, "/oauth2/logout", "", "X-Enclave-Project", project).Status(http.StatusUnauthorized)

			// Revocation (RFC 7009) by refresh token or access token;
			// an unknown token is 200 too.
			for _, which := range []string{"refresh_token", "access_token"} {
				tokens = prog.UserTokens("ada@example.org")
				revoke(prog, tokens[which].(string)).Status(http.StatusOK)
				invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(tokens["access_token"].(string))...))
			}
			revoke(prog, "nothing").Status(http.StatusOK)

			// Isolation: another project named in the header is refused,
			// another project's resource is not found.
			other, otherProject := app.SignUp("bob@example.org", "Beta")
			theirs := other.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`).Status(http.StatusCreated).JSON()["id"].(string)
			access = prog.UserTokens("ada@example.org")["access_token"].(string)
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", append(bearer(access), "X-Enclave-Project", otherProject)...))
			prog.API(http.MethodGet, "/fhir/R4/Patient/"+theirs, "", bearer(access)...).Status(http.StatusNotFound)
			invalidToken(t, prog.API(http.MethodGet, "/auth/me", "", append(bearer(access), "X-Enclave-Project", otherProject)...))

			// A member under a policy: the token acts under it; removing
			// the member ends the token.
			app.Join(admin, project, "cy@example.org", false)
			ten := app.Sys.Tenant(project)
			pol, err := ten.CreateAccessPolicy(t.Context(), audit.Actor{}, resources.PolicyInput{Name: "Read patients",
				Rules: resources.PolicyRules{{ResourceType: "Patient", ReadOnly: true}}})
			if err != nil {
				t.Fatal(err)
			}
			cy, err := app.Sys.UserByEmail(t.Context(), "cy@example.org")
			if err != nil {
				t.Fatal(err)
			}
			m, err := ten.Membership(t.Context(), cy.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ten.UpdateMember(t.Context(), audit.Actor{}, m.ID, members.MemberUpdate{Active: true, AccessPolicyID: &pol.ID}); err != nil {
				t.Fatal(err)
			}
			cyToken := prog.UserTokens("cy@example.org")["access_token"].(string)
			prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(cyToken)...).Status(http.StatusOK)
			prog.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`, bearer(cyToken)...).Status(http.StatusForbidden)
			prog.API(http.MethodGet, "/fhir/R4/Observation", "", bearer(cyToken)...).Status(http.StatusForbidden)
			cyMe := prog.API(http.MethodGet, "/auth/me", "", bearer(cyToken)...).Status(http.StatusOK).JSON()
			if cyMe["membership"].(map[string]any)["admin"] != false || cyMe["accessPolicy"].(map[string]any)["id"] != pol.ID {
				t.Errorf("/auth/me of a policed member %v", cyMe)
			}
			if _, err := ten.RemoveMember(t.Context(), audit.Actor{}, m.ID); err != nil {
				t.Fatal(err)
			}
			invalidToken(t, prog.API(http.MethodGet, "/fhir/R4/Patient/"+patient, "", bearer(cyToken)...))
		})
	}
}

func TestAuthLoginChoosesAMembership(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, alpha := app.SignUp("ada@example.org", "Alpha")
			beta := ada.NewProject("Beta")
			_, gamma := app.SignUp("bob@example.org", "Gamma")
			bob, err := app.Sys.UserByEmail(t.Context(), "bob@example.org")
			if err != nil {
				t.Fatal(err)
			}
			bobMembership, err := app.Sys.Tenant(gamma).Membership(t.Context(), bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			prog := app.Client()
			pkce := webtest.NewPKCE()
			login := func() map[string]any {
				return prog.Login(map[string]any{"email": "ada@example.org", "password": "password-123",
					"codeChallenge": pkce.Verifier, "codeChallengeMethod": "plain", "clientId": ""}).Status(http.StatusOK).JSON()
			}
			body := login()
			if _, ok := body["code"]; ok {
				t.Fatalf("a code before choosing among two memberships: %v", body)
			}
			choices := body["memberships"].([]any)
			if len(choices) != 2 {
				t.Fatalf("memberships %v", body)
			}
			byProject := map[string]string{}
			for _, ch := range choices {
				m := ch.(map[string]any)
				ref := m["project"].(map[string]any)["reference"].(string)
				byProject[strings.TrimPrefix(ref, "Project/")] = m["id"].(string)
				if !strings.HasPrefix(m["profile"].(map[string]any)["reference"].(string), "Practitioner/") {
					t.Errorf("choice %v", m)
				}
			}
			loginID := body["login"].(string)
			profile := func(login, membership string) *webtest.Response {
				return prog.API(http.MethodPost, "/auth/profile", `{"login":"`+login+`","profile":"`+membership+`"}`)
			}
			// Another user's membership is refused, and so is a login
			// that does not exist.
			if text := refusal(t, profile(loginID, bobMembership.ID), http.StatusBadRequest); !strings.Contains(text, "Invalid profile") {
				t.Errorf("another user's membership: %s", text)
			}
			refusal(t, profile("2c1a4bde-0000-4000-8000-000000000000", byProject[beta]), http.StatusBadRequest)
			code := profile(loginID, byProject[beta]).Status(http.StatusOK).JSON()["code"].(string)
			// Once chosen, the login takes no other choice.
			refusal(t, profile(loginID, byProject[alpha]), http.StatusBadRequest)
			tokens := prog.RedeemCode(code, pkce.Verifier).Status(http.StatusOK).JSON() // plain PKCE
			if tokens["project"].(map[string]any)["reference"] != "Project/"+beta {
				t.Errorf("token for %v", tokens["project"])
			}

			// projectId picks the membership at once; a project the user
			// is no member of is refused.
			body = prog.Login(map[string]any{"email": "ada@example.org", "password": "password-123", "projectId": alpha,
				"codeChallenge": pkce.Challenge, "codeChallengeMethod": "S256"}).Status(http.StatusOK).JSON()
			if body["code"] == nil {
				t.Errorf("projectId: %v", body)
			}
			r := prog.Login(map[string]any{"email": "ada@example.org", "password": "password-123", "projectId": gamma,
				"codeChallenge": pkce.Challenge, "codeChallengeMethod": "S256"})
			if text := refusal(t, r, http.StatusBadRequest); strings.Contains(text, "Gamma") {
				t.Errorf("the refusal names the other project: %s", text)
			}
		})
	}
}

func TestAuthLoginRefusals(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	app.SignUp("ada@example.org", "Alpha")
	c := app.Client()
	pkce := webtest.NewPKCE()
	good := map[string]any{"email": "ada@example.org", "password": "password-123", "codeChallenge": pkce.Challenge,
		"codeChallengeMethod": "S256"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}

	// Bad input: 400 OperationOutcomes naming the field, never 500.
	refusal(t, c.API(http.MethodPost, "/auth/login", "email=ada%40example.org&password=x",
		"Content-Type", "application/x-www-form-urlencoded"), http.StatusBadRequest)
	refusal(t, c.API(http.MethodPost, "/auth/login", `{"email":`), http.StatusBadRequest)
	refusal(t, c.API(http.MethodPost, "/auth/login", `{"email":42}`), http.StatusBadRequest)
	refusal(t, c.API(http.MethodPost, "/auth/login", `["a"]`, "Content-Type", "application/json"), http.StatusBadRequest)
	if text := refusal(t, c.API(http.MethodPost, "/auth/login", `{}`), http.StatusBadRequest); !strings.Contains(text, "@email") ||
		!strings.Contains(text, "@password") || !strings.Contains(text, "@codeChallenge") {
		t.Errorf("missing fields: %s", text)
	}
	for field, v := range map[string]any{"codeChallengeMethod": "S512", "codeChallenge": "short", "projectId": "nope",
		"clientId": "2c1a4bde-0000-4000-8000-000000000000"} {
		if text := refusal(t, c.Login(with(field, v)), http.StatusBadRequest); !strings.Contains(text, "@"+field) {
			t.Errorf("%s=%v: %s", field, v, text)
		}
	}
	refusal(t, c.API(http.MethodPost, "/auth/profile", `{}`), http.StatusBadRequest)
	refusal(t, c.API(http.MethodPost, "/auth/profile", `{"login":"x","profile":"y"}`), http.StatusBadRequest)
	c.API(http.MethodGet, "/auth/me", "").Status(http.StatusUnauthorized)

	// The token endpoint's refusals of codes.
	tokenError(t, c.Token(url.Values{"grant_type": {"authorization_code"}, "code_verifier": {pkce.Verifier}}), http.StatusBadRequest, "invalid_request")
	code, p := c.LoginCode("ada@example.org", nil)
	tokenError(t, c.Token(url.Values{"grant_type": {"authorization_code"}, "code": {code}}), http.StatusBadRequest, "invalid_request")
	tokenError(t, c.RedeemCode("not-a-code", p.Verifier), http.StatusBadRequest, "invalid_grant")
	tokenError(t, c.Token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {p.Verifier},
		"client_id": {"2c1a4bde-0000-4000-8000-000000000000"}}), http.StatusBadRequest, "invalid_grant")
	tokenError(t, c.Token(url.Values{"grant_type": {"refresh_token"}}), http.StatusBadRequest, "invalid_request")
	tokenError(t, refresh(c, "nothing"), http.StatusBadRequest, "invalid_grant")
	c.RedeemCode(code, p.Verifier).Status(http.StatusOK) // the refusals above did not use it up

	// An expired code.
	now := time.Now()
	restore := logins.SetClockForTests(func() time.Time { return now })
	code, p = c.LoginCode("ada@example.org", nil)
	now = now.Add(logins.CodeLifetime + time.Second)
	tokenError(t, c.RedeemCode(code, p.Verifier), http.StatusBadRequest, "invalid_grant")
	restore()

	// A wrong password is Medplum's 400; guesses are throttled like the
	// console's sign-in form (five, then a wait).
	var last *webtest.Response
	for range 5 {
		last = c.Login(with("password", "wrong-password"))
		if text := refusal(t, last, http.StatusBadRequest); text != "Email or password is invalid" {
			t.Errorf("wrong password: %s", text)
		}
	}
	last = c.Login(good)
	refusal(t, last, http.StatusTooManyRequests)
	if last.Header("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}
