package models

import (
	"context"
	"enclave/models/kit"
	"errors"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// System reaches server-wide data: users, sign-in look-ups, the projects a
// user belongs to, and project creation. It is the one named place where code
// crosses project boundaries, so a reviewer can find every such crossing.
type System struct {
	db *gorm.DB
}

// NewSystem returns the server-wide store.
func NewSystem(db *gorm.DB) System { return System{db: db} }

// DB exposes the handle for wiring (readiness checks, building Tenants).
func (s System) DB() *gorm.DB { return s.db }

// Tenant returns the store bound to projectID.
func (s System) Tenant(projectID string) Tenant { return ForProject(s.db, projectID) }

// emailTaken is the message for a registration with a known email.
const emailTaken = "An account with this email already exists. Sign in instead."

// CreateUser registers a server-wide user.
func (s System) CreateUser(ctx context.Context, n NewUser) (User, error) {
	if err := n.Validate(); err != nil {
		return User{}, err
	}
	if _, err := s.UserByEmail(ctx, n.Email); err == nil {
		return User{}, &ValidationError{Fields: map[string]string{"email": emailTaken}}
	} else if !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return User{}, err
	}
	t := kit.Now()
	u := User{ID: uuid.NewString(), FirstName: n.FirstName, LastName: n.LastName, Email: n.Email,
		PasswordHash: hash, CreatedAt: t, UpdatedAt: t}
	if err := s.db.WithContext(ctx).Create(&u).Error; err != nil {
		if kit.IsUniqueViolation(err) {
			return User{}, &ValidationError{Fields: map[string]string{"email": emailTaken}}
		}
		return User{}, err
	}
	return u, nil
}

// EmailRegistered reports whether a server-wide user has this email.
func (s System) EmailRegistered(ctx context.Context, email string) (bool, error) {
	_, err := s.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// UserByEmail finds a server-wide user by email, case-insensitively.
func (s System) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("email = ? AND project_id IS NULL", NormalizeEmail(email)).Take(&u).Error
	return u, kit.NotFound(err)
}

// UserByID loads a user.
func (s System) UserByID(ctx context.Context, id string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error
	return u, kit.NotFound(err)
}

// ErrBadCredentials is returned for any failed sign-in, without saying
// whether the email or the password was wrong.
var ErrBadCredentials = errors.New("email or password is incorrect")

// Authenticate checks an email and password.
func (s System) Authenticate(ctx context.Context, email, password string) (User, error) {
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		burnPasswordCheck(password)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, err
	}
	if !u.CheckPassword(password) {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// CreateProject makes a project owned by userID, with userID as its admin,
// in one transaction, and moves AuthEpoch once it is committed.
func (s System) CreateProject(ctx context.Context, userID string, n NewProject) (Project, error) {
	if err := n.Validate(); err != nil {
		return Project{}, err
	}
	defer kit.BumpAuthEpoch()
	t := kit.Now()
	owner := userID
	p := Project{ID: uuid.NewString(), Name: n.Name, Description: n.Description, StrictMode: true,
		Features: StringList{}, OwnerID: &owner, Version: 1, CreatedAt: t, UpdatedAt: t}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		_, err := ForProject(tx, p.ID).insertMembership(ctx, Actor{}, userID, true, nil)
		return err
	})
	return p, err
}

// ProjectAccess is one project a user may enter, and their role there.
type ProjectAccess struct {
	Project    Project
	Membership ProjectMembership
}

// ProjectsOf lists the projects where userID has an active membership, by name.
func (s System) ProjectsOf(ctx context.Context, userID string) ([]ProjectAccess, error) {
	var ms []ProjectMembership
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
	var ps []Project
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("name, id").Find(&ps).Error; err != nil {
		return nil, err
	}
	byProject := make(map[string]ProjectMembership, len(ms))
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
		return ProjectAccess{}, ErrNotFound
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
