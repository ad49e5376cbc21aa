package models

import (
	"context"
	"enclave/models/kit"
)

// SetProjectFlags sets a project's strictMode and checkReferencesOnWrite,
// and moves its version as every change of a project does.
// It exists for tests and tools until the settings page owns these flags.
func (s System) SetProjectFlags(ctx context.Context, projectID string, strictMode, checkReferencesOnWrite bool) error {
	defer kit.BumpAuthEpoch()
	res := s.db.WithContext(ctx).Model(&Project{}).Where("id = ?", projectID).
		Updates(map[string]any{"strict_mode": strictMode, "check_references_on_write": checkReferencesOnWrite,
			"version": gormExpr("version + 1"), "updated_at": kit.Now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
