package models

import (
	"context"
	"time"
)

// AccessPolicy is a named set of resource rules, assignable to members and
// as a project's default patient policy. It is tenant data.
type AccessPolicy struct {
	ID        string
	ProjectID string
	Name      string
	Rules     PolicyRules
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AccessPolicies lists the project's policies by name.
func (t Tenant) AccessPolicies(ctx context.Context) ([]AccessPolicy, error) {
	var out []AccessPolicy
	err := t.scoped(ctx).Order("name, id").Find(&out).Error
	return out, err
}

// AccessPolicy loads one of the project's policies; another project's id is
// ErrNotFound.
func (t Tenant) AccessPolicy(ctx context.Context, id string) (AccessPolicy, error) {
	var p AccessPolicy
	err := t.scoped(ctx).Where("id = ?", id).Take(&p).Error
	return p, notFound(err)
}
