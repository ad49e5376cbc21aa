package members

import (
	"context"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/projects"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// InviteTTL is how long an invitation stays open.
const InviteTTL = 7 * 24 * time.Hour

// Invitation is an offer of membership to an email address. It names no
// account: it becomes a membership only when the verified owner of the
// address accepts it. Only the SHA-256 of its link's token is stored.
type Invitation struct {
	ID             string
	ProjectID      string
	Email          string
	Admin          bool
	AccessPolicyID *string
	TokenHash      string
	ExpiresAt      time.Time
	CreatedBy      *string
	CreatedAt      time.Time
}

// Expired reports whether the invitation can no longer be accepted.
func (i Invitation) Expired() bool { return !kit.Now().Before(i.ExpiresAt) }

// InviteInput is what an admin submits to invite someone.
type InviteInput struct {
	Email          string
	Admin          bool
	AccessPolicyID *string
}

// Validate normalises and checks the email.
func (in *InviteInput) Validate() error {
	v := &kit.ValidationError{}
	in.Email = accounts.NormalizeEmail(in.Email)
	accounts.CheckEmail(v, in.Email)
	return v.Err()
}

// Invited is the outcome of an invitation.
type Invited struct {
	Invitation Invitation
	// Reissued is true when an open invitation to the address was replaced:
	// its link no longer works.
	Reissued bool
	// Token is the one-time token of the invitation's link. It is not stored
	// and cannot be shown again.
	Token string
}

const alreadyMember = "Someone with this email is already a member of the project."

// Invite opens an invitation to in.Email, replacing an open one to the same
// address (whose link stops working). Nothing is said about whether an
// account has that address: the invitation waits for its owner to sign in
// with the verified address and accept. Only a current member's address is
// refused, since the admin sees the members anyway. mail, unless zero, is
// queued with the invitation (see Letter).
func (t Roster) Invite(ctx context.Context, a audit.Actor, in InviteInput, letter mail.Letter) (Invited, error) {
	if err := in.Validate(); err != nil {
		return Invited{}, err
	}
	token, err := kit.NewToken()
	if err != nil {
		return Invited{}, err
	}
	var out Invited
	err = t.inTx(ctx, func(tx Roster) error {
		// Invitations and memberships of a project change one at a time:
		// two admins inviting the same address at once leave one link.
		if err := tx.bound().LockProject(ctx); err != nil {
			return err
		}
		if err := tx.resources().CheckPolicyChoice(ctx, kit.Deref(in.AccessPolicyID)); err != nil {
			return err
		}
		var n int64
		err := tx.db.WithContext(ctx).Table("project_memberships AS m").Joins("JOIN users AS u ON u.id = m.user_id").
			Where("m.project_id = ? AND u.email = ? AND u.project_id IS NULL", tx.projectID, in.Email).Count(&n).Error
		if err != nil {
			return err
		}
		if n > 0 {
			return &kit.ValidationError{Fields: map[string]string{"email": alreadyMember}}
		}
		res := tx.scoped(ctx).Where("email = ?", in.Email).Delete(&Invitation{})
		if res.Error != nil {
			return res.Error
		}
		out.Reissued = res.RowsAffected > 0
		ts := kit.Now()
		inv := Invitation{ID: uuid.NewString(), ProjectID: tx.projectID, Email: in.Email, Admin: in.Admin,
			AccessPolicyID: in.AccessPolicyID, TokenHash: kit.HashToken(token), ExpiresAt: ts.Add(InviteTTL), CreatedAt: ts}
		if a.UserID != "" {
			by := a.UserID
			inv.CreatedBy = &by
		}
		if err := tx.db.WithContext(ctx).Create(&inv).Error; err != nil {
			return err
		}
		if err := letter.Post(ctx, tx.db, inv.Email, token, inv.ExpiresAt); err != nil {
			return err
		}
		out.Invitation, out.Token = inv, token
		return audit.Record(ctx, tx.bound(), a, audit.ActionMemberInvited, in.Email, map[string]any{"invitation": inv.ID,
			"admin": inv.Admin, "reissued": out.Reissued, "expiresAt": inv.ExpiresAt})
	})
	return out, err
}

// OpenInvitation is an invitation with who sent it, as the members page
// lists it.
type OpenInvitation struct {
	Invitation Invitation
	// Inviter is who sent it; zero when the account is gone.
	Inviter accounts.User
}

// Invitations lists the project's invitations that nobody has accepted or
// declined yet (expired ones too, so the admin can renew them), newest first.
func (t Roster) Invitations(ctx context.Context) ([]OpenInvitation, error) {
	var rows []Invitation
	if err := t.scoped(ctx).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range rows {
		if r.CreatedBy != nil {
			ids = append(ids, *r.CreatedBy)
		}
	}
	byID := map[string]accounts.User{}
	if len(ids) > 0 {
		var users []accounts.User
		if err := t.db.WithContext(ctx).Where("id IN ?", ids).Find(&users).Error; err != nil {
			return nil, err
		}
		for _, u := range users {
			byID[u.ID] = u
		}
	}
	out := make([]OpenInvitation, len(rows))
	for i, r := range rows {
		out[i] = OpenInvitation{Invitation: r}
		if r.CreatedBy != nil {
			out[i].Inviter = byID[*r.CreatedBy]
		}
	}
	return out, nil
}

// Invitation looks up one of the project's invitations by id; another
// project's id is kit.ErrNotFound.
func (t Roster) Invitation(ctx context.Context, id string) (Invitation, error) {
	if !kit.IsUUID(id) {
		return Invitation{}, kit.ErrNotFound
	}
	var inv Invitation
	err := t.scoped(ctx).Where("id = ?", id).Take(&inv).Error
	return inv, kit.NotFound(err)
}

// RevokeInvitation withdraws an invitation: its link stops working.
func (t Roster) RevokeInvitation(ctx context.Context, a audit.Actor, id string) (Invitation, error) {
	var out Invitation
	err := t.inTx(ctx, func(tx Roster) error {
		inv, err := tx.Invitation(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.scoped(ctx).Where("id = ?", inv.ID).Delete(&Invitation{}).Error; err != nil {
			return err
		}
		out = inv
		return audit.Record(ctx, tx.bound(), a, audit.ActionInviteRevoked, inv.Email, map[string]any{"invitation": inv.ID})
	})
	return out, err
}

// ErrInviteExpired means an invitation's time is up: the admin can send it
// again.
var ErrInviteExpired = errors.New("invitation expired")

// ErrNotVerified means the account's email address is not verified, so no
// invitation can attach to it yet.
var ErrNotVerified = errors.New("email address not verified")

// ErrOtherAddress means an invitation is for another address than the
// signed-in account's.
var ErrOtherAddress = errors.New("invitation is for another address")

// PendingInvitation is an invitation as the invitee sees it.
type PendingInvitation struct {
	Invitation  Invitation
	ProjectName string
	// InviterName is who sent it, empty when unknown.
	InviterName string
}

// InvitationByToken finds the open invitation whose link carries this token.
// An unknown, replaced, revoked, accepted or declined link is kit.ErrNotFound;
// an old one ErrInviteExpired.
func (s Inbox) InvitationByToken(ctx context.Context, token string) (PendingInvitation, error) {
	if token == "" || len(token) > 100 {
		return PendingInvitation{}, kit.ErrNotFound
	}
	var inv Invitation
	if err := s.db.WithContext(ctx).Where("token_hash = ?", kit.HashToken(token)).Take(&inv).Error; err != nil {
		return PendingInvitation{}, kit.NotFound(err)
	}
	if inv.Expired() {
		return PendingInvitation{}, ErrInviteExpired
	}
	list, err := s.describeInvitations(ctx, []Invitation{inv})
	if err != nil {
		return PendingInvitation{}, err
	}
	if len(list) == 0 {
		return PendingInvitation{}, kit.ErrNotFound
	}
	return list[0], nil
}

// InvitationsFor lists the open, unexpired invitations to the user's email
// address, oldest first. An account whose address is not verified has none:
// an invitation never attaches to an unproven address.
func (s Inbox) InvitationsFor(ctx context.Context, u accounts.User) ([]PendingInvitation, error) {
	if !u.Verified() || u.ProjectID != nil {
		return nil, nil
	}
	var rows []Invitation
	err := s.db.WithContext(ctx).Where("email = ? AND expires_at > ?", u.Email, kit.Now()).Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	return s.describeInvitations(ctx, rows)
}

// describeInvitations adds project and inviter names.
func (s Inbox) describeInvitations(ctx context.Context, rows []Invitation) ([]PendingInvitation, error) {
	var projectIDs, userIDs []string
	for _, inv := range rows {
		projectIDs = append(projectIDs, inv.ProjectID)
		if inv.CreatedBy != nil {
			userIDs = append(userIDs, *inv.CreatedBy)
		}
	}
	names := map[string]string{}
	if len(projectIDs) > 0 {
		var ps []projects.Project
		if err := s.db.WithContext(ctx).Select("id, name").Where("id IN ?", projectIDs).Find(&ps).Error; err != nil {
			return nil, err
		}
		for _, p := range ps {
			names[p.ID] = p.Name
		}
	}
	inviters := map[string]string{}
	if len(userIDs) > 0 {
		var us []accounts.User
		if err := s.db.WithContext(ctx).Where("id IN ?", userIDs).Find(&us).Error; err != nil {
			return nil, err
		}
		for _, u := range us {
			inviters[u.ID] = u.Name()
		}
	}
	out := make([]PendingInvitation, 0, len(rows))
	for _, inv := range rows {
		name, ok := names[inv.ProjectID]
		if !ok {
			continue // the project went while we read
		}
		pi := PendingInvitation{Invitation: inv, ProjectName: name}
		if inv.CreatedBy != nil {
			pi.InviterName = inviters[*inv.CreatedBy]
		}
		out = append(out, pi)
	}
	return out, nil
}

// invitationFor loads an open invitation by id and checks that u may answer
// it: a verified account of the invited address. An expired one comes back
// with ErrInviteExpired, so that it can still be declined.
func invitationFor(ctx context.Context, db *gorm.DB, u accounts.User, id string) (Invitation, error) {
	if !kit.IsUUID(id) {
		return Invitation{}, kit.ErrNotFound
	}
	var inv Invitation
	if err := db.WithContext(ctx).Where("id = ?", id).Take(&inv).Error; err != nil {
		return Invitation{}, kit.NotFound(err)
	}
	switch {
	case u.ProjectID != nil || inv.Email != u.Email:
		// Said as not found: nobody learns of invitations to others.
		return Invitation{}, kit.ErrNotFound
	case !u.Verified():
		return Invitation{}, ErrNotVerified
	case inv.Expired():
		return inv, ErrInviteExpired
	}
	return inv, nil
}

// AcceptInvitation makes u a member of the invitation's project, with the
// role and access policy it offered, and closes the invitation, in one
// transaction. It returns the project's id. u must be a verified account of
// the invited address (else kit.ErrNotFound, ErrNotVerified); an expired
// invitation is ErrInviteExpired. Already being a member closes the
// invitation and changes nothing.
func (s Inbox) AcceptInvitation(ctx context.Context, u accounts.User, id, ip string) (string, error) {
	var projectID string
	defer kit.BumpAuthEpoch()
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		inv, err := invitationFor(ctx, db, u, id)
		if err != nil {
			return err
		}
		tx := For(kit.Bind(db, inv.ProjectID))
		if err := tx.bound().LockProject(ctx); err != nil {
			return err
		}
		res := tx.scoped(ctx).Where("id = ?", inv.ID).Delete(&Invitation{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return kit.ErrNotFound // answered at the same moment elsewhere
		}
		projectID = inv.ProjectID
		a := audit.Actor{UserID: u.ID, Email: u.Email, IP: ip}
		if _, err := tx.Membership(ctx, u.ID); err == nil {
			return nil
		} else if !errors.Is(err, kit.ErrNotFound) {
			return err
		}
		var inactive int64
		if err := tx.scoped(ctx).Model(&ProjectMembership{}).Where("user_id = ?", u.ID).Count(&inactive).Error; err != nil {
			return err
		}
		if inactive > 0 {
			// A deactivated member stays deactivated: only an admin
			// reactivates a membership.
			return &kit.ValidationError{Fields: map[string]string{"invitation": "Your membership of this project was deactivated by an admin; ask them to reactivate it."}}
		}
		inviter := audit.Actor{}
		if inv.CreatedBy != nil {
			inviter.UserID = *inv.CreatedBy
		}
		m, err := tx.InsertMembership(ctx, inviter, u.ID, inv.Admin, inv.AccessPolicyID)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx.bound(), a, audit.ActionInviteAccepted, u.Email, map[string]any{"invitation": inv.ID, "membership": m.ID, "admin": m.Admin})
	})
	return projectID, err
}

// DeclineInvitation closes an invitation to u without joining.
func (s Inbox) DeclineInvitation(ctx context.Context, u accounts.User, id, ip string) error {
	return s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		inv, err := invitationFor(ctx, db, u, id)
		if err != nil && !errors.Is(err, ErrInviteExpired) {
			return err
		}
		tx := For(kit.Bind(db, inv.ProjectID))
		if err := tx.scoped(ctx).Where("id = ?", inv.ID).Delete(&Invitation{}).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx.bound(), audit.Actor{UserID: u.ID, Email: u.Email, IP: ip}, audit.ActionInviteDeclined, u.Email, map[string]any{"invitation": inv.ID})
	})
}
