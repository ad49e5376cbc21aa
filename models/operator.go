package models

import (
	"context"

	"enclave/models/audit"
	"enclave/models/projectops"
	"enclave/models/secrets"
)

// CloneProject copies a project into a new one for a super admin (see
// projectops.Clone); box opens and seals the secrets. The caller checks
// that in.Actor is a super admin.
func (s System) CloneProject(ctx context.Context, box *secrets.Box, in projectops.CloneInput) (projectops.CloneResult, error) {
	return projectops.Clone(ctx, s.db, box, in)
}

// ExpungeProject hard-deletes a project and everything of it for a super
// admin (see projectops.Expunge). The caller checks that a is a super admin.
func (s System) ExpungeProject(ctx context.Context, a audit.Actor, projectID string) (projectops.ExpungeResult, error) {
	return projectops.Expunge(ctx, s.db, a, projectID)
}

// SweepClones deletes what clones whose process died before they committed
// left behind (see projectops.SweepClones), and returns how many.
func (s System) SweepClones(ctx context.Context) (int, error) {
	return projectops.SweepClones(ctx, s.db)
}
