package models_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// openProject makes a project whose patient registration is open, under a
// policy that lets patients read their own Patient and Observations.
func openProject(t *testing.T, sys models.System) (projects.Project, resources.AccessPolicy) {
	t.Helper()
	ada := testdb.NewUser(t, sys, "ada@example.org")
	p, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Clinic"})
	if err != nil {
		t.Fatal(err)
	}
	tn := sys.Tenant(p.ID)
	pol, err := tn.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Patients", Rules: []resources.PolicyRule{
		{ResourceType: "Patient", Criteria: "Patient?_id=%patient.id"},
		{ResourceType: "Observation", Criteria: "Observation?subject=%patient"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err = tn.UpdateSettings(ctx, audit.Actor{}, projects.SettingsUpdate{Name: p.Name, StrictMode: true,
		DefaultPatientAccessPolicy: &pol.ID, Version: p.Version}, false)
	if err != nil {
		t.Fatal(err)
	}
	return p, pol
}

// patientCount counts the project's Patient resources.
func patientCount(t *testing.T, tn models.Tenant) int {
	t.Helper()
	n, err := tn.CountByType(ctx, []string{"Patient"})
	if err != nil {
		t.Fatal(err)
	}
	return n["Patient"]
}

func TestJoinAsPatient(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			p, pol := openProject(t, sys)
			tn := sys.Tenant(p.ID)
			in := models.PatientSignUp{FirstName: "Pat", LastName: "Jones", Email: "Pat@Example.org", Password: "password-123", BirthDate: "1990-05-17"}

			// A project without the setting has no registration.
			closed, err := sys.CreateProject(ctx, testdb.NewUser(t, sys, "bob@example.org").ID, projects.NewProject{Name: "Closed"})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{closed.ID, "not-a-project", "00000000-0000-0000-0000-000000000000"} {
				if _, err := sys.OpenRegistration(ctx, id); !errors.Is(err, kit.ErrNotFound) {
					t.Errorf("registration of %s: %v", id, err)
				}
				if _, err := sys.JoinAsPatient(ctx, id, nil, in, "127.0.0.1"); !errors.Is(err, kit.ErrNotFound) {
					t.Errorf("join of %s: %v", id, err)
				}
			}
			if _, err := sys.UserByEmail(ctx, in.Email); !errors.Is(err, kit.ErrNotFound) {
				t.Fatalf("a refused join left an account: %v", err)
			}

			// A failure after the Patient is stored leaves nothing behind.
			before := patientCount(t, tn)
			models.FailJoins(true)
			t.Cleanup(func() { models.FailJoins(false) })
			if _, err := sys.JoinAsPatient(ctx, p.ID, nil, in, "127.0.0.1"); !errors.Is(err, models.ErrJoinFault) {
				t.Fatalf("injected failure: %v", err)
			}
			if _, err := sys.UserByEmail(ctx, in.Email); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("the failed join left an account: %v", err)
			}
			if n := patientCount(t, tn); n != before {
				t.Errorf("the failed join left a Patient: %d, was %d", n, before)
			}
			if ms, err := tn.Members(ctx); err != nil || len(ms) != 1 {
				t.Errorf("the failed join left a membership: %d, %v", len(ms), err)
			}
			models.FailJoins(false)

			// The join: account, Patient, membership under the policy.
			u, err := sys.JoinAsPatient(ctx, p.ID, nil, in, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if u.Email != "pat@example.org" || u.FirstName != "Pat" || u.EmailVerifiedAt != nil {
				t.Errorf("user %+v", u)
			}
			a, err := sys.Access(ctx, u.ID, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			m := a.Membership
			if m.Admin || !m.Active || kit.Deref(m.AccessPolicyID) != pol.ID || m.ProfileType != "Patient" || m.ProfileID == nil {
				t.Fatalf("membership %+v", m)
			}
			r, err := tn.ReadResource(ctx, "Patient", *m.ProfileID)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`"family":"Jones"`, `"given":["Pat"]`, `"birthDate":"1990-05-17"`, `"value":"pat@example.org"`} {
				if !strings.Contains(string(r.JSON), want) {
					t.Errorf("Patient %s lacks %s", r.JSON, want)
				}
			}
			events, _, err := tn.AuditLog(ctx, audit.Filter{Action: audit.ActionPatientJoined})
			if err != nil || len(events) != 1 || events[0].Target != u.Email {
				t.Errorf("audit %+v, %v", events, err)
			}

			// The same email again: refused as registration refuses it.
			_, err = sys.JoinAsPatient(ctx, p.ID, nil, in, "127.0.0.1")
			if f := kit.FieldErrors(err); !strings.Contains(f["email"], "already exists") {
				t.Errorf("second join: %v", err)
			}
			// Bad input: every field says what is wrong.
			_, err = sys.JoinAsPatient(ctx, p.ID, nil, models.PatientSignUp{BirthDate: time.Now().AddDate(1, 0, 0).Format(time.DateOnly)}, "")
			if f := kit.FieldErrors(err); f["firstName"] == "" || f["email"] == "" || f["password"] == "" || !strings.Contains(f["birthDate"], "future") {
				t.Errorf("empty join: %v", err)
			}

			// A signed-in user joins with their own account, once verified,
			// and only once.
			bob, err := sys.UserByEmail(ctx, "bob@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sys.JoinAsPatient(ctx, p.ID, &bob, models.PatientSignUp{}, ""); !strings.Contains(kit.FieldErrors(err)["form"], "Verify your email") {
				t.Errorf("unverified join: %v", err)
			}
			verified := time.Now()
			bob.EmailVerifiedAt = &verified
			if _, err := sys.JoinAsPatient(ctx, p.ID, &bob, models.PatientSignUp{}, ""); err != nil {
				t.Fatal(err)
			}
			if a, err := sys.Access(ctx, bob.ID, p.ID); err != nil || a.Membership.ProfileType != "Patient" {
				t.Errorf("bob's membership %+v, %v", a.Membership, err)
			}
			if _, err := sys.JoinAsPatient(ctx, p.ID, &bob, models.PatientSignUp{}, ""); !strings.Contains(kit.FieldErrors(err)["form"], "already a member") {
				t.Errorf("second join of a member: %v", err)
			}
		})
	}
}
