package models

import (
	"context"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/models/secrets"

	"gorm.io/gorm"
)

// Tenant is the only door to one project's data. It is made by ForProject
// with the project id fixed, and every query it runs is filtered by that id;
// handlers get one from middleware that has already checked membership.
type Tenant struct {
	db        *gorm.DB
	projectID string
	// policy restricts what the store may read and write of the project's
	// resources; nil means full access.
	policy *AccessPolicy
	// project is the project row as the caller's resolution loaded it, so
	// that a write need not read it again; nil means read it when needed.
	project *Project
	// member is the membership the store acts for, when it acts for one:
	// it decides who may change membership profiles. nil means the server
	// itself (tests, sub-commands, migrations).
	member *ProjectMembership

	// The domain stores, bound to the same project (see wired).
	audit.Trail
	resources.Store
}

// WithMember returns the store acting for membership m of its project.
func (t Tenant) WithMember(m ProjectMembership) Tenant {
	if m.ProjectID == t.projectID {
		t.member = &m
	}
	return t.wired()
}

// ForProject binds a store to one project.
func ForProject(db *gorm.DB, projectID string) Tenant {
	return Tenant{db: db, projectID: projectID}.wired()
}

// WithProject returns the store carrying p, the project row already loaded
// for this request (by the caller's resolution), so that writes take the
// project's settings from it instead of reading the row again. p must be the
// store's own project; any other is ignored.
func (t Tenant) WithProject(p Project) Tenant {
	if p.ID == t.projectID {
		t.project = &p
	}
	return t.wired()
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
	return p, kit.NotFound(err)
}

// Member is a membership with the user it belongs to.
type Member struct {
	Membership ProjectMembership
	User       User
	// Inviter is who invited the member; zero when nobody did or the
	// account is gone.
	Inviter User
}

// Members lists the project's memberships with their users and inviters, in
// the order they joined.
func (t Tenant) Members(ctx context.Context) ([]Member, error) {
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
		if m.InvitedBy != nil {
			out[i].Inviter = byID[*m.InvitedBy]
		}
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
	return m, kit.NotFound(err)
}

// AddMember makes an existing user an active member of the project,
// recording who did it. A user who is already a member (active or not) is a
// validation error on the email field.
func (t Tenant) AddMember(ctx context.Context, a Actor, userID string, admin bool, policyID *string) (ProjectMembership, error) {
	var m ProjectMembership
	err := t.inTx(ctx, func(tx Tenant) error {
		if err := tx.checkPolicy(ctx, policyID); err != nil {
			return err
		}
		var err error
		if m, err = tx.insertMembership(ctx, a, userID, admin, policyID); err != nil {
			return err
		}
		return audit.Record(ctx, tx.bound(), a, ActionMemberAdded, userID, map[string]any{"membership": m.ID, "admin": admin})
	})
	return m, err
}

// bound is the store's handle, fixed to its project.
func (t Tenant) bound() kit.Bound { return kit.Bind(t.db, t.projectID) }

// wired binds the domain stores the Tenant is made of to its handle, policy
// and member; every method that changes one of those calls it last.
func (t Tenant) wired() Tenant {
	b := t.bound()
	t.Trail = audit.For(b)
	var acting *resources.Acting
	if t.member != nil {
		acting = &resources.Acting{MembershipID: t.member.ID, Admin: t.member.Admin}
	}
	t.Store = resources.For(b).WithPolicy(t.policy).WithProject(t.project).ActingFor(acting)
	return t
}

// WithPolicy returns the store restricted by an access policy, as a member
// with that policy sees the project's resources (see
// resources.Store.WithPolicy). A nil policy means full access.
func (t Tenant) WithPolicy(p *AccessPolicy) Tenant {
	t.policy = p
	return t.wired()
}

// inTx runs fn with a Tenant bound to the same project inside one
// transaction, and moves AuthEpoch once the transaction has ended: what fn
// changed is visible to anyone who reads the new epoch.
func (t Tenant) inTx(ctx context.Context, fn func(tx Tenant) error) error {
	return t.bound().InTx(ctx, func(b kit.Bound) error {
		bound := t
		bound.db = b.DB()
		return fn(bound.wired())
	})
}

// RecordSignIn writes a server-wide sign-in event. a.UserID is empty when
// the email matched no account.
func (s System) RecordSignIn(ctx context.Context, a Actor, succeeded bool) error {
	return audit.RecordSignIn(ctx, s.db, a, succeeded)
}

// Secrets returns the project's secrets, sealed and opened with box.
func (t Tenant) Secrets(box *secrets.Box) secrets.Store { return secrets.For(t.bound(), box) }
