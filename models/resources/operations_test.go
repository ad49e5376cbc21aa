package resources_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// issueText joins the issues' codes, expressions and messages.
func issueText(issues []fhirIssue) string {
	var parts []string
	for _, is := range issues {
		parts = append(parts, is.Code+"@"+is.Expression+": "+is.Message)
	}
	return strings.Join(parts, " | ")
}

type fhirIssue = struct{ Severity, Code, Expression, Message string }

func TestValidateResource(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "ada@example.org")
			p := testdb.MustCreate(t, ten, `{"resourceType":"Patient","name":[{"family":"Lovelace"}]}`)
			unknownElement := []byte(`{"resourceType":"Patient","nickname":"Ada"}`)
			dangling := []byte(`{"resourceType":"Patient","managingOrganization":{"reference":"Organization/nope"}}`)
			validate := func(typ, id string, body []byte, mode string) string {
				t.Helper()
				issues, err := ten.ValidateResource(ctx, typ, id, body, mode)
				if err != nil {
					t.Fatalf("validate %s %s: %v", body, mode, err)
				}
				conv := make([]fhirIssue, len(issues))
				for i, is := range issues {
					conv[i] = fhirIssue(is)
				}
				return issueText(conv)
			}
			check := func(name, got, want string) {
				t.Helper()
				if (want == "") != (got == "") || !strings.Contains(got, want) {
					t.Errorf("%s: issues %q, want %q", name, got, want)
				}
			}
			// A lenient project checks the shape only.
			if err := sys.SetProjectFlags(ctx, ten.ProjectID(), false, false); err != nil {
				t.Fatal(err)
			}
			check("lenient", validate("Patient", "", unknownElement, ""), "")
			check("not JSON", validate("Patient", "", []byte(`{"resourceType":`), ""), "structure@: The body is not valid JSON")
			check("wrong type", validate("Patient", "", []byte(`{"resourceType":"Observation"}`), ""), "invalid@resourceType")
			check("dangling reference unchecked", validate("Patient", "", dangling, ""), "")
			// Strict mode and reference checks apply as to a write.
			if err := sys.SetProjectFlags(ctx, ten.ProjectID(), true, true); err != nil {
				t.Fatal(err)
			}
			check("strict", validate("Patient", "", unknownElement, ""), "structure@Patient.nickname")
			check("checked reference", validate("Patient", "", dangling, ""), "structure@Patient.managingOrganization")
			check("valid", validate("Patient", "", []byte(`{"resourceType":"Patient","gender":"female"}`), ""), "")
			// Modes: create ignores the id; update needs it to match; delete needs a resource.
			body := []byte(`{"resourceType":"Patient","id":"` + p.ID + `"}`)
			check("create", validate("Patient", "", body, resources.ValidateCreate), "")
			check("update", validate("Patient", p.ID, body, resources.ValidateUpdate), "")
			check("update elsewhere", validate("Patient", "other-id", body, resources.ValidateUpdate), "must match the id in the URL")
			check("update without id", validate("Patient", "", []byte(`{"resourceType":"Patient"}`), resources.ValidateUpdate), "required@Patient.id")
			check("delete", validate("Patient", p.ID, nil, resources.ValidateDelete), "")
			check("delete of nothing", validate("Patient", "nope", nil, resources.ValidateDelete), "not-found@Patient.id")
			if _, err := ten.ValidateResource(ctx, "Patient", "", nil, resources.ValidateDelete); err == nil {
				t.Error("a delete without an id validated")
			}
			if _, err := ten.ValidateResource(ctx, "Nonsense", "", body, ""); err == nil {
				t.Error("an unknown type validated")
			}
			check("shared definitions", validate("ValueSet", "", []byte(`{"resourceType":"ValueSet","status":"draft"}`), ""),
				"forbidden@: ValueSet resources are shared system definitions")
			// The access policy: a read-only type cannot be written.
			pol, err := ten.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Readers",
				Rules: []resources.PolicyRule{{ResourceType: "Patient", ReadOnly: true}}})
			if err != nil {
				t.Fatal(err)
			}
			reader := ten.WithPolicy(&pol)
			issues, err := reader.ValidateResource(ctx, "Patient", "", []byte(`{"resourceType":"Patient"}`), "")
			if err != nil || len(issues) != 1 || issues[0].Code != "forbidden" || !strings.Contains(issues[0].Message, "read-only") {
				t.Errorf("read-only policy: %+v %v", issues, err)
			}
			// Nothing was written.
			h, err := ten.ResourceHistory(ctx, "Patient", "", resources.Page{Count: 100})
			if err != nil || h.Total != 1 {
				t.Errorf("Patient history after validating: %d versions, %v", h.Total, err)
			}
		})
	}
}

func everythingIDs(t *testing.T, ten models.Tenant, q resources.EverythingQuery) (ids []string, total int) {
	t.Helper()
	if q.Count == 0 {
		q.Count = 100
	}
	res, err := ten.PatientEverything(ctx, q)
	if err != nil {
		t.Fatalf("everything %+v: %v", q, err)
	}
	for _, r := range res.Resources {
		ids = append(ids, r.Type+"/"+r.ID)
	}
	return ids, res.Total
}

func TestPatientEverything(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "ada@example.org")
			other := testdb.ProjectStore(t, sys, "bob@example.org")
			mk := func(st models.Tenant, body string) string {
				r := testdb.MustCreate(t, st, body)
				return r.Type + "/" + r.ID
			}
			org := mk(ten, `{"resourceType":"Organization","name":"Clinic"}`)
			doc := mk(ten, `{"resourceType":"Practitioner","name":[{"family":"House"}]}`)
			unrelatedOrg := mk(ten, `{"resourceType":"Organization","name":"Elsewhere"}`)
			pat := mk(ten, `{"resourceType":"Patient","managingOrganization":{"reference":"`+org+`"}}`)
			pid := strings.TrimPrefix(pat, "Patient/")
			otherPat := mk(ten, `{"resourceType":"Patient"}`)
			enc := mk(ten, `{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":"`+pat+`"},"participant":[{"individual":{"reference":"`+doc+`"}}]}`)
			obs := mk(ten, `{"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"`+pat+`"},"encounter":{"reference":"`+enc+`"},"performer":[{"reference":"`+doc+`"}]}`)
			cond := mk(ten, `{"resourceType":"Condition","subject":{"reference":"`+pat+`"}}`)
			mk(ten, `{"resourceType":"Observation","status":"final","code":{"text":"other"},"subject":{"reference":"`+otherPat+`"}}`)
			gone := mk(ten, `{"resourceType":"Observation","status":"final","code":{"text":"gone"},"subject":{"reference":"`+pat+`"}}`)
			if err := ten.DeleteResource(ctx, "Observation", strings.TrimPrefix(gone, "Observation/")); err != nil {
				t.Fatal(err)
			}
			// Another project's resources pointing at the same id never show.
			mk(other, `{"resourceType":"Observation","status":"final","code":{"text":"theirs"},"subject":{"reference":"`+pat+`"}}`)

			want := []string{pat, cond, enc, obs, org, doc}
			got, total := everythingIDs(t, ten, resources.EverythingQuery{PatientID: pid})
			if !slices.Equal(got, want) || total != len(want) {
				t.Fatalf("everything: %v (total %d), want %v", got, total, want)
			}
			if slices.Contains(got, unrelatedOrg) {
				t.Error("an unrelated resource is listed")
			}
			// Paging.
			var paged []string
			for off := 0; off < len(want); off += 4 {
				page, total := everythingIDs(t, ten, resources.EverythingQuery{PatientID: pid, Count: 4, Offset: off})
				if total != len(want) {
					t.Errorf("page at %d: total %d", off, total)
				}
				paged = append(paged, page...)
			}
			if !slices.Equal(paged, want) {
				t.Errorf("pages: %v", paged)
			}
			// _type and _since.
			got, _ = everythingIDs(t, ten, resources.EverythingQuery{PatientID: pid, Types: []string{"Observation", "Practitioner"}})
			if fmt.Sprint(got) != fmt.Sprint([]string{obs, doc}) {
				t.Errorf("_type: %v", got)
			}
			time.Sleep(2 * time.Millisecond)
			since := time.Now()
			if _, err := ten.UpdateResource(ctx, "Condition", strings.TrimPrefix(cond, "Condition/"),
				[]byte(`{"resourceType":"Condition","id":"`+strings.TrimPrefix(cond, "Condition/")+`","subject":{"reference":"`+pat+`"},"note":[{"text":"seen"}]}`), ""); err != nil {
				t.Fatal(err)
			}
			got, _ = everythingIDs(t, ten, resources.EverythingQuery{PatientID: pid, Since: since})
			if fmt.Sprint(got) != fmt.Sprint([]string{cond}) {
				t.Errorf("_since: %v", got)
			}
			// Another project cannot reach the patient at all.
			if _, err := other.PatientEverything(ctx, resources.EverythingQuery{PatientID: pid, Count: 10}); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("other project: %v", err)
			}
			// An access policy: types it does not grant are left out, criteria apply.
			pol, err := ten.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Nurses", Rules: []resources.PolicyRule{
				{ResourceType: "Patient"}, {ResourceType: "Practitioner", HiddenFields: []string{"name"}},
				{ResourceType: "Observation", Criteria: "Observation?status=cancelled"},
			}})
			if err != nil {
				t.Fatal(err)
			}
			nurse := ten.WithPolicy(&pol)
			res, err := nurse.PatientEverything(ctx, resources.EverythingQuery{PatientID: pid, Count: 10})
			if err != nil {
				t.Fatal(err)
			}
			var seen []string
			for _, r := range res.Resources {
				seen = append(seen, r.Type+"/"+r.ID)
				if strings.Contains(string(r.JSON), "House") {
					t.Errorf("a hidden field shows: %s", r.JSON)
				}
			}
			if fmt.Sprint(res.Included) != "[false true]" {
				t.Errorf("included: %v, want the practitioner only", res.Included)
			}
			if fmt.Sprint(seen) != fmt.Sprint([]string{pat, doc}) || res.Total != 2 {
				t.Errorf("under the policy: %v (total %d)", seen, res.Total)
			}
			// A policy that does not grant Patient: forbidden.
			noPatients, err := ten.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Obs only",
				Rules: []resources.PolicyRule{{ResourceType: "Observation"}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ten.WithPolicy(&noPatients).PatientEverything(ctx, resources.EverythingQuery{PatientID: pid, Count: 10}); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("without Patient: %v", err)
			}
		})
	}
}
