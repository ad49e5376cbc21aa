package models

import (
	"context"
	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/projects"
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
	policy *resources.AccessPolicy
	// project is the project row as the caller's resolution loaded it, so
	// that a write need not read it again; nil means read it when needed.
	project *projects.Project
	// member is the membership the store acts for, when it acts for one:
	// it decides who may change membership profiles. nil means the server
	// itself (tests, sub-commands, migrations).
	member *members.ProjectMembership

	// The domain stores, bound to the same project (see wired).
	audit.Trail
	resources.Store
	members.Roster
	clients.Apps
}

// WithMember returns the store acting for membership m of its project.
func (t Tenant) WithMember(m members.ProjectMembership) Tenant {
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
func (t Tenant) WithProject(p projects.Project) Tenant {
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
func (t Tenant) Project(ctx context.Context) (projects.Project, error) {
	var p projects.Project
	err := t.db.WithContext(ctx).Where("id = ?", t.projectID).Take(&p).Error
	return p, kit.NotFound(err)
}

// bound is the store's handle, fixed to its project.
func (t Tenant) bound() kit.Bound { return kit.Bind(t.db, t.projectID) }

// wired binds the domain stores the Tenant is made of to its handle, policy
// and member; every method that changes one of those calls it last.
func (t Tenant) wired() Tenant {
	b := t.bound()
	t.Trail = audit.For(b)
	t.Roster = members.For(b)
	t.Apps = clients.For(b)
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
func (t Tenant) WithPolicy(p *resources.AccessPolicy) Tenant {
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
func (s System) RecordSignIn(ctx context.Context, a audit.Actor, succeeded bool) error {
	return audit.RecordSignIn(ctx, s.db, a, succeeded)
}

// Secrets returns the project's secrets, sealed and opened with box.
func (t Tenant) Secrets(box *secrets.Box) secrets.Store { return secrets.For(t.bound(), box) }
