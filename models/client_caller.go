package models

import (
	"context"
	"errors"

	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/resources"

	"gorm.io/gorm"
)

// ClientCaller is an API client that a request's access token names, as
// ResolveClient read it: the client, its project and its access policy.
// Treat it as read-only: a cache may share it between requests.
type ClientCaller struct {
	Client  clients.Client
	Project projects.Project
	// Policy is the client's access policy; nil when it has none.
	Policy *resources.AccessPolicy

	resolved bool
	db       *gorm.DB
}

// ResolveClient reads the client clientID of projectID with its project and
// access policy, for a request that carries one of its tokens. A client
// that does not exist in that project is ErrNotFound; one whose policy is
// gone is ErrPolicyMissing.
func (s System) ResolveClient(ctx context.Context, projectID, clientID string) (ClientCaller, error) {
	if !kit.IsUUID(projectID) || !kit.IsUUID(clientID) {
		return ClientCaller{}, kit.ErrNotFound
	}
	t := s.Tenant(projectID)
	c, err := t.Client(ctx, clientID)
	if err != nil {
		return ClientCaller{}, err
	}
	p, err := t.Project(ctx)
	if err != nil {
		return ClientCaller{}, err
	}
	out := ClientCaller{Client: c, Project: p, resolved: true, db: s.db}
	if id := c.AccessPolicyID; id != nil {
		pol, err := t.AccessPolicy(ctx, *id)
		if errors.Is(err, kit.ErrNotFound) {
			return ClientCaller{}, ErrPolicyMissing
		}
		if err != nil {
			return ClientCaller{}, err
		}
		out.Policy = &pol
	}
	return out, nil
}

// Enter builds the scope of the client's project: its store restricted by
// the client's policy, acting as a member who is not an admin and has no
// profile. A disabled client, or a ClientCaller not made by ResolveClient,
// enters nothing (ErrNotFound).
func (c ClientCaller) Enter() (Scope, error) {
	if !c.resolved || !c.Client.Enabled {
		return Scope{}, kit.ErrNotFound
	}
	m := members.ProjectMembership{ProjectID: c.Project.ID}
	t := ForProject(c.db, c.Project.ID).WithProject(c.Project).WithMember(m)
	var policy *resources.AccessPolicy
	if c.Policy != nil {
		// A client has no profile: rules using %patient or %profile grant
		// it nothing.
		pol := c.Policy.ForProfile("")
		t = t.WithPolicy(&pol)
		policy = &pol
	}
	cl := c.Client
	return Scope{access: ProjectAccess{Project: c.Project, Membership: m}, store: &t, client: &cl, policy: policy}, nil
}
