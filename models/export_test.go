package models

import (
	"context"

	"gorm.io/gorm"
)

// InTenantTx exposes the tenant transaction to the row-level security test,
// which runs deliberately unfiltered SQL inside it.
func (t Tenant) InTenantTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return t.tenantTx(ctx, true, fn)
}
