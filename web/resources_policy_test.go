package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"enclave/models/audit"
	"enclave/models/members"
	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/PuerkitoBio/goquery"
)

// policyMember adds a member to project under a new access policy with these
// rules, and returns their signed-in browser and the policy.
func policyMember(t *testing.T, app *webtest.App, project, email string, rules ...resources.PolicyRule) (*webtest.Client, resources.AccessPolicy) {
	t.Helper()
	store := app.Sys.Tenant(project)
	pol, err := store.CreateAccessPolicy(t.Context(), audit.Actor{}, resources.PolicyInput{Name: "Policy of " + email, Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	c := addMember(t, app, project, email, false)
	u, err := app.Sys.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	m, err := store.Membership(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.UpdateMember(t.Context(), audit.Actor{}, m.ID, members.MemberUpdate{Active: true, AccessPolicyID: &pol.ID}); err != nil {
		t.Fatal(err)
	}
	return c, pol
}

// TestResourcePagesFollowThePolicy: the resource browser offers a member
// only what their access policy allows (the types they may read; New, Edit
// and Delete only where they may write), and a refusal says why, on a page
// or, for htmx, in the error page htmx reports from.
func TestResourcePagesFollowThePolicy(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Clinic")
			desk, _ := policyMember(t, app, project, "desk@example.org",
				resources.PolicyRule{ResourceType: "Patient", HiddenFields: []string{"birthDate"}},
				resources.PolicyRule{ResourceType: "Organization", ReadOnly: true})
			org := storeResource(t, app, project, "Organization", `{"resourceType":"Organization","name":"North Clinic"}`)
			pat := storeResource(t, app, project, "Patient", adaJSON)
			obs := storeResource(t, app, project, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"pulse"}}`)
			base := "/projects/" + project + "/resources"
			readOnly := "Your access policy lets you read Organization but not change it."
			unseen := "Your access policy does not let you see Observation resources."

			// The type picker lists what the member may read.
			types := desk.Get(base).Status(http.StatusOK)
			all := types.Doc().Find(`[data-testid="all-types"] a`).Map(func(_ int, s *goquery.Selection) string { return s.Text() })
			for _, want := range []string{"Patient", "Organization", "StructureDefinition"} {
				if !slices.Contains(all, want) {
					t.Errorf("the member's type list lacks %s: %v", want, all)
				}
			}
			for _, hidden := range []string{"Observation", "Encounter"} {
				if slices.Contains(all, hidden) {
					t.Errorf("the member's type list offers %s, which the policy leaves out", hidden)
				}
			}
			if got := types.TestIDs("common-types"); len(got) != 1 || strings.Contains(got[0], "Observation") {
				t.Errorf("most used types: %q", got)
			}
			types.Shows("read-only-Organization")
			if types.Has("read-only-Patient") {
				t.Error("Patient is writable but marked read-only")
			}
			if n := admin.Get(base).Status(http.StatusOK).Doc().Find(`[data-testid="all-types"] a`).Length(); n <= len(all) {
				t.Errorf("the admin sees %d types, the member %d", n, len(all))
			}

			// Read-only: no New, Edit or Delete, and a note saying why.
			orgs := desk.Get(base + "/Organization").Status(http.StatusOK)
			if orgs.Has("new-resource") || orgs.TestID("read-only-type") != readOnly {
				t.Errorf("Organization search: New shown %v, note %q", orgs.Has("new-resource"), orgs.TestID("read-only-type"))
			}
			page := desk.Get(base + "/Organization/" + org).Status(http.StatusOK)
			if page.Has("edit-resource") || page.Has("delete-resource") || page.TestID("read-only-type") != readOnly {
				t.Errorf("Organization page: Edit %v, Delete %v, note %q", page.Has("edit-resource"), page.Has("delete-resource"), page.TestID("read-only-type"))
			}
			desk.Get(base + "/Patient").Status(http.StatusOK).Shows("new-resource")
			page = desk.Get(base + "/Patient/" + pat).Status(http.StatusOK).Shows("edit-resource").Shows("delete-resource")
			if page.Has("read-only-type") {
				t.Error("a writable Patient is noted read-only")
			}
			admin.Get(base + "/Organization").Status(http.StatusOK).Shows("new-resource")
			admin.Get(base + "/Organization/" + org).Status(http.StatusOK).Shows("edit-resource")

			// Every refused action says why, as a page and to htmx.
			refusals := []struct {
				method, path string
				form         url.Values
				says         string
			}{
				{http.MethodGet, base + "/Organization/new", nil, readOnly},
				{http.MethodPost, base + "/Organization/new", url.Values{"json": {`{"resourceType":"Organization","name":"X"}`}}, readOnly},
				{http.MethodGet, base + "/Organization/" + org + "/edit", nil, readOnly},
				{http.MethodPost, base + "/Organization/" + org + "/edit", url.Values{"json": {`{"resourceType":"Organization","id":"` + org + `"}`}, "version": {"1"}}, readOnly},
				{http.MethodGet, base + "/Organization/" + org + "/delete", nil, readOnly},
				{http.MethodPost, base + "/Organization/" + org + "/delete", url.Values{}, readOnly},
				{http.MethodGet, base + "/Observation", nil, unseen},
				{http.MethodGet, base + "/Observation/new", nil, unseen},
				{http.MethodPost, base + "/Observation/" + obs + "/delete", url.Values{}, unseen},
				{http.MethodGet, base + "/Observation/" + obs, nil, "Your access policy does not allow Observation resources."},
			}
			for _, htmx := range []bool{false, true} {
				desk.HTMX = htmx
				for _, r := range refusals {
					var resp *webtest.Response
					if r.method == http.MethodGet {
						resp = desk.Get(r.path)
					} else {
						resp = desk.PostForm(r.path, r.form)
					}
					resp.Status(http.StatusForbidden)
					if got := resp.TestID("error-message"); got != r.says {
						t.Errorf("%s %s (htmx %v) says %q, want %q", r.method, r.path, htmx, got, r.says)
					}
				}
			}
			desk.HTMX = false
			if got, err := app.Sys.Tenant(project).ReadResource(t.Context(), "Organization", org); err != nil || got.VersionID != "1" {
				t.Errorf("the Organization changed: version %s, %v", got.VersionID, err)
			}

			// Searching by a field the policy hides is refused next to the query.
			search := desk.Get(base + "/Patient?birthdate=1815-12-10").Status(http.StatusUnprocessableEntity)
			if got := search.TestID("search-error"); !strings.Contains(got, "Your access policy hides birthDate") {
				t.Errorf("search by a hidden field says %q", got)
			}
		})
	}
}
