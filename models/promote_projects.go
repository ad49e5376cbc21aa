package models

import (
	"context"

	"enclave/models/projects"
	"enclave/models/promote"
	"enclave/models/secrets"
)

// The compare and promote of two projects (package promote) crosses project
// boundaries: web lets super admins compare any two projects, and other
// users two they are an admin of.

// CompareProjects compares project a with project b; box opens the secrets
// to compare their values in the server.
func (s System) CompareProjects(ctx context.Context, box *secrets.Box, a, b string) (promote.Diff, error) {
	return promote.Compare(ctx, s.db, box, a, b)
}

// PromoteProjects copies the chosen items of one project to another, in
// one transaction (see promote.Promote).
func (s System) PromoteProjects(ctx context.Context, box *secrets.Box, in promote.Input) (promote.Result, error) {
	return promote.Promote(ctx, s.db, box, in)
}

// FindProject finds a project by its id or exact name, for the operator's
// compare form (see promote.FindProject).
func (s System) FindProject(ctx context.Context, field, ref string) (projects.Project, error) {
	return promote.FindProject(ctx, s.db, field, ref)
}
