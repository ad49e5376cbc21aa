package models_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/kit"
	"enclave/models/testdb"
)

// TestMigrationTurnsPendingMembersIntoInvitations: under the old model an
// invited, unknown address became a passwordless account with a pending
// membership and an invite link. Migration 00016 turns each into an
// invitation to that address that keeps the link, and drops the account,
// so the owner can register the address; members who accepted stay.
func TestMigrationTurnsPendingMembersIntoInvitations(t *testing.T) {
	for _, db := range testdb.AllEmpty(t) {
		t.Run(db.Name, func(t *testing.T) {
			if err := models.MigrateTo(ctx, db.DB, 15); err != nil {
				t.Fatal(err)
			}
			ts := time.Now().UTC()
			sum := sha256.Sum256([]byte("old-link-token"))
			steps := []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO users (id, first_name, last_name, email, password_hash, created_at, updated_at) VALUES (?, 'Ann', 'Admin', 'ann@example.org', 'x', ?, ?)`,
					[]any{"00000000-0000-0000-0000-00000000000a", ts, ts}},
				{`INSERT INTO users (id, first_name, last_name, email, password_hash, created_at, updated_at) VALUES (?, 'Pat', 'Pending', 'pat@example.org', '', ?, ?)`,
					[]any{"00000000-0000-0000-0000-00000000000b", ts, ts}},
				{`INSERT INTO projects (id, name, created_at, updated_at) VALUES (?, 'Alpha', ?, ?)`,
					[]any{"00000000-0000-0000-0000-0000000000a1", ts, ts}},
				{`INSERT INTO project_memberships (id, project_id, user_id, admin, active, created_at, updated_at) VALUES (?, ?, ?, TRUE, TRUE, ?, ?)`,
					[]any{"00000000-0000-0000-0000-0000000000c1", "00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-00000000000a", ts, ts}},
				{`INSERT INTO project_memberships (id, project_id, user_id, admin, active, invited_by, created_at, updated_at) VALUES (?, ?, ?, TRUE, TRUE, ?, ?, ?)`,
					[]any{"00000000-0000-0000-0000-0000000000c2", "00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-00000000000b", "00000000-0000-0000-0000-00000000000a", ts, ts}},
				{`INSERT INTO invites (id, project_id, user_id, membership_id, token_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					[]any{"00000000-0000-0000-0000-0000000000d1", "00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-00000000000b",
						"00000000-0000-0000-0000-0000000000c2", hex.EncodeToString(sum[:]), ts.Add(time.Hour), ts}},
			}
			for _, s := range steps {
				if err := db.DB.Exec(s.sql, s.args...).Error; err != nil {
					t.Fatalf("%s: %v", s.sql, err)
				}
			}
			if _, err := models.Migrate(ctx, db.DB); err != nil {
				t.Fatal(err)
			}
			sys := models.NewSystem(db.DB)
			inv, err := sys.InvitationByToken(ctx, "old-link-token")
			if err != nil {
				t.Fatalf("the old link does not open an invitation: %v", err)
			}
			if inv.Invitation.Email != "pat@example.org" || !inv.Invitation.Admin || inv.ProjectName != "Alpha" || inv.InviterName != "Ann Admin" {
				t.Errorf("migrated invitation: %+v", inv)
			}
			if _, err := sys.UserByEmail(ctx, "pat@example.org"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("the passwordless account survived: %v", err)
			}
			members, err := sys.Tenant("00000000-0000-0000-0000-0000000000a1").Members(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(members) != 1 || members[0].User.Email != "ann@example.org" {
				t.Errorf("members after migration: %+v", members)
			}
			ann, err := sys.UserByEmail(ctx, "ann@example.org")
			if err != nil || ann.Verified() {
				t.Errorf("an existing account must start unverified: %+v %v", ann, err)
			}
		})
	}
}
