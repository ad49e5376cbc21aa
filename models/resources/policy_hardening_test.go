package resources_test

import (
	"errors"
	"net/url"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// TestPolicyHardening: a member under criteria cannot probe a hidden field
// through If-None-Exist, nor read an earlier version that may lie outside
// the criteria.
func TestPolicyHardening(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			full := testdb.ProjectStore(t, models.NewSystem(db.DB), "owner@example.org")
			org := testdb.MustCreate(t, full, `{"resourceType":"Organization","name":"North Clinic"}`).ID
			other := testdb.MustCreate(t, full, `{"resourceType":"Organization","name":"South Clinic"}`).ID
			// Version 1 belonged to the south; version 2 moved to the north.
			p := testdb.MustCreate(t, full, `{"resourceType":"Patient","name":[{"family":"Mover"}],"birthDate":"1970-05-05","managingOrganization":{"reference":"Organization/`+other+`"}}`)
			moved, err := full.UpdateResource(ctx, "Patient", p.ID, []byte(`{"resourceType":"Patient","id":"`+p.ID+`","name":[{"family":"Mover"}],"birthDate":"1970-05-05","managingOrganization":{"reference":"Organization/`+org+`"}}`), "")
			if err != nil {
				t.Fatal(err)
			}
			pol, err := full.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "North", Rules: []resources.PolicyRule{
				{ResourceType: "Patient", Criteria: "Patient?organization=Organization/" + org, HiddenFields: []string{"birthDate"}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			nurse := full.WithPolicy(&pol)

			// Guessing a hidden birth date through a conditional create is a
			// forbidden search, whether the guess is right or wrong.
			for _, guess := range []string{"1970-05-05", "1999-01-01"} {
				_, _, err := nurse.CreateResourceIfNoneExist(ctx, "Patient",
					[]byte(`{"resourceType":"Patient","managingOrganization":{"reference":"Organization/`+org+`"}}`),
					url.Values{"birthdate": {guess}})
				if !errors.Is(err, kit.ErrForbidden) {
					t.Errorf("If-None-Exist on hidden birthdate=%s: %v, want ErrForbidden", guess, err)
				}
			}

			// The current version is readable; version 1 (south) is not, and
			// neither is the history that would list it.
			if r, err := nurse.ReadResourceVersion(ctx, "Patient", p.ID, moved.VersionID); err != nil || r.VersionID != moved.VersionID {
				t.Errorf("vread of the current version: %v", err)
			}
			if r, err := nurse.ReadResourceVersion(ctx, "Patient", p.ID, "1"); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("vread of a version outside the criteria: %s, %v, want ErrForbidden", r.JSON, err)
			}
			if h, err := nurse.ResourceHistory(ctx, "Patient", p.ID, resources.Page{Count: 10}); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("history under criteria: %d versions, %v, want ErrForbidden", len(h.Versions), err)
			}
			// Without criteria the history is whole.
			if h, err := full.ResourceHistory(ctx, "Patient", p.ID, resources.Page{Count: 10}); err != nil || h.Total != 2 {
				t.Errorf("full history: %d, %v", h.Total, err)
			}
		})
	}
}
