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

// TestPolicyRulesAreORed: several rules for one type, and "*" rules, add
// up as Medplum's do: a resource matching any rule is visible, one matching
// none is not; it is writable when a matching rule is not read-only; a field
// is hidden only when every granting rule hides it.
func TestPolicyRulesAreORed(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			full := testdb.ProjectStore(t, sys, "owner@example.org")
			obs := func(status, text string) string {
				return testdb.MustCreate(t, full, `{"resourceType":"Observation","status":"`+status+`","code":{"text":"`+text+`"},"issued":"2024-01-01T00:00:00Z"}`).ID
			}
			final, prelim, amended, cancelled := obs("final", "pulse"), obs("preliminary", "pulse"), obs("amended", "pulse"), obs("cancelled", "pulse")
			pol, err := full.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Two views", Rules: []resources.PolicyRule{
				{ResourceType: "Observation", Criteria: "Observation?status=final", ReadOnly: true, HiddenFields: []string{"issued", "code"}},
				{ResourceType: "Observation", Criteria: "Observation?status=preliminary", HiddenFields: []string{"issued"}},
				{ResourceType: "*", Criteria: "*?status=amended", ReadOnly: true},
			}})
			if err == nil {
				t.Fatal("criteria on * are not a search of one type, yet were accepted")
			}
			pol, err = full.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Two views", Rules: []resources.PolicyRule{
				{ResourceType: "Observation", Criteria: "Observation?status=final", ReadOnly: true, HiddenFields: []string{"issued", "code"}},
				{ResourceType: "Observation", Criteria: "Observation?status=preliminary", HiddenFields: []string{"issued"}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			st := full.WithPolicy(&pol)

			// Search: either rule's matches, in one statement, none else.
			for _, params := range []url.Values{{}, {"_sort": {"_id"}}, {"status": {"final,preliminary,amended,cancelled"}}, {"_total": {"accurate"}}} {
				q, err := resources.ParseSearch("Observation", params, false)
				if err != nil {
					t.Fatal(err)
				}
				found, err := st.Search(ctx, q)
				if err != nil {
					t.Fatalf("search %v: %v", params, err)
				}
				got := map[string]bool{}
				for _, r := range found.Resources {
					got[r.ID] = true
				}
				if len(got) != 2 || !got[final] || !got[prelim] || found.Total != 2 {
					t.Errorf("search %v found %v (total %d), want the final and the preliminary", params, got, found.Total)
				}
			}
			counts, err := st.CountByType(ctx, []string{"Observation"})
			if err != nil || counts["Observation"] != 2 {
				t.Errorf("count %v, %v", counts, err)
			}
			// Read: either rule's, not the others'.
			for id, want := range map[string]error{final: nil, prelim: nil, amended: kit.ErrNotFound, cancelled: kit.ErrNotFound} {
				if _, err := st.ReadResource(ctx, "Observation", id); !errors.Is(err, want) && !(want == nil && err == nil) {
					t.Errorf("read %s: %v, want %v", id, err, want)
				}
			}
			// Hidden: issued is hidden by both rules, code by one only.
			r, err := st.ReadResource(ctx, "Observation", final)
			if err != nil {
				t.Fatal(err)
			}
			if body := string(r.JSON); strings.Contains(body, "2024") || !strings.Contains(body, "pulse") {
				t.Errorf("read %s", body)
			}
			// Write: the preliminary through its writable rule; the final
			// only through a read-only one; the others not at all.
			body := func(id, status string) []byte {
				return []byte(`{"resourceType":"Observation","id":"` + id + `","status":"` + status + `","code":{"text":"pulse"}}`)
			}
			if _, err := st.UpdateResource(ctx, "Observation", prelim, body(prelim, "preliminary"), ""); err != nil {
				t.Errorf("update through the writable rule: %v", err)
			}
			if _, err := st.UpdateResource(ctx, "Observation", final, body(final, "final"), ""); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("update through a read-only rule: %v, want ErrForbidden", err)
			}
			if err := st.DeleteResource(ctx, "Observation", final); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("delete through a read-only rule: %v, want ErrForbidden", err)
			}
			if _, err := st.UpdateResource(ctx, "Observation", amended, body(amended, "amended"), ""); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("update of an unseen resource: %v, want ErrNotFound", err)
			}
			// Moving the preliminary to final would put it under the
			// read-only rule alone: refused, and nothing changes.
			if _, err := st.UpdateResource(ctx, "Observation", prelim, body(prelim, "final"), ""); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("update into a read-only rule: %v, want ErrForbidden", err)
			}
			if _, err := st.CreateResource(ctx, "Observation", []byte(`{"resourceType":"Observation","status":"preliminary","code":{"text":"new"}}`)); err != nil {
				t.Errorf("create under the writable rule: %v", err)
			}
			if _, err := st.CreateResource(ctx, "Observation", []byte(`{"resourceType":"Observation","status":"final","code":{"text":"new"}}`)); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("create under the read-only rule: %v, want ErrForbidden", err)
			}

			// A "*" rule adds to a rule naming the type: with no criteria it
			// lets everything through, read-only or not.
			wide := &resources.AccessPolicy{Rules: []resources.PolicyRule{
				{ResourceType: "Observation", Criteria: "Observation?status=final"}, {ResourceType: "*", ReadOnly: true}}}
			ws := full.WithPolicy(wide)
			if _, err := ws.ReadResource(ctx, "Observation", cancelled); err != nil {
				t.Errorf("the * rule's read: %v", err)
			}
			if _, err := ws.UpdateResource(ctx, "Observation", cancelled, body(cancelled, "cancelled"), ""); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("write through the read-only * rule: %v, want ErrForbidden", err)
			}
			if _, err := ws.UpdateResource(ctx, "Observation", final, body(final, "final"), ""); err != nil {
				t.Errorf("write through the rule naming the type: %v", err)
			}
		})
	}
}

// TestPolicyVariables: %patient and %profile are the caller's profile; a
// rule the caller cannot fill grants nothing, never everything.
func TestPolicyVariables(t *testing.T) {
	pol := resources.AccessPolicy{Rules: []resources.PolicyRule{
		{ResourceType: "Observation", Criteria: "Observation?subject=%patient&code=a%2Cb"},
		{ResourceType: "Patient", Criteria: "Patient?_id=%patient.id"},
		{ResourceType: "Encounter", Criteria: "Encounter?participant=%profile"},
	}}
	for _, c := range []struct {
		profile string
		want    []string
	}{
		{"Patient/p1", []string{"Observation?subject=Patient%2Fp1&code=a%2Cb", "Patient?_id=p1", "Encounter?participant=Patient%2Fp1"}},
		{"Practitioner/d1", []string{"Encounter?participant=Practitioner%2Fd1"}},
		{"", nil},
	} {
		got := pol.ForProfile(c.profile)
		var criteria []string
		for _, r := range got.Rules {
			criteria = append(criteria, r.Criteria)
		}
		if strings.Join(criteria, " ") != strings.Join(c.want, " ") {
			t.Errorf("for %q: %v, want %v", c.profile, criteria, c.want)
		}
	}
	if pol.Rules[0].Criteria != "Observation?subject=%patient&code=a%2Cb" {
		t.Error("ForProfile changed the policy it was given")
	}
	for criteria, ok := range map[string]bool{
		"Observation?subject=%patient": true, "Observation?subject=%profile": true, "Patient?_id=%patient.id": true,
		"Patient?name=%C3%A9": true, "Observation?subject=%user": false, "Observation?subject=%patient.name": false,
	} {
		typ, _, _ := strings.Cut(criteria, "?")
		in := resources.PolicyInput{Name: "P", Rules: []resources.PolicyRule{{ResourceType: typ, Criteria: criteria}}}
		if err := in.Validate(); (err == nil) != ok {
			t.Errorf("%s: %v", criteria, err)
		}
	}
}
