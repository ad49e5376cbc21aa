package models_test

import (
	"slices"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// TestAuditFilterByPersonAndDays: the audit log narrows to one person (by
// email, in any letter case) and to a range of times, within the project
// only; AuditNames finds the project's own policies and members only.
func TestAuditFilterByPersonAndDays(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "ada@example.org")
			other := testdb.ProjectStore(t, sys, "eve@example.org")
			ada, err := sys.UserByEmail(ctx, "ada@example.org")
			if err != nil {
				t.Fatal(err)
			}
			dan := testdb.NewUser(t, sys, "dan@example.org")
			m, err := ten.AddMember(ctx, audit.Actor{UserID: ada.ID, Email: ada.Email}, dan.ID, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			byAda := audit.Actor{UserID: ada.ID, Email: ada.Email}
			byDan := audit.Actor{UserID: dan.ID, Email: dan.Email}
			policy := func(ten models.Tenant, a audit.Actor, name string, day time.Time) resources.AccessPolicy {
				t.Helper()
				p, err := ten.CreateAccessPolicy(ctx, a, resources.PolicyInput{Name: name, Rules: resources.PolicyRules{{ResourceType: "Patient"}}})
				if err != nil {
					t.Fatal(err)
				}
				if err := db.DB.Exec("UPDATE audit_events SET created_at = ? WHERE target = ?", day, name).Error; err != nil {
					t.Fatal(err)
				}
				return p
			}
			day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
			readers := policy(ten, byAda, "Readers", day(1))
			policy(ten, byDan, "Dan's first", day(2))
			policy(ten, byDan, "Dan's second", day(3))
			elsewhere := policy(other, byDan, "Dan elsewhere", day(2))

			targets := func(f audit.Filter) []string {
				t.Helper()
				events, _, err := ten.AuditLog(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, e := range events {
					if e.Action == audit.ActionPolicyCreated {
						out = append(out, e.Target)
					}
				}
				return out
			}
			for _, c := range []struct {
				name string
				f    audit.Filter
				want []string
			}{
				{"everyone", audit.Filter{}, []string{"Dan's second", "Dan's first", "Readers"}},
				{"one person, any case", audit.Filter{Actor: " DAN@Example.org "}, []string{"Dan's second", "Dan's first"}},
				{"from a day", audit.Filter{From: day(2).Truncate(24 * time.Hour)}, []string{"Dan's second", "Dan's first"}},
				{"before a day", audit.Filter{To: day(2).Truncate(24 * time.Hour)}, []string{"Readers"}},
				{"one day, one person", audit.Filter{Actor: "dan@example.org", From: day(2).Add(-time.Hour), To: day(2).Add(time.Hour)},
					[]string{"Dan's first"}},
				{"nobody", audit.Filter{Actor: "nobody@example.org"}, nil},
			} {
				if got := targets(c.f); !slices.Equal(got, c.want) {
					t.Errorf("%s: %q, want %q", c.name, got, c.want)
				}
			}

			names, err := ten.AuditNames(ctx, []string{readers.ID, elsewhere.ID, "gone"}, []string{m.ID}, []string{ada.ID, "gone"})
			if err != nil {
				t.Fatal(err)
			}
			if len(names.Policies) != 1 || names.Policies[readers.ID] != "Readers" {
				t.Errorf("policies %v: want Readers only, not another project's", names.Policies)
			}
			if names.Memberships[m.ID].Email != "dan@example.org" || names.Users[ada.ID].Email != "ada@example.org" {
				t.Errorf("memberships %v, users %v", names.Memberships, names.Users)
			}
			if _, ok := names.Users[dan.ID]; !ok {
				t.Errorf("a membership's account is known by its id too: %v", names.Users)
			}
			outside, err := other.AuditNames(ctx, nil, []string{m.ID}, []string{dan.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(outside.Memberships)+len(outside.Users) != 0 {
				t.Errorf("another project names this project's member: %+v", outside)
			}
			if none, err := ten.AuditNames(ctx, nil, nil, nil); err != nil || len(none.Policies)+len(none.Users) != 0 {
				t.Errorf("no ids: %+v, %v", none, err)
			}
		})
	}
}
