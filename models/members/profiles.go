package members

import (
	"context"
	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/resources"
	"fmt"

	"gorm.io/gorm"
)

// attachProfile creates the membership's profile resource in the project,
// on t's handle (the caller's transaction), and records it on m.
func (t Roster) attachProfile(ctx context.Context, m *ProjectMembership) error {
	var u accounts.User
	if err := t.db.WithContext(ctx).Where("id = ?", m.UserID).Take(&u).Error; err != nil {
		return fmt.Errorf("profile for membership: %w", kit.NotFound(err))
	}
	id, err := t.resources().InsertProfile(ctx, u)
	if err != nil {
		return err
	}
	m.ProfileType, m.ProfileID = resources.ProfileType, &id
	return nil
}

// BackfillProfiles gives every membership that has no profile resource one,
// each in its own transaction, and says how many it made. Migrate runs it,
// so memberships from before profiles existed get theirs on upgrade.
func BackfillProfiles(ctx context.Context, db *gorm.DB) (int, error) {
	var ms []ProjectMembership
	if err := db.WithContext(ctx).Where("profile_id IS NULL").Order("created_at, id").Find(&ms).Error; err != nil {
		return 0, err
	}
	for i, m := range ms {
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			t := For(kit.Bind(tx, m.ProjectID))
			if err := t.attachProfile(ctx, &m); err != nil {
				return err
			}
			return tx.Model(&ProjectMembership{}).Where("id = ? AND profile_id IS NULL", m.ID).
				Updates(map[string]any{"profile_type": m.ProfileType, "profile_id": m.ProfileID}).Error
		})
		if err != nil {
			return i, fmt.Errorf("profile for membership %s: %w", m.ID, err)
		}
	}
	return len(ms), nil
}
