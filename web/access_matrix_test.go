package web_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/secrets"
	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// role is a column of the matrix: who sends the request. Every role but
// anonymous has a session of its own.
type role int

const (
	anonymous       role = iota // no session
	noProject                   // signed in, email not verified, member of no project
	otherProject                // admin of another project
	member                      // a plain member of the project
	policed                     // a member whose access policy lets them only read Patients
	admin                       // an admin of the project
	superAdmin                  // an admin of the project who is also a super admin
	otherSuperAdmin             // a super admin who is no member of the project
	roleCount
)

var roleNames = [roleCount]string{"anonymous", "no-project", "other-project", "member", "policed-member",
	"admin", "super-admin", "super-admin-elsewhere"}

// nonMembers are the roles the isolation rule is about: nothing of the
// project may reach them. The outside super admin is one of them on the
// API, and reads the console's project pages in the operator view
// (operatorView).
var nonMembers = []role{anonymous, noProject, otherProject, otherSuperAdmin}

// neverShown are what no answer may show anyone: a secret's value.
var neverShown = []string{"alpha-token-value"}

// confidential is what only the project's members may see of it.
var confidential = []string{"Alpha Clinic", "Quixotic", "ALPHA_TOKEN", "Front desk", "Alpha sync"}

// outcome is what one role gets for one request: a status and a mark that
// shows the right thing answered. The mark is, by the kind of answer:
//   - a page (2xx, or a form sent back with its errors): its title;
//   - an error page: a part of its message;
//   - a redirect: where it leads, without the query (a trailing "/" makes
//     it a prefix);
//   - an API answer: its resourceType, or a part of an OperationOutcome's
//     text when it is an error;
//   - anything else: a part of the body.
//
// Marks may use the row's {placeholders}. An empty mark checks only the
// status (and, for errors, that the answer is an error page or an
// OperationOutcome).
type outcome struct {
	status int
	mark   string
}

func titled(title string) outcome { return outcome{http.StatusOK, title} }
func ok(mark string) outcome      { return outcome{http.StatusOK, mark} }
func to(path string) outcome      { return outcome{http.StatusSeeOther, path} }

// The usual refusals. signIn is the redirect of a page that needs a
// session: a GET's remembers the page (/signin?next=…), a POST's does not.
var (
	signIn    = to("/signin?next=")
	lost      = outcome{http.StatusNotFound, "does not exist, or you do not have access"}
	notAdmin  = outcome{http.StatusForbidden, "Only admins of this project"}
	readOnly  = outcome{http.StatusForbidden, "lets you read Patient but not change it"}
	unseen    = outcome{http.StatusForbidden, "does not let you see Observation"}
	apiSignIn = outcome{http.StatusUnauthorized, "Authentication required"}
	apiLost   = outcome{http.StatusNotFound, "not found, or you are not an active member"}
	apiChoose = outcome{http.StatusBadRequest, "you are a member of several projects"}
	apiNone   = outcome{http.StatusBadRequest, "you are a member of none"}
	apiDenied = outcome{http.StatusForbidden, "access policy"}
	// operatorRO refuses a change through a super admin's operator view.
	operatorRO = outcome{http.StatusForbidden, "operator view of a project is read-only"}
	// apiNotAdmin is the admin API's refusal, the same for outsiders and
	// plain members: it names nothing of the project.
	apiNotAdmin = outcome{http.StatusForbidden, "Only admins of the project this path names"}
)

// cells is a row's outcomes, in role order.
type cells [roleCount]outcome

// anyone: every role alike.
func anyone(o outcome) cells {
	var c cells
	for r := range c {
		c[r] = o
	}
	return c
}

// guestsAndUsers: one outcome without a session, another with one.
func guestsAndUsers(guest, user outcome) cells {
	c := anyone(user)
	c[anonymous] = guest
	return c
}

// signedIn: every session; anonymous visitors are sent to sign in.
func signedIn(o outcome) cells { return guestsAndUsers(signIn, o) }

// insiders: the project's members; to everyone else it does not exist.
func insiders(o outcome) cells {
	return cells{signIn, lost, lost, o, o, o, o, lost}
}

// writers: members whose access policy lets them change Patients.
func writers(o outcome) cells {
	c := insiders(o)
	c[policed] = readOnly
	return c
}

// admins: the project's admins; other members are told why not.
func admins(o outcome) cells {
	return cells{signIn, lost, lost, notAdmin, notAdmin, o, o, lost}
}

// superAdmins: the dashboard, which does not exist for anyone else.
func superAdmins(o outcome) cells {
	return cells{lost, lost, lost, lost, lost, lost, o, o}
}

// operatorView fills in what the outside super admin gets on the console's
// project pages: what the project's own super admin reads, they read too;
// every change is refused.
func operatorView(rows []accessRow) []accessRow {
	for i, row := range rows {
		method, path, _ := strings.Cut(row.req, " ")
		if !strings.HasPrefix(path, "/projects/{project}") {
			continue
		}
		if method == http.MethodGet || row.want[superAdmin] == lost {
			// A page that exists for no one (the join page of a project
			// without open registration) is no more there for them.
			rows[i].want[otherSuperAdmin] = row.want[superAdmin]
		} else {
			rows[i].want[otherSuperAdmin] = operatorRO
		}
	}
	return rows
}

// apiMembers: API calls naming the project.
func apiMembers(o outcome) cells {
	return cells{apiSignIn, apiLost, apiLost, o, o, o, o, apiLost}
}

// apiAdmins: the admin API, for the admins of the project its path names.
func apiAdmins(o outcome) cells {
	return cells{apiSignIn, apiNotAdmin, apiNotAdmin, apiNotAdmin, apiNotAdmin, o, o, apiNotAdmin}
}

// apiWriters: API writes naming the project.
func apiWriters(o outcome) cells {
	c := apiMembers(o)
	c[policed] = apiDenied
	return c
}

// vars name the fixture's ids and the caller's own values for a row's
// {placeholders}.
type vars map[string]string

// accessRow is one request and what each role gets for it.
type accessRow struct {
	// req is "METHOD /path", the path with {placeholders}.
	req string
	// form is a console form, URL-encoded, with {placeholders}; it is sent
	// with the caller's CSRF token.
	form string
	// body is an API request's JSON, with {placeholders}.
	body string
	// project is the X-Enclave-Project header of an API request; "" sends
	// none.
	project string
	// spare sends the request from a second session of the caller's (a new
	// browser for anonymous), for requests that end or replace the session.
	spare bool
	// link says the URL holds a one-time token: whoever has it may see what
	// it is for, so the isolation check does not apply.
	link bool
	// fresh makes the row's target anew for each cell, so that a role that
	// may change or delete it does not spoil the next cell.
	fresh func(*testing.T, *accessFixture) vars
	// state describes what the request may change: a refused request must
	// leave it as it was, a granted one must change it.
	state func(*testing.T, *accessFixture, vars) string
	want  cells
}

const (
	patientJSON = `{"resourceType":"Patient","name":[{"family":"Made"}]}`
	editedJSON  = `{"resourceType":"Patient","id":"{patient}","name":[{"family":"Edited"}]}`
)

var consoleRows = operatorView([]accessRow{
	// Probes and assets: the same for everyone; metrics only for the
	// bearer of the metrics token, which no session is.
	{req: "GET /healthz", want: anyone(ok("ok"))},
	{req: "GET /readyz", want: anyone(ok("ok"))},
	{req: "GET /static/css/app.css", want: anyone(ok(".btn"))},
	{req: "GET /favicon.ico", want: anyone(ok(""))},
	{req: "GET /metrics", want: anyone(outcome{http.StatusNotFound, ""})},

	// Signing up, in and out; links sent by email. {home} is where the
	// caller lands: sign-in, their only project, or the project chooser.
	{req: "GET /", want: anyone(to("{home}"))},
	{req: "GET /register", want: guestsAndUsers(titled("Register"), to("/projects/new"))},
	{req: "POST /register", spare: true, form: "firstName=New&lastName=Person&email={role}.new@example.org&password=password-123",
		want: guestsAndUsers(to("/register/project"), to("/projects/new"))},
	{req: "GET /signin", want: guestsAndUsers(titled("Sign in"), to("{home}"))},
	{req: "POST /signin", spare: true, form: "email={email}&password=password-123",
		want: guestsAndUsers(outcome{http.StatusUnauthorized, "Sign in"}, to("{home}"))},
	{req: "POST /signout", spare: true, want: anyone(to("/signin"))},
	{req: "GET /forgot", want: anyone(titled("Reset your password"))},
	{req: "POST /forgot", form: "email={email}", want: anyone(titled("Reset your password"))},
	{req: "GET /reset/{token}", fresh: newResetLink, want: anyone(titled("Choose a new password"))},
	{req: "POST /reset/{token}", fresh: newResetLink, spare: true, form: "password=new-password-123&confirm=new-password-123",
		want: anyone(to("/"))},
	{req: "GET /verify/{token}", fresh: newVerifyLink, want: anyone(titled("Verify your email"))},
	{req: "POST /verify/{token}", fresh: newVerifyLink, want: anyone(titled("Email verified"))},
	// A project's open patient registration: the fixture's project has no
	// defaultPatientAccessPolicy, so for everyone it does not exist (see
	// join_test.go for a project that has one).
	{req: "GET /projects/{project}/join", want: anyone(lost)},
	{req: "POST /projects/{project}/join", form: "firstName=New&lastName=Patient&email={role}.patient@example.org&password=password-123",
		want: anyone(lost)},
	{req: "POST /account/verify", want: cells{signIn, titled("Verification link sent"), to("/projects"), to("/projects"),
		to("/projects"), to("/projects"), to("/projects"), to("/projects")}},

	// Invitations: the link shows the project to whoever holds it; only
	// the verified owner of the invited address may answer. Here that is
	// the no-project user, who has not verified theirs.
	{req: "GET /invite/{invite-token}", link: true, want: anyone(titled("Join Alpha Clinic"))},
	{req: "POST /invitations/{invitation}/accept", state: invitationOpen,
		want: cells{signIn, unverified, notInvited, notInvited, notInvited, notInvited, notInvited, notInvited}},
	{req: "POST /invitations/{invitation}/decline", state: invitationOpen,
		want: cells{signIn, unverified, notInvited, notInvited, notInvited, notInvited, notInvited, notInvited}},

	// Everyone's own account. Changing the password is sent mistyped:
	// done for real it would end the caller's other sessions.
	{req: "GET /account", want: signedIn(titled("Your account"))},
	{req: "POST /account/name", form: "firstName=Renamed&lastName={role}", state: ownName, want: signedIn(titled("Your account"))},
	{req: "POST /account/email", form: "email={role}.moved@example.org&emailPassword=password-123", want: signedIn(titled("Your account"))},
	{req: "POST /account/password", form: "current=password-123&password=new-password-123&confirm=new-password-456",
		want: signedIn(outcome{http.StatusUnprocessableEntity, "Your account"})},
	{req: "POST /account/sessions/{session}/signout", fresh: adminSession, state: sessionLive,
		want: cells{signIn, lost, lost, lost, lost, to("/account"), lost, lost}},

	// Projects of one's own. The forms are sent empty: a new project would
	// change where each caller lands and which project the API picks.
	{req: "GET /register/project", want: signedIn(titled("Name your first project"))},
	{req: "POST /register/project", form: "projectName=", want: signedIn(outcome{http.StatusUnprocessableEntity, "Name your first project"})},
	{req: "GET /projects", want: signedIn(titled("Choose a project"))},
	{req: "GET /projects/new", want: signedIn(titled("New project"))},
	{req: "POST /projects/new", form: "projectName=", want: signedIn(outcome{http.StatusUnprocessableEntity, "New project"})},

	// The project's overview and resource browser: every member, within
	// their access policy.
	{req: "GET /projects/{project}", want: insiders(titled("Alpha Clinic"))},
	{req: "GET /projects/{project}/resources", want: insiders(titled("Resources"))},
	{req: "GET /projects/{project}/resources/Patient", want: insiders(titled("Patient"))},
	{req: "GET /projects/{project}/resources/Observation", want: cells{signIn, lost, lost, titled("Observation"), unseen,
		titled("Observation"), titled("Observation"), lost}},
	{req: "GET /projects/{project}/resources/Patient/new", want: writers(titled("New Patient"))},
	{req: "POST /projects/{project}/resources/Patient/new", form: "json=" + patientJSON, state: patientCount,
		want: writers(to("/projects/{project}/resources/Patient/"))},
	{req: "GET /projects/{project}/resources/Patient/{patient}", want: insiders(titled("Patient/{patient}"))},
	{req: "GET /projects/{project}/resources/Patient/{patient}/_history/1", want: insiders(titled("Patient/{patient} version 1"))},
	{req: "GET /projects/{project}/resources/Patient/{patient}/edit", want: writers(titled("Edit Patient/{patient}"))},
	{req: "POST /projects/{project}/resources/Patient/{patient}/edit", fresh: sparePatient, form: "version=1&json=" + editedJSON,
		state: patientOf, want: writers(to("/projects/{project}/resources/Patient/{patient}"))},
	{req: "GET /projects/{project}/resources/Patient/{patient}/delete", want: writers(titled("Delete Patient/{patient}"))},
	{req: "POST /projects/{project}/resources/Patient/{patient}/delete", fresh: sparePatient, state: patientOf,
		want: writers(to("/projects/{project}/resources/Patient"))},

	// Administration: admins only. Features are for super admins.
	{req: "GET /projects/{project}/settings", want: admins(titled("Settings"))},
	{req: "POST /projects/{project}/settings", fresh: settingsVersion, state: projectSettings,
		form: "name=Alpha+Clinic&description=Saved+by+{role}&strictMode=on&version={version}", want: admins(titled("Settings"))},
	{req: "POST /projects/{project}/settings", fresh: settingsVersion, state: projectSettings,
		form: "name=Alpha+Clinic&strictMode=on&version={version}&operatorFields=on&features=bots",
		want: cells{signIn, lost, lost, notAdmin, notAdmin, {http.StatusForbidden, "Only a super admin"}, titled("Settings"), lost}},
	{req: "GET /projects/{project}/access-policies", want: admins(titled("Access policies"))},
	{req: "GET /projects/{project}/access-policies/new", want: admins(titled("New access policy"))},
	{req: "POST /projects/{project}/access-policies/new", form: "name=Made+by+{role}&rows=1&rules.0.resourceType=Patient",
		state: policyNames, want: admins(to("/projects/{project}/access-policies"))},
	{req: "GET /projects/{project}/access-policies/{policy}", want: admins(titled("Edit access policy"))},
	{req: "POST /projects/{project}/access-policies/{policy}", fresh: sparePolicy, state: policyOf,
		form: "name=Renamed+by+{role}&rows=1&rules.0.resourceType=Observation", want: admins(to("/projects/{project}/access-policies"))},
	{req: "GET /projects/{project}/access-policies/{policy}/delete", want: admins(titled("Delete access policy"))},
	{req: "POST /projects/{project}/access-policies/{policy}/delete", fresh: sparePolicy, state: policyOf,
		want: admins(to("/projects/{project}/access-policies"))},
	{req: "GET /projects/{project}/audit", want: admins(titled("Audit log"))},
	{req: "GET /projects/{project}/members", want: admins(titled("Members"))},
	{req: "POST /projects/{project}/members/invite", form: "email={role}.invited@example.org", state: invitedEmails,
		want: admins(titled("Members"))},
	{req: "POST /projects/{project}/members/invitations/{invitation}/resend", fresh: spareInvitation, state: inviteLinkWorks,
		want: admins(titled("Members"))},
	{req: "POST /projects/{project}/members/invitations/{invitation}/revoke", fresh: spareInvitation, state: invitationOpen,
		want: admins(to("/projects/{project}/members"))},
	{req: "GET /projects/{project}/members/{member}", want: admins(titled("Edit member"))},
	{req: "POST /projects/{project}/members/{member}", fresh: spareMember, form: "admin=on&active=on", state: membership,
		want: admins(to("/projects/{project}/members"))},
	{req: "GET /projects/{project}/members/{member}/remove", want: admins(titled("Remove member"))},
	{req: "POST /projects/{project}/members/{member}/remove", fresh: spareMember, state: membership,
		want: admins(to("/projects/{project}/members"))},
	{req: "GET /projects/{project}/secrets", want: admins(titled("Secrets"))},
	{req: "POST /projects/{project}/secrets", form: "name=made-by-{role}&value=value-of-{role}", state: secretNames,
		want: admins(titled("Secrets"))},
	{req: "GET /projects/{project}/secrets/{secret}", want: admins(titled("Secret ALPHA_TOKEN"))},
	{req: "POST /projects/{project}/secrets/{secret}/value", fresh: spareSecret, form: "value=replaced-by-{role}", state: secretOf,
		want: admins(titled("Secret {secret-name}"))},
	{req: "POST /projects/{project}/secrets/{secret}/name", fresh: spareSecret, form: "name=renamed-by-{role}", state: secretOf,
		want: admins(titled("Secret renamed-by-{role}"))},
	{req: "GET /projects/{project}/secrets/{secret}/delete", want: admins(titled("Delete secret"))},
	{req: "POST /projects/{project}/secrets/{secret}/delete", fresh: spareSecret, state: secretOf,
		want: admins(to("/projects/{project}/secrets"))},
	{req: "GET /projects/{project}/clients", want: admins(titled("API clients"))},
	{req: "POST /projects/{project}/clients", form: "name=made-by-{role}&tokenLifetime=60", state: clientNames,
		want: admins(titled("API clients"))},
	{req: "GET /projects/{project}/clients/{client}", want: admins(titled("Client Alpha sync"))},
	{req: "POST /projects/{project}/clients/{client}/rotate", fresh: spareClient, form: "grace=1", state: clientOf,
		want: admins(titled("Client {client-name}"))},
	{req: "POST /projects/{project}/clients/{client}/disable", fresh: spareClient, state: clientOf,
		want: admins(titled("Client {client-name}"))},
	{req: "POST /projects/{project}/clients/{client}/enable", fresh: spareDisabledClient, state: clientOf,
		want: admins(titled("Client {client-name}"))},
	{req: "GET /projects/{project}/clients/{client}/delete", want: admins(titled("Delete client"))},
	{req: "POST /projects/{project}/clients/{client}/delete", fresh: spareClient, state: clientOf,
		want: admins(to("/projects/{project}/clients"))},
	// Compare and promote below a project: the form is sent without the
	// other project (compare_test.go has those who may compare with which).
	{req: "GET /projects/{project}/compare", want: admins(titled("Compare projects"))},
	{req: "POST /projects/{project}/compare/promote", form: "with=&direction=a-b&confirm=",
		want: admins(outcome{http.StatusUnprocessableEntity, "Compare projects"})},
	// Deleting the project: the form is sent with a wrong name, since a
	// granted deletion would take the project from the rows after it (see
	// deletion_test.go for one that goes through).
	{req: "GET /projects/{project}/delete", want: admins(titled("Delete project"))},
	{req: "POST /projects/{project}/delete", form: "confirm=Not+its+name", state: fixtureProjectLive,
		want: admins(outcome{http.StatusUnprocessableEntity, "Delete project"})},

	// Choosing a new password after a temporary one: no one here has one.
	{req: "GET /account/new-password", want: signedIn(to("/account"))},
	{req: "POST /account/new-password", form: "current=password-123&password=new-password-123&confirm=new-password-123",
		want: signedIn(to("/account"))},

	// The super admin's dashboard. The acts on an account each have a
	// fresh account, confirmed by its email.
	{req: "GET /admin", want: superAdmins(titled("Projects"))},
	{req: "GET /admin/users", want: superAdmins(titled("Users"))},
	{req: "GET /admin/users/{user}", fresh: spareAccount, want: superAdmins(titled("User {user-email}"))},
	{req: "POST /admin/users/{user}/deactivate", fresh: spareAccount, form: "confirm={user-email}", state: accountOf,
		want: superAdmins(titled("User {user-email}"))},
	{req: "POST /admin/users/{user}/reactivate", fresh: spareDeactivatedAccount, form: "confirm={user-email}", state: accountOf,
		want: superAdmins(titled("User {user-email}"))},
	{req: "POST /admin/users/{user}/temporary-password", fresh: spareAccount, form: "confirm={user-email}", state: accountOf,
		want: superAdmins(titled("User {user-email}"))},
	{req: "GET /admin/server", want: superAdmins(titled("Server"))},
	// Clone and expunge from the dashboard: the forms are sent with an
	// error, so that no one's projects change; an unknown job is no one's.
	{req: "GET /admin/clone/{project}", want: superAdmins(titled("Clone Alpha Clinic"))},
	{req: "POST /admin/clone/{project}", form: "name=", want: superAdmins(outcome{http.StatusUnprocessableEntity, "Clone Alpha Clinic"})},
	{req: "GET /admin/jobs/{project}", want: anyone(lost)},
	{req: "GET /admin/expunge/{project}", want: superAdmins(titled("Expunge Alpha Clinic"))},
	{req: "POST /admin/expunge/{project}", form: "confirm=wrong", state: projectSettings,
		want: superAdmins(outcome{http.StatusUnprocessableEntity, "Expunge Alpha Clinic"})},
	{req: "GET /admin/audit", want: superAdmins(titled("Audit log"))},
	{req: "GET /admin/compare", want: superAdmins(titled("Compare projects"))},
	{req: "POST /admin/compare/promote", form: "a=&b=&direction=a-b",
		want: superAdmins(outcome{http.StatusUnprocessableEntity, "Compare projects"})},
	{req: "GET /admin/deleted", want: superAdmins(titled("Deleted projects"))},
	{req: "POST /admin/deleted/{target}/restore", fresh: spareDeletedProject, form: "confirm={target-name}", state: projectExists,
		want: superAdmins(titled("Deleted projects"))},
})

// matrixChallenge is a PKCE challenge (plain) for the sign-in rows.
const matrixChallenge = "matrix-challenge-of-forty-three-characters-at-least"

// tokenOnly: a route for a user's access token; a session is refused.
var tokenOnly = cells{{http.StatusUnauthorized, "invalid_token"}, {http.StatusNotFound, "invalid_request"},
	{http.StatusNotFound, "invalid_request"}, {http.StatusUnauthorized, "invalid_token"}, {http.StatusUnauthorized, "invalid_token"},
	{http.StatusUnauthorized, "invalid_token"}, {http.StatusUnauthorized, "invalid_token"}, {http.StatusNotFound, "invalid_request"}}

// How an invitation is refused to its unverified invitee, and to anyone
// else.
var (
	unverified = outcome{http.StatusForbidden, "Verify your email address first"}
	notInvited = outcome{http.StatusNotFound, "no longer open, or it is for another email address"}
)

var apiRows = []accessRow{
	{req: "GET /fhir/R4/metadata", want: anyone(ok("CapabilityStatement"))},

	// OAuth: no session counts, and a form needs no CSRF token (the
	// matrix sends one all the same). Each role names its own unknown
	// client, so that the throttle of bad secrets stays out of the way.
	{req: "POST /oauth2/token", form: "grant_type=client_credentials&client_id={role}&client_secret=wrong",
		want: anyone(outcome{http.StatusUnauthorized, "invalid_client"})},
	{req: "POST /oauth2/token", form: "grant_type=password&username={email}&password=password-123",
		want: anyone(outcome{http.StatusBadRequest, "unsupported_grant_type"})},
	// An app's authorization request without a registered client: an
	// error page, never a redirect.
	{req: "GET /oauth2/authorize", want: anyone(outcome{http.StatusBadRequest, "not registered with this server"})},
	{req: "POST /oauth2/revoke", form: "token=not-a-token-of-{role}", want: anyone(ok(""))},
	// A user's access token, not a session: members are told so (401),
	// outsiders do not learn the project exists.
	{req: "GET /oauth2/userinfo", project: "{project}", want: tokenOnly},
	{req: "POST /oauth2/userinfo", project: "{project}", want: tokenOnly},
	{req: "GET /oauth2/logout", project: "{project}", want: tokenOnly},
	{req: "POST /oauth2/logout", project: "{project}", want: tokenOnly},

	// A program's sign-in for a user: JSON, with the caller's own
	// password; a session changes nothing.
	{req: "POST /auth/login", body: `{"email":"{email}","password":"password-123","codeChallenge":"` + matrixChallenge +
		`","codeChallengeMethod":"plain"}`,
		want: cells{{http.StatusBadRequest, "Email or password is invalid"}, {http.StatusBadRequest, "not a member of any project"},
			ok(""), ok(""), ok(""), ok(""), ok(""), ok("")}},
	{req: "POST /auth/profile", body: `{"login":"{project}","profile":"{home}"}`,
		want: anyone(outcome{http.StatusBadRequest, "Invalid login"})},
	{req: "POST /auth/newuser", spare: true, body: `{"firstName":"New","lastName":"Person","email":"{role}.prog@example.org",` +
		`"password":"password-123","codeChallenge":"` + matrixChallenge + `","codeChallengeMethod":"plain"}`,
		want: anyone(ok(""))},
	{req: "POST /auth/newproject", body: `{"login":"{project}","projectName":"Made by a program"}`,
		want: anyone(outcome{http.StatusBadRequest, "Invalid login"})},
	{req: "POST /auth/newpatient", body: `{"login":"{project}","projectId":"{project}"}`,
		want: anyone(outcome{http.StatusBadRequest, "Invalid login"})},
	{req: "GET /auth/me", project: "{project}", want: apiMembers(ok(""))},
	{req: "GET /.well-known/jwks.json", want: anyone(ok(""))},
	{req: "GET /.well-known/openid-configuration", want: anyone(ok(""))},
	{req: "GET /fhir/R4/.well-known/smart-configuration", want: anyone(ok(""))},

	// Naming the project in X-Enclave-Project.
	{req: "GET /fhir/R4/Patient", project: "{project}", want: apiMembers(ok("Bundle"))},
	{req: "HEAD /fhir/R4/Patient", project: "{project}", want: apiMembers(ok(""))},
	{req: "POST /fhir/R4/Patient", project: "{project}", body: patientJSON, state: patientCount,
		want: apiWriters(outcome{http.StatusCreated, "Patient"})},
	{req: "GET /fhir/R4/Observation", project: "{project}", want: cells{apiSignIn, apiLost, apiLost, ok("Bundle"), apiDenied,
		ok("Bundle"), ok("Bundle"), apiLost}},
	{req: "GET /fhir/R4/Patient/_history", project: "{project}", want: apiMembers(ok("Bundle"))},
	{req: "HEAD /fhir/R4/Patient/_history", project: "{project}", want: apiMembers(ok(""))},
	{req: "GET /fhir/R4/Patient/{patient}", project: "{project}", want: apiMembers(ok("Patient"))},
	{req: "HEAD /fhir/R4/Patient/{patient}", project: "{project}", want: apiMembers(ok(""))},
	{req: "PUT /fhir/R4/Patient/{patient}", project: "{project}", fresh: sparePatient, body: editedJSON, state: patientOf,
		want: apiWriters(ok("Patient"))},
	{req: "DELETE /fhir/R4/Patient/{patient}", project: "{project}", fresh: sparePatient, state: patientOf,
		want: apiWriters(ok("OperationOutcome"))},
	{req: "PATCH /fhir/R4/Patient/{patient}", project: "{project}", fresh: sparePatient, state: patientOf,
		body: `[{"op":"replace","path":"/name/0/family","value":"Patched"}]`, want: apiWriters(ok("Patient"))},
	{req: "PUT /fhir/R4/Patient/made-by-{role}", project: "{project}", body: `{"resourceType":"Patient","id":"made-by-{role}"}`,
		state: patientCount, want: apiWriters(outcome{http.StatusCreated, "Patient"})},
	{req: "PUT /fhir/R4/Patient?_id={patient}", project: "{project}", fresh: sparePatient, body: editedJSON, state: patientOf,
		want: apiWriters(ok("Patient"))},
	{req: "PATCH /fhir/R4/Patient?_id={patient}", project: "{project}", fresh: sparePatient, state: patientOf,
		body: `[{"op":"replace","path":"/name/0/family","value":"Patched"}]`, want: apiWriters(ok("Patient"))},
	{req: "DELETE /fhir/R4/Patient?_id={patient}", project: "{project}", fresh: sparePatient, state: patientOf,
		want: apiWriters(ok("OperationOutcome"))},
	{req: "GET /fhir/R4/Patient/{patient}/_history", project: "{project}", want: apiMembers(ok("Bundle"))},
	{req: "HEAD /fhir/R4/Patient/{patient}/_history", project: "{project}", want: apiMembers(ok(""))},
	{req: "GET /fhir/R4/Patient/{patient}/_history/1", project: "{project}", want: apiMembers(ok("Patient"))},
	{req: "HEAD /fhir/R4/Patient/{patient}/_history/1", project: "{project}", want: apiMembers(ok(""))},
	// Searches across types, by form, in a compartment; the project's
	// history. A type the policy forbids is left out of the first and the
	// last; searching it in a compartment is refused.
	{req: "GET /fhir/R4?_type=Patient,Observation", project: "{project}", want: apiMembers(ok("Bundle"))},
	{req: "HEAD /fhir/R4?_type=Patient", project: "{project}", want: apiMembers(ok(""))},
	{req: "GET /fhir/R4/_history", project: "{project}", want: apiMembers(ok("Bundle"))},
	{req: "HEAD /fhir/R4/_history", project: "{project}", want: apiMembers(ok(""))},
	{req: "POST /fhir/R4/Patient/_search", project: "{project}", body: "_id={patient}", want: apiMembers(ok("Bundle"))},
	{req: "GET /fhir/R4/Patient/{patient}/Observation", project: "{project}", want: cells{apiSignIn, apiLost, apiLost, ok("Bundle"),
		apiDenied, ok("Bundle"), ok("Bundle"), apiLost}},
	{req: "HEAD /fhir/R4/Patient/{patient}/Observation", project: "{project}", want: cells{apiSignIn, apiLost, apiLost, ok(""),
		outcome{http.StatusForbidden, ""}, ok(""), ok(""), apiLost}},
	{req: "POST /fhir/R4", project: "{project}", state: patientCount,
		body: `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`,
		want: apiWriters(ok("Bundle"))},

	// Naming none: the caller's only project, if they have exactly one.
	// The other project's admin and the outside super admin search their
	// own; the super admin of this project has two and must choose; the
	// user without a project is told how to get one.
	{req: "GET /fhir/R4/Patient", want: cells{apiSignIn, apiNone, ok("Bundle"), ok("Bundle"), ok("Bundle"), ok("Bundle"),
		apiChoose, ok("Bundle")}},
	{req: "GET /fhir/R4/Patient/{patient}", want: cells{apiSignIn, apiNone, apiNoSuch, ok("Patient"), ok("Patient"),
		ok("Patient"), apiChoose, apiNoSuch}},
}

// adminAPIRows: Medplum's admin API. The project is the path's; no header.
var adminAPIRows = []accessRow{
	{req: "GET /admin/projects/{project}", want: apiAdmins(ok(""))},
	{req: "POST /admin/projects/{project}/client", body: `{"name":"api-made-by-{role}"}`, state: clientNames,
		want: apiAdmins(outcome{http.StatusCreated, "ClientApplication"})},
	{req: "POST /admin/projects/{project}/invite", body: `{"resourceType":"Practitioner","email":"{role}.api-invited@example.org"}`,
		state: invitedEmails, want: apiAdmins(ok("ProjectMembership"))},
	{req: "GET /admin/projects/{project}/members/{member}", want: apiAdmins(ok("ProjectMembership"))},
	{req: "POST /admin/projects/{project}/members/{member}", fresh: spareMember, state: membership,
		body: `{"resourceType":"ProjectMembership","id":"{member}","admin":true}`, want: apiAdmins(ok("ProjectMembership"))},
	{req: "DELETE /admin/projects/{project}/members/{member}", fresh: spareMember, state: membership,
		want: apiAdmins(ok("OperationOutcome"))},
}

// apiNoSuch is a resource the caller's project does not have.
var apiNoSuch = outcome{http.StatusNotFound, "not found"}

// notAllowed rows: the methods the API does not support on path answer
// 405 to members, after the same checks as every API request.
func notAllowed(path string, methods ...string) []accessRow {
	var rows []accessRow
	for _, m := range methods {
		rows = append(rows, accessRow{req: m + " " + path, project: "{project}", body: "{}",
			want: apiMembers(outcome{http.StatusMethodNotAllowed, ""})})
	}
	return rows
}

// operators: the super admins' operations on whole projects, which name
// their project in the path and enter none; everyone else signed in is
// refused alike, member of the project or not.
func operators(o outcome) cells {
	notOperator := outcome{http.StatusForbidden, "only super admins"}
	return cells{apiSignIn, notOperator, notOperator, notOperator, notOperator, notOperator, o, o}
}

// operatorRows come last: a clone makes its caller a member of the copy,
// which would change the project the API picks for them in the rows above.
var operatorRows = []accessRow{
	{req: "POST /fhir/R4/Project/{target}/$expunge?everything=true", body: "{}", fresh: spareProject, state: projectExists,
		want: operators(ok("OperationOutcome"))},
	{req: "POST /fhir/R4/Project/{project}/$clone", state: copiesOf,
		body: `{"resourceType":"Parameters","parameter":[{"name":"name","valueString":"Copy by {role}"}]}`,
		want: operators(outcome{http.StatusCreated, "Project"})},
}

// operationNotAllowed rows: the methods the project operations do not
// support answer 405 to every signed-in caller.
func operationNotAllowed(path string, methods ...string) []accessRow {
	var rows []accessRow
	for _, m := range methods {
		want := anyone(outcome{http.StatusMethodNotAllowed, ""})
		want[anonymous] = apiSignIn
		rows = append(rows, accessRow{req: m + " " + path, body: "{}", want: want})
	}
	return rows
}

var accessMatrix = slices.Concat(consoleRows, apiRows, adminAPIRows,
	notAllowed("/fhir/R4/Patient", "OPTIONS"),
	notAllowed("/fhir/R4/Patient/_history", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4/Patient/{patient}", "POST", "OPTIONS"),
	notAllowed("/fhir/R4/Patient/{patient}/_history", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4/Patient/{patient}/_history/1", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4/_history", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4/Patient/_search", "GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"),
	notAllowed("/fhir/R4/Patient/{patient}/Observation", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
	operationNotAllowed("/fhir/R4/Project/{project}/$clone", "GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"),
	operationNotAllowed("/fhir/R4/Project/{project}/$expunge", "GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"),
	operationRows,
	operatorRows,
)

// caller is one role's person and browser.
type caller struct {
	client *webtest.Client
	email  string
	userID string
	// home is where the caller lands after signing in.
	home string
}

// accessFixture is the world the matrix runs in: the project "Alpha
// Clinic" with a member of each kind, a patient, a secret, an access policy
// and an invitation, and the people around it.
type accessFixture struct {
	app     *webtest.App
	project string
	callers [roleCount]caller
	// holder owns the verification and reset links the rows use.
	holder accounts.User
	ids    vars
	made   int
}

// newMatrixApp starts the server the matrix runs against: with a metrics
// token, so that /metrics is a route too.
func newMatrixApp(t *testing.T, db testdb.DB) *webtest.App {
	return webtest.NewWith(t, db, func(c *web.Config) { c.MetricsToken = "matrix-metrics-token-0123456789" })
}

func newAccessFixture(t *testing.T, db testdb.DB) *accessFixture {
	t.Helper()
	app := newMatrixApp(t, db)
	ctx := t.Context()
	sys := app.Sys
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	person := func(email string, verified bool) accounts.User {
		t.Helper()
		u, err := sys.CreateUser(ctx, accounts.NewUser{FirstName: "Test", LastName: strings.Split(email, "@")[0], Email: email, Password: "password-123"})
		must(err)
		if verified {
			token, _, err := sys.IssueAccountToken(ctx, u.ID, accounts.PurposeVerify, email, mail.Letter{})
			must(err)
			u, err = sys.VerifyEmail(ctx, token)
			must(err)
		}
		return u
	}
	project := func(owner accounts.User, name string) string {
		t.Helper()
		p, err := sys.CreateProject(ctx, owner.ID, projects.NewProject{Name: name})
		must(err)
		return p.ID
	}

	fx := &accessFixture{app: app, holder: person("holder@example.org", false)}
	users := [roleCount]accounts.User{}
	for r := noProject; r < roleCount; r++ {
		users[r] = person(roleNames[r]+"@example.org", r != noProject)
	}
	fx.project = project(users[admin], "Alpha Clinic")
	elsewhere := project(users[otherProject], "Elsewhere")
	operators := project(users[otherSuperAdmin], "Operators")
	must(sys.SetSuperAdmin(ctx, operators, true))
	store := sys.Tenant(fx.project)
	pol, err := store.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Front desk",
		Rules: []resources.PolicyRule{{ResourceType: "Patient", ReadOnly: true}}})
	must(err)
	m, err := store.AddMember(ctx, audit.Actor{}, users[member].ID, false, nil)
	must(err)
	_, err = store.AddMember(ctx, audit.Actor{}, users[policed].ID, false, &pol.ID)
	must(err)
	_, err = store.AddMember(ctx, audit.Actor{}, users[superAdmin].ID, true, nil)
	must(err)
	_, err = sys.Tenant(operators).AddMember(ctx, audit.Actor{}, users[superAdmin].ID, true, nil)
	must(err)
	patient := testdb.MustCreate(t, store, `{"resourceType":"Patient","name":[{"family":"Quixotic"}]}`)
	secret, err := store.Secrets(app.SecretBox).Create(ctx, audit.Actor{}, "ALPHA_TOKEN", "alpha-token-value")
	must(err)
	invited, err := store.Invite(ctx, audit.Actor{}, members.InviteInput{Email: users[noProject].Email}, mail.Letter{})
	must(err)
	app1, _, err := store.CreateClient(ctx, audit.Actor{}, clients.Input{Name: "Alpha sync"})
	must(err)
	fx.ids = vars{"project": fx.project, "patient": patient.ID, "secret": secret.ID, "policy": pol.ID, "member": m.ID,
		"invitation": invited.Invitation.ID, "invite-token": invited.Token, "client": app1.ID}

	homes := [roleCount]string{"/signin", "/projects/new", "/projects/" + elsewhere, "/projects/" + fx.project,
		"/projects/" + fx.project, "/projects/" + fx.project, "/projects", "/projects/" + operators}
	for r := range roleCount {
		c := caller{client: app.Client(), email: "nobody@example.org", home: homes[r]}
		if r != anonymous {
			c.email, c.userID = users[r].Email, users[r].ID
			c.client.SignIn(c.email).Status(http.StatusSeeOther)
		}
		fx.callers[r] = c
	}
	return fx
}

// store is the project's store, for making and checking records.
func (fx *accessFixture) store() models.Tenant { return fx.app.Sys.Tenant(fx.project) }

// vars returns the placeholders of a request by r.
func (fx *accessFixture) vars(r role) vars {
	v := maps.Clone(fx.ids)
	c := fx.callers[r]
	v["role"], v["email"], v["home"] = roleNames[r], c.email, c.home
	return v
}

// next numbers the records the rows make.
func (fx *accessFixture) next() string {
	fx.made++
	return strconv.Itoa(fx.made)
}

// The fresh targets.

func sparePatient(t *testing.T, fx *accessFixture) vars {
	return vars{"patient": testdb.MustCreate(t, fx.store(), `{"resourceType":"Patient","name":[{"family":"Spare"}]}`).ID}
}

func spareSecret(t *testing.T, fx *accessFixture) vars {
	name := "SPARE_" + fx.next()
	s, err := fx.store().Secrets(fx.app.SecretBox).Create(t.Context(), audit.Actor{}, name, "spare-value")
	if err != nil {
		t.Fatal(err)
	}
	return vars{"secret": s.ID, "secret-name": name}
}

func spareClient(t *testing.T, fx *accessFixture) vars {
	name := "Spare client " + fx.next()
	c, _, err := fx.store().CreateClient(t.Context(), audit.Actor{}, clients.Input{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return vars{"client": c.ID, "client-name": name}
}

func spareDisabledClient(t *testing.T, fx *accessFixture) vars {
	v := spareClient(t, fx)
	if _, err := fx.store().SetClientEnabled(t.Context(), audit.Actor{}, v["client"], false); err != nil {
		t.Fatal(err)
	}
	return v
}

func sparePolicy(t *testing.T, fx *accessFixture) vars {
	p, err := fx.store().CreateAccessPolicy(t.Context(), audit.Actor{},
		resources.PolicyInput{Name: "Spare " + fx.next(), Rules: []resources.PolicyRule{{ResourceType: "Patient"}}})
	if err != nil {
		t.Fatal(err)
	}
	return vars{"policy": p.ID}
}

func spareInvitation(t *testing.T, fx *accessFixture) vars {
	got, err := fx.store().Invite(t.Context(), audit.Actor{},
		members.InviteInput{Email: "spare-" + fx.next() + "@example.org"}, mail.Letter{})
	if err != nil {
		t.Fatal(err)
	}
	return vars{"invitation": got.Invitation.ID, "invite-token": got.Token}
}

func spareMember(t *testing.T, fx *accessFixture) vars {
	u := testdb.NewUser(t, fx.app.Sys, "spare-member-"+fx.next()+"@example.org")
	m, err := fx.store().AddMember(t.Context(), audit.Actor{}, u.ID, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return vars{"member": m.ID}
}

func spareAccount(t *testing.T, fx *accessFixture) vars {
	email := "spare-account-" + fx.next() + "@example.org"
	return vars{"user": testdb.NewUser(t, fx.app.Sys, email).ID, "user-email": email}
}

func spareDeactivatedAccount(t *testing.T, fx *accessFixture) vars {
	v := spareAccount(t, fx)
	if _, err := fx.app.Sys.SetUserDeactivated(t.Context(), audit.Actor{}, v["user"], v["user-email"], true); err != nil {
		t.Fatal(err)
	}
	return v
}

// adminSession signs the admin in on another browser and names that
// session.
func adminSession(t *testing.T, fx *accessFixture) vars {
	a := fx.callers[admin]
	ids := func() []string {
		list, err := fx.app.Sys.UserSessions(t.Context(), a.userID, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range list {
			out = append(out, s.ID)
		}
		return out
	}
	before := ids()
	fx.app.Client().For(t).SignIn(a.email).Status(http.StatusSeeOther)
	for _, id := range ids() {
		if !slices.Contains(before, id) {
			return vars{"session": id}
		}
	}
	t.Fatal("signing the admin in made no session")
	return nil
}

func settingsVersion(t *testing.T, fx *accessFixture) vars {
	p, err := fx.store().Project(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return vars{"version": strconv.Itoa(p.Version)}
}

func newVerifyLink(t *testing.T, fx *accessFixture) vars {
	return fx.link(t, accounts.PurposeVerify)
}

func newResetLink(t *testing.T, fx *accessFixture) vars {
	return fx.link(t, accounts.PurposeReset)
}

func (fx *accessFixture) link(t *testing.T, purpose accounts.TokenPurpose) vars {
	token, _, err := fx.app.Sys.IssueAccountToken(t.Context(), fx.holder.ID, purpose, fx.holder.Email, mail.Letter{})
	if err != nil {
		t.Fatal(err)
	}
	return vars{"token": token}
}

// spareProject is a project of the fixture's link holder (no role's), for
// a row that deletes one.
func spareProject(t *testing.T, fx *accessFixture) vars {
	p, err := fx.app.Sys.CreateProject(t.Context(), fx.holder.ID, projects.NewProject{Name: "Spare " + fx.next()})
	if err != nil {
		t.Fatal(err)
	}
	return vars{"target": p.ID}
}

// spareDeletedProject is a deleted project of the link holder's, for a row
// that restores one.
func spareDeletedProject(t *testing.T, fx *accessFixture) vars {
	v := spareProject(t, fx)
	store := fx.app.Sys.Tenant(v["target"])
	p, err := store.Project(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.DeleteProject(t.Context(), audit.Actor{}, p.Name); err != nil {
		t.Fatal(err)
	}
	v["target-name"] = p.Name
	return v
}

// The states a request may change.

func fixtureProjectLive(t *testing.T, fx *accessFixture, _ vars) string {
	_, err := fx.store().Project(t.Context())
	return fmt.Sprint(err)
}

func projectExists(t *testing.T, fx *accessFixture, v vars) string {
	_, err := fx.app.Sys.Tenant(v["target"]).Project(t.Context())
	return fmt.Sprint(err)
}

// copiesOf counts the projects named as the row's copies.
func copiesOf(t *testing.T, fx *accessFixture, _ vars) string {
	var n int64
	if err := fx.app.DB.DB.Raw("SELECT COUNT(*) FROM projects WHERE name LIKE 'Copy by %'").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(n, 10)
}

func patientCount(t *testing.T, fx *accessFixture, _ vars) string {
	n, err := fx.store().CountByType(t.Context(), []string{"Patient"})
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(n["Patient"])
}

func patientOf(t *testing.T, fx *accessFixture, v vars) string {
	r, err := fx.store().ReadResource(t.Context(), "Patient", v["patient"])
	if err != nil {
		return err.Error()
	}
	return r.VersionID + " " + string(r.JSON)
}

func projectSettings(t *testing.T, fx *accessFixture, _ vars) string {
	p, err := fx.store().Project(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %q %v", p.Version, p.Description, p.Features)
}

func policyNames(t *testing.T, fx *accessFixture, _ vars) string {
	pols, err := fx.store().AccessPolicies(t.Context())
	return joined(t, pols, err, func(p resources.AccessPolicy) string { return p.Name })
}

func policyOf(t *testing.T, fx *accessFixture, v vars) string {
	p, err := fx.store().AccessPolicy(t.Context(), v["policy"])
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s %+v", p.Name, p.Rules)
}

func invitedEmails(t *testing.T, fx *accessFixture, _ vars) string {
	list, err := fx.store().Invitations(t.Context())
	return joined(t, list, err, func(o members.OpenInvitation) string { return o.Invitation.Email })
}

func invitationOpen(t *testing.T, fx *accessFixture, v vars) string {
	if _, err := fx.store().Invitation(t.Context(), v["invitation"]); err != nil {
		return err.Error()
	}
	return "open"
}

func inviteLinkWorks(t *testing.T, fx *accessFixture, v vars) string {
	if _, err := fx.app.Sys.InvitationByToken(t.Context(), v["invite-token"]); err != nil {
		return err.Error()
	}
	return "works"
}

func membership(t *testing.T, fx *accessFixture, v vars) string {
	m, err := fx.store().Member(t.Context(), v["member"])
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("admin %v, active %v", m.Membership.Admin, m.Membership.Active)
}

func secretNames(t *testing.T, fx *accessFixture, _ vars) string {
	list, err := fx.store().Secrets(fx.app.SecretBox).List(t.Context())
	return joined(t, list, err, func(s secrets.Secret) string { return s.Name })
}

func clientNames(t *testing.T, fx *accessFixture, _ vars) string {
	list, err := fx.store().Clients(t.Context())
	return joined(t, list, err, func(c clients.Client) string { return c.Name })
}

// clientOf is a client's state: a rotation leaves a previous secret in its
// grace period.
func clientOf(t *testing.T, fx *accessFixture, v vars) string {
	c, err := fx.store().Client(t.Context(), v["client"])
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s enabled %v, previous secret %v", c.Name, c.Enabled, c.RetiringUntil != nil)
}

// joined names each item of a list that loaded without error.
func joined[T any](t *testing.T, list []T, err error, name func(T) string) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(list))
	for i, item := range list {
		names[i] = name(item)
	}
	return strings.Join(names, ", ")
}

func secretOf(t *testing.T, fx *accessFixture, v vars) string {
	st := fx.store().Secrets(fx.app.SecretBox)
	s, err := st.Get(t.Context(), v["secret"])
	if err != nil {
		return err.Error()
	}
	value, err := st.Value(t.Context(), s.Name)
	if err != nil {
		t.Fatal(err)
	}
	return s.Name + "=" + value
}

func ownName(t *testing.T, fx *accessFixture, v vars) string {
	u, err := fx.app.Sys.UserByEmail(t.Context(), v["email"])
	if err != nil {
		return err.Error()
	}
	return u.Name()
}

// accountOf is what an operator's act changes of an account.
func accountOf(t *testing.T, fx *accessFixture, v vars) string {
	u, err := fx.app.Sys.UserByID(t.Context(), v["user"])
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("deactivated %v, must change password %v, hash %s", u.Deactivated(), u.MustChangePassword, u.PasswordHash)
}

func sessionLive(t *testing.T, fx *accessFixture, v vars) string {
	list, err := fx.app.Sys.UserSessions(t.Context(), fx.callers[admin].userID, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.ID == v["session"] {
			return "live"
		}
	}
	return "ended"
}

// TestAccessMatrix says, for every route, what each kind of caller gets:
// one row per request, one column per role (accessMatrix). It runs on every
// database, on one fixture; each cell is a subtest named after the row and
// the role, e.g. "sqlite/GET_/projects/{project}/settings/member".
// TestAccessMatrixCoversEveryRoute fails when a route has no row, so a new
// route cannot ship without saying who may call it.
func TestAccessMatrix(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			fx := newAccessFixture(t, db)
			for _, row := range accessMatrix {
				t.Run(row.req, func(t *testing.T) {
					for r := range roleCount {
						t.Run(roleNames[r], func(t *testing.T) { fx.run(t, row, r) })
					}
				})
			}
		})
	}
}

// run sends row's request as r and checks the answer, what it shows to
// those outside the project, and what it changed.
func (fx *accessFixture) run(t *testing.T, row accessRow, r role) {
	v := fx.vars(r)
	if row.fresh != nil {
		maps.Copy(v, row.fresh(t, fx))
	}
	method, path, _ := strings.Cut(row.req, " ")
	path = expand(t, path, v)
	before := ""
	if row.state != nil {
		before = row.state(t, fx, v)
	}

	c := fx.callers[r].client.For(t)
	if row.spare {
		c = fx.app.Client().For(t)
		if r != anonymous {
			c.SignIn(fx.callers[r].email).Status(http.StatusSeeOther)
		}
	}
	var resp *webtest.Response
	switch {
	case strings.HasPrefix(path, "/fhir/") || strings.HasPrefix(path, "/admin/projects/") || row.body != "" || row.project != "":
		var header []string
		if row.project != "" {
			header = []string{web.ProjectHeader, expand(t, row.project, v)}
		}
		if method == http.MethodPatch {
			header = append(header, "Content-Type", "application/json-patch+json")
		}
		if method == http.MethodPost && strings.HasSuffix(path, "/_search") {
			header = append(header, "Content-Type", "application/x-www-form-urlencoded")
		}
		resp = c.API(method, path, expand(t, row.body, v), header...)
	case method == http.MethodGet:
		resp = c.Get(path)
	default:
		form, err := url.ParseQuery(expand(t, row.form, v))
		if err != nil {
			t.Fatalf("the row's form: %v", err)
		}
		resp = c.PostForm(path, form)
	}

	want := row.want[r]
	want.mark = expand(t, want.mark, v)
	checkOutcome(t, resp, method, path, want)

	for _, s := range neverShown {
		if strings.Contains(resp.Body, s) {
			t.Errorf("the answer shows %q", s)
		}
	}
	// The outside super admin reads the project on its console pages and
	// in the dashboard, by design; the API stays walled.
	operating := r == otherSuperAdmin && (strings.HasPrefix(path, "/projects/") || strings.HasPrefix(path, "/admin"))
	if slices.Contains(nonMembers, r) && !row.link && !operating {
		hidden := confidential
		if !strings.HasPrefix(path, "/fhir/") && row.project == "" {
			// The API's 404 repeats the project id the caller sent; a page
			// names nothing of the project, not even its id.
			hidden = append(slices.Clip(hidden), fx.project)
		}
		for _, s := range hidden {
			if strings.Contains(resp.Body, s) {
				t.Errorf("the answer shows %q to someone outside the project", s)
			}
		}
	}
	if row.state != nil {
		after := row.state(t, fx, v)
		granted := resp.Resp.StatusCode < 400 && !sentToSignIn(resp)
		switch {
		case granted && after == before:
			t.Errorf("granted (%d), but nothing changed: %s", resp.Resp.StatusCode, before)
		case !granted && after != before:
			t.Errorf("refused (%d), yet it changed %s\nto %s", resp.Resp.StatusCode, before, after)
		}
	}
}

// checkOutcome checks the status and the mark (see outcome).
func checkOutcome(t *testing.T, resp *webtest.Response, method, path string, want outcome) {
	t.Helper()
	got := resp.Resp.StatusCode
	if got != want.status {
		t.Fatalf("status %d, want %d\n%s", got, want.status, clip(resp.Body))
	}
	kind := resp.Header("Content-Type")
	switch {
	case got >= 300 && got < 400:
		loc := resp.Header("Location")
		switch {
		case want == signIn:
			wantLoc := "/signin"
			if method == http.MethodGet {
				wantLoc += "?next=" + url.QueryEscape(path)
			}
			if loc != wantLoc {
				t.Errorf("sent to %q, want %q", loc, wantLoc)
			}
		case strings.HasSuffix(want.mark, "/"):
			if !strings.HasPrefix(loc, want.mark) {
				t.Errorf("sent to %q, want %q…", loc, want.mark)
			}
		default:
			if p, _, _ := strings.Cut(loc, "?"); p != want.mark {
				t.Errorf("sent to %q, want %q", loc, want.mark)
			}
		}
	case method == http.MethodHead:
		// No body to look at.
	case strings.Contains(kind, "json"):
		var oo struct {
			ResourceType string `json:"resourceType"`
			Issue        []struct {
				Details struct{ Text string } `json:"details"`
			} `json:"issue"`
			// Error is the code of an OAuth (RFC 6749) error.
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &oo); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, clip(resp.Body))
		}
		if got >= 400 && strings.HasPrefix(path, "/oauth2/") {
			if oo.Error != want.mark {
				t.Errorf("OAuth error %q, want %q", oo.Error, want.mark)
			}
		} else if got >= 400 {
			var texts []string
			for _, is := range oo.Issue {
				texts = append(texts, is.Details.Text)
			}
			text := strings.Join(texts, " | ")
			if oo.ResourceType != "OperationOutcome" || !strings.Contains(text, want.mark) {
				t.Errorf("answer %s %q, want an OperationOutcome saying %q", oo.ResourceType, text, want.mark)
			}
		} else if want.mark != "" && oo.ResourceType != want.mark {
			t.Errorf("answer is a %s, want a %s", oo.ResourceType, want.mark)
		}
	case strings.HasPrefix(kind, "text/html"):
		errorPage := resp.Has("error-page")
		if got >= 400 && (errorPage || want.mark == "") {
			msg := resp.TestID("error-message")
			if !errorPage || !strings.Contains(msg, want.mark) {
				t.Errorf("error page %v saying %q, want one saying %q\n%s", errorPage, msg, want.mark, clip(resp.Body))
			}
			// The admin refusal names what was refused: a page, or a change.
			if verb := "make this change"; want == notAdmin {
				if method == http.MethodGet {
					verb = "open this page"
				}
				if !strings.Contains(msg, verb) {
					t.Errorf("admin refusal %q does not say %q", msg, verb)
				}
			}
		} else if want.mark != "" && resp.Title() != want.mark {
			t.Errorf("page %q, want %q", resp.Title(), want.mark)
		}
	default:
		if !strings.Contains(resp.Body, want.mark) {
			t.Errorf("%s answer lacks %q", kind, want.mark)
		}
	}
}

func sentToSignIn(resp *webtest.Response) bool {
	return resp.Resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header("Location"), "/signin")
}

var placeholder = regexp.MustCompile(`\{([a-z][a-z-]*)\}`)

// expand fills s's {placeholders} from v.
func expand(t *testing.T, s string, v vars) string {
	t.Helper()
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		value, ok := v[strings.Trim(p, "{}")]
		if !ok {
			t.Fatalf("%s names nothing the fixture has", p)
		}
		return value
	})
}

func clip(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}

// TestAccessMatrixCoversEveryRoute: every route the server registers has a
// row, and every row reaches a route. Add a row for a new route, with what
// each role gets.
func TestAccessMatrixCoversEveryRoute(t *testing.T) {
	app := newMatrixApp(t, testdb.SQLite(t))
	covered := map[string]bool{}
	for _, row := range accessMatrix {
		method, path, _ := strings.Cut(row.req, " ")
		path = placeholder.ReplaceAllString(path, "x")
		path, _, _ = strings.Cut(path, "?")
		route := app.Server.RegisteredRoute(method, path)
		if route == "" {
			t.Errorf("%s reaches no route", row.req)
			continue
		}
		covered[method+" "+route] = true
	}
	for _, r := range app.Server.Routes() {
		if !slices.Contains([]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
			http.MethodDelete, http.MethodOptions}, r.Method) {
			continue // echo's not-found handlers of groups
		}
		if !covered[r.Method+" "+r.Path] {
			t.Errorf("%s %s has no row in the access matrix: add one saying what each role gets", r.Method, r.Path)
		}
	}
}
