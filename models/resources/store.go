package resources

import (
	"context"

	"enclave/models/kit"
	"enclave/models/projects"

	"gorm.io/gorm"
)

// Store is one project's resources and access policies.
type Store struct {
	db        *gorm.DB
	projectID string
	// policy restricts what the store may read and write of the project's
	// resources; nil means full access.
	policy *AccessPolicy
	// project is the project row as the caller's resolution loaded it, so
	// that a write need not read it again; nil means read it when needed.
	project *projects.Project
	// member is who the store acts for, when it acts for a member: it
	// decides who may change membership profiles. nil means the server
	// itself (tests, sub-commands, migrations).
	member *Acting
}

// Acting is the membership a store acts for.
type Acting struct {
	MembershipID string
	Admin        bool
}

// For is the resource store of b's project.
func For(b kit.Bound) Store { return Store{db: b.DB(), projectID: b.ProjectID()} }

// WithProject returns the store carrying p, the project row already loaded
// for this request, so that writes take the project's flags from it instead
// of reading the row again. p must be the store's own project; any other, or
// nil, is ignored.
func (t Store) WithProject(p *projects.Project) Store {
	if p != nil && p.ID == t.projectID {
		t.project = p
	}
	return t
}

// ActingFor returns the store acting for a membership (nil: the server).
func (t Store) ActingFor(m *Acting) Store {
	t.member = m
	return t
}

// bound is the store's handle, fixed to its project.
func (t Store) bound() kit.Bound { return kit.Bind(t.db, t.projectID) }

// scoped starts a query on a project table, filtered to this project.
func (t Store) scoped(ctx context.Context) *gorm.DB { return t.bound().Scoped(ctx) }

// inTx runs fn with the store bound to one transaction (see kit.Bound.InTx).
func (t Store) inTx(ctx context.Context, fn func(tx Store) error) error {
	return t.bound().InTx(ctx, func(b kit.Bound) error {
		tx := t
		tx.db = b.DB()
		return fn(tx)
	})
}
