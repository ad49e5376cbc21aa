package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// patientRules let a patient read and change their own Patient and
// Observations, and nothing else.
var patientRules = []resources.PolicyRule{
	{ResourceType: "Patient", Criteria: "Patient?_id=%patient.id"},
	{ResourceType: "Observation", Criteria: "Observation?subject=%patient"},
}

// openRegistration gives project a defaultPatientAccessPolicy with
// patientRules, as its admin would in the settings, and returns the policy.
func openRegistration(t *testing.T, app *webtest.App, project string) resources.AccessPolicy {
	t.Helper()
	tn := app.Sys.Tenant(project)
	pol, err := tn.CreateAccessPolicy(t.Context(), audit.Actor{}, resources.PolicyInput{Name: "Patients", Rules: patientRules})
	if err != nil {
		t.Fatal(err)
	}
	p, err := tn.Project(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tn.UpdateSettings(t.Context(), audit.Actor{}, projects.SettingsUpdate{Name: p.Name, StrictMode: p.StrictMode,
		DefaultPatientAccessPolicy: &pol.ID, Version: p.Version}, false); err != nil {
		t.Fatal(err)
	}
	return pol
}

// joinForm is the registration form of a new patient.
func joinForm(email string) url.Values {
	return url.Values{"firstName": {"Pat"}, "lastName": {"Jones"}, "email": {email}, "password": {"password-123"}, "birthDate": {"1990-05-17"}}
}

// bundleIDs are the ids of a search Bundle's resources.
func bundleIDs(r *webtest.Response) []string {
	var ids []string
	entries, _ := r.JSON()["entry"].([]any)
	for _, e := range entries {
		res := e.(map[string]any)["resource"].(map[string]any)
		ids = append(ids, res["id"].(string))
	}
	slices.Sort(ids)
	return ids
}

func TestPatientRegistration(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("ada@example.org", "Clinic")
			join := "/projects/" + project + "/join"
			visitor := app.Client()

			// Without the setting the page is the 404 of an unknown project.
			unknown := visitor.Get("/projects/00000000-0000-0000-0000-000000000000/join").Status(http.StatusNotFound)
			closed := visitor.Get(join).Status(http.StatusNotFound)
			if closed.Body != unknown.Body {
				t.Error("the closed project's 404 differs from an unknown project's")
			}
			visitor.PostForm(join, joinForm("pat@example.org")).Status(http.StatusNotFound)
			admin.Get(join).Status(http.StatusNotFound)
			if _, err := app.Sys.UserByEmail(t.Context(), "pat@example.org"); err == nil {
				t.Fatal("a closed project registered someone")
			}

			pol := openRegistration(t, app, project)
			page := visitor.Get(join).Status(http.StatusOK).Shows("join-form")
			if !strings.Contains(page.Body, "Join Clinic as a patient") {
				t.Errorf("page title missing: %s", page.TestID("join-form"))
			}
			// CSRF, then bad input, then the same email as an account.
			visitor.PostFormNoCSRF(join, joinForm("pat@example.org")).Status(http.StatusForbidden)
			bad := visitor.PostForm(join, url.Values{"email": {"nope"}, "birthDate": {"17/05/1990"}}).Status(http.StatusUnprocessableEntity)
			for _, id := range []string{"error-firstName", "error-email", "error-password", "error-birthDate"} {
				bad.Shows(id)
			}
			visitor.PostForm(join, joinForm("ada@example.org")).Status(http.StatusUnprocessableEntity).Contains("already exists")

			// The join signs the patient in and lands on the project.
			// The form sent twice (a double click) registers once and lands
			// both copies in the project.
			pat := app.Client()
			token, _ := pat.Get(join).Status(http.StatusOK).Doc().Find(`[name="formToken"]`).Attr("value")
			form := joinForm("pat@example.org")
			form.Set("formToken", token)
			pat.PostForm(join, form).RedirectsTo("/projects/" + project)
			pat.PostForm(join, form).RedirectsTo("/projects/" + project)
			if ms, err := app.Sys.Tenant(project).Members(t.Context()); err != nil || len(ms) != 2 {
				t.Errorf("after a double submission the project has %d members, %v", len(ms), err)
			}
			pat.Get("/projects/" + project).Status(http.StatusOK).Contains("Clinic")
			u, err := app.Sys.UserByEmail(t.Context(), "pat@example.org")
			if err != nil {
				t.Fatal(err)
			}
			m, err := app.Sys.Tenant(project).Membership(t.Context(), u.ID)
			if err != nil || m.ProfileType != "Patient" || m.AccessPolicyID == nil || *m.AccessPolicyID != pol.ID || m.Admin {
				t.Fatalf("membership %+v, %v", m, err)
			}
			me := *m.ProfileID
			if app.LoggedLink("email-verification", "pat@example.org") == "" {
				t.Error("no verification link was sent")
			}
			if got := admin.Get("/projects/" + project + "/audit").Status(http.StatusOK).Body; !strings.Contains(got, "patient.joined") {
				t.Error("the join is not in the audit log")
			}

			// Another patient, and observations of each.
			other := storeResource(t, app, project, "Patient", `{"resourceType":"Patient","name":[{"family":"Other"}]}`)
			obs := func(subject string) string {
				return storeResource(t, app, project, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/`+subject+`"}}`)
			}
			mine, theirs := obs(me), obs(other)
			hdr := []string{"X-Enclave-Project", project}

			// The API: search, read, update and history of their own only.
			if got := bundleIDs(pat.API(http.MethodGet, "/fhir/R4/Observation", "", hdr...).Status(http.StatusOK)); len(got) != 1 || got[0] != mine {
				t.Errorf("the patient's Observations: %v, want only %s", got, mine)
			}
			if got := bundleIDs(pat.API(http.MethodGet, "/fhir/R4/Patient", "", hdr...).Status(http.StatusOK)); len(got) != 1 || got[0] != me {
				t.Errorf("the patient's Patients: %v, want only %s", got, me)
			}
			pat.API(http.MethodGet, "/fhir/R4/Observation/"+mine, "", hdr...).Status(http.StatusOK)
			pat.API(http.MethodGet, "/fhir/R4/Observation/"+theirs, "", hdr...).Status(http.StatusNotFound)
			pat.API(http.MethodGet, "/fhir/R4/Patient/"+other, "", hdr...).Status(http.StatusNotFound)
			edit := func(id, subject string) string {
				return `{"resourceType":"Observation","id":"` + id + `","status":"amended","code":{"text":"pulse"},"subject":{"reference":"Patient/` + subject + `"}}`
			}
			pat.API(http.MethodPut, "/fhir/R4/Observation/"+mine, edit(mine, me), hdr...).Status(http.StatusOK)
			pat.API(http.MethodPut, "/fhir/R4/Observation/"+theirs, edit(theirs, other), hdr...).Status(http.StatusNotFound)
			pat.API(http.MethodPut, "/fhir/R4/Observation/"+mine, edit(mine, other), hdr...).Status(http.StatusForbidden)
			pat.API(http.MethodGet, "/fhir/R4/Observation/"+theirs+"/_history", "", hdr...).Status(http.StatusForbidden)
			pat.API(http.MethodGet, "/fhir/R4/Organization", "", hdr...).Status(http.StatusForbidden)
			if r, err := app.Sys.Tenant(project).ReadResource(t.Context(), "Observation", theirs); err != nil || strings.Contains(string(r.JSON), "amended") {
				t.Errorf("the other patient's Observation changed: %s, %v", r.JSON, err)
			}

			// The console: the types they may read, their own rows.
			base := "/projects/" + project + "/resources"
			types := pat.Get(base).Status(http.StatusOK)
			if n := types.Doc().Find(`[data-testid="all-types"] a`).Length(); n == 0 || strings.Contains(types.TestID("all-types"), "Organization") {
				t.Errorf("the patient's type list: %q", types.TestID("all-types"))
			}
			if got := pat.Get(base + "/Observation").Status(http.StatusOK).TestIDs("result-id"); len(got) != 1 || !strings.Contains(got[0], mine) {
				t.Errorf("the patient's Observation list: %v", got)
			}
			pat.Get(base + "/Observation/" + theirs).Status(http.StatusNotFound)

			// A practitioner under the same policy has no Patient profile:
			// its rules grant them nothing (the types are not allowed), not
			// everything.
			doc, _ := policyMember(t, app, project, "doc@example.org", patientRules...)
			doc.API(http.MethodGet, "/fhir/R4/Observation", "", hdr...).Status(http.StatusForbidden)
			doc.API(http.MethodGet, "/fhir/R4/Observation/"+mine, "", hdr...).Status(http.StatusForbidden)
			doc.API(http.MethodGet, "/fhir/R4/Patient/"+me, "", hdr...).Status(http.StatusForbidden)
			if doc.Get(base).Status(http.StatusOK).Doc().Find(`[data-testid="all-types"] a:contains("Observation")`).Length() != 0 {
				t.Error("the practitioner is offered Observations")
			}

			// A signed-in, verified user joins with their own account.
			pat.VerifyEmail("pat@example.org")
			second := admin.NewProject("Second clinic")
			openRegistration(t, app, second)
			pat.Get("/projects/" + second + "/join").Status(http.StatusOK).NotContains(`name="password"`)
			pat.PostForm("/projects/"+second+"/join", url.Values{"birthDate": {""}}).RedirectsTo("/projects/" + second)
			if got := pat.PostForm("/projects/"+second+"/join", url.Values{}).Status(http.StatusUnprocessableEntity).TestID("form-error"); !strings.Contains(got, "already a member") {
				t.Errorf("joining twice: %q", got)
			}
			// Isolation: the first project's patient sees nothing of the
			// second's Observations, nor the other way round.
			obs2 := storeResource(t, app, second, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/`+me+`"}}`)
			pat.API(http.MethodGet, "/fhir/R4/Observation/"+obs2, "", hdr...).Status(http.StatusNotFound)
			if got := bundleIDs(pat.API(http.MethodGet, "/fhir/R4/Observation", "", "X-Enclave-Project", second).Status(http.StatusOK)); len(got) != 0 {
				t.Errorf("in the second project the patient sees %v (their Patient there is another one)", got)
			}
		})
	}
}

// TestClientTokensFollowTheirPolicy: an API client's token is limited by
// the client's access policy, ORed rules included; a rule using %patient
// grants a client (which has no profile) nothing.
func TestClientTokensFollowTheirPolicy(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, project := app.SignUp("ada@example.org", "Alpha")
			tn := app.Sys.Tenant(project)
			pat := storeResource(t, app, project, "Patient", `{"resourceType":"Patient"}`)
			obs := map[string]string{}
			for _, status := range []string{"final", "amended", "preliminary"} {
				obs[status] = storeResource(t, app, project, "Observation", `{"resourceType":"Observation","status":"`+status+`","code":{"text":"x"},"subject":{"reference":"Patient/`+pat+`"}}`)
			}
			token := func(name string, rules ...resources.PolicyRule) string {
				pol, err := tn.CreateAccessPolicy(t.Context(), audit.Actor{}, resources.PolicyInput{Name: name, Rules: rules})
				if err != nil {
					t.Fatal(err)
				}
				id, secret := newAPIClient(t, app, project, clients.Input{Name: name, AccessPolicyID: pol.ID, TokenLifetime: 10 * time.Minute})
				return app.Client().ClientToken(id, secret)
			}
			c := app.Client()
			two := token("Two statuses", resources.PolicyRule{ResourceType: "Observation", Criteria: "Observation?status=final", ReadOnly: true},
				resources.PolicyRule{ResourceType: "Observation", Criteria: "Observation?status=amended"})
			want := []string{obs["final"], obs["amended"]}
			slices.Sort(want)
			if got := bundleIDs(c.API(http.MethodGet, "/fhir/R4/Observation", "", bearer(two)...).Status(http.StatusOK)); !slices.Equal(got, want) {
				t.Errorf("client sees %v, want %v", got, want)
			}
			c.API(http.MethodGet, "/fhir/R4/Observation/"+obs["preliminary"], "", bearer(two)...).Status(http.StatusNotFound)
			body := func(id, status string) string {
				return `{"resourceType":"Observation","id":"` + id + `","status":"` + status + `","code":{"text":"y"},"subject":{"reference":"Patient/` + pat + `"}}`
			}
			c.API(http.MethodPut, "/fhir/R4/Observation/"+obs["amended"], body(obs["amended"], "amended"), bearer(two)...).Status(http.StatusOK)
			c.API(http.MethodPut, "/fhir/R4/Observation/"+obs["final"], body(obs["final"], "final"), bearer(two)...).Status(http.StatusForbidden)
			c.API(http.MethodGet, "/fhir/R4/Patient", "", bearer(two)...).Status(http.StatusForbidden)

			mine := token("Mine", patientRules...)
			c.API(http.MethodGet, "/fhir/R4/Observation", "", bearer(mine)...).Status(http.StatusForbidden)
			c.API(http.MethodGet, "/fhir/R4/Patient/"+pat, "", bearer(mine)...).Status(http.StatusForbidden)
		})
	}
}

// TestPatientRegistrationThrottled: the join form counts against the same
// per-address budget as the console's registration (10 an hour).
func TestPatientRegistrationThrottled(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			_, project := app.SignUp("ada@example.org", "Clinic") // one registration
			openRegistration(t, app, project)
			c := app.Client()
			join := "/projects/" + project + "/join"
			c.Get(join).Status(http.StatusOK)
			for range 9 {
				c.PostForm(join, url.Values{"email": {"x"}}).Status(http.StatusUnprocessableEntity)
			}
			r := c.PostForm(join, joinForm("pat@example.org")).Status(http.StatusTooManyRequests)
			if r.Header("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			c.PostForm("/register", url.Values{"firstName": {"A"}, "lastName": {"B"}, "email": {"b@example.org"}, "password": {"password-123"}}).
				Status(http.StatusTooManyRequests)
			if _, err := app.Sys.UserByEmail(t.Context(), "pat@example.org"); err == nil {
				t.Error("a throttled join registered the patient")
			}
		})
	}
}
