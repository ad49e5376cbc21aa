package web_test

import (
	"net/http"
	"testing"

	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"
)

// The project home lists the next steps of a new project until each is
// done: inviting a member (admins only), creating a first resource; and it
// always says how to reach the project through the FHIR API.
func TestProjectHomeNextSteps(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.NewWith(t, db, func(c *web.Config) { c.BaseURL = "https://enclave.example.org" })
			ada, project := app.SignUp("ada@example.org", "Alpha")
			pp := "/projects/" + project

			home := ada.Get(pp).Status(http.StatusOK).Shows("next-steps").Shows("step-invite").Shows("step-resource").Shows("step-api")
			if href := home.Doc().Find(byID("step-invite-link")).AttrOr("href", ""); href != pp+"/members#invite-form" {
				t.Errorf("invite step links to %q", href)
			}
			if href := home.Doc().Find(byID("step-resource-link")).AttrOr("href", ""); href != pp+"/resources" {
				t.Errorf("resource step links to %q", href)
			}
			if v := home.Doc().Find(byID("fhir-base")).AttrOr("value", ""); v != "https://enclave.example.org/fhir/R4" {
				t.Errorf("FHIR base %q, want the absolute base URL", v)
			}
			if v := home.Doc().Find(byID("fhir-header")).AttrOr("value", ""); v != web.ProjectHeader+": "+project {
				t.Errorf("project header %q", v)
			}
			if home.Doc().Find(byID("copy-fhir-base")).AttrOr("data-copy", "") != "fhir-base-url" {
				t.Error("the base URL has no copy button")
			}
			if ada.Get(pp+"/members").Status(http.StatusOK).Doc().Find("#invite-form").Length() != 1 {
				t.Error("the members page has no #invite-form for the step to link to")
			}

			// A second member: nobody needs to invite one any more, and a
			// plain member never sees that step.
			bob := addMember(t, app, project, "bob@example.org", false)
			if ada.Get(pp).Status(http.StatusOK).Has("step-invite") {
				t.Error("the invite step stays after a second member joined")
			}
			solo := ada.NewProject("Solo")
			if r := bob.Get(pp).Status(http.StatusOK); r.Has("step-invite") || !r.Has("step-resource") || !r.Has("step-api") {
				t.Errorf("member's steps: invite %v, resource %v, api %v", r.Has("step-invite"), r.Has("step-resource"), r.Has("step-api"))
			}

			// A first resource: that step is done for everyone; a deleted
			// one does not count.
			id := storeResource(t, app, project, "Patient", `{"resourceType":"Patient"}`)
			for _, c := range []*webtest.Client{ada, bob} {
				if r := c.Get(pp).Status(http.StatusOK); r.Has("step-resource") || !r.Has("step-api") {
					t.Errorf("after a first resource: resource step %v, api step %v", r.Has("step-resource"), r.Has("step-api"))
				}
			}
			if err := app.Sys.Tenant(project).DeleteResource(t.Context(), "Patient", id); err != nil {
				t.Fatal(err)
			}
			if !ada.Get(pp).Status(http.StatusOK).Has("step-resource") {
				t.Error("a deleted resource counts as the first one")
			}
			// Another project's resources are not this one's.
			if !ada.Get("/projects/" + solo).Status(http.StatusOK).Has("step-resource") {
				t.Error("Solo counts Alpha's resources")
			}
		})
	}
}
