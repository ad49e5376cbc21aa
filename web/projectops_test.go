package web_test

import (
	"net/http"
	"strings"
	"testing"

	"enclave/models/clients"
	"enclave/models/projectops"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestProjectOperations: only super admins may clone or expunge a project
// through the FHIR API; everyone else (the project's own admin, an API
// client, a stranger) gets a 403 OperationOutcome and changes nothing; bad
// parameters are 400, a missing project 404; a clone answers the new
// Project, in which the caller is an admin and the resources are there.
func TestProjectOperations(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			owner, source := app.SignUp("owner@example.org", "Alpha")
			created := owner.API("POST", "/fhir/R4/Patient", `{"resourceType":"Patient","name":[{"family":"Quixote"}]}`,
				"X-Enclave-Project", source).Status(http.StatusCreated).JSON()
			patient := created["id"].(string)
			owner.API("POST", "/fhir/R4/Observation", `{"resourceType":"Observation","status":"final","code":{"text":"w"},"subject":{"reference":"Patient/`+patient+`"}}`,
				"X-Enclave-Project", source).Status(http.StatusCreated)
			op, ops := app.SignUp("op@example.org", "Operators")
			if err := app.Sys.SetSuperAdmin(t.Context(), ops, true); err != nil {
				t.Fatal(err)
			}
			stranger, _ := app.SignUp("stranger@example.org", "Elsewhere")
			clientID, secret := newAPIClient(t, app, source, clients.Input{Name: "Sync"})
			bearer := "Bearer " + app.Client().ClientToken(clientID, secret)
			clone := "/fhir/R4/Project/" + source + "/$clone"
			expunge := "/fhir/R4/Project/" + source + "/$expunge?everything=true"

			for name, send := range map[string]func(path, body string) *webtest.Response{
				"the project's admin": func(p, b string) *webtest.Response { return owner.API("POST", p, b, "X-Enclave-Project", source) },
				"a stranger":          func(p, b string) *webtest.Response { return stranger.API("POST", p, b) },
				"an API client":       func(p, b string) *webtest.Response { return app.Client().API("POST", p, b, "Authorization", bearer) },
			} {
				for _, path := range []string{clone, expunge} {
					r := send(path, `{"resourceType":"Parameters"}`).Status(http.StatusForbidden)
					if j := r.JSON(); j["resourceType"] != "OperationOutcome" || !strings.Contains(r.Body, "only super admins") {
						t.Errorf("%s, %s: %s", name, path, r.Body)
					}
				}
			}
			if n := allProjects(t, app); n != 3 {
				t.Fatalf("refused operations changed the projects: %d", n)
			}

			// Bad input is a 400 naming the parameter; a missing project 404.
			op.API("POST", clone, `{"resourceType":"Parameters","parameter":[{"name":"resourceTypes","valueString":"Nope"}]}`).
				Status(http.StatusBadRequest).Contains("resourceTypes").Contains("Nope")
			op.API("POST", clone, `{"resourceType":"Parameters","parameter":[{"name":"colour","valueString":"red"}]}`).
				Status(http.StatusBadRequest).Contains("colour")
			op.API("POST", clone, `{"resourceType":"Patient"}`).Status(http.StatusBadRequest)
			op.API("POST", clone, `[1,2]`).Status(http.StatusBadRequest)
			op.API("POST", "/fhir/R4/Project/00000000-0000-4000-8000-000000000000/$clone", "{}").Status(http.StatusNotFound)
			op.API("POST", "/fhir/R4/Project/not-an-id/$expunge?everything=true", "{}").Status(http.StatusNotFound)
			op.API("POST", "/fhir/R4/Project/"+source+"/$expunge", "{}").Status(http.StatusBadRequest).Contains("everything=true")
			op.API("GET", clone, "").Status(http.StatusMethodNotAllowed)
			// Without a JSON content type (as a cross-site form would
			// send), nothing happens.
			op.API("POST", expunge, "").Status(http.StatusUnsupportedMediaType)
			if n := allProjects(t, app); n != 3 {
				t.Fatalf("refused operations changed the projects: %d", n)
			}

			// A clone, with Medplum's plain JSON body too.
			r := op.API("POST", clone, `{"resourceType":"Parameters","parameter":[{"name":"name","valueString":"Alpha copy"},
				{"name":"resourceTypes","valueString":"Patient,Observation"}]}`).Status(http.StatusCreated).JSON()
			copyID, _ := r["id"].(string)
			if r["resourceType"] != "Project" || r["name"] != "Alpha copy" || copyID == "" || copyID == source {
				t.Fatalf("clone answered %v", r)
			}
			bundle := op.API("GET", "/fhir/R4/Observation?subject=Patient/"+patient, "", "X-Enclave-Project", copyID).Status(http.StatusOK).JSON()
			if bundle["entry"] != nil {
				t.Error("the copy has an Observation that names the source's patient")
			}
			bundle = op.API("GET", "/fhir/R4/Observation", "", "X-Enclave-Project", copyID).Status(http.StatusOK).JSON()
			entries, _ := bundle["entry"].([]any)
			if len(entries) != 1 || strings.Contains(op.API("GET", "/fhir/R4/Observation", "", "X-Enclave-Project", copyID).Body, patient) {
				t.Errorf("the copy's Observations: %v", bundle)
			}
			op.API("POST", clone, `{"name":"Plain","memberships":true}`).Status(http.StatusCreated).Contains(`"name":"Plain"`)
			// The source's admin does not see the copies.
			owner.API("GET", "/fhir/R4/Patient", "", "X-Enclave-Project", copyID).Status(http.StatusNotFound)

			// Expunge, then the project is gone for everyone.
			op.API("POST", "/fhir/R4/Project/"+copyID+"/$expunge?everything=true", "{}").Status(http.StatusOK).Contains("expunged")
			op.API("GET", "/fhir/R4/Patient", "", "X-Enclave-Project", copyID).Status(http.StatusNotFound)
			op.API("POST", "/fhir/R4/Project/"+ops+"/$expunge?everything=true", "{}").Status(http.StatusConflict).Contains("only super-admin project")
			tables, err := projectops.ProjectTables(t.Context(), db.DB)
			if err != nil {
				t.Fatal(err)
			}
			for _, table := range tables {
				var n int64
				if err := db.DB.Raw(`SELECT COUNT(*) FROM "`+table+`" WHERE project_id = ?`, copyID).Scan(&n).Error; err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("%d rows of the expunged project left in %s", n, table)
				}
			}
		})
	}
}

func allProjects(t *testing.T, app *webtest.App) int64 {
	t.Helper()
	var n int64
	if err := app.DB.DB.Raw("SELECT COUNT(*) FROM projects").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
