package models_test

import (
	"sync"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/testdb"
)

// TestConcurrentReinvitesLeaveOneLink: admins re-inviting the same address at the same moment leave exactly one working link.
func TestConcurrentReinvitesLeaveOneLink(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "admin@example.org")
			first, err := ten.Invite(ctx, audit.Actor{}, members.InviteInput{Email: "pending@example.org"}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			tokens := []string{first.Token}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					out, err := ten.Invite(ctx, audit.Actor{}, members.InviteInput{Email: "pending@example.org"}, mail.Letter{})
					if err != nil {
						t.Errorf("re-invite: %v", err)
						return
					}
					mu.Lock()
					tokens = append(tokens, out.Token)
					mu.Unlock()
				})
			}
			wg.Wait()
			valid := 0
			for _, tok := range tokens {
				if _, err := sys.InvitationByToken(ctx, tok); err == nil {
					valid++
				}
			}
			if valid != 1 {
				t.Errorf("%d of %d links work, want exactly 1", valid, len(tokens))
			}
			var live int64
			if err := db.DB.Raw(`SELECT COUNT(*) FROM invitations WHERE email = ?`, "pending@example.org").Scan(&live).Error; err != nil {
				t.Fatal(err)
			}
			if live != 1 {
				t.Errorf("%d live invites, want 1", live)
			}
		})
	}
}
