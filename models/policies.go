package models

import (
	"context"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/resources"
	"errors"
)

// PolicyUsage counts the members, open invitations and API clients that
// have the policy.
func (t Tenant) PolicyUsage(ctx context.Context, id string) (int64, error) {
	var assigned, invited int64
	if err := t.scoped(ctx).Model(&members.ProjectMembership{}).Where("access_policy_id = ?", id).Count(&assigned).Error; err != nil {
		return 0, err
	}
	if err := t.scoped(ctx).Model(&members.Invitation{}).Where("access_policy_id = ?", id).Count(&invited).Error; err != nil {
		return 0, err
	}
	apps, err := t.ClientsUsingPolicy(ctx, id)
	return assigned + invited + apps, err
}

// ErrPolicyInUse refuses to delete a policy that members, API clients or
// the project's default still use: without it they would fall back to full access.
var ErrPolicyInUse = errors.New("access policy in use")

// DeleteAccessPolicy removes a policy that nobody uses. A policy assigned to
// members, or set as the default patient policy, is refused with
// ErrPolicyInUse: deleting it would widen their access.
func (t Tenant) DeleteAccessPolicy(ctx context.Context, a audit.Actor, id string) error {
	return t.inTx(ctx, func(tx Tenant) error {
		p, err := tx.AccessPolicy(ctx, id)
		if err != nil {
			return err
		}
		used, err := tx.PolicyUsage(ctx, id)
		if err != nil {
			return err
		}
		proj, err := tx.Project(ctx)
		if err != nil {
			return err
		}
		if used > 0 || kit.Deref(proj.DefaultPatientAccessPolicy) == id {
			return ErrPolicyInUse
		}
		if err := tx.scoped(ctx).Where("id = ?", id).Delete(&resources.AccessPolicy{}).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx.bound(), a, audit.ActionPolicyDeleted, p.Name, map[string]any{"id": id})
	})
}
