package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// postJSON posts body as JSON, as Medplum's SDK posts to /auth/*.
func postJSON(t *testing.T, c *webtest.Client, path string, body map[string]any) *webtest.Response {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return c.API(http.MethodPost, path, string(b))
}

// TestProgramRegistration: Medplum's SDK registers a person with
// /auth/newuser, makes their first project with /auth/newproject, and
// trades the code for tokens that work in that project, as admin.
func TestProgramRegistration(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			prog := app.Client()
			post := func(path string, body map[string]any) *webtest.Response { return postJSON(t, prog, path, body) }
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

// TestProgramPatientRegistration: Medplum's startNewUser with the id of a
// project whose patient registration is open, then startNewPatient: the
// account, its Patient and its membership under the project's default
// patient policy, as the join page makes them, and a token that acts as
// that patient.
func TestProgramPatientRegistration(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Clinic")
			closed := admin.NewProject("Closed")
			openRegistration(t, app, project)
			prog := app.Client()
			post := func(path string, body map[string]any) *webtest.Response { return postJSON(t, prog, path, body) }
			pkce := webtest.NewPKCE()
			newUser := func(projectID string) map[string]any {
				return map[string]any{"firstName": "Pat", "lastName": "Ient", "email": "pat@example.org", "password": "patient-pw-1",
					"projectId": projectID, "codeChallenge": pkce.Challenge, "codeChallengeMethod": "S256"}
			}
			// A project without open registration is refused, and makes no account.
			if text := refusal(t, post("/auth/newuser", newUser(closed)), http.StatusBadRequest); !strings.Contains(text, "@projectId") {
				t.Errorf("closed project: %s", text)
			}
			if _, err := app.Sys.UserByEmail(t.Context(), "pat@example.org"); err == nil {
				t.Fatal("a refused patient registration made an account")
			}

			login, _ := post("/auth/newuser", newUser(project)).Status(http.StatusOK).JSON()["login"].(string)
			if login == "" {
				t.Fatal("no login")
			}
			// The login is for that project's patient registration only.
			refusal(t, post("/auth/newpatient", map[string]any{"login": login, "projectId": closed}), http.StatusBadRequest)
			refusal(t, post("/auth/newproject", map[string]any{"login": login, "projectName": "Mine"}), http.StatusBadRequest)
			code, _ := post("/auth/newpatient", map[string]any{"login": login, "projectId": project}).Status(http.StatusOK).JSON()["code"].(string)
			tokens := prog.RedeemCode(code, pkce.Verifier).Status(http.StatusOK).JSON()
			profile := tokens["profile"].(map[string]any)["reference"].(string)
			if !strings.HasPrefix(profile, "Patient/") {
				t.Fatalf("the patient's profile is %q", profile)
			}
			access := tokens["access_token"].(string)
			me := prog.API(http.MethodGet, "/auth/me", "", bearer(access)...).Status(http.StatusOK).JSON()
			if me["membership"].(map[string]any)["admin"] != false || me["profile"].(map[string]any)["resourceType"] != "Patient" {
				t.Errorf("/auth/me %v", me)
			}
			// They read their own Patient, and no one else's.
			other := admin.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`, "X-Enclave-Project", project).
				Status(http.StatusCreated).JSON()["id"].(string)
			prog.API(http.MethodGet, "/fhir/R4/"+profile, "", bearer(access)...).Status(http.StatusOK)
			prog.API(http.MethodGet, "/fhir/R4/Patient/"+other, "", bearer(access)...).Status(http.StatusNotFound)
		})
	}
}
