package projects

import (
	"context"
	"enclave/models/kit"

	"gorm.io/gorm"
)

// Registry acts on projects server-wide: the operator's flags.
type Registry struct{ db *gorm.DB }

// NewRegistry returns the server-wide project registry of db.
func NewRegistry(db *gorm.DB) Registry { return Registry{db: db} }

// SetProjectFlags sets a project's strictMode and checkReferencesOnWrite,
// and moves its version as every change of a project does.
// It exists for tests and tools until the settings page owns these flags.
func (r Registry) SetProjectFlags(ctx context.Context, projectID string, strictMode, checkReferencesOnWrite bool) error {
	defer kit.BumpAuthEpoch()
	res := r.db.WithContext(ctx).Model(&Project{}).Where("id = ?", projectID).
		Updates(map[string]any{"strict_mode": strictMode, "check_references_on_write": checkReferencesOnWrite,
			"version": gorm.Expr("version + 1"), "updated_at": kit.Now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return kit.ErrNotFound
	}
	return nil
}

// IsSuperAdmin reports whether userID is a server operator: an active
// admin, under no access policy, of a project whose superAdmin flag is set.
// Plain members of that project are not, so that the power cannot spread
// to whoever an admin invites; nor are the admins of a deleted one.
func (r Registry) IsSuperAdmin(ctx context.Context, userID string) (bool, error) {
	var n int64
	err := r.db.WithContext(ctx).Table("project_memberships AS m").
		Joins("JOIN projects AS p ON p.id = m.project_id").
		Where("m.user_id = ? AND m.active = ? AND m.admin = ? AND m.access_policy_id IS NULL AND p.super_admin = ? AND p.deleted_at IS NULL", userID, true, true, true).
		Count(&n).Error
	return n > 0, err
}

// SetSuperAdmin marks a project as the super-admin project (or not). It is a
// server operator's act, outside any project admin's reach: used to bootstrap
// the first super admin and by tests.
func (r Registry) SetSuperAdmin(ctx context.Context, projectID string, on bool) error {
	defer kit.BumpAuthEpoch()
	res := r.db.WithContext(ctx).Model(&Project{}).Where("id = ?", projectID).
		Updates(map[string]any{"super_admin": on, "version": gorm.Expr("version + 1"), "updated_at": kit.Now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return kit.ErrNotFound
	}
	return nil
}
