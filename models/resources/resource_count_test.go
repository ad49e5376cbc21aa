package resources_test

import (
	"errors"
	"maps"
	"net/url"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// The type picker's grouped count says what each type's search says: live
// resources of this project only, and under a policy with criteria only
// those the criteria let through.
func TestCountByType(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			a := testdb.ProjectStore(t, sys, "a@example.org")
			b := testdb.ProjectStore(t, sys, "b@example.org")
			org := testdb.MustCreate(t, a, `{"resourceType":"Organization","name":"North Clinic"}`).ID
			testdb.MustCreate(t, a, `{"resourceType":"Patient","name":[{"family":"Nord"}],"managingOrganization":{"reference":"Organization/`+org+`"}}`)
			testdb.MustCreate(t, a, `{"resourceType":"Patient","name":[{"family":"Sud"}]}`)
			gone := testdb.MustCreate(t, a, `{"resourceType":"Patient","name":[{"family":"Gone"}]}`).ID
			if err := a.DeleteResource(ctx, "Patient", gone); err != nil {
				t.Fatal(err)
			}
			testdb.MustCreate(t, a, `{"resourceType":"Observation","status":"final","code":{"text":"pulse"}}`)
			testdb.MustCreate(t, b, `{"resourceType":"Patient","name":[{"family":"Other"}]}`)

			types := []string{"Patient", "Observation", "Encounter", "StructureDefinition"}
			searched := func(store models.Tenant) map[string]int {
				t.Helper()
				out := map[string]int{}
				for _, typ := range types {
					if !store.CanRead(typ) {
						continue
					}
					q, err := resources.ParseSearch(typ, url.Values{"_count": {"0"}, "_total": {resources.TotalAccurate}}, false)
					if err != nil {
						t.Fatal(err)
					}
					res, err := store.Search(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					out[typ] = res.Total
				}
				return out
			}
			counted := func(store models.Tenant, types ...string) map[string]int {
				t.Helper()
				got, err := store.CountByType(ctx, types)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}

			if got := counted(a, types...); got["Patient"] != 2 || got["Observation"] != 1 || got["Encounter"] != 0 ||
				!maps.Equal(got, searched(a)) {
				t.Errorf("project A counts %v, its searches %v", got, searched(a))
			}
			if got := counted(b, types...); got["Patient"] != 1 || !maps.Equal(got, searched(b)) {
				t.Errorf("project B counts %v, its searches %v", got, searched(b))
			}

			pol, err := a.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "North nurses", Rules: []resources.PolicyRule{
				{ResourceType: "Patient", Criteria: "Patient?organization=Organization/" + org},
				{ResourceType: "Observation", ReadOnly: true},
			}})
			if err != nil {
				t.Fatal(err)
			}
			nurse := a.WithPolicy(&pol)
			readable := []string{"Patient", "Observation", "StructureDefinition"}
			if got := counted(nurse, readable...); got["Patient"] != 1 || got["Observation"] != 1 || !maps.Equal(got, searched(nurse)) {
				t.Errorf("the nurse counts %v, their searches %v", got, searched(nurse))
			}
			if _, err := nurse.CountByType(ctx, []string{"Patient", "Encounter"}); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("counting a type the policy leaves out: %v, want ErrForbidden", err)
			}
		})
	}
}
