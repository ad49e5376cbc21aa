package models_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// memberFixture is a project with its admin, on one test database.
type memberFixture struct {
	db      testdb.DB
	sys     models.System
	admin   accounts.User
	actor   audit.Actor
	project projects.Project
	tn      models.Tenant
}

func newMemberFixture(t *testing.T, db testdb.DB) memberFixture {
	t.Helper()
	sys := models.NewSystem(db.DB)
	admin := testdb.NewUser(t, sys, "admin@example.org")
	p, err := sys.CreateProject(ctx, admin.ID, projects.NewProject{Name: "Alpha"})
	if err != nil {
		t.Fatal(err)
	}
	return memberFixture{db: db, sys: sys, admin: admin, actor: audit.Actor{UserID: admin.ID, Email: admin.Email},
		project: p, tn: sys.Tenant(p.ID)}
}

// adminMembership returns the admin's own membership.
func (f memberFixture) adminMembership(t *testing.T) members.ProjectMembership {
	t.Helper()
	m, err := f.tn.Membership(ctx, f.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f memberFixture) auditCount(t *testing.T, action string) int {
	t.Helper()
	events, _, err := f.tn.AuditLog(ctx, audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return len(events)
}

// verified registers a user and verifies their address through a
// verification link, as the console does.
func verified(t *testing.T, sys models.System, email string) accounts.User {
	t.Helper()
	u := testdb.NewUser(t, sys, email)
	if u.Verified() {
		t.Fatal("a new registration starts verified")
	}
	return verify(t, sys, u)
}

// verify opens a verification link for u's address.
func verify(t *testing.T, sys models.System, u accounts.User) accounts.User {
	t.Helper()
	token, _, err := sys.IssueAccountToken(ctx, u.ID, accounts.PurposeVerify, u.Email, mail.Letter{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sys.VerifyEmail(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Verified() || got.Email != u.Email {
		t.Fatalf("after verification: %+v", got)
	}
	return got
}

// TestInvitationIsAnOffer: inviting an unknown address creates no account;
// its owner registers, verifies and accepts, and only then is a member, with
// the role and policy the admin chose.
func TestInvitationIsAnOffer(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			pol, err := f.tn.CreateAccessPolicy(ctx, f.actor, resources.PolicyInput{Name: "Clinic"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: " Nia@Example.org ", Admin: true, AccessPolicyID: &pol.ID}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Invitation.Email != "nia@example.org" || len(got.Token) < 40 || got.Reissued {
				t.Errorf("invitation: %+v", got)
			}
			if d := time.Until(got.Invitation.ExpiresAt); d < members.InviteTTL-time.Minute || d > members.InviteTTL {
				t.Errorf("invitation open for %v, want about %v", d, members.InviteTTL)
			}
			if _, err := f.sys.UserByEmail(ctx, "nia@example.org"); !errors.Is(err, kit.ErrNotFound) {
				t.Fatalf("inviting created an account: %v", err)
			}
			// The policy an invitation offers cannot be deleted under it.
			if err := f.tn.DeleteAccessPolicy(ctx, f.actor, pol.ID); !errors.Is(err, models.ErrPolicyInUse) {
				t.Errorf("deleting the invitation's policy: %v, want ErrPolicyInUse", err)
			}
			// The owner of the address can still register it.
			nia := testdb.NewUser(t, f.sys, "nia@example.org")
			if list, err := f.sys.InvitationsFor(ctx, nia); err != nil || len(list) != 0 {
				t.Errorf("an unverified account sees invitations: %v %v", list, err)
			}
			if _, err := f.sys.AcceptInvitation(ctx, nia, got.Invitation.ID, ""); !errors.Is(err, members.ErrNotVerified) {
				t.Errorf("unverified accept: %v, want ErrNotVerified", err)
			}
			if _, err := f.sys.Access(ctx, nia.ID, f.project.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Fatalf("unverified account got access: %v", err)
			}
			nia = verify(t, f.sys, nia)
			list, err := f.sys.InvitationsFor(ctx, nia)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].ProjectName != "Alpha" || list[0].InviterName != f.admin.Name() {
				t.Fatalf("invitations of the verified owner: %+v", list)
			}
			byLink, err := f.sys.InvitationByToken(ctx, got.Token)
			if err != nil || byLink.Invitation.ID != got.Invitation.ID {
				t.Errorf("invitation by link: %+v %v", byLink, err)
			}
			projectID, err := f.sys.AcceptInvitation(ctx, nia, got.Invitation.ID, "192.0.2.7")
			if err != nil || projectID != f.project.ID {
				t.Fatalf("accept: %q %v", projectID, err)
			}
			a, err := f.sys.Access(ctx, nia.ID, f.project.ID)
			if err != nil {
				t.Fatal(err)
			}
			m := a.Membership
			if !m.Admin || !m.Active || m.AccessPolicyID == nil || *m.AccessPolicyID != pol.ID || m.InvitedBy == nil || *m.InvitedBy != f.admin.ID {
				t.Errorf("membership from the invitation: %+v", m)
			}
			if open, err := f.tn.Invitations(ctx); err != nil || len(open) != 0 {
				t.Errorf("accepted invitation still open: %v %v", open, err)
			}
			if _, err := f.sys.InvitationByToken(ctx, got.Token); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("used link: %v, want ErrNotFound", err)
			}
			if _, err := f.sys.AcceptInvitation(ctx, nia, got.Invitation.ID, ""); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("second accept: %v, want ErrNotFound", err)
			}
			if f.auditCount(t, audit.ActionMemberInvited) != 1 || f.auditCount(t, audit.ActionInviteAccepted) != 1 {
				t.Error("want one member.invited and one invite.accepted event")
			}
		})
	}
}

// TestSquattedAddressGainsNothing: someone who registers another person's
// address first is never made a member by an invitation to it; the real
// owner takes the account back with a password-reset link, which proves the
// address, and then accepts.
func TestSquattedAddressGainsNothing(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			squatter := testdb.NewUser(t, f.sys, "partner@example.org")
			if err := f.sys.Sessions().Save(ctx, "squatter-session", &squatter.ID, []byte("x"), time.Now().Add(time.Hour), accounts.SessionMeta{}); err != nil {
				t.Fatal(err)
			}
			got, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: "partner@example.org", Admin: true}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.sys.Access(ctx, squatter.ID, f.project.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Fatalf("the squatter became a member: %v", err)
			}
			if _, err := f.sys.AcceptInvitation(ctx, squatter, got.Invitation.ID, ""); !errors.Is(err, members.ErrNotVerified) {
				t.Fatalf("the squatter accepted: %v", err)
			}
			// Another verified account cannot answer it either.
			other := verified(t, f.sys, "other@example.org")
			if _, err := f.sys.AcceptInvitation(ctx, other, got.Invitation.ID, ""); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("another address accepted: %v", err)
			}
			if err := f.sys.DeclineInvitation(ctx, other, got.Invitation.ID, ""); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("another address declined: %v", err)
			}
			// The owner resets the password through the mailed link.
			token, _, err := f.sys.IssueAccountToken(ctx, squatter.ID, accounts.PurposeReset, "partner@example.org", mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			owner, err := f.sys.ResetPassword(ctx, token, accounts.NewPassword{Password: "owner-password", Confirm: "owner-password"})
			if err != nil {
				t.Fatal(err)
			}
			if !owner.Verified() {
				t.Error("a reset through the address did not verify it")
			}
			if _, err := f.sys.Sessions().Load(ctx, "squatter-session"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("the squatter's session survived the reset: %v", err)
			}
			if _, err := f.sys.Authenticate(ctx, "partner@example.org", "correct horse"); !errors.Is(err, accounts.ErrBadCredentials) {
				t.Errorf("the squatter's password still works: %v", err)
			}
			if _, err := f.sys.AcceptInvitation(ctx, owner, got.Invitation.ID, ""); err != nil {
				t.Fatalf("the owner's accept: %v", err)
			}
			if a, err := f.sys.Access(ctx, owner.ID, f.project.ID); err != nil || !a.Membership.Admin {
				t.Errorf("owner's access: %+v %v", a, err)
			}
		})
	}
}

func TestInviteErrors(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			other, err := f.sys.CreateProject(ctx, f.admin.ID, projects.NewProject{Name: "Beta"})
			if err != nil {
				t.Fatal(err)
			}
			foreign, err := f.sys.Tenant(other.ID).CreateAccessPolicy(ctx, f.actor, resources.PolicyInput{Name: "Theirs"})
			if err != nil {
				t.Fatal(err)
			}
			notUUID := "not-a-uuid"
			cases := []struct {
				name  string
				in    members.InviteInput
				field string
				want  string
			}{
				{"invalid email", members.InviteInput{Email: "not an email"}, "email", "valid email"},
				{"no email", members.InviteInput{}, "email", "required"},
				{"already a member", members.InviteInput{Email: "ADMIN@example.org"}, "email", "already a member"},
				{"policy of another project", members.InviteInput{Email: "p@example.org", AccessPolicyID: &foreign.ID}, "accessPolicy", "this project's"},
				{"policy id not a uuid", members.InviteInput{Email: "p@example.org", AccessPolicyID: &notUUID}, "accessPolicy", "this project's"},
			}
			for _, c := range cases {
				_, err := f.tn.Invite(ctx, f.actor, c.in, mail.Letter{})
				if got := kit.FieldErrors(err)[c.field]; !strings.Contains(got, c.want) {
					t.Errorf("%s: %s error %q (err %v), want %q", c.name, c.field, got, err, c.want)
				}
			}
			// Nothing was created by the refused invitations.
			var users int64
			if err := db.DB.Table("users").Count(&users).Error; err != nil {
				t.Fatal(err)
			}
			open, err := f.tn.Invitations(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if members, err := f.tn.Members(ctx); err != nil {
				t.Fatal(err)
			} else if len(members) != 1 || users != 1 || len(open) != 0 {
				t.Errorf("refused invitations left %d members, %d users, %d invitations", len(members), users, len(open))
			}
			if n := f.auditCount(t, ""); n != 0 {
				t.Errorf("refused invitations wrote %d audit events", n)
			}
			if _, err := f.tn.AddMember(ctx, f.actor, f.admin.ID, false, nil); !strings.Contains(kit.FieldErrors(err)["email"], "already a member") {
				t.Errorf("AddMember of a member: %v", err)
			}
		})
	}
}

// TestInvitationLinks: inviting again replaces the link, a withdrawn or
// declined invitation is gone, an expired one cannot be accepted but can be
// renewed, and a deactivated member is not reactivated by an invitation.
func TestInvitationLinks(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			nia := verified(t, f.sys, "nia@example.org")
			first, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: "nia@example.org"}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			again, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: "nia@example.org", Admin: true}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			if !again.Reissued {
				t.Error("a second invitation did not say it replaced the first")
			}
			if _, err := f.sys.InvitationByToken(ctx, first.Token); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("replaced link: %v, want ErrNotFound", err)
			}
			for _, bad := range []string{"", "nope", strings.Repeat("a", 300)} {
				if _, err := f.sys.InvitationByToken(ctx, bad); !errors.Is(err, kit.ErrNotFound) {
					t.Errorf("token %q: %v, want ErrNotFound", bad, err)
				}
			}
			// Expired: refused, shown as expired, renewed by a new link.
			if err := db.DB.Exec("UPDATE invitations SET expires_at = ?", time.Now().Add(-time.Second).UTC()).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := f.sys.InvitationByToken(ctx, again.Token); !errors.Is(err, members.ErrInviteExpired) {
				t.Errorf("expired link: %v, want ErrInviteExpired", err)
			}
			if _, err := f.sys.AcceptInvitation(ctx, nia, again.Invitation.ID, ""); !errors.Is(err, members.ErrInviteExpired) {
				t.Errorf("accepting an expired invitation: %v", err)
			}
			if list, err := f.sys.InvitationsFor(ctx, nia); err != nil || len(list) != 0 {
				t.Errorf("expired invitations listed to the invitee: %v %v", list, err)
			}
			// An expired invitation can still be declined, which closes it.
			if err := f.sys.DeclineInvitation(ctx, nia, again.Invitation.ID, ""); err != nil {
				t.Errorf("declining an expired invitation: %v", err)
			}
			if _, err := f.sys.InvitationByToken(ctx, again.Token); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a declined expired invitation is still there: %v", err)
			}
			renewed, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: "nia@example.org"}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			// Withdrawn: the link and the invitee's list lose it.
			if _, err := f.tn.RevokeInvitation(ctx, f.actor, renewed.Invitation.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.sys.InvitationByToken(ctx, renewed.Token); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("withdrawn link: %v", err)
			}
			if _, err := f.sys.AcceptInvitation(ctx, nia, renewed.Invitation.ID, ""); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("accepting a withdrawn invitation: %v", err)
			}
			// Declined: closed without a membership.
			declined, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: "nia@example.org"}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.sys.DeclineInvitation(ctx, nia, declined.Invitation.ID, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := f.sys.Access(ctx, nia.ID, f.project.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("declining made a member: %v", err)
			}
			if f.auditCount(t, audit.ActionInviteRevoked) != 1 || f.auditCount(t, audit.ActionInviteDeclined) != 2 {
				t.Error("want one invite.revoked and two invite.declined events")
			}
			// A deactivated member stays deactivated.
			ok, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: "nia@example.org"}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.sys.AcceptInvitation(ctx, nia, ok.Invitation.ID, ""); err != nil {
				t.Fatal(err)
			}
			m, err := f.tn.Membership(ctx, nia.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.tn.UpdateMember(ctx, f.actor, m.ID, members.MemberUpdate{Active: false}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: "nia@example.org"}, mail.Letter{}); !strings.Contains(kit.FieldErrors(err)["email"], "already a member") {
				t.Errorf("inviting an inactive member: %v", err)
			}
		})
	}
}

// TestInvitationsStayInTheirProject: another project's admin cannot see,
// renew or withdraw this project's invitations.
func TestInvitationsStayInTheirProject(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			f := newMemberFixture(t, db)
			got, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: "nia@example.org"}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			other := testdb.ProjectStore(t, f.sys, "eve@example.org")
			if list, err := other.Invitations(ctx); err != nil || len(list) != 0 {
				t.Errorf("other project lists %v (%v)", list, err)
			}
			if _, err := other.Invitation(ctx, got.Invitation.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("other project reads the invitation: %v", err)
			}
			if _, err := other.RevokeInvitation(ctx, audit.Actor{}, got.Invitation.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("other project withdraws the invitation: %v", err)
			}
			if _, err := f.sys.InvitationByToken(ctx, got.Token); err != nil {
				t.Errorf("the invitation did not survive: %v", err)
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
				if !errors.Is(err, members.ErrLastAdmin) {
					t.Errorf("%s: %v, want ErrLastAdmin", what, err)
				}
			}
			_, err := f.tn.UpdateMember(ctx, f.actor, own, members.MemberUpdate{Admin: false, Active: true})
			refused("demote the only admin", err)
			_, err = f.tn.UpdateMember(ctx, f.actor, own, members.MemberUpdate{Admin: true, Active: false})
			refused("deactivate the only admin", err)
			_, err = f.tn.RemoveMember(ctx, f.actor, own)
			refused("remove the only admin", err)

			// An invitation to an admin who has not accepted does not count.
			if _, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: "p@example.org", Admin: true}, mail.Letter{}); err != nil {
				t.Fatal(err)
			}
			_, err = f.tn.RemoveMember(ctx, f.actor, own)
			refused("remove the only admin while an admin is invited", err)
			if m := f.adminMembership(t); !m.Admin || !m.Active {
				t.Errorf("refused changes took effect: %+v", m)
			}
			if n := f.auditCount(t, audit.ActionMemberUpdated) + f.auditCount(t, audit.ActionMemberRemoved); n != 0 {
				t.Errorf("refused changes wrote %d audit events", n)
			}

			// With a second active admin, the first may step down; then the
			// second is the last one.
			bob := testdb.NewUser(t, f.sys, "bob@example.org")
			bm, err := f.tn.AddMember(ctx, f.actor, bob.ID, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			upd, err := f.tn.UpdateMember(ctx, f.actor, own, members.MemberUpdate{Admin: false, Active: true})
			if err != nil || upd.Membership.Admin {
				t.Fatalf("demote with another admin present: %v", err)
			}
			_, err = f.tn.RemoveMember(ctx, f.actor, bm.ID)
			refused("remove the new last admin", err)
			// Plain members are removed freely.
			if _, err := f.tn.RemoveMember(ctx, f.actor, own); err != nil {
				t.Errorf("remove a plain member: %v", err)
			}
			if _, err := f.sys.Access(ctx, f.admin.ID, f.project.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a removed member still has access: %v", err)
			}
			events, _, err := f.tn.AuditLog(ctx, audit.Filter{Action: audit.ActionMemberUpdated})
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
			bob := testdb.NewUser(t, f.sys, "bob@example.org")
			for round := range 5 {
				p, err := f.sys.CreateProject(ctx, f.admin.ID, projects.NewProject{Name: "Race"})
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
					_, errs[0] = tn.UpdateMember(ctx, f.actor, own.ID, members.MemberUpdate{Admin: false, Active: true})
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
					case errors.Is(err, members.ErrLastAdmin):
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
			mallory := testdb.NewUser(t, f.sys, "mallory@example.org")
			own, err := f.sys.CreateProject(ctx, mallory.ID, projects.NewProject{Name: "Mallory's"})
			if err != nil {
				t.Fatal(err)
			}
			theirs := f.sys.Tenant(own.ID)
			victim := f.adminMembership(t).ID
			act := audit.Actor{UserID: mallory.ID}
			if _, err := theirs.Member(ctx, victim); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("read: %v", err)
			}
			if _, err := theirs.UpdateMember(ctx, act, victim, members.MemberUpdate{Admin: false, Active: false}); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("update: %v", err)
			}
			if _, err := theirs.RemoveMember(ctx, act, victim); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("remove: %v", err)
			}
			if m := f.adminMembership(t); !m.Admin || !m.Active {
				t.Errorf("the other project's membership changed: %+v", m)
			}
			// Their policy cannot be given to a member of ours either.
			pol, err := theirs.CreateAccessPolicy(ctx, act, resources.PolicyInput{Name: "Mine"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.tn.UpdateMember(ctx, f.actor, victim, members.MemberUpdate{Admin: true, Active: true, AccessPolicyID: &pol.ID}); kit.FieldErrors(err)["accessPolicy"] == "" {
				t.Errorf("foreign policy on update: %v", err)
			}
		})
	}
}
