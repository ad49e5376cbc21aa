package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestProgramRegistration: Medplum's SDK registers a person with
// /auth/newuser, makes their first project with /auth/newproject, and
// trades the code for tokens that work in that project, as admin.
func TestProgramRegistration(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			prog := app.Client()
			post := func(path string, body map[string]any) *webtest.Response {
				b, err := json.Marshal(body)
				if err != nil {
					t.Fatal(err)
				}
				return prog.API(http.MethodPost, path, string(b))
			}
			pkce := webtest.NewPKCE()
			newUser := map[string]any{"firstName": "Grace", "lastName": "Hopper", "email": "Grace@Example.org",
				"password": "compiler-1952", "projectId": "new", "clientId": "", "codeChallenge": pkce.Challenge,
				"codeChallengeMethod": "S256", "recaptchaToken": ""}
			login, _ := post("/auth/newuser", newUser).Status(http.StatusOK).JSON()["login"].(string)
			if login == "" {
				t.Fatal("no login from /auth/newuser")
			}
			u, err := app.Sys.UserByEmail(t.Context(), "grace@example.org")
			if err != nil || u.Name() != "Grace Hopper" || u.EmailVerifiedAt != nil {
				t.Fatalf("user %+v, %v: want Grace Hopper, not yet verified", u, err)
			}
			// The verification email went out, as for the console's form.
			if app.LoggedLink("email-verification", "grace@example.org") == "" {
				t.Error("no verification link sent to grace@example.org")
			}

			// The same address again is refused, naming the field.
			if text := refusal(t, post("/auth/newuser", newUser), http.StatusBadRequest); !strings.Contains(text, "@email") {
				t.Errorf("second registration: %s", text)
			}
			// A project name the console would refuse.
			if text := refusal(t, post("/auth/newproject", map[string]any{"login": login, "projectName": " "}),
				http.StatusBadRequest); !strings.Contains(text, "@projectName") {
				t.Errorf("blank project name: %s", text)
			}

			r := post("/auth/newproject", map[string]any{"login": login, "projectName": "Compilers"}).Status(http.StatusOK).JSON()
			code, _ := r["code"].(string)
			if r["login"] != login || code == "" {
				t.Fatalf("/auth/newproject answered %v", r)
			}
			// The login has its project now: a second one is refused.
			refusal(t, post("/auth/newproject", map[string]any{"login": login, "projectName": "Again"}), http.StatusBadRequest)

			tokens := prog.RedeemCode(code, pkce.Verifier).Status(http.StatusOK).JSON()
			project := tokens["project"].(map[string]any)
			if project["display"] != "Compilers" {
				t.Errorf("token answer's project %v", project)
			}
			access := tokens["access_token"].(string)
			me := prog.API(http.MethodGet, "/auth/me", "", bearer(access)...).Status(http.StatusOK).JSON()
			if me["membership"].(map[string]any)["admin"] != true || me["user"].(map[string]any)["email"] != "grace@example.org" {
				t.Errorf("/auth/me %v", me)
			}
			prog.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`, bearer(access)...).Status(http.StatusCreated)
		})
	}
}

// TestProgramRegistrationRefusals: bad input is a 400 OperationOutcome
// naming the field, never a 500 nor an account.
func TestProgramRegistrationRefusals(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	c := app.Client()
	pkce := webtest.NewPKCE()
	for body, field := range map[string]string{
		`{}`: "@codeChallenge",
		`{"email":"a@example.org","password":"long-enough-1","firstName":"A","lastName":"B","codeChallenge":"` + pkce.Challenge + `","codeChallengeMethod":"S256","projectId":"2c1a4bde-0000-4000-8000-000000000000"}`: "@projectId",
		`{"email":"not-an-address","password":"long-enough-1","firstName":"A","lastName":"B","codeChallenge":"` + pkce.Challenge + `","codeChallengeMethod":"S256"}`:                                                   "@email",
	} {
		if text := refusal(t, c.API(http.MethodPost, "/auth/newuser", body), http.StatusBadRequest); !strings.Contains(text, field) {
			t.Errorf("%s: %s, want a word on %s", body, text, field)
		}
	}
	refusal(t, c.API(http.MethodPost, "/auth/newuser", `{"email":`), http.StatusBadRequest)
	refusal(t, c.API(http.MethodPost, "/auth/newproject", `{"login":"nope","projectName":"X"}`), http.StatusBadRequest)
	refusal(t, c.API(http.MethodPost, "/auth/newproject", `{}`), http.StatusBadRequest)
	if _, err := app.Sys.UserByEmail(t.Context(), "a@example.org"); err == nil {
		t.Error("a refused registration made an account")
	}
}
