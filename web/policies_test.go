package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

func TestAccessPolicyEditor(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("admin@example.org", "Alpha")
			base := "/projects/" + project + "/access-policies"

			c.Get(base).Status(http.StatusOK).Shows("no-policies")
			form := c.Get(base + "/new").Status(http.StatusOK)
			if n := len(form.Doc().Find(`[data-testid="rule-row"]`).Nodes); n != 1 {
				t.Errorf("new form has %d rule rows, want 1", n)
			}
			// "Add a rule" gives another row and keeps what was typed, saving nothing.
			r := c.PostForm(base+"/new", url.Values{"name": {"Nurses"}, "rows": {"1"}, "rules.0.resourceType": {"Patient"}, "action": {"add-rule"}}).
				Status(http.StatusOK)
			if n := len(r.Doc().Find(`[data-testid="rule-row"]`).Nodes); n != 2 {
				t.Errorf("after add-rule: %d rows, want 2", n)
			}
			if v, _ := r.Doc().Find(`[name="rules.0.resourceType"]`).Attr("value"); v != "Patient" {
				t.Errorf("typed rule lost: %q", v)
			}

			// Unknown resource type and a criteria on another type: errors by their rows.
			bad := url.Values{"name": {"Nurses"}, "rows": {"3"},
				"rules.0.resourceType": {"Patient"}, "rules.0.readonly": {"on"},
				"rules.1.resourceType": {"Spaceship"},
				"rules.2.resourceType": {"Observation"}, "rules.2.criteria": {"Patient?name=x"}}
			r = c.PostForm(base+"/new", bad).Status(http.StatusUnprocessableEntity)
			if got := r.TestID("error-rule-1"); !strings.Contains(got, "Spaceship") || !strings.Contains(got, "not a FHIR R4 resource type") {
				t.Errorf("rule 1 error %q", got)
			}
			// Criteria variables: %patient and %profile, nothing else.
			vars := url.Values{"name": {"Mine"}, "rows": {"2"}, "rules.0.resourceType": {"Observation"}, "rules.0.criteria": {"Observation?subject=%patient"},
				"rules.1.resourceType": {"Patient"}, "rules.1.criteria": {"Patient?_id=%pateint.id"}}
			if got := c.PostForm(base+"/new", vars).Status(http.StatusUnprocessableEntity).TestID("error-rule-1"); !strings.Contains(got, "not %pateint.id") {
				t.Errorf("unknown variable error %q", got)
			}
			if got := c.PostForm(base+"/new", url.Values{"name": {"Odd"}, "rows": {"1"}, "rules.0.resourceType": {"Patient"},
				"rules.0.criteria": {"Patient?shoe-size=42"}}).Status(http.StatusUnprocessableEntity).TestID("error-rule-0"); !strings.Contains(got, "shoe-size") {
				t.Errorf("unsearchable criteria error %q", got)
			}
			if got := r.TestID("error-rule-2"); !strings.Contains(got, "same type") {
				t.Errorf("rule 2 error %q", got)
			}
			if r.Has("error-rule-0") {
				t.Error("the valid rule got an error")
			}
			if pols, err := app.Sys.Tenant(project).AccessPolicies(t.Context()); err != nil {
				t.Fatal(err)
			} else if len(pols) != 0 {
				t.Fatalf("an invalid policy was saved: %+v", pols)
			}

			// Several rules for one type are fine: they add up.
			good := url.Values{"name": {"Nurses"}, "rows": {"4"},
				"rules.0.resourceType": {"Patient"}, "rules.0.readonly": {"on"}, "rules.0.hiddenFields": {"birthDate, address"},
				"rules.2.resourceType": {"Observation"}, "rules.2.criteria": {"Observation?status=final"},
				"rules.3.resourceType": {"Observation"}, "rules.3.criteria": {"Observation?subject=%patient"}}
			c.PostForm(base+"/new", good).Status(http.StatusSeeOther).RedirectsTo(base)
			list := c.Get(base).Status(http.StatusOK)
			if got := list.TestIDs("policy-name"); len(got) != 1 || got[0] != "Nurses" {
				t.Fatalf("policies listed: %v", got)
			}
			list.Contains("Patient (read-only), Observation, Observation")
			pols, err := app.Sys.Tenant(project).AccessPolicies(t.Context())
			if err != nil || len(pols) != 1 {
				t.Fatalf("stored policies %+v, %v", pols, err)
			}
			pol := pols[0]
			if len(pol.Rules) != 3 || strings.Join(pol.Rules[0].HiddenFields, "|") != "birthDate|address" || pol.Rules[1].Criteria != "Observation?status=final" ||
				pol.Rules[2].Criteria != "Observation?subject=%patient" {
				t.Errorf("stored rules %+v", pol.Rules)
			}

			// Names are unique per project.
			r = c.PostForm(base+"/new", url.Values{"name": {"Nurses"}, "rows": {"1"}, "rules.0.resourceType": {"*"}}).Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("error-name"), "has this name") {
				t.Errorf("duplicate name error %q", r.TestID("error-name"))
			}

			// Edit shows the saved rules plus a blank row, and saves changes.
			edit := c.Get(base + "/" + pol.ID).Status(http.StatusOK)
			if v, _ := edit.Doc().Find(`[name="rules.0.hiddenFields"]`).Attr("value"); v != "birthDate, address" {
				t.Errorf("hidden fields shown as %q", v)
			}
			c.PostForm(base+"/"+pol.ID, url.Values{"name": {"Night nurses"}, "rows": {"1"}, "rules.0.resourceType": {"*"}}).
				Status(http.StatusSeeOther)
			if got, err := app.Sys.Tenant(project).AccessPolicy(t.Context(), pol.ID); err != nil || got.Name != "Night nurses" || got.Rules[0].ResourceType != "*" {
				t.Errorf("after edit: %+v, %v", got, err)
			}

			// Used as the default patient policy and by a member, then deleted.
			member, err := app.Sys.CreateUser(t.Context(), accounts.NewUser{FirstName: "M", LastName: "M", Email: "m@example.org", Password: "password-123"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.Sys.Tenant(project).AddMember(t.Context(), audit.Actor{}, member.ID, false, &pol.ID); err != nil {
				t.Fatal(err)
			}
			form2 := settingsForm(t, c, project)
			form2.Set("defaultPatientAccessPolicy", pol.ID)
			c.PostForm("/projects/"+project+"/settings", form2).Status(http.StatusOK)

			// In use, it cannot be deleted: its member would fall back to full access.
			confirm := c.Get(base + "/" + pol.ID + "/delete").Status(http.StatusOK)
			if got := confirm.TestID("policy-in-use"); !strings.Contains(got, "1 member") || !strings.Contains(got, "default patient access policy") {
				t.Errorf("delete page says %q", got)
			}
			if confirm.Has("confirm-delete-button") {
				t.Error("a policy in use offers a delete button")
			}
			c.PostForm(base+"/"+pol.ID+"/delete", nil).Status(http.StatusConflict).Shows("policy-in-use")
			if _, err := app.Sys.Tenant(project).AccessPolicy(t.Context(), pol.ID); err != nil {
				t.Fatalf("policy in use was deleted: %v", err)
			}
			// Once nobody uses it, it goes.
			m, err := app.Sys.Tenant(project).Membership(t.Context(), member.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.Sys.Tenant(project).UpdateMember(t.Context(), audit.Actor{}, m.ID, members.MemberUpdate{Active: true}); err != nil {
				t.Fatal(err)
			}
			form2 = settingsForm(t, c, project)
			form2.Set("defaultPatientAccessPolicy", "")
			c.PostForm("/projects/"+project+"/settings", form2).Status(http.StatusOK)
			c.Get(base + "/" + pol.ID + "/delete").Status(http.StatusOK).Shows("confirm-delete-button")
			c.PostForm(base+"/"+pol.ID+"/delete", nil).Status(http.StatusSeeOther).RedirectsTo(base)
			if _, err := app.Sys.Tenant(project).AccessPolicy(t.Context(), pol.ID); err != kit.ErrNotFound {
				t.Errorf("policy still there: %v", err)
			}
			c.Get(base + "/" + pol.ID).Status(http.StatusNotFound)

			// Every change is in the audit log.
			actions := c.Get("/projects/" + project + "/audit").TestIDs("audit-action")
			joined := strings.Join(actions, ",")
			for _, a := range []string{"policy.created", "policy.updated", "policy.deleted"} {
				if !strings.Contains(joined, a) {
					t.Errorf("audit log lacks %s: %v", a, actions)
				}
			}
		})
	}
}

func TestPoliciesOfAnotherProject(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			alice, a := app.SignUp("alice@example.org", "A")
			bob, b := app.SignUp("bob@example.org", "B")
			polA := alice.NewPolicy(a, "A's policy")
			bob.NewPolicy(b, "B's policy")

			// Bob uses his own project's URLs with A's policy id.
			bob.Get("/projects/" + b + "/access-policies/" + polA).Status(http.StatusNotFound).NotContains("A's policy")
			bob.PostForm("/projects/"+b+"/access-policies/"+polA, url.Values{"name": {"Stolen"}, "rows": {"1"}, "rules.0.resourceType": {"*"}}).
				Status(http.StatusNotFound)
			bob.PostForm("/projects/"+b+"/access-policies/"+polA+"/delete", nil).Status(http.StatusNotFound)
			// Nor can he make it his project's default.
			form := settingsForm(t, bob, b)
			form.Set("defaultPatientAccessPolicy", polA)
			r := bob.PostForm("/projects/"+b+"/settings", form).Status(http.StatusUnprocessableEntity)
			if r.TestID("error-defaultPatientAccessPolicy") == "" {
				t.Error("another project's policy accepted as default")
			}
			bob.Get("/projects/" + b + "/access-policies").NotContains("A's policy")
			if got, err := app.Sys.Tenant(a).AccessPolicy(t.Context(), polA); err != nil || got.Name != "A's policy" {
				t.Errorf("A's policy after Bob's attempts: %+v, %v", got, err)
			}
		})
	}
}

func TestAuditLog(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("admin@example.org", "Alpha")
			app.SignUp("stranger@example.org", "Other")
			app.Client().SignIn("admin@example.org").Status(http.StatusSeeOther)
			app.Client().PostForm("/signin", url.Values{"email": {"admin@example.org"}, "password": {"wrong-password"}}).Status(http.StatusUnauthorized)
			app.Client().SignIn("stranger@example.org")
			for i := range audit.PageSize + 5 {
				c.PostForm("/projects/"+project+"/access-policies/new", url.Values{"name": {"P" + string(rune('A'+i%26)) + strings.Repeat("x", i/26)},
					"rows": {"1"}, "rules.0.resourceType": {"Patient"}}).Status(http.StatusSeeOther)
			}
			logURL := "/projects/" + project + "/audit"
			page1 := c.Get(logURL).Status(http.StatusOK)
			if n := len(page1.TestIDs("audit-row")); n != audit.PageSize {
				t.Errorf("page 1 has %d rows", n)
			}
			if !page1.Has("older") || page1.Has("newer") {
				t.Error("page 1 must link to older events only")
			}
			// Newest first: the last policy created leads.
			if first := page1.TestIDs("audit-target")[0]; !strings.HasPrefix(first, "P") || page1.TestIDs("audit-action")[0] != "policy.created" {
				t.Errorf("first row %q", first)
			}
			page2 := c.Get(logURL + "?page=2").Status(http.StatusOK)
			actions := strings.Join(page2.TestIDs("audit-action"), ",")
			if !strings.Contains(actions, "signin.succeeded") || !strings.Contains(actions, "signin.failed") {
				t.Errorf("page 2 lacks the member's sign-ins: %s", actions)
			}
			if strings.Contains(page2.Body, "stranger@example.org") || strings.Contains(page1.Body, "stranger@example.org") {
				t.Error("a non-member's sign-in shows in this project's log")
			}
			only := c.Get(logURL + "?action=signin.failed").Status(http.StatusOK)
			if got := only.TestIDs("audit-action"); len(got) != 1 || got[0] != "signin.failed" {
				t.Errorf("filtered log: %v", got)
			}
			c.Get(logURL + "?action=<script>&page=-3").Status(http.StatusOK).NotContains("<script>")
		})
	}
}
