package models

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Tenant is the only door to one project's data. It is made by ForProject
// with the project id fixed, and every query it runs is filtered by that id;
// handlers get one from middleware that has already checked membership.
type Tenant struct {
	db        *gorm.DB
	projectID string
}

// ForProject binds a store to one project.
func ForProject(db *gorm.DB, projectID string) Tenant {
	return Tenant{db: db, projectID: projectID}
}

// ProjectID is the project this store is bound to.
func (t Tenant) ProjectID() string { return t.projectID }

// scoped starts a query on a tenant table, filtered to this project.
func (t Tenant) scoped(ctx context.Context) *gorm.DB {
	return t.db.WithContext(ctx).Where("project_id = ?", t.projectID)
}

// Project loads the project itself.
func (t Tenant) Project(ctx context.Context) (Project, error) {
	var p Project
	err := t.db.WithContext(ctx).Where("id = ?", t.projectID).Take(&p).Error
	return p, notFound(err)
}

// Member is a membership with the user it belongs to.
type Member struct {
	Membership ProjectMembership
	User       User
}

// Members lists the project's memberships with their users, by name.
func (t Tenant) Members(ctx context.Context) ([]Member, error) {
	var ms []ProjectMembership
	if err := t.scoped(ctx).Order("created_at, id").Find(&ms).Error; err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	var users []User
	if len(ids) > 0 {
		if err := t.db.WithContext(ctx).Where("id IN ?", ids).Find(&users).Error; err != nil {
			return nil, err
		}
	}
	byID := make(map[string]User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	out := make([]Member, len(ms))
	for i, m := range ms {
		out[i] = Member{Membership: m, User: byID[m.UserID]}
	}
	return out, nil
}

// MemberCount counts the project's active members.
func (t Tenant) MemberCount(ctx context.Context) (int64, error) {
	var n int64
	err := t.scoped(ctx).Model(&ProjectMembership{}).Where("active = ?", true).Count(&n).Error
	return n, err
}

// Membership returns userID's active membership in this project, or
// ErrNotFound when there is none.
func (t Tenant) Membership(ctx context.Context, userID string) (ProjectMembership, error) {
	var m ProjectMembership
	err := t.scoped(ctx).Where("user_id = ? AND active = ?", userID, true).Take(&m).Error
	return m, notFound(err)
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// AddMember makes an existing user an active member of the project (or
// reactivates them), recording who did it. It is the one way memberships are
// added after project creation.
func (t Tenant) AddMember(ctx context.Context, a Actor, userID string, admin bool, policyID *string) (ProjectMembership, error) {
	var m ProjectMembership
	err := t.inTx(ctx, func(tx Tenant) error {
		if policyID != nil {
			if _, err := tx.AccessPolicy(ctx, *policyID); err != nil {
				return &ValidationError{Fields: map[string]string{"accessPolicy": "Choose one of this project's access policies."}}
			}
		}
		ts := now()
		err := tx.scoped(ctx).Where("user_id = ?", userID).Take(&m).Error
		if err == nil {
			return &ValidationError{Fields: map[string]string{"email": "This person is already a member of the project."}}
		}
		if err = notFound(err); err != ErrNotFound {
			return err
		}
		m = ProjectMembership{ID: uuid.NewString(), ProjectID: tx.projectID, UserID: userID, Admin: admin, Active: true,
			AccessPolicyID: policyID, CreatedAt: ts, UpdatedAt: ts}
		if a.UserID != "" {
			inviter := a.UserID
			m.InvitedBy = &inviter
		}
		if err := tx.db.WithContext(ctx).Create(&m).Error; err != nil {
			return err
		}
		return tx.record(ctx, a, ActionMemberAdded, userID, map[string]any{"admin": admin})
	})
	return m, err
}
