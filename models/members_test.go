package models_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/testdb"
)

// memberFixture is a project with its admin, on one test database.
type memberFixture struct {
	db      testdb.DB
	sys     models.System
	admin   models.User
	actor   models.Actor
	project models.Project
	tn      models.Tenant
}

func newMemberFixture(t *testing.T, db testdb.DB) memberFixture {
	t.Helper()
	sys := models.NewSystem(db.DB)
	admin := newUser(t, sys, "admin@example.org")
	p, err := sys.CreateProject(ctx, admin.ID, models.NewProject{Name: "Alpha"})
	if err != nil {
		t.Fatal(err)
	}
	return memberFixture{db: db, sys: sys, admin: admin, actor: models.Actor{UserID: admin.ID, Email: admin.Email},
		project: p, tn: sys.Tenant(p.ID)}
}

// adminMembership returns the admin's own membership.
func (f memberFixture) adminMembership(t *testing.T) models.ProjectMembership {
	t.Helper()
	m, err := f.tn.Membership(ctx, f.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f memberFixture) auditCount(t *testing.T, action string) int {
	t.Helper()
	events, _, err := f.tn.AuditLog(ctx, models.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(events)
}

func TestInviteExistingAndNewUsers(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			bob := newUser(t, f.sys, "bob@example.org")

			// An existing account becomes an active member at once, without a link.
			got, err := f.tn.Invite(ctx, f.actor, models.Invitation{Email: " BOB@Example.org "})
			if err != nil {
				t.Fatal(err)
			}
			if got.NewUser || got.Token != "" || got.Member.User.ID != bob.ID {
				t.Errorf("existing user: new=%v token=%q user=%s", got.NewUser, got.Token, got.Member.User.ID)
			}
			m := got.Member.Membership
			if !m.Active || m.Admin || m.InvitedBy == nil || *m.InvitedBy != f.admin.ID {
				t.Errorf("existing user's membership: %+v", m)
			}
			if a, err := f.sys.Access(ctx, bob.ID, f.project.ID); err != nil || a.Membership.ID != m.ID {
				t.Errorf("bob cannot enter the project: %v", err)
			}
			if n := f.auditCount(t, models.ActionMemberAdded); n != 1 {
				t.Errorf("%d member.added events, want 1", n)
			}

			// An unknown email: a new account without a password, and a link.
			pol, err := f.tn.CreateAccessPolicy(ctx, f.actor, models.PolicyInput{Name: "Readers"})
			if err != nil {
				t.Fatal(err)
			}
			got, err = f.tn.Invite(ctx, f.actor, models.Invitation{Email: "New.Person@Example.org", FirstName: " Nia ",
				LastName: "New", Admin: true, AccessPolicyID: &pol.ID})
			if err != nil {
				t.Fatal(err)
			}
			u := got.Member.User
			if !got.NewUser || u.Email != "new.person@example.org" || u.FirstName != "Nia" || u.PasswordHash != "" {
				t.Errorf("new user: %+v (new=%v)", u, got.NewUser)
			}
			if !got.Member.Pending() {
				t.Error("a new invitee must be pending")
			}
			if got.Token == "" || len(got.Token) < 40 {
				t.Fatalf("token %q is missing or short", got.Token)
			}
			if d := time.Until(got.ExpiresAt); d < models.InviteTTL-time.Minute || d > models.InviteTTL {
				t.Errorf("link expires in %v, want about %v", d, models.InviteTTL)
			}
			m = got.Member.Membership
			if !m.Admin || m.AccessPolicyID == nil || *m.AccessPolicyID != pol.ID {
				t.Errorf("new member's role: admin=%v policy=%v", m.Admin, m.AccessPolicyID)
			}
			if _, err := f.sys.Authenticate(ctx, "new.person@example.org", ""); !errors.Is(err, models.ErrBadCredentials) {
				t.Errorf("a passwordless account signed in: %v", err)
			}
			// Only the hash of the token is stored.
			var hashes []string
			if err := db.DB.Table("invites").Pluck("token_hash", &hashes).Error; err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(got.Token))
			if len(hashes) != 1 || hashes[0] != hex.EncodeToString(sum[:]) {
				t.Errorf("stored hashes %v, want the SHA-256 of the token", hashes)
			}
			var raw int64
			if err := db.DB.Table("invites").Where("token_hash = ? OR id = ?", got.Token, got.Token).Count(&raw).Error; err != nil {
				t.Fatal(err)
			}
			if raw != 0 {
				t.Error("the raw token is stored")
			}
			if n := f.auditCount(t, models.ActionMemberInvited); n != 1 {
				t.Errorf("%d member.invited events, want 1", n)
			}

			members, err := f.tn.Members(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(members) != 3 || members[1].Inviter.ID != f.admin.ID || members[0].Inviter.ID != "" {
				t.Errorf("members: %d, inviters %q %q", len(members), members[0].Inviter.Email, members[1].Inviter.Email)
			}
		})
	}
}

func TestInviteErrors(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			other, err := f.sys.CreateProject(ctx, f.admin.ID, models.NewProject{Name: "Beta"})
			if err != nil {
				t.Fatal(err)
			}
			foreign, err := f.sys.Tenant(other.ID).CreateAccessPolicy(ctx, f.actor, models.PolicyInput{Name: "Theirs"})
			if err != nil {
				t.Fatal(err)
			}
			notUUID := "not-a-uuid"
			cases := []struct {
				name  string
				in    models.Invitation
				field string
				want  string
			}{
				{"invalid email", models.Invitation{Email: "not an email", FirstName: "A", LastName: "B"}, "email", "valid email"},
				{"no email", models.Invitation{FirstName: "A", LastName: "B"}, "email", "required"},
				{"new user without names", models.Invitation{Email: "nameless@example.org"}, "firstName", "required"},
				{"already a member", models.Invitation{Email: "ADMIN@example.org"}, "email", "already a member"},
				{"policy of another project", models.Invitation{Email: "p@example.org", FirstName: "A", LastName: "B", AccessPolicyID: &foreign.ID}, "accessPolicy", "this project's"},
				{"policy id not a uuid", models.Invitation{Email: "p@example.org", FirstName: "A", LastName: "B", AccessPolicyID: &notUUID}, "accessPolicy", "this project's"},
			}
			for _, c := range cases {
				_, err := f.tn.Invite(ctx, f.actor, c.in)
				if got := models.FieldErrors(err)[c.field]; !strings.Contains(got, c.want) {
					t.Errorf("%s: %s error %q (err %v), want %q", c.name, c.field, got, err, c.want)
				}
			}
			// Nothing was created by the refused invitations.
			var users int64
			if err := db.DB.Table("users").Count(&users).Error; err != nil {
				t.Fatal(err)
			}
			if members, err := f.tn.Members(ctx); err != nil {
				t.Fatal(err)
			} else if len(members) != 1 || users != 1 {
				t.Errorf("refused invitations left %d members and %d users", len(members), users)
			}
			if n := f.auditCount(t, ""); n != 0 {
				t.Errorf("refused invitations wrote %d audit events", n)
			}
			if _, err := f.tn.AddMember(ctx, f.actor, f.admin.ID, false, nil); !strings.Contains(models.FieldErrors(err)["email"], "already a member") {
				t.Errorf("AddMember of a member: %v", err)
			}
		})
	}
}

func TestInviteLinkWorksOnce(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			inv, err := f.tn.Invite(ctx, f.actor, models.Invitation{Email: "nia@example.org", FirstName: "Nia", LastName: "New"})
			if err != nil {
				t.Fatal(err)
			}
			// Re-inviting before acceptance issues a new link and voids the old one.
			again, err := f.tn.Invite(ctx, f.actor, models.Invitation{Email: "nia@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			if !again.Reissued || again.Token == "" || again.Token == inv.Token || again.Member.Membership.ID != inv.Member.Membership.ID {
				t.Fatalf("re-invite: reissued=%v same token=%v", again.Reissued, again.Token == inv.Token)
			}
			if _, err := f.sys.InviteByToken(ctx, inv.Token); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("old link after re-invite: %v, want ErrNotFound", err)
			}
			for _, bad := range []string{"", "nope", strings.Repeat("x", 500), inv.Token + "x"} {
				if _, err := f.sys.InviteByToken(ctx, bad); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("token %q: %v, want ErrNotFound", bad, err)
				}
			}

			p, err := f.sys.InviteByToken(ctx, again.Token)
			if err != nil {
				t.Fatal(err)
			}
			if p.ProjectName != "Alpha" || p.ProjectID != f.project.ID || p.User.Email != "nia@example.org" || p.HasPassword() {
				t.Errorf("pending invite %+v", p)
			}
			for _, pw := range []models.NewPassword{{"short", "short"}, {"long enough", "different!"}} {
				if _, err := f.sys.AcceptInvite(ctx, again.Token, pw, ""); models.FieldErrors(err) == nil {
					t.Errorf("password %+v accepted: %v", pw, err)
				}
			}
			acc, err := f.sys.AcceptInvite(ctx, again.Token, models.NewPassword{"nia-password", "nia-password"}, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if acc.ProjectID != f.project.ID {
				t.Errorf("accepted into %s", acc.ProjectID)
			}
			if u, err := f.sys.Authenticate(ctx, "nia@example.org", "nia-password"); err != nil || u.ID != inv.Member.User.ID {
				t.Errorf("sign in after accepting: %v", err)
			}
			if _, err := f.sys.AcceptInvite(ctx, again.Token, models.NewPassword{"other-password", "other-password"}, ""); !errors.Is(err, models.ErrInviteUsed) {
				t.Errorf("second use: %v, want ErrInviteUsed", err)
			}
			if _, err := f.sys.InviteByToken(ctx, again.Token); !errors.Is(err, models.ErrInviteUsed) {
				t.Errorf("used link: %v, want ErrInviteUsed", err)
			}
			if _, err := f.sys.Authenticate(ctx, "nia@example.org", "other-password"); err == nil {
				t.Error("a used link changed the password")
			}
			events, _, err := f.tn.AuditLog(ctx, models.AuditFilter{Action: models.ActionInviteAccepted})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].UserID == nil || *events[0].UserID != inv.Member.User.ID || events[0].IP != "127.0.0.1" {
				t.Errorf("invite.accepted events: %+v", events)
			}
			// Once accepted, inviting again is a duplicate, not a new link.
			if _, err := f.tn.Invite(ctx, f.actor, models.Invitation{Email: "nia@example.org"}); models.FieldErrors(err)["email"] == "" {
				t.Errorf("re-invite after acceptance: %v", err)
			}
		})
	}
}

func TestInviteLinkExpires(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			inv, err := f.tn.Invite(ctx, f.actor, models.Invitation{Email: "late@example.org", FirstName: "Lee", LastName: "Late"})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.DB.Exec("UPDATE invites SET expires_at = ?", time.Now().Add(-time.Second).UTC()).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := f.sys.InviteByToken(ctx, inv.Token); !errors.Is(err, models.ErrInviteExpired) {
				t.Errorf("expired link: %v, want ErrInviteExpired", err)
			}
			if _, err := f.sys.AcceptInvite(ctx, inv.Token, models.NewPassword{"late-password", "late-password"}, ""); !errors.Is(err, models.ErrInviteExpired) {
				t.Errorf("accepting an expired link: %v", err)
			}
			if _, err := f.sys.Authenticate(ctx, "late@example.org", "late-password"); err == nil {
				t.Error("an expired link set the password")
			}
			// A new invitation gives a working link.
			again, err := f.tn.Invite(ctx, f.actor, models.Invitation{Email: "late@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.sys.InviteByToken(ctx, again.Token); err != nil {
				t.Errorf("fresh link after expiry: %v", err)
			}
		})
	}
}

func TestInviteLinkOfRemovedOrDeactivatedMember(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			inv, err := f.tn.Invite(ctx, f.actor, models.Invitation{Email: "gone@example.org", FirstName: "Gus", LastName: "Gone"})
			if err != nil {
				t.Fatal(err)
			}
			id := inv.Member.Membership.ID
			if _, err := f.tn.UpdateMember(ctx, f.actor, id, models.MemberUpdate{Active: false}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.sys.InviteByToken(ctx, inv.Token); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("link of a deactivated member: %v, want ErrNotFound", err)
			}
			if _, err := f.tn.RemoveMember(ctx, f.actor, id); err != nil {
				t.Fatal(err)
			}
			if _, err := f.sys.InviteByToken(ctx, inv.Token); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("link of a removed member: %v, want ErrNotFound", err)
			}
			var n int64
			if err := db.DB.Table("invites").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d invites left after removal", n)
			}
		})
	}
}

func TestInviteIntoSecondProjectAfterAccepting(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			beta, err := f.sys.CreateProject(ctx, f.admin.ID, models.NewProject{Name: "Beta"})
			if err != nil {
				t.Fatal(err)
			}
			one, err := f.tn.Invite(ctx, f.actor, models.Invitation{Email: "two@example.org", FirstName: "Tess", LastName: "Two"})
			if err != nil {
				t.Fatal(err)
			}
			// Still passwordless, so the second project's invitation also gets a link.
			two, err := f.sys.Tenant(beta.ID).Invite(ctx, f.actor, models.Invitation{Email: "two@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			if two.NewUser || two.Token == "" {
				t.Fatalf("second project: new=%v token=%q", two.NewUser, two.Token)
			}
			if _, err := f.sys.AcceptInvite(ctx, one.Token, models.NewPassword{"tess-password", "tess-password"}, ""); err != nil {
				t.Fatal(err)
			}
			p, err := f.sys.InviteByToken(ctx, two.Token)
			if err != nil || !p.HasPassword() || p.ProjectID != beta.ID {
				t.Errorf("second link after a password was set: %+v, %v", p, err)
			}
			if _, err := f.sys.AcceptInvite(ctx, two.Token, models.NewPassword{"hijack-password", "hijack-password"}, ""); !errors.Is(err, models.ErrHasPassword) {
				t.Errorf("a link replaced an existing password: %v", err)
			}
			if _, err := f.sys.Authenticate(ctx, "two@example.org", "tess-password"); err != nil {
				t.Errorf("the first password no longer works: %v", err)
			}
			// An existing account with a password gets no link.
			three, err := f.sys.Tenant(beta.ID).Invite(ctx, f.actor, models.Invitation{Email: "admin@example.org"})
			if models.FieldErrors(err)["email"] == "" || three.Token != "" {
				t.Errorf("inviting the owner: %v", err)
			}
		})
	}
}

func TestLastAdminRules(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			own := f.adminMembership(t).ID
			refused := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, models.ErrLastAdmin) {
					t.Errorf("%s: %v, want ErrLastAdmin", what, err)
				}
			}
			_, err := f.tn.UpdateMember(ctx, f.actor, own, models.MemberUpdate{Admin: false, Active: true})
			refused("demote the only admin", err)
			_, err = f.tn.UpdateMember(ctx, f.actor, own, models.MemberUpdate{Admin: true, Active: false})
			refused("deactivate the only admin", err)
			_, err = f.tn.RemoveMember(ctx, f.actor, own)
			refused("remove the only admin", err)

			// An invited admin who cannot sign in yet does not count.
			pending, err := f.tn.Invite(ctx, f.actor, models.Invitation{Email: "p@example.org", FirstName: "P", LastName: "Q", Admin: true})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.tn.RemoveMember(ctx, f.actor, own)
			refused("remove the only admin who can sign in", err)
			if m := f.adminMembership(t); !m.Admin || !m.Active {
				t.Errorf("refused changes took effect: %+v", m)
			}
			if n := f.auditCount(t, models.ActionMemberUpdated) + f.auditCount(t, models.ActionMemberRemoved); n != 0 {
				t.Errorf("refused changes wrote %d audit events", n)
			}

			// With a second active admin, the first may step down; then the
			// second is the last one.
			bob := newUser(t, f.sys, "bob@example.org")
			bm, err := f.tn.AddMember(ctx, f.actor, bob.ID, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			upd, err := f.tn.UpdateMember(ctx, f.actor, own, models.MemberUpdate{Admin: false, Active: true})
			if err != nil || upd.Membership.Admin {
				t.Fatalf("demote with another admin present: %v", err)
			}
			_, err = f.tn.RemoveMember(ctx, f.actor, bm.ID)
			refused("remove the new last admin", err)
			// The pending admin may be removed: they were never counted.
			if _, err := f.tn.RemoveMember(ctx, f.actor, pending.Member.Membership.ID); err != nil {
				t.Errorf("remove a pending admin: %v", err)
			}
			// Plain members are removed freely.
			if _, err := f.tn.RemoveMember(ctx, f.actor, own); err != nil {
				t.Errorf("remove a plain member: %v", err)
			}
			if _, err := f.sys.Access(ctx, f.admin.ID, f.project.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("a removed member still has access: %v", err)
			}
			events, _, err := f.tn.AuditLog(ctx, models.AuditFilter{Action: models.ActionMemberUpdated})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || !strings.Contains(events[0].Details, `"admin":{"before":true,"after":false}`) {
				t.Errorf("member.updated events: %+v", events)
			}
		})
	}
}

// Two admins demoting and removing each other at the same moment: the lock
// on the project lets exactly one through.
func TestLastAdminUnderConcurrency(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			bob := newUser(t, f.sys, "bob@example.org")
			for round := range 5 {
				p, err := f.sys.CreateProject(ctx, f.admin.ID, models.NewProject{Name: "Race"})
				if err != nil {
					t.Fatal(err)
				}
				tn := f.sys.Tenant(p.ID)
				own, err := tn.Membership(ctx, f.admin.ID)
				if err != nil {
					t.Fatal(err)
				}
				bm, err := tn.AddMember(ctx, f.actor, bob.ID, true, nil)
				if err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				errs := make([]error, 2)
				wg.Add(2)
				go func() {
					defer wg.Done()
					_, errs[0] = tn.UpdateMember(ctx, f.actor, own.ID, models.MemberUpdate{Admin: false, Active: true})
				}()
				go func() {
					defer wg.Done()
					_, errs[1] = tn.RemoveMember(ctx, f.actor, bm.ID)
				}()
				wg.Wait()
				ok, last := 0, 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case errors.Is(err, models.ErrLastAdmin):
						last++
					default:
						t.Fatalf("round %d: %v", round, err)
					}
				}
				if ok != 1 || last != 1 {
					t.Fatalf("round %d: %d succeeded, %d refused; want 1 and 1", round, ok, last)
				}
				if n := activeAdmins(t, tn); n != 1 {
					t.Fatalf("round %d: %d active admins left", round, n)
				}
			}
		})
	}
}

func activeAdmins(t *testing.T, tn models.Tenant) int {
	t.Helper()
	members, err := tn.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range members {
		if m.Membership.Admin && m.Membership.Active {
			n++
		}
	}
	return n
}

func TestMembersOfAnotherProject(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			mallory := newUser(t, f.sys, "mallory@example.org")
			own, err := f.sys.CreateProject(ctx, mallory.ID, models.NewProject{Name: "Mallory's"})
			if err != nil {
				t.Fatal(err)
			}
			theirs := f.sys.Tenant(own.ID)
			victim := f.adminMembership(t).ID
			act := models.Actor{UserID: mallory.ID}
			if _, err := theirs.Member(ctx, victim); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("read: %v", err)
			}
			if _, err := theirs.UpdateMember(ctx, act, victim, models.MemberUpdate{Admin: false, Active: false}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("update: %v", err)
			}
			if _, err := theirs.RemoveMember(ctx, act, victim); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("remove: %v", err)
			}
			if m := f.adminMembership(t); !m.Admin || !m.Active {
				t.Errorf("the other project's membership changed: %+v", m)
			}
			// Their policy cannot be given to a member of ours either.
			pol, err := theirs.CreateAccessPolicy(ctx, act, models.PolicyInput{Name: "Mine"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.tn.UpdateMember(ctx, f.actor, victim, models.MemberUpdate{Admin: true, Active: true, AccessPolicyID: &pol.ID}); models.FieldErrors(err)["accessPolicy"] == "" {
				t.Errorf("foreign policy on update: %v", err)
			}
		})
	}
}
