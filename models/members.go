package models

import (
	"context"
	"enclave/models/audit"
	"enclave/models/kit"
	"errors"
	"time"

	"github.com/google/uuid"
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

// checkPolicy refuses a policy id that is not one of this project's.
func (t Tenant) checkPolicy(ctx context.Context, id *string) error {
	if id == nil {
		return nil
	}
	if _, err := uuid.Parse(*id); err == nil {
		if _, err = t.AccessPolicy(ctx, *id); !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return &ValidationError{Fields: map[string]string{"accessPolicy": "Choose one of this project's access policies."}}
}

// insertMembership adds an active membership with its profile resource,
// recording who invited it. Call it inside a transaction, and move
// AuthEpoch again once that is committed.
func (t Tenant) insertMembership(ctx context.Context, a Actor, userID string, admin bool, policyID *string) (ProjectMembership, error) {
	kit.BumpAuthEpoch()
	ts := kit.Now()
	m := ProjectMembership{ID: uuid.NewString(), ProjectID: t.projectID, UserID: userID, Admin: admin, Active: true,
		AccessPolicyID: policyID, CreatedAt: ts, UpdatedAt: ts}
	if a.UserID != "" {
		inviter := a.UserID
		m.InvitedBy = &inviter
	}
	if err := t.attachProfile(ctx, &m); err != nil {
		return m, err
	}
	if err := t.db.WithContext(ctx).Create(&m).Error; err != nil {
		if kit.IsUniqueViolation(err) {
			return m, &ValidationError{Fields: map[string]string{"email": "This person is already a member of the project."}}
		}
		return m, err
	}
	return m, nil
}

// Member looks up one of the project's memberships by id; another project's
// id is ErrNotFound.
func (t Tenant) Member(ctx context.Context, membershipID string) (Member, error) {
	if _, err := uuid.Parse(membershipID); err != nil {
		return Member{}, ErrNotFound
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
		if err := t.db.WithContext(ctx).Where("id = ?", *m.InvitedBy).Take(&out.Inviter).Error; kit.NotFound(err) != ErrNotFound && err != nil {
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
func (t Tenant) UpdateMember(ctx context.Context, a Actor, membershipID string, u MemberUpdate) (Member, error) {
	var out Member
	err := t.inTx(ctx, func(tx Tenant) error {
		if err := tx.bound().LockProject(ctx); err != nil {
			return err
		}
		before, err := tx.Member(ctx, membershipID)
		if err != nil {
			return err
		}
		if err := tx.checkPolicy(ctx, u.AccessPolicyID); err != nil {
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
			details["admin"] = Change{Before: b.Admin, After: m.Admin}
		}
		if b.Active != m.Active {
			details["active"] = Change{Before: b.Active, After: m.Active}
		}
		if kit.Deref(b.AccessPolicyID) != kit.Deref(m.AccessPolicyID) {
			details["accessPolicy"] = Change{Before: b.AccessPolicyID, After: m.AccessPolicyID}
		}
		return audit.Record(ctx, tx.bound(), a, ActionMemberUpdated, before.User.Email, details)
	})
	return out, err
}

// RemoveMember deletes a membership and returns what
// was removed. The last active admin cannot be removed (ErrLastAdmin). The
// account itself stays: it may belong to other projects.
func (t Tenant) RemoveMember(ctx context.Context, a Actor, membershipID string) (Member, error) {
	var out Member
	err := t.inTx(ctx, func(tx Tenant) error {
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
		return audit.Record(ctx, tx.bound(), a, ActionMemberRemoved, m.User.Email, map[string]any{"membership": m.Membership.ID, "admin": m.Membership.Admin})
	})
	return out, err
}

// keepAnAdmin returns ErrLastAdmin when m is an active admin who can sign in
// and no other such admin exists. Call it under lockProject.
func (t Tenant) keepAnAdmin(ctx context.Context, m Member) error {
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
