package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestFHIRIsolation runs every interaction from one project against the
// other's resource, in both directions: nothing is visible or writable, and
// the owner's resource is untouched.
func TestFHIRIsolation(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			sides := []struct {
				name            string
				owner, intruder *webtest.Client
				ownerProject    string
				secret          string
			}{{"B against A", e.ada, e.bob, e.pA, "Secretalpha"}, {"A against B", e.bob, e.ada, e.pB, "Secretbeta"}}
			for _, s := range sides {
				t.Run(s.name, func(t *testing.T) {
					id := create(t, s.owner, "Patient", `{"resourceType":"Patient","name":[{"family":"`+s.secret+`"}],"identifier":[{"system":"urn:x","value":"`+s.secret+`"}]}`)
					s.owner.API(http.MethodPut, "/fhir/R4/Patient/"+id, `{"resourceType":"Patient","id":"`+id+`","name":[{"family":"`+s.secret+`"}],"identifier":[{"system":"urn:x","value":"`+s.secret+`"}]}`).Status(http.StatusOK)
					body := `{"resourceType":"Patient","id":"` + id + `","name":[{"family":"Hijacked"}]}`
					for _, c := range []struct{ method, path, body string }{
						{"GET", "/fhir/R4/Patient/" + id, ""},
						{"GET", "/fhir/R4/Patient/" + id + "/_history/1", ""},
						{"GET", "/fhir/R4/Patient/" + id + "/_history", ""},
						{"DELETE", "/fhir/R4/Patient/" + id, ""},
						{"PATCH", "/fhir/R4/Patient/" + id, `[{"op":"replace","path":"/name/0/family","value":"Hijacked"}]`},
					} {
						s.intruder.API(c.method, c.path, c.body, "Content-Type", "application/json-patch+json").Status(http.StatusNotFound).NotContains(s.secret)
					}
					// Conditional writes match nothing of the owner's: the
					// delete deletes nothing, the update creates the
					// intruder's own resource.
					s.intruder.API(http.MethodDelete, "/fhir/R4/Patient?identifier=urn:x|"+s.secret, "").Status(http.StatusOK).Contains("nothing was deleted")
					s.intruder.API(http.MethodDelete, "/fhir/R4/Patient?_id="+id, "").Status(http.StatusOK).Contains("nothing was deleted")
					s.intruder.API(http.MethodPut, "/fhir/R4/Patient?identifier=urn:x|"+s.secret, `{"resourceType":"Patient","name":[{"family":"Hijacked"}]}`).
						Status(http.StatusCreated).NotContains(id).NotContains(s.secret)
					for _, q := range []string{"_id=" + id, "family=" + s.secret, "identifier=urn:x|" + s.secret, ""} {
						// The self link repeats the query, so look at the entries only.
						b := s.intruder.API(http.MethodGet, "/fhir/R4/Patient?"+q, "").Status(http.StatusOK).JSON()
						for _, en := range asList(b["entry"]) {
							if strings.Contains(fmt.Sprint(en), id) || strings.Contains(fmt.Sprint(en), s.secret) {
								t.Errorf("search %q returns the other project's resource", q)
							}
						}
					}
					s.intruder.API(http.MethodGet, "/fhir/R4/Patient/_history", "").Status(http.StatusOK).NotContains(id)
					// Conditional create does not match across projects.
					s.intruder.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient"}`, "If-None-Exist", "_id="+id).
						Status(http.StatusCreated).NotContains(s.secret)
					// The intruder cannot pick the owner's project by header.
					s.intruder.API(http.MethodGet, "/fhir/R4/Patient/"+id, "", "X-Enclave-Project", s.ownerProject).Status(http.StatusNotFound)

					// A PUT of the same id makes the intruder's own resource
					// under that id, which the owner never sees.
					own := s.intruder.API(http.MethodPut, "/fhir/R4/Patient/"+id, body).Status(http.StatusCreated).JSON()
					if meta := own["meta"].(map[string]any); meta["versionId"] != "1" || meta["project"] == s.ownerProject {
						t.Errorf("the intruder's PUT of the owner's id: meta %v", meta)
					}
					s.intruder.API(http.MethodGet, "/fhir/R4/Patient/"+id, "").Status(http.StatusOK).Contains("Hijacked").NotContains(s.secret)
					s.intruder.API(http.MethodDelete, "/fhir/R4/Patient/"+id, "").Status(http.StatusOK)

					got := s.owner.API(http.MethodGet, "/fhir/R4/Patient/"+id, "").Status(http.StatusOK)
					got.Contains(s.secret).Contains(`"versionId":"2"`).NotContains("Hijacked")
				})
			}
		})
	}
}

// TestFHIRReferencesAcrossProjects: with checkReferencesOnWrite a reference
// to another project's resource is refused; without it the reference is
// stored but still leads nowhere for the referencing project.
func TestFHIRReferencesAcrossProjects(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			orgA := create(t, e.ada, "Organization", `{"resourceType":"Organization","name":"Alpha Org"}`)
			orgB := create(t, e.bob, "Organization", `{"resourceType":"Organization","name":"Beta Org"}`)
			pointAt := func(org string) string {
				return `{"resourceType":"Patient","managingOrganization":{"reference":"Organization/` + org + `"}}`
			}
			ctx := context.Background()
			for _, on := range []bool{true, false} {
				if err := e.app.Sys.SetProjectFlags(ctx, e.pB, true, on); err != nil {
					t.Fatal(err)
				}
				r := e.bob.API(http.MethodPost, "/fhir/R4/Patient", pointAt(orgA))
				if on {
					r.Status(http.StatusBadRequest)
					txt := outcomeText(t, r)
					if !strings.Contains(txt, "Organization/"+orgA) || !strings.Contains(txt, "@Patient.managingOrganization") {
						t.Errorf("refusal does not name the reference and its path: %q", txt)
					}
					create(t, e.bob, "Patient", pointAt(orgB))
					create(t, e.bob, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"basedOn":[{"reference":"StructureDefinition/Patient"}]}`)
					e.bob.API(http.MethodPost, "/fhir/R4/Patient", pointAt("missing")).Status(http.StatusBadRequest)
				} else {
					r.Status(http.StatusCreated)
					e.bob.API(http.MethodGet, "/fhir/R4/Organization/"+orgA, "").Status(http.StatusNotFound).NotContains("Alpha Org")
					e.bob.API(http.MethodGet, "/fhir/R4/Patient?organization=Organization/"+orgA, "").Status(http.StatusOK).Contains(`"total":1`)
					e.ada.API(http.MethodGet, "/fhir/R4/Patient?organization=Organization/"+orgA, "").Status(http.StatusOK).Contains(`"total":0`)
				}
			}
		})
	}
}

func TestFHIRStrictMode(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			sloppy := `{"resourceType":"Patient","gender":"robot","favouriteColour":"blue","birthDate":"12/10/1815"}`
			r := e.ada.API(http.MethodPost, "/fhir/R4/Patient", sloppy).Status(http.StatusBadRequest)
			if txt := outcomeText(t, r); strings.Count(txt, "@Patient.") != 3 {
				t.Errorf("strict mode should report 3 issues: %q", txt)
			}
			if err := e.app.Sys.SetProjectFlags(context.Background(), e.pA, false, false); err != nil {
				t.Fatal(err)
			}
			id := create(t, e.ada, "Patient", sloppy)
			e.ada.API(http.MethodGet, "/fhir/R4/Patient/"+id, "").Status(http.StatusOK).Contains("favouriteColour")
			// Shape rules still hold without strict mode.
			e.ada.API(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","meta":{"versionId":5}}`).Status(http.StatusCreated)
			e.ada.API(http.MethodPut, "/fhir/R4/Patient/bad%20id", `{"resourceType":"Patient","id":"bad id"}`).Status(http.StatusBadRequest)
			// Bob's project keeps its default strict mode.
			e.bob.API(http.MethodPost, "/fhir/R4/Patient", sloppy).Status(http.StatusBadRequest)
		})
	}
}
