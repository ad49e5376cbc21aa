package models

import (
	"context"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/resources"
	"errors"
)

// Scope is one request's way into one project: the signed-in user, their
// active membership, the project, and the project's store bound to it and
// restricted by the member's access policy. It is the only way web handlers
// reach project data, and it can be made only from a resolved Caller
// (Caller.Enter), so holding one proves the membership was checked, or from
// a resolved API client (ClientCaller.Enter), which has no user. Its zero
// value has no store: every method that needs one panics rather than reach
// the database unscoped.
type Scope struct {
	user   accounts.User
	access ProjectAccess
	store  *Tenant
	// client is the API client the scope acts for, when an access token
	// made it (ClientCaller.Enter); user is then empty.
	client *clients.Client
	// login is the login of a user's access token (Caller.LoginID).
	login string
	// policy is the access policy the store is restricted by, if any.
	policy *resources.AccessPolicy
	// operator is set on a super admin's read-only view of a project they
	// are no member of (Caller.Operate).
	operator bool
}

// ErrPolicyMissing refuses a membership that names an access policy its
// project does not have: entering would grant full access instead.
var ErrPolicyMissing = errors.New("the membership's access policy is missing")

// Enter builds the scope of projectID for a caller that ResolveCaller
// returned. A project that was not resolved, or where the user is not an
// active member, is ErrNotFound; a Caller not made by ResolveCaller enters
// nothing.
func (c Caller) Enter(projectID string) (Scope, error) {
	if !c.resolved || !c.SignedIn() {
		return Scope{}, kit.ErrNotFound
	}
	a, err := c.Access(projectID)
	if err != nil {
		return Scope{}, err
	}
	t := ForProject(c.db, a.Project.ID).WithProject(a.Project).WithMember(a.Membership)
	var policy *resources.AccessPolicy
	if id := a.Membership.AccessPolicyID; id != nil {
		if a.Policy == nil || a.Policy.ID != *id {
			return Scope{}, ErrPolicyMissing
		}
		// Bound here, per caller, so that a cached Caller shares only the
		// stored policy and each scope gets its own variables filled.
		pol := a.Policy.ForProfile(profileRef(a.Membership))
		t = t.WithPolicy(&pol)
		policy = &pol
	}
	return Scope{policy: policy, user: c.User, access: a.ProjectAccess, store: &t, login: c.LoginID}, nil
}

// LoginID is the login of the user's access token; empty for a session.
func (s Scope) LoginID() string { return s.login }

// Policy is the member's access policy; nil when they have none.
func (s Scope) Policy() *resources.AccessPolicy { return s.policy }

// Store is the project's store, restricted by the member's access policy.
func (s Scope) Store() Tenant {
	if s.store == nil {
		panic("models: use of a Scope that Caller.Enter did not make")
	}
	return *s.store
}

// Client is the API client the scope acts for; ok is false for a member.
func (s Scope) Client() (c clients.Client, ok bool) {
	if s.client == nil {
		return clients.Client{}, false
	}
	return *s.client, true
}

// User is the signed-in user; empty for an API client.
func (s Scope) User() accounts.User { return s.user }

// Project is the project, as the caller's resolution loaded it.
func (s Scope) Project() projects.Project { return s.access.Project }

// Membership is the user's active membership of the project.
func (s Scope) Membership() members.ProjectMembership { return s.access.Membership }

// Access is the project with the membership.
func (s Scope) Access() ProjectAccess { return s.access }

// Admin reports whether the member is one of the project's admins; an
// operator's view counts as one, to read the admin pages (every write is
// refused to it: see Operator).
func (s Scope) Admin() bool { return s.operator || s.access.Membership.Admin }

// Operator reports whether the scope is a super admin's operator view of a
// project they are no member of: read-only, and audited in the project.
// Web middleware refuses every request that could change something.
func (s Scope) Operator() bool { return s.operator }

// Actor is the member acting in this scope, from ip, for the audit log.
func (s Scope) Actor(ip string) audit.Actor {
	return audit.Actor{UserID: s.user.ID, Email: s.user.Email, IP: ip}
}

// Profile reads the member's own profile resource (their Practitioner),
// which they may read whatever their access policy says: it is who they
// are. kit.ErrNotFound when the membership has none.
func (s Scope) Profile(ctx context.Context) (resources.Resource, error) {
	m := s.access.Membership
	if s.store == nil || m.ProfileID == nil || m.ProfileType == "" {
		return resources.Resource{}, kit.ErrNotFound
	}
	return resources.For(s.store.bound()).ReadResource(ctx, m.ProfileType, *m.ProfileID)
}

// profileRef is the membership's profile as a reference ("Patient/123"),
// or "" when it has none.
func profileRef(m members.ProjectMembership) string {
	if m.ProfileID == nil || m.ProfileType == "" {
		return ""
	}
	return m.ProfileType + "/" + *m.ProfileID
}
