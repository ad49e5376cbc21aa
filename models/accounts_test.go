package models_test

import (
	"errors"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/testdb"
)

func resetLink(t *testing.T, sys models.System, u accounts.User) string {
	t.Helper()
	token, _, err := sys.IssueAccountToken(ctx, u.ID, accounts.PurposeReset, u.Email, mail.Letter{})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestPasswordChangesVoidResetLinks: once the password changes (account
// page or operator), an earlier reset link no longer
// opens the account.
func TestPasswordChangesVoidResetLinks(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			u := testdb.NewUser(t, sys, "ada@example.org")
			pw := accounts.NewPassword{Password: "new-password-1", Confirm: "new-password-1"}
			changes := []struct {
				name string
				do   func() error
			}{
				{"account page", func() error { return sys.ChangePassword(ctx, u.ID, "correct horse", pw, "") }},
				{"operator", func() error { _, err := sys.SetPassword(ctx, u.Email, "new-password-2"); return err }},
			}
			for _, c := range changes {
				early := resetLink(t, sys, u)
				if err := c.do(); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if _, err := sys.ResetPassword(ctx, early, accounts.NewPassword{Password: "taken-over", Confirm: "taken-over"}); !errors.Is(err, accounts.ErrLinkInvalid) {
					t.Errorf("%s: an earlier reset link still works: %v", c.name, err)
				}
				if _, err := sys.SetPassword(ctx, u.Email, "correct horse"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := sys.Authenticate(ctx, u.Email, "taken-over"); !errors.Is(err, accounts.ErrBadCredentials) {
				t.Errorf("a voided link set the password: %v", err)
			}
		})
	}
}

// TestEmailChange: the address changes only through a link to the new
// address; a reset link to the old address stops working; an address
// another account took meanwhile is refused.
func TestEmailChange(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			u := testdb.NewUser(t, sys, "ada@example.org")
			oldReset := resetLink(t, sys, u)
			if _, err := sys.RequestEmailChange(ctx, u.ID, "wrong password", "new@example.org", mail.Letter{}); kit.FieldErrors(err)["current"] == "" {
				t.Errorf("wrong password: %v", err)
			}
			token, err := sys.RequestEmailChange(ctx, u.ID, "correct horse", "New@Example.org", mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			if same, err := sys.UserByID(ctx, u.ID); err != nil || same.Email != "ada@example.org" {
				t.Fatalf("the email changed before the link was opened: %+v %v", same, err)
			}
			moved, err := sys.VerifyEmail(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			if moved.Email != "new@example.org" || !moved.Verified() {
				t.Errorf("after the link: %+v", moved)
			}
			if _, err := sys.ResetPassword(ctx, oldReset, accounts.NewPassword{Password: "taken-over", Confirm: "taken-over"}); !errors.Is(err, accounts.ErrLinkInvalid) {
				t.Errorf("a reset link to the old address still works: %v", err)
			}
			// A link to an address another account registered meanwhile.
			token, err = sys.RequestEmailChange(ctx, u.ID, "correct horse", "bob@example.org", mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			testdb.NewUser(t, sys, "bob@example.org")
			if _, err := sys.VerifyEmail(ctx, token); kit.FieldErrors(err)["email"] == "" {
				t.Errorf("verifying a taken address: %v", err)
			}
			if _, err := sys.RequestEmailChange(ctx, u.ID, "correct horse", "bob@example.org", mail.Letter{}); kit.FieldErrors(err)["email"] == "" {
				t.Errorf("asking for a taken address: %v", err)
			}
		})
	}
}

// TestSessionsOfOthersAreOutOfReach: a user lists and ends only their own
// sessions; a password change keeps the session that made it.
func TestSessionsOfOthersAreOutOfReach(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ada, bob := testdb.NewUser(t, sys, "ada@example.org"), testdb.NewUser(t, sys, "bob@example.org")
			exp := time.Now().Add(time.Hour)
			for tok, id := range map[string]string{"ada-1": ada.ID, "ada-2": ada.ID, "bob-1": bob.ID} {
				if err := sys.Sessions().Save(ctx, tok, &id, []byte("x"), exp, accounts.SessionMeta{IP: "192.0.2.1", UserAgent: "test"}); err != nil {
					t.Fatal(err)
				}
			}
			list, err := sys.UserSessions(ctx, ada.ID, "ada-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || list[0].IP != "192.0.2.1" || (!list[0].Current && !list[1].Current) {
				t.Fatalf("ada's sessions: %+v", list)
			}
			bobs, err := sys.UserSessions(ctx, bob.ID, "")
			if err != nil || len(bobs) != 1 {
				t.Fatalf("bob's sessions: %+v %v", bobs, err)
			}
			if err := sys.EndUserSession(ctx, ada.ID, bobs[0].ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("ending another user's session: %v", err)
			}
			if _, err := sys.Sessions().Load(ctx, "bob-1"); err != nil {
				t.Errorf("bob's session did not survive: %v", err)
			}
			pw := accounts.NewPassword{Password: "new-password", Confirm: "new-password"}
			if err := sys.ChangePassword(ctx, ada.ID, "correct horse", pw, "ada-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := sys.Sessions().Load(ctx, "ada-1"); err != nil {
				t.Errorf("the changing session ended: %v", err)
			}
			if _, err := sys.Sessions().Load(ctx, "ada-2"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("another session survived the change: %v", err)
			}
		})
	}
}
