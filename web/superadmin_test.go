package web_test

import (
	"net/http"
	"strings"
	"testing"

	"enclave/models/audit"
	"enclave/models/members"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestSuperAdminsAreAdminsOfTheOperatorsProject: only admins (under no
// access policy) of a super-admin project are super admins, so the power
// cannot spread to whoever they invite, and changing a project's
// super-admin flag asks for the project's name.
func TestSuperAdminsAreAdminsOfTheOperatorsProject(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			op, ops := app.SignUp("ops@example.org", "Operators")
			if err := app.Sys.SetSuperAdmin(t.Context(), ops, true); err != nil {
				t.Fatal(err)
			}
			member := addMember(t, app, ops, "member@example.org", false)
			policed := addMember(t, app, ops, "policed@example.org", true)
			polID := op.NewPolicy(ops, "Readers")
			policedUser, err := app.Sys.UserByEmail(t.Context(), "policed@example.org")
			if err != nil {
				t.Fatal(err)
			}
			m, err := app.Sys.Tenant(ops).Membership(t.Context(), policedUser.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.Sys.Tenant(ops).UpdateMember(t.Context(), audit.Actor{}, m.ID, members.MemberUpdate{Admin: true, Active: true, AccessPolicyID: &polID}); err != nil {
				t.Fatal(err)
			}

			// A plain member, and an admin under a policy, each make a
			// project of their own: neither may make it a super-admin one.
			for name, c := range map[string]*webtest.Client{"member": member, "admin under a policy": policed} {
				own := c.NewProject("Own of " + name)
				form := settingsForm(t, c, own)
				if form.Get("operatorFields") == "on" {
					t.Errorf("%s is offered the operator fields", name)
				}
				form.Set("superAdmin", "on")
				form.Set("confirmSuperAdmin", "Own of "+name)
				c.PostForm("/projects/"+own+"/settings", form).Status(http.StatusForbidden)
				if p, err := app.Sys.Tenant(own).Project(t.Context()); err != nil {
					t.Fatal(err)
				} else if p.SuperAdmin {
					t.Errorf("%s made their project a super-admin project", name)
				}
			}

			// The operator must type the name to change the flag.
			target := op.NewProject("Tenant A")
			path := "/projects/" + target + "/settings"
			for _, typed := range []string{"", "tenant a", "Operators"} {
				form := settingsForm(t, op, target)
				form.Set("superAdmin", "on")
				form.Set("confirmSuperAdmin", typed)
				r := op.PostForm(path, form).Status(http.StatusUnprocessableEntity)
				if !strings.Contains(r.TestID("error-superAdmin"), "type this project's name") {
					t.Errorf("typed %q: error %q", typed, r.TestID("error-superAdmin"))
				}
			}
			form := settingsForm(t, op, target)
			form.Set("superAdmin", "on")
			form.Set("confirmSuperAdmin", "Tenant A")
			op.PostForm(path, form).Status(http.StatusOK)
			if p, err := app.Sys.Tenant(target).Project(t.Context()); err != nil {
				t.Fatal(err)
			} else if !p.SuperAdmin {
				t.Error("a confirmed change of the flag was not saved")
			}
			// Other settings save without any confirmation.
			form = settingsForm(t, op, target)
			form.Set("description", "first tenant")
			op.PostForm(path, form).Status(http.StatusOK)
		})
	}
}
