package models

import (
	"context"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/logins"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/secrets"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// System reaches server-wide data: users, sign-in look-ups, the projects a
// user belongs to, and project creation. It is the one named place where code
// crosses project boundaries, so a reviewer can find every such crossing.
type System struct {
	db *gorm.DB
	// accounts.Store: users, account links, sessions, the throttle.
	accounts.Store
	// secrets.Keys: rotating the secrets key over every project.
	secrets.Keys
	// projects.Registry: the operator's flags on projects.
	projects.Registry
	// members.Inbox: invitations as their invitee finds and answers them.
	members.Inbox
	// clients.Directory: API clients by the client id they present.
	clients.Directory
	// logins.Ledger: programs signed in for a user (authorization codes,
	// refresh tokens).
	logins.Ledger
}

// NewSystem returns the server-wide store.
func NewSystem(db *gorm.DB) System {
	return System{db: db, Store: accounts.New(db), Keys: secrets.NewKeys(db), Registry: projects.NewRegistry(db),
		Inbox: members.NewInbox(db), Directory: clients.NewDirectory(db),
		Ledger: logins.New(db)}
}

// DB exposes the handle for wiring (readiness checks, building Tenants).
func (s System) DB() *gorm.DB { return s.db }

// Tenant returns the store bound to projectID.
func (s System) Tenant(projectID string) Tenant { return ForProject(s.db, projectID) }

// CreateProject makes a project owned by userID, with userID as its admin,
// in one transaction, and moves AuthEpoch once it is committed.
func (s System) CreateProject(ctx context.Context, userID string, n projects.NewProject) (projects.Project, error) {
	if err := n.Validate(); err != nil {
		return projects.Project{}, err
	}
	defer kit.BumpAuthEpoch()
	t := kit.Now()
	owner := userID
	p := projects.Project{ID: uuid.NewString(), Name: n.Name, Description: n.Description, StrictMode: true,
		Features: kit.StringList{}, OwnerID: &owner, Version: 1, CreatedAt: t, UpdatedAt: t}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		_, err := ForProject(tx, p.ID).InsertMembership(ctx, audit.Actor{}, userID, true, nil)
		return err
	})
	return p, err
}

// ProjectAccess is one project a user may enter, and their role there.
type ProjectAccess struct {
	Project    projects.Project
	Membership members.ProjectMembership
}

// ProjectsOf lists the projects where userID has an active membership, by name.
func (s System) ProjectsOf(ctx context.Context, userID string) ([]ProjectAccess, error) {
	var ms []members.ProjectMembership
	if err := s.db.WithContext(ctx).Where("user_id = ? AND active = ?", userID, true).Find(&ms).Error; err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, nil
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ProjectID
	}
	var ps []projects.Project
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("name, id").Find(&ps).Error; err != nil {
		return nil, err
	}
	byProject := make(map[string]members.ProjectMembership, len(ms))
	for _, m := range ms {
		byProject[m.ProjectID] = m
	}
	out := make([]ProjectAccess, len(ps))
	for i, p := range ps {
		out[i] = ProjectAccess{Project: p, Membership: byProject[p.ID]}
	}
	return out, nil
}

// Access resolves userID's way into projectID: the project and the active
// membership, or ErrNotFound when the project does not exist or the user is
// not an active member (the two are indistinguishable on purpose).
func (s System) Access(ctx context.Context, userID, projectID string) (ProjectAccess, error) {
	if _, err := uuid.Parse(projectID); err != nil {
		return ProjectAccess{}, kit.ErrNotFound
	}
	t := s.Tenant(projectID)
	m, err := t.Membership(ctx, userID)
	if err != nil {
		return ProjectAccess{}, err
	}
	p, err := t.Project(ctx)
	if err != nil {
		return ProjectAccess{}, err
	}
	return ProjectAccess{Project: p, Membership: m}, nil
}

// Outbox returns the server's mail queue, its bodies sealed with box.
func (s System) Outbox(box *secrets.Box) *mail.Outbox { return mail.NewOutbox(s.db, box) }
