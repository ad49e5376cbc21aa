// Package members holds who belongs to a project: memberships (role, access
// policy, profile resource), the rule that a project keeps an admin, and
// invitations to an email address, from the link sent to the address to the
// verified account that accepts it.
package members

import (
	"context"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/resources"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ProjectMembership makes a user a member (and maybe an admin) of a project.
type ProjectMembership struct {
	ID        string
	ProjectID string
	UserID    string
	Admin     bool
	Active    bool
	// AccessPolicyID is the member's access policy in this project, if any.
	AccessPolicyID *string
	// InvitedBy is the user who invited this member, if any.
	InvitedBy *string
	// ProfileType and ProfileID name the member's profile resource in the
	// project (a Practitioner for people).
	ProfileType string
	ProfileID   *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ErrLastAdmin refuses a change that would leave a project without an active
// admin who can sign in.
var ErrLastAdmin = errors.New("the project must keep at least one active admin")

// InsertMembership adds an active membership with its profile resource,
// recording who invited it. Call it inside a transaction, and move
// AuthEpoch again once that is committed.
func (t Roster) InsertMembership(ctx context.Context, a audit.Actor, userID string, admin bool, policyID *string) (ProjectMembership, error) {
	m := t.newMembership(a, userID, admin, policyID)
	if err := t.attachProfile(ctx, &m); err != nil {
		return m, err
	}
	return m, t.insert(ctx, &m)
}

// InsertPatientMembership adds an active membership of u as a patient: not
// an admin, under the access policy policyID, with a new Patient resource
// as its profile (u's name and email, and birthDate when not ""). Call it
// inside a transaction, and move AuthEpoch again once that is committed.
func (t Roster) InsertPatientMembership(ctx context.Context, u accounts.User, policyID, birthDate string) (ProjectMembership, error) {
	m := t.newMembership(audit.Actor{}, u.ID, false, &policyID)
	id, err := t.resources().InsertPatientProfile(ctx, u, birthDate)
	if err != nil {
		return m, err
	}
	m.ProfileType, m.ProfileID = resources.PatientProfileType, &id
	return m, t.insert(ctx, &m)
}

func (t Roster) newMembership(a audit.Actor, userID string, admin bool, policyID *string) ProjectMembership {
	kit.BumpAuthEpoch()
	ts := kit.Now()
	m := ProjectMembership{ID: uuid.NewString(), ProjectID: t.projectID, UserID: userID, Admin: admin, Active: true,
		AccessPolicyID: policyID, CreatedAt: ts, UpdatedAt: ts}
	if a.UserID != "" {
		inviter := a.UserID
		m.InvitedBy = &inviter
	}
	return m
}

func (t Roster) insert(ctx context.Context, m *ProjectMembership) error {
	if err := t.db.WithContext(ctx).Create(m).Error; err != nil {
		if kit.IsUniqueViolation(err) {
			return &kit.ValidationError{Fields: map[string]string{"email": "This person is already a member of the project."}}
		}
		return err
	}
	return nil
}

// Member looks up one of the project's memberships by id; another project's
// id is kit.ErrNotFound.
func (t Roster) Member(ctx context.Context, membershipID string) (Member, error) {
	if _, err := uuid.Parse(membershipID); err != nil {
		return Member{}, kit.ErrNotFound
	}
	var m ProjectMembership
	if err := t.scoped(ctx).Where("id = ?", membershipID).Take(&m).Error; err != nil {
		return Member{}, kit.NotFound(err)
	}
	out := Member{Membership: m}
	if err := t.db.WithContext(ctx).Where("id = ?", m.UserID).Take(&out.User).Error; err != nil {
		return Member{}, err
	}
	if m.InvitedBy != nil {
		if err := t.db.WithContext(ctx).Where("id = ?", *m.InvitedBy).Take(&out.Inviter).Error; kit.NotFound(err) != kit.ErrNotFound && err != nil {
			return Member{}, err
		}
	}
	return out, nil
}

// MemberUpdate is an admin's edit of a membership.
type MemberUpdate struct {
	Admin          bool
	Active         bool
	AccessPolicyID *string
}

// UpdateMember changes a membership's admin flag, active flag and access
// policy. It refuses with ErrLastAdmin to demote or deactivate the last
// active admin; the check and the change run under a lock on the project, so
// two concurrent requests cannot both pass it.
func (t Roster) UpdateMember(ctx context.Context, a audit.Actor, membershipID string, u MemberUpdate) (Member, error) {
	var out Member
	err := t.inTx(ctx, func(tx Roster) error {
		if err := tx.bound().LockProject(ctx); err != nil {
			return err
		}
		before, err := tx.Member(ctx, membershipID)
		if err != nil {
			return err
		}
		if err := tx.resources().CheckPolicyChoice(ctx, kit.Deref(u.AccessPolicyID)); err != nil {
			return err
		}
		if !u.Admin || !u.Active {
			if err := tx.keepAnAdmin(ctx, before); err != nil {
				return err
			}
		}
		m := before.Membership
		m.Admin, m.Active, m.AccessPolicyID, m.UpdatedAt = u.Admin, u.Active, u.AccessPolicyID, kit.Now()
		if err := tx.scoped(ctx).Model(&ProjectMembership{}).Where("id = ?", m.ID).
			Updates(map[string]any{"admin": m.Admin, "active": m.Active, "access_policy_id": m.AccessPolicyID, "updated_at": m.UpdatedAt}).Error; err != nil {
			return err
		}
		out = before
		out.Membership = m
		details := map[string]any{"membership": m.ID}
		b := before.Membership
		if b.Admin != m.Admin {
			details["admin"] = audit.Change{Before: b.Admin, After: m.Admin}
		}
		if b.Active != m.Active {
			details["active"] = audit.Change{Before: b.Active, After: m.Active}
		}
		if kit.Deref(b.AccessPolicyID) != kit.Deref(m.AccessPolicyID) {
			details["accessPolicy"] = audit.Change{Before: b.AccessPolicyID, After: m.AccessPolicyID}
		}
		return audit.Record(ctx, tx.bound(), a, audit.ActionMemberUpdated, before.User.Email, details)
	})
	return out, err
}

// RemoveMember deletes a membership and returns what
// was removed. The last active admin cannot be removed (ErrLastAdmin). The
// account itself stays: it may belong to other projects.
func (t Roster) RemoveMember(ctx context.Context, a audit.Actor, membershipID string) (Member, error) {
	var out Member
	err := t.inTx(ctx, func(tx Roster) error {
		if err := tx.bound().LockProject(ctx); err != nil {
			return err
		}
		m, err := tx.Member(ctx, membershipID)
		if err != nil {
			return err
		}
		if err := tx.keepAnAdmin(ctx, m); err != nil {
			return err
		}
		if err := tx.scoped(ctx).Where("id = ?", m.Membership.ID).Delete(&ProjectMembership{}).Error; err != nil {
			return err
		}
		out = m
		return audit.Record(ctx, tx.bound(), a, audit.ActionMemberRemoved, m.User.Email, map[string]any{"membership": m.Membership.ID, "admin": m.Membership.Admin})
	})
	return out, err
}

// keepAnAdmin returns ErrLastAdmin when m is an active admin who can sign in
// and no other such admin exists. Call it under lockProject.
func (t Roster) keepAnAdmin(ctx context.Context, m Member) error {
	if !m.Membership.Admin || !m.Membership.Active || m.User.PasswordHash == "" {
		return nil
	}
	var n int64
	err := t.db.WithContext(ctx).Table("project_memberships AS m").
		Joins("JOIN users AS u ON u.id = m.user_id").
		Where("m.project_id = ? AND m.admin = ? AND m.active = ? AND u.password_hash <> '' AND m.id <> ?",
			t.projectID, true, true, m.Membership.ID).
		Count(&n).Error
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}

// Member is a membership with the user it belongs to.
type Member struct {
	Membership ProjectMembership
	User       accounts.User
	// Inviter is who invited the member; zero when nobody did or the
	// account is gone.
	Inviter accounts.User
}

// Members lists the project's memberships with their users and inviters, in
// the order they joined.
func (t Roster) Members(ctx context.Context) ([]Member, error) {
	var ms []ProjectMembership
	if err := t.scoped(ctx).Order("created_at, id").Find(&ms).Error; err != nil {
		return nil, err
	}
	ids := make([]string, 0, 2*len(ms))
	for _, m := range ms {
		ids = append(ids, m.UserID)
		if m.InvitedBy != nil {
			ids = append(ids, *m.InvitedBy)
		}
	}
	var users []accounts.User
	if len(ids) > 0 {
		if err := t.db.WithContext(ctx).Where("id IN ?", ids).Find(&users).Error; err != nil {
			return nil, err
		}
	}
	byID := make(map[string]accounts.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	out := make([]Member, len(ms))
	for i, m := range ms {
		out[i] = Member{Membership: m, User: byID[m.UserID]}
		if m.InvitedBy != nil {
			out[i].Inviter = byID[*m.InvitedBy]
		}
	}
	return out, nil
}

// MemberCount counts the project's active members.
func (t Roster) MemberCount(ctx context.Context) (int64, error) {
	var n int64
	err := t.scoped(ctx).Model(&ProjectMembership{}).Where("active = ?", true).Count(&n).Error
	return n, err
}

// Membership returns userID's active membership in this project, or
// kit.ErrNotFound when there is none.
func (t Roster) Membership(ctx context.Context, userID string) (ProjectMembership, error) {
	var m ProjectMembership
	err := t.scoped(ctx).Where("user_id = ? AND active = ?", userID, true).Take(&m).Error
	return m, kit.NotFound(err)
}

// AddMember makes an existing user an active member of the project,
// recording who did it. A user who is already a member (active or not) is a
// validation error on the email field; a deleted project is kit.ErrNotFound.
func (t Roster) AddMember(ctx context.Context, a audit.Actor, userID string, admin bool, policyID *string) (ProjectMembership, error) {
	var m ProjectMembership
	err := t.inTx(ctx, func(tx Roster) error {
		if err := tx.bound().LockProject(ctx); err != nil {
			return err
		}
		if err := tx.resources().CheckPolicyChoice(ctx, kit.Deref(policyID)); err != nil {
			return err
		}
		var err error
		if m, err = tx.InsertMembership(ctx, a, userID, admin, policyID); err != nil {
			return err
		}
		return audit.Record(ctx, tx.bound(), a, audit.ActionMemberAdded, userID, map[string]any{"membership": m.ID, "admin": admin})
	})
	return m, err
}

// Roster is one project's memberships and invitations.
type Roster struct {
	db        *gorm.DB
	projectID string
}

// For is the roster of b's project.
func For(b kit.Bound) Roster { return Roster{db: b.DB(), projectID: b.ProjectID()} }

// bound is the roster's handle, fixed to its project.
func (t Roster) bound() kit.Bound { return kit.Bind(t.db, t.projectID) }

// scoped starts a query on a project table, filtered to this project.
func (t Roster) scoped(ctx context.Context) *gorm.DB { return t.bound().Scoped(ctx) }

// inTx runs fn with the roster bound to one transaction (see kit.Bound.InTx).
func (t Roster) inTx(ctx context.Context, fn func(tx Roster) error) error {
	return t.bound().InTx(ctx, func(b kit.Bound) error { return fn(For(b)) })
}

// resources is the project's resource store on the same handle (profiles,
// policies).
func (t Roster) resources() resources.Store { return resources.For(t.bound()) }

// Inbox is the server-wide side of invitations: those addressed to one
// person, found by their address or by the link's token, and answered.
type Inbox struct{ db *gorm.DB }

// NewInbox returns the invitations inbox of db.
func NewInbox(db *gorm.DB) Inbox { return Inbox{db: db} }
