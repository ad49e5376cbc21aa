package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/audit"
	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// adminAPI is a project "Alpha" whose admin Ada calls the admin API with
// her console session, and a plain member, Bob.
type adminAPI struct {
	app     *webtest.App
	console *webtest.Client // Ada's browser
	ada     *webtest.Client // Ada's API client (the same account, its own session)
	project string
	// bob is the plain member's membership id.
	bob string
}

func newAdminAPI(t *testing.T, app *webtest.App) *adminAPI {
	t.Helper()
	console, project := app.SignUp("ada@example.org", "Alpha")
	app.Join(console, project, "bob@example.org", false)
	w := &adminAPI{app: app, console: console, ada: app.Client(), project: project}
	w.ada.SignIn("ada@example.org")
	w.bob = w.membershipOf(t, "bob@example.org")
	return w
}

// membershipOf is the id of email's membership of the project.
func (w *adminAPI) membershipOf(t *testing.T, email string) string {
	t.Helper()
	list, err := w.app.Sys.Tenant(w.project).Members(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.User.Email == email {
			return m.Membership.ID
		}
	}
	t.Fatalf("%s is no member", email)
	return ""
}

func (w *adminAPI) path(rest string) string { return "/admin/projects/" + w.project + rest }

// auditActions lists the project's audit events of these actions, newest
// first, as "action target".
func auditActions(t *testing.T, app *webtest.App, project string, actions ...string) []string {
	t.Helper()
	events, _, err := app.Sys.Tenant(project).AuditLog(context.Background(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		for _, a := range actions {
			if e.Action == a {
				out = append(out, e.Action+" "+e.Target)
			}
		}
	}
	return out
}

func TestAdminAPIProject(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newAdminAPI(t, webtest.New(t, db))
			for _, header := range [][]string{nil, {web.ProjectHeader, w.project}} {
				r := w.ada.API(http.MethodGet, w.path(""), "", header...).Status(http.StatusOK)
				if ct := r.Header("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
					t.Errorf("Content-Type %q", ct)
				}
				got := r.JSON()
				p := got["project"].(map[string]any)
				if p["resourceType"] != "Project" || p["id"] != w.project || p["name"] != "Alpha" || p["strictMode"] != true {
					t.Errorf("project %v", p)
				}
				roles := map[string]string{}
				for _, m := range got["members"].([]any) {
					m := m.(map[string]any)
					if m["resourceType"] != "ProjectMembership" || m["project"].(map[string]any)["reference"] != "Project/"+w.project ||
						!strings.HasPrefix(m["profile"].(map[string]any)["reference"].(string), "Practitioner/") || m["active"] != true {
						t.Errorf("member %v", m)
					}
					roles[m["user"].(map[string]any)["display"].(string)] = map[bool]string{true: "admin", false: "member"}[m["admin"].(bool)]
				}
				if len(roles) != 2 || roles["ada@example.org"] != "admin" || roles["bob@example.org"] != "member" {
					t.Errorf("members %v", roles)
				}
			}
		})
	}
}

func TestAdminAPIMembers(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newAdminAPI(t, webtest.New(t, db))
			bob := w.path("/members/" + w.bob)
			read := w.ada.API(http.MethodGet, bob, "").Status(http.StatusOK)
			m := read.JSON()
			if m["id"] != w.bob || m["admin"] != false || m["meta"].(map[string]any)["project"] != w.project {
				t.Fatalf("read %s", read.Body)
			}

			// The SDK's way: read, change, send back, as application/fhir+json
			// or application/json alike.
			policy := w.console.NewPolicy(w.project, "Readers")
			promoted := strings.Replace(read.Body, `"admin":false`, `"admin":true,"accessPolicy":{"reference":"AccessPolicy/`+policy+`"}`, 1)
			for _, ct := range []string{"application/fhir+json", "application/json; charset=utf-8"} {
				got := w.ada.API(http.MethodPost, bob, promoted, "Content-Type", ct).Status(http.StatusOK).JSON()
				if got["admin"] != true || got["accessPolicy"].(map[string]any)["reference"] != "AccessPolicy/"+policy {
					t.Errorf("%s: saved %v", ct, got)
				}
			}
			if got := w.ada.API(http.MethodGet, bob, "").JSON(); got["admin"] != true {
				t.Errorf("read back %v", got)
			}
			if a := auditActions(t, w.app, w.project, audit.ActionMemberUpdated); len(a) != 2 || a[0] != "member.updated bob@example.org" {
				t.Errorf("audit %v", a)
			}
			// Left out, the policy is none and the member active, as in a
			// FHIR update.
			got := w.ada.API(http.MethodPost, bob, `{"resourceType":"ProjectMembership","id":"`+w.bob+`","admin":false}`).
				Status(http.StatusOK).JSON()
			if got["admin"] != false || got["accessPolicy"] != nil || got["active"] != true {
				t.Errorf("saved %v", got)
			}

			// Refusals: a clear 400 naming the field, nothing changed.
			ada := w.path("/members/" + w.membershipOf(t, "ada@example.org"))
			other := w.console.NewProject("Beta")
			otherPolicy := w.console.NewPolicy(other, "Elsewhere")
			for _, c := range []struct{ name, path, body, want string }{
				{"not JSON", bob, `{"admin":`, "not valid JSON"},
				{"not an object", bob, `[1]`, "must be a JSON object"},
				{"wrong type", bob, `{"resourceType":"ProjectMembership","id":"` + w.bob + `","admin":"yes"}`, "admin must be true or false | @admin"},
				{"NUL", bob, `{"resourceType":"ProjectMembership","id":"` + w.bob + `","x":"a\u0000"}`, "NUL character"},
				{"another type", bob, `{"resourceType":"Patient","id":"` + w.bob + `"}`, `must be "ProjectMembership" | @resourceType`},
				{"another id", bob, `{"resourceType":"ProjectMembership","id":"x"}`, "id of the membership the path names | @id"},
				{"another project", bob, `{"resourceType":"ProjectMembership","id":"` + w.bob + `","project":{"reference":"Project/` + other + `"}}`, "project cannot be changed"},
				{"another user", bob, `{"resourceType":"ProjectMembership","id":"` + w.bob + `","user":{"reference":"User/x"}}`, "user cannot be changed"},
				{"another project's policy", bob, `{"resourceType":"ProjectMembership","id":"` + w.bob + `","accessPolicy":{"reference":"AccessPolicy/` + otherPolicy + `"}}`, "Choose one of this project's access policies. | @accessPolicy"},
				{"not a policy reference", bob, `{"resourceType":"ProjectMembership","id":"` + w.bob + `","accessPolicy":{"reference":"Patient/1"}}`, "AccessPolicy/<id>"},
				{"parameterised", bob, `{"resourceType":"ProjectMembership","id":"` + w.bob + `","access":[{}]}`, "@access"},
				{"the last admin", ada, `{"resourceType":"ProjectMembership","id":"` + strings.TrimPrefix(ada, w.path("/members/")) + `","admin":false}`, "at least one active admin"},
			} {
				r := w.ada.API(http.MethodPost, c.path, c.body).Status(http.StatusBadRequest)
				if got := outcomeText(t, r); !strings.Contains(got, c.want) {
					t.Errorf("%s: %q, want %q", c.name, got, c.want)
				}
			}
			if got := w.ada.API(http.MethodGet, bob, "").JSON(); got["admin"] != false || got["accessPolicy"] != nil {
				t.Errorf("a refused update changed %v", got)
			}
			w.ada.API(http.MethodDelete, ada, "").Status(http.StatusBadRequest)

			// Unknown ids, and another project's membership, are not found.
			betaAdmin := ""
			if list, err := w.app.Sys.Tenant(other).Members(context.Background()); err == nil && len(list) == 1 {
				betaAdmin = list[0].Membership.ID
			} else {
				t.Fatalf("Beta's members: %v %v", list, err)
			}
			for _, id := range []string{"00000000-0000-4000-8000-000000000000", "not-a-uuid", betaAdmin} {
				w.ada.API(http.MethodGet, w.path("/members/"+id), "").Status(http.StatusNotFound)
				w.ada.API(http.MethodPost, w.path("/members/"+id), `{"resourceType":"ProjectMembership","id":"`+id+`"}`).Status(http.StatusNotFound)
				w.ada.API(http.MethodDelete, w.path("/members/"+id), "").Status(http.StatusNotFound)
			}

			// Removing: gone from the project, audited.
			r := w.ada.API(http.MethodDelete, bob, "").Status(http.StatusOK)
			if got := r.JSON(); got["resourceType"] != "OperationOutcome" {
				t.Errorf("removed: %s", r.Body)
			}
			w.ada.API(http.MethodGet, bob, "").Status(http.StatusNotFound)
			if a := auditActions(t, w.app, w.project, audit.ActionMemberRemoved); len(a) != 1 || a[0] != "member.removed bob@example.org" {
				t.Errorf("audit %v", a)
			}
		})
	}
}

func TestAdminAPIInvite(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newAdminAPI(t, webtest.New(t, db))
			ctx := context.Background()
			readers := w.console.NewPolicy(w.project, "Readers")
			writers := w.console.NewPolicy(w.project, "Writers")
			ref := func(id string) string { return `{"reference":"AccessPolicy/` + id + `"}` }

			// Medplum's invite form: the deprecated top-level fields and the
			// membership's, which win.
			r := w.ada.API(http.MethodPost, w.path("/invite"), `{"resourceType":"Practitioner","firstName":"Nia","lastName":"Ng",
				"email":"Nia@Example.org","sendEmail":false,"accessPolicy":`+ref(writers)+`,"admin":false,
				"membership":{"admin":true,"accessPolicy":`+ref(readers)+`}}`).Status(http.StatusOK)
			if cc := r.Header("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q on the answer with the invite link", cc)
			}
			got := r.JSON()
			inv, _ := got["invitation"].(map[string]any)
			if got["resourceType"] != "ProjectMembership" || got["id"] != nil || got["admin"] != true ||
				got["accessPolicy"].(map[string]any)["reference"] != "AccessPolicy/"+readers || inv == nil ||
				inv["email"] != "nia@example.org" || inv["emailed"] != false || got["project"].(map[string]any)["reference"] != "Project/"+w.project {
				t.Fatalf("invited %s", r.Body)
			}
			link, _ := inv["url"].(string)
			if !strings.HasPrefix(link, w.app.HTTP.URL+"/invite/") {
				t.Fatalf("invite link %q", link)
			}
			open, err := w.app.Sys.Tenant(w.project).Invitations(ctx)
			if err != nil || len(open) != 1 || open[0].Invitation.Email != "nia@example.org" || !open[0].Invitation.Admin ||
				*open[0].Invitation.AccessPolicyID != readers {
				t.Fatalf("open invitations %+v %v", open, err)
			}
			if a := auditActions(t, w.app, w.project, audit.ActionMemberInvited); len(a) != 2 || a[0] != "member.invited nia@example.org" {
				t.Errorf("audit %v", a)
			}
			// The top-level fields alone are read too.
			w.ada.API(http.MethodPost, w.path("/invite"), `{"resourceType":"Practitioner","firstName":"Omar","lastName":"O",
				"email":"omar@example.org","admin":true,"accessPolicy":`+ref(writers)+`}`).Status(http.StatusOK)
			if open, err = w.app.Sys.Tenant(w.project).Invitations(ctx); err != nil || len(open) != 2 ||
				open[0].Invitation.Email != "omar@example.org" || !open[0].Invitation.Admin || *open[0].Invitation.AccessPolicyID != writers {
				t.Fatalf("open invitations %+v %v", open, err)
			}

			// The invitation waits for the verified owner of the address: an
			// account that has not verified it sees nothing.
			nia := w.app.Client()
			nia.PostForm("/register", url.Values{"firstName": {"Nia"}, "lastName": {"Ng"}, "email": {"nia@example.org"},
				"password": {"password-123"}}).RedirectsTo("/register/project")
			if nia.Get("/projects").Status(http.StatusOK).Has("my-invitation") {
				t.Fatal("an unverified account sees the invitation")
			}
			nia.VerifyEmail("nia@example.org")
			id, _ := nia.Get("/projects").Status(http.StatusOK).Doc().Find(`[data-testid="my-invitation"]`).Attr("data-invitation")
			nia.PostForm("/invitations/"+id+"/accept", url.Values{}).RedirectsTo("/projects/" + w.project)
			m := w.ada.API(http.MethodGet, w.path("/members/"+w.membershipOf(t, "nia@example.org")), "").Status(http.StatusOK).JSON()
			if m["admin"] != true || m["accessPolicy"].(map[string]any)["reference"] != "AccessPolicy/"+readers {
				t.Errorf("Nia's membership %v", m)
			}

			// Refusals name the field and invite nobody.
			other := w.console.NewProject("Beta")
			otherPolicy := w.console.NewPolicy(other, "Elsewhere")
			for _, c := range []struct{ name, body, want string }{
				{"no email", `{"resourceType":"Practitioner","firstName":"A","lastName":"B"}`, "@email"},
				{"a bad email", `{"resourceType":"Practitioner","email":"not-an-email"}`, "@email"},
				{"a member", `{"resourceType":"Practitioner","email":"bob@example.org"}`, "already a member"},
				{"a patient", `{"resourceType":"Patient","email":"pat@example.org"}`, "@resourceType"},
				{"a password", `{"resourceType":"Practitioner","email":"pat@example.org","password":"secret-123"}`, "@password"},
				{"an external id", `{"resourceType":"Practitioner","externalId":"x-1"}`, "@externalId"},
				{"a profile", `{"resourceType":"Practitioner","email":"pat@example.org","membership":{"profile":{"reference":"Practitioner/1"}}}`, "@membership.profile"},
				{"another project's policy", `{"resourceType":"Practitioner","email":"pat@example.org","membership":{"accessPolicy":` + ref(otherPolicy) + `}}`, "@accessPolicy"},
				{"a wrong type", `{"resourceType":"Practitioner","email":"pat@example.org","membership":{"admin":"yes"}}`, "@membership.admin"},
				{"not JSON", `{"email":`, "not valid JSON"},
			} {
				r := w.ada.API(http.MethodPost, w.path("/invite"), c.body).Status(http.StatusBadRequest)
				if got := outcomeText(t, r); !strings.Contains(got, c.want) {
					t.Errorf("%s: %q, want %q", c.name, got, c.want)
				}
			}
			if open, err = w.app.Sys.Tenant(w.project).Invitations(ctx); err != nil || len(open) != 1 {
				t.Errorf("open invitations after refusals: %+v %v", open, err)
			}
		})
	}
}

// TestAdminAPIInviteMail: the invitation is mailed unless sendEmail is
// false; either way the admin gets the link.
func TestAdminAPIInviteMail(t *testing.T) {
	app := newAppWithDeadMail(t, true)
	_, project := app.SignUp("ada@example.org", "Alpha")
	w := &adminAPI{app: app, ada: app.Client(), project: project}
	w.ada.SignIn("ada@example.org")
	queued := func(to string) int {
		var n int64
		if err := app.DB.DB.Raw("SELECT count(*) FROM outbox WHERE recipient = ? AND purpose = ?", to, "invitation").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	for _, c := range []struct {
		to, send string
		mailed   bool
	}{{"quiet@example.org", `,"sendEmail":false`, false}, {"told@example.org", "", true}, {"asked@example.org", `,"sendEmail":true`, true}} {
		got := w.ada.API(http.MethodPost, w.path("/invite"), `{"resourceType":"Practitioner","email":"`+c.to+`"`+c.send+`}`).
			Status(http.StatusOK).JSON()
		inv := got["invitation"].(map[string]any)
		if inv["emailed"] != c.mailed || !strings.HasPrefix(inv["url"].(string), "https://enclave.example.org/invite/") {
			t.Errorf("%s: %v", c.to, inv)
		}
		if n, want := queued(c.to), map[bool]int{true: 1, false: 0}[c.mailed]; n != want {
			t.Errorf("%s: %d mails queued, want %d", c.to, n, want)
		}
	}
}

func TestAdminAPIClient(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newAdminAPI(t, webtest.New(t, db))
			patients := w.console.NewPolicy(w.project, "Patients")
			r := w.ada.API(http.MethodPost, w.path("/client"), `{"name":"Lab sync","description":"Nightly import",
				"redirectUri":"http://localhost:9000/cb","redirectUris":["https://lab.example.org/cb"],
				"accessPolicy":{"reference":"AccessPolicy/`+patients+`"},"accessTokenLifetime":"30m"}`).Status(http.StatusCreated)
			if cc := r.Header("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q on the answer with the secret", cc)
			}
			got := r.JSON()
			id, _ := got["id"].(string)
			secret, _ := got["secret"].(string)
			uris, _ := got["redirectUris"].([]any)
			if got["resourceType"] != "ClientApplication" || id == "" || len(secret) < 32 || got["name"] != "Lab sync" ||
				got["status"] != "active" || got["accessTokenLifetime"] != "30m0s" || len(uris) != 2 ||
				got["accessPolicy"].(map[string]any)["reference"] != "AccessPolicy/"+patients {
				t.Fatalf("created %s", r.Body)
			}
			// The client works, under its policy, for 30 minutes a token.
			api := w.app.Client()
			tok := api.Token(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}).
				Status(http.StatusOK).JSON()
			if tok["expires_in"] != float64(1800) {
				t.Errorf("token %v", tok)
			}
			bearer := bearer(tok["access_token"].(string))
			api.API(http.MethodGet, "/fhir/R4/Patient", "", bearer...).Status(http.StatusOK)
			api.API(http.MethodGet, "/fhir/R4/Observation", "", bearer...).Status(http.StatusForbidden)
			if a := auditActions(t, w.app, w.project, audit.ActionClientCreated); len(a) != 1 || a[0] != "client.created Lab sync" {
				t.Errorf("audit %v", a)
			}
			if strings.Contains(w.app.Logs(), secret) {
				t.Error("the secret is in the logs")
			}
			// The console lists it, without the secret.
			w.console.Get("/projects/" + w.project + "/clients").Status(http.StatusOK).Contains("Lab sync").NotContains(secret)

			for _, c := range []struct{ name, body, want string }{
				{"no name", `{"description":"x"}`, "@name"},
				{"a taken name", `{"name":"Lab sync"}`, "already has a client with this name. | @name"},
				{"a bad redirect", `{"name":"B","redirectUris":["http://lab.example.org/cb"]}`, "@redirectUris"},
				{"not a duration", `{"name":"B","accessTokenLifetime":"forever"}`, "@accessTokenLifetime"},
				{"too short", `{"name":"B","accessTokenLifetime":"1m"}`, "Token lifetime must be from 5 minutes to 24 hours. | @accessTokenLifetime"},
				{"another project's policy", `{"name":"B","accessPolicy":{"reference":"AccessPolicy/00000000-0000-4000-8000-000000000000"}}`, "@accessPolicy"},
				{"an identity provider", `{"name":"B","identityProvider":{"authorizeUrl":"https://idp.example.org"}}`, "@identityProvider"},
				{"a wrong type", `{"name":"B","redirectUris":"https://lab.example.org/cb"}`, "redirectUris must be an array | @redirectUris"},
			} {
				r := w.ada.API(http.MethodPost, w.path("/client"), c.body).Status(http.StatusBadRequest)
				if got := outcomeText(t, r); !strings.Contains(got, c.want) {
					t.Errorf("%s: %q, want %q", c.name, got, c.want)
				}
			}
			if list, err := w.app.Sys.Tenant(w.project).Clients(context.Background()); err != nil || len(list) != 1 {
				t.Errorf("clients after refusals: %v %v", list, err)
			}
		})
	}
}

// TestAdminAPIIsolation: every admin API route acts only for an admin of
// the project its path names. Another project's admin, credentials for
// another project (a token's, or a session's X-Enclave-Project), a plain
// member and an API client get 403 and change nothing, in either project.
func TestAdminAPIIsolation(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			w := newAdminAPI(t, app)
			_, beta := app.SignUp("eve@example.org", "Beta")
			eveAPI := app.Client()
			eveAPI.SignIn("eve@example.org")
			bobAPI := app.Client()
			bobAPI.SignIn("bob@example.org")
			// An access token of a new client of project, made by its admin.
			tokenOf := func(admin *webtest.Client, project string) []string {
				t.Helper()
				got := admin.API(http.MethodPost, "/admin/projects/"+project+"/client", `{"name":"Sync"}`).Status(http.StatusCreated).JSON()
				return bearer(app.Client().ClientToken(got["id"].(string), got["secret"].(string)))
			}
			alphaToken, betaToken := tokenOf(w.ada, w.project), tokenOf(eveAPI, beta)

			// What each project holds: its members and roles, invitations and
			// clients.
			state := func(project string) string {
				t.Helper()
				st := app.Sys.Tenant(project)
				var out []string
				list, err := st.Members(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range list {
					out = append(out, fmt.Sprintf("%s admin=%v active=%v policy=%v", m.User.Email, m.Membership.Admin,
						m.Membership.Active, m.Membership.AccessPolicyID != nil))
				}
				invs, err := st.Invitations(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, i := range invs {
					out = append(out, "invited "+i.Invitation.Email)
				}
				cls, err := st.Clients(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cls {
					out = append(out, "client "+c.Name)
				}
				return strings.Join(out, "; ")
			}

			bob := "/members/" + w.bob
			routes := []struct{ method, rest, body string }{
				{http.MethodGet, "", ""},
				{http.MethodPost, "/client", `{"name":"Intruder"}`},
				{http.MethodPost, "/invite", `{"resourceType":"Practitioner","email":"intruder@example.org","membership":{"admin":true}}`},
				{http.MethodGet, bob, ""},
				{http.MethodPost, bob, `{"resourceType":"ProjectMembership","id":"` + w.bob + `","admin":true}`},
				{http.MethodDelete, bob, ""},
			}
			callers := []struct {
				name    string
				client  *webtest.Client
				project string // the path's project
				headers []string
				status  int
			}{
				{"anonymous", app.Client(), w.project, nil, http.StatusUnauthorized},
				{"another project's admin", eveAPI, w.project, nil, http.StatusForbidden},
				{"another project's admin naming this one", eveAPI, w.project, []string{web.ProjectHeader, w.project}, http.StatusForbidden},
				{"this project's admin naming another", w.ada, w.project, []string{web.ProjectHeader, beta}, http.StatusForbidden},
				{"an admin on another project's path", w.ada, beta, nil, http.StatusForbidden},
				{"a plain member", bobAPI, w.project, nil, http.StatusForbidden},
				{"this project's API client", app.Client(), w.project, alphaToken, http.StatusForbidden},
				{"another project's API client", app.Client(), w.project, betaToken, http.StatusForbidden},
				{"an unknown project", w.ada, "00000000-0000-4000-8000-000000000000", nil, http.StatusForbidden},
				{"a malformed project", w.ada, "not-a-project", nil, http.StatusForbidden},
			}
			before := state(w.project) + " | " + state(beta)
			for _, c := range callers {
				for _, rt := range routes {
					r := c.client.API(rt.method, "/admin/projects/"+c.project+rt.rest, rt.body, c.headers...)
					if r.Resp.StatusCode != c.status {
						t.Errorf("%s: %s %s: status %d, want %d\n%s", c.name, rt.method, rt.rest, r.Resp.StatusCode, c.status, r.Body)
						continue
					}
					if got := outcomeText(t, r); strings.Contains(got, "Alpha") || strings.Contains(got, "Beta") || strings.Contains(got, "bob@") {
						t.Errorf("%s: %s %s: the refusal tells %q", c.name, rt.method, rt.rest, got)
					}
				}
			}
			// A web form with the console's cookie is refused before any
			// handler: the admin API reads JSON only, so no cross-site form can
			// reach it.
			for _, rt := range routes[1:] {
				if rt.method == http.MethodPost {
					w.console.PostForm("/admin/projects/"+w.project+rt.rest, url.Values{"name": {"Forged"}, "email": {"forged@example.org"}}).
						Status(http.StatusUnsupportedMediaType)
				}
			}
			if after := state(w.project) + " | " + state(beta); after != before {
				t.Errorf("refused requests changed\n%s\nto\n%s", before, after)
			}
			// And the admin herself gets through on every route.
			for _, rt := range routes {
				if r := w.ada.API(rt.method, w.path(rt.rest), rt.body); r.Resp.StatusCode >= 300 {
					t.Errorf("the admin: %s %s: status %d\n%s", rt.method, rt.rest, r.Resp.StatusCode, r.Body)
				}
			}
		})
	}
}

// TestAdminAPIOddBodies: whatever the body, the admin API answers 2xx or a
// 4xx OperationOutcome, never a 500.
func TestAdminAPIOddBodies(t *testing.T) {
	w := newAdminAPI(t, webtest.New(t, testdb.SQLite(t)))
	bob := "/members/" + w.bob
	bodies := []string{"", " ", "null", "true", "1", `"x"`, "[]", "{}", `{"a":1}{"b":2}`, "{\"name\":\"\xff\"}",
		`{"resourceType":null,"id":null,"admin":null,"membership":null,"accessPolicy":null}`,
		`{"membership":[],"accessPolicy":"AccessPolicy/x","redirectUris":[1],"admin":1}`,
		`{"accessPolicy":{"reference":"AccessPolicy/"},"membership":{"accessPolicy":{"reference":"AccessPolicy/a/b"}}}`,
		`{"name":"` + strings.Repeat("n", 500) + `","email":"` + strings.Repeat("e", 500) + `@example.org"}`,
		`{"name":"tab\there","email":"a\u2028b@example.org","description":"\u0001"}`,
		`{"resourceType":"ProjectMembership","id":"` + w.bob + `","profile":{"reference":""},"user":{}}`,
		`{"accessTokenLifetime":"-5m","name":"x"}`, `{"accessTokenLifetime":"9999999999h","name":"y"}`,
	}
	for _, rest := range []string{"/client", "/invite", bob} {
		for _, body := range bodies {
			r := w.ada.API(http.MethodPost, w.path(rest), body, "Content-Type", "application/json")
			if code := r.Resp.StatusCode; code >= 500 || (code >= 400 && !strings.Contains(r.Body, "OperationOutcome")) {
				t.Errorf("POST %s %q: status %d\n%s", rest, body, code, r.Body)
			}
		}
	}
}
