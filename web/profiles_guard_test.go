package web_test

import (
	"net/http"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestMembersCannotRewriteEachOthersProfiles: through the API and the
// console, a plain member may change their own membership profile but not
// another member's; admins may change any.
func TestMembersCannotRewriteEachOthersProfiles(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Alpha")
			bea := addMember(t, app, project, "bea@example.org", false)
			addMember(t, app, project, "cal@example.org", false)
			bea.SignIn("bea@example.org")
			profiles := map[string]string{}
			for _, email := range []string{"bea@example.org", "cal@example.org"} {
				u, err := app.Sys.UserByEmail(t.Context(), email)
				if err != nil {
					t.Fatal(err)
				}
				m, err := app.Sys.Tenant(project).Membership(t.Context(), u.ID)
				if err != nil {
					t.Fatal(err)
				}
				profiles[email] = *m.ProfileID
			}
			put := func(id string) string {
				return `{"resourceType":"Practitioner","id":"` + id + `","name":[{"family":"Renamed"}]}`
			}
			bea.API(http.MethodPut, "/fhir/R4/Practitioner/"+profiles["bea@example.org"], put(profiles["bea@example.org"]), "X-Enclave-Project", project).Status(http.StatusOK)
			bea.API(http.MethodPut, "/fhir/R4/Practitioner/"+profiles["cal@example.org"], put(profiles["cal@example.org"]), "X-Enclave-Project", project).Status(http.StatusForbidden)
			bea.API(http.MethodDelete, "/fhir/R4/Practitioner/"+profiles["cal@example.org"], "", "X-Enclave-Project", project).Status(http.StatusForbidden)
			admin.API(http.MethodPut, "/fhir/R4/Practitioner/"+profiles["cal@example.org"], put(profiles["cal@example.org"]), "X-Enclave-Project", project).Status(http.StatusOK)
		})
	}
}
