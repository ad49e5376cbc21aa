package models_test

import (
	"testing"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/testdb"
)

// TestAuditLogShowsMembersFromWhenTheyJoined: a project's audit log shows a
// member's sign-ins only from the time they joined, so inviting someone
// reveals nothing of their account's past.
func TestAuditLogShowsMembersFromWhenTheyJoined(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "admin@example.org")
			dan := testdb.NewUser(t, sys, "dan@example.org")
			actor := audit.Actor{UserID: dan.ID, Email: dan.Email, IP: "192.0.2.7"}
			if err := sys.RecordSignIn(ctx, actor, false); err != nil {
				t.Fatal(err)
			}
			if err := sys.RecordSignIn(ctx, actor, true); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond) // the join is later than those sign-ins
			if _, err := ten.AddMember(ctx, audit.Actor{}, dan.ID, false, nil); err != nil {
				t.Fatal(err)
			}
			before := signInsOf(t, ten, dan.ID)
			if before != 0 {
				t.Errorf("the log shows %d of Dan's sign-ins from before he joined", before)
			}
			if err := sys.RecordSignIn(ctx, actor, true); err != nil {
				t.Fatal(err)
			}
			if n := signInsOf(t, ten, dan.ID); n != 1 {
				t.Errorf("the log shows %d of Dan's sign-ins since he joined, want 1", n)
			}
		})
	}
}

func signInsOf(t *testing.T, ten models.Tenant, userID string) int {
	t.Helper()
	events, _, err := ten.AuditLog(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.ProjectID == nil && e.UserID != nil && *e.UserID == userID {
			n++
		}
	}
	return n
}
