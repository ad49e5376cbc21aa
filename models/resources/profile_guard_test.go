package resources_test

import (
	"errors"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/testdb"
)

// TestProfilesBelongToTheirMember: a plain member can change their own
// membership profile but not another member's; an admin can change any.
func TestProfilesBelongToTheirMember(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "admin@example.org")
			bea := testdb.NewUser(t, sys, "bea@example.org")
			cal := testdb.NewUser(t, sys, "cal@example.org")
			beaM, err := ten.AddMember(ctx, audit.Actor{}, bea.ID, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			calM, err := ten.AddMember(ctx, audit.Actor{}, cal.ID, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			admin, err := ten.Membership(ctx, mustAdminID(t, ten))
			if err != nil {
				t.Fatal(err)
			}
			update := func(as models.Tenant, m members.ProjectMembership) error {
				body := `{"resourceType":"Practitioner","id":"` + *m.ProfileID + `","name":[{"family":"Renamed"}]}`
				_, err := as.UpdateResource(ctx, "Practitioner", *m.ProfileID, []byte(body), "")
				return err
			}
			asBea := ten.WithMember(beaM)
			if err := update(asBea, beaM); err != nil {
				t.Errorf("Bea updating her own profile: %v", err)
			}
			if err := update(asBea, calM); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("Bea updating Cal's profile: %v, want ErrForbidden", err)
			}
			if err := asBea.DeleteResource(ctx, "Practitioner", *calM.ProfileID); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("Bea deleting Cal's profile: %v, want ErrForbidden", err)
			}
			if _, err := ten.ReadResource(ctx, "Practitioner", *calM.ProfileID); err != nil {
				t.Errorf("Cal's profile after Bea's attempts: %v", err)
			}
			// Other Practitioners are ordinary resources.
			other := testdb.MustCreate(t, ten, `{"resourceType":"Practitioner","name":[{"family":"Outside"}]}`)
			if err := asBea.DeleteResource(ctx, "Practitioner", other.ID); err != nil {
				t.Errorf("Bea deleting a Practitioner that is nobody's profile: %v", err)
			}
			if err := update(ten.WithMember(admin), calM); err != nil {
				t.Errorf("an admin updating Cal's profile: %v", err)
			}
		})
	}
}

// mustAdminID returns the user id of the project's first admin.
func mustAdminID(t *testing.T, ten models.Tenant) string {
	t.Helper()
	members, err := ten.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.Membership.Admin {
			return m.User.ID
		}
	}
	t.Fatal("no admin")
	return ""
}
