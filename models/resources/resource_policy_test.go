package resources_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/models/testdb"
)

func TestAccessPolicyEnforcement(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			full := testdb.ProjectStore(t, sys, "owner@example.org")
			org := testdb.MustCreate(t, full, `{"resourceType":"Organization","name":"North Clinic"}`).ID
			other := testdb.MustCreate(t, full, `{"resourceType":"Organization","name":"South Clinic"}`).ID
			north := testdb.MustCreate(t, full, `{"resourceType":"Patient","name":[{"family":"Nord","given":["Nia"]}],"birthDate":"1980-01-01","managingOrganization":{"reference":"Organization/`+org+`"}}`).ID
			south := testdb.MustCreate(t, full, `{"resourceType":"Patient","name":[{"family":"Sud"}],"managingOrganization":{"reference":"Organization/`+other+`"}}`).ID
			obs := testdb.MustCreate(t, full, `{"resourceType":"Observation","status":"final","code":{"text":"pulse"}}`).ID

			pol, err := full.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "North nurses", Rules: []resources.PolicyRule{
				{ResourceType: "Patient", Criteria: "Patient?organization=Organization/" + org, HiddenFields: []string{"birthDate", "name.given"}},
				{ResourceType: "Observation", ReadOnly: true},
			}})
			if err != nil {
				t.Fatal(err)
			}
			nurse := full.WithPolicy(&pol)

			// Types the policy does not name are forbidden, shared definitions are not.
			if _, err := nurse.ReadResource(ctx, "Organization", org); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("read of an unlisted type: %v", err)
			}
			if _, err := nurse.ReadResource(ctx, "StructureDefinition", "Patient"); err != nil {
				t.Errorf("shared definitions must stay readable: %v", err)
			}
			if nurse.CanRead("Organization") || !nurse.CanRead("Patient") || nurse.CanWrite("Observation") || !nurse.CanWrite("Patient") {
				t.Error("CanRead/CanWrite disagree with the policy")
			}

			// Criteria: only the north patient exists for the nurse.
			q, err := resources.ParseSearch("Patient", url.Values{}, false)
			if err != nil {
				t.Fatal(err)
			}
			found, err := nurse.Search(ctx, q)
			if err != nil || found.Total != 1 || found.Resources[0].ID != north {
				t.Fatalf("nurse's patient search: %+v, %v", found, err)
			}
			if _, err := nurse.ReadResource(ctx, "Patient", south); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("read outside the criteria: %v, want ErrNotFound", err)
			}
			if _, err := nurse.UpdateResource(ctx, "Patient", south, []byte(`{"resourceType":"Patient","id":"`+south+`"}`), ""); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("update outside the criteria: %v", err)
			}
			if err := nurse.DeleteResource(ctx, "Patient", south); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("delete outside the criteria: %v", err)
			}
			if _, err := nurse.ResourceHistory(ctx, "Patient", "", resources.Page{Count: 10}); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("type history under criteria: %v", err)
			}

			// Hidden fields are gone from what the nurse reads...
			r, err := nurse.ReadResource(ctx, "Patient", north)
			if err != nil {
				t.Fatal(err)
			}
			body := string(r.JSON)
			if strings.Contains(body, "1980") || strings.Contains(body, "Nia") || !strings.Contains(body, "Nord") {
				t.Errorf("nurse reads %s", body)
			}
			if !strings.HasPrefix(body, `{"resourceType":"Patient"`) {
				t.Errorf("redacted JSON lost its order: %.40s", body)
			}
			if strings.Contains(string(found.Resources[0].JSON), "1980") {
				t.Error("search results show a hidden field")
			}
			// ...and an update that cannot see them keeps them.
			if _, err := nurse.UpdateResource(ctx, "Patient", north, []byte(`{"resourceType":"Patient","id":"`+north+`","gender":"female","managingOrganization":{"reference":"Organization/`+org+`"}}`), ""); err != nil {
				t.Fatal(err)
			}
			stored, err := full.ReadResource(ctx, "Patient", north)
			if err != nil {
				t.Fatal(err)
			}
			var p map[string]any
			if err := json.Unmarshal(stored.JSON, &p); err != nil {
				t.Fatal(err)
			}
			if p["birthDate"] != "1980-01-01" || p["gender"] != "female" || !strings.Contains(string(stored.JSON), "Nia") {
				t.Errorf("after the nurse's update the full record is %s", stored.JSON)
			}

			// Writes must stay inside the criteria: no creating or moving
			// resources out of sight.
			if _, err := nurse.CreateResource(ctx, "Patient", []byte(`{"resourceType":"Patient","managingOrganization":{"reference":"Organization/`+other+`"}}`)); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("create outside the criteria: %v", err)
			}
			if _, err := nurse.UpdateResource(ctx, "Patient", north, []byte(`{"resourceType":"Patient","id":"`+north+`","managingOrganization":{"reference":"Organization/`+other+`"}}`), ""); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("update moving a resource outside the criteria: %v", err)
			}
			if r, err := full.ReadResource(ctx, "Patient", north); err != nil || !strings.Contains(string(r.JSON), org) {
				t.Errorf("the refused update was stored: %s, %v", r.JSON, err)
			}
			// Conditional create cannot find what the criteria hide, and
			// returns what it finds redacted.
			created, isNew, err := nurse.CreateResourceIfNoneExist(ctx, "Patient",
				[]byte(`{"resourceType":"Patient","name":[{"family":"Sud"}],"managingOrganization":{"reference":"Organization/`+org+`"}}`), url.Values{"family": {"Sud"}})
			if err != nil || !isNew || created.ID == south {
				t.Errorf("conditional create matched a hidden resource: %+v new=%v %v", created.ID, isNew, err)
			}
			match, isNew, err := nurse.CreateResourceIfNoneExist(ctx, "Patient", []byte(`{"resourceType":"Patient"}`), url.Values{"family": {"Nord"}})
			if err != nil || isNew || match.ID != north || strings.Contains(string(match.JSON), "1980") {
				t.Errorf("conditional create match: %s new=%v %v", match.JSON, isNew, err)
			}

			// Hidden fields cannot be probed by searching or sorting on them.
			for _, probe := range []url.Values{{"birthdate": {"1980-01-01"}}, {"_sort": {"birthdate"}}, {"given": {"Nia"}}} {
				pq, err := resources.ParseSearch("Patient", probe, false)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := nurse.Search(ctx, pq); !errors.Is(err, kit.ErrForbidden) {
					t.Errorf("search %v on a hidden field: %v, want ErrForbidden", probe, err)
				}
			}
			if pq, err := resources.ParseSearch("Patient", url.Values{"family": {"Nord"}}, false); err != nil {
				t.Fatal(err)
			} else {
				if found, err := nurse.Search(ctx, pq); err != nil || found.Total != 1 {
					t.Errorf("search on a visible field: %+v, %v", found.Total, err)
				}
			}

			// Read-only types: readable, not writable.
			if _, err := nurse.ReadResource(ctx, "Observation", obs); err != nil {
				t.Errorf("read-only type unreadable: %v", err)
			}
			if _, err := nurse.CreateResource(ctx, "Observation", []byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"}}`)); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("create of a read-only type: %v", err)
			}
			if err := nurse.DeleteResource(ctx, "Observation", obs); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("delete of a read-only type: %v", err)
			}
			// Without a policy, everything as before.
			if found, err := full.Search(ctx, q); err != nil {
				t.Fatal(err)
			} else if found.Total != 3 {
				t.Errorf("full access sees %d patients, want the 2 seeded and the nurse's", found.Total)
			}
		})
	}
}

// TestCanFollowsThePolicy: what a store says it may do per type, for the
// console to offer only that, is what its policy's rules allow, and what
// the store then does.
func TestCanFollowsThePolicy(t *testing.T) {
	full := models.Tenant{}
	pol := &resources.AccessPolicy{Rules: []resources.PolicyRule{
		{ResourceType: "Patient", Criteria: "Patient?gender=female"},
		{ResourceType: "Organization", ReadOnly: true},
	}}
	wildcard := &resources.AccessPolicy{Rules: []resources.PolicyRule{{ResourceType: "*", ReadOnly: true}, {ResourceType: "Observation"}}}
	for _, c := range []struct {
		what        string
		store       models.Tenant
		typ         string
		read, write bool
	}{
		{"no policy", full, "Patient", true, true},
		{"no policy, shared definitions", full, "StructureDefinition", true, false},
		{"a rule with criteria", full.WithPolicy(pol), "Patient", true, true},
		{"a read-only rule", full.WithPolicy(pol), "Organization", true, false},
		{"a type no rule names", full.WithPolicy(pol), "Observation", false, false},
		{"shared definitions under a policy", full.WithPolicy(pol), "ValueSet", true, false},
		{"a read-only wildcard", full.WithPolicy(wildcard), "Encounter", true, false},
		{"a rule beside the wildcard", full.WithPolicy(wildcard), "Observation", true, true},
	} {
		if read, write := c.store.Can(c.typ); read != c.read || write != c.write {
			t.Errorf("%s: Can(%s) = %v, %v; want %v, %v", c.what, c.typ, read, write, c.read, c.write)
		}
	}
}
