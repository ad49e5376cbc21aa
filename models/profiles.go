package models

import (
	"context"
	"enclave/models/kit"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ProfileType is the resource type of people's membership profiles.
const ProfileType = "Practitioner"

// practitionerFor is the profile resource of a user: their name and email.
func practitionerFor(u User) map[string]any {
	name := map[string]any{}
	if u.FirstName != "" {
		name["given"] = []any{u.FirstName}
	}
	if u.LastName != "" {
		name["family"] = u.LastName
	}
	res := map[string]any{"resourceType": ProfileType}
	if len(name) > 0 {
		res["name"] = []any{name}
	}
	if u.Email != "" {
		res["telecom"] = []any{map[string]any{"system": "email", "value": u.Email, "use": "work"}}
	}
	return res
}

// attachProfile creates the membership's profile resource in the project,
// on t's handle (the caller's transaction), and records it on m.
func (t Tenant) attachProfile(ctx context.Context, m *ProjectMembership) error {
	var u User
	if err := t.db.WithContext(ctx).Where("id = ?", m.UserID).Take(&u).Error; err != nil {
		return fmt.Errorf("profile for membership: %w", kit.NotFound(err))
	}
	id, err := t.insertProfile(ctx, u)
	if err != nil {
		return err
	}
	m.ProfileType, m.ProfileID = ProfileType, &id
	return nil
}

// insertProfile stores version 1 of a Practitioner for u, with its history
// and search index rows, and returns its id.
func (t Tenant) insertProfile(ctx context.Context, u User) (string, error) {
	tx := t.db.WithContext(ctx)
	if DialectOf(t.db) == Postgres {
		// Row-level security checks new rows against the transaction's project.
		if err := tx.Exec("SELECT set_config('enclave.project_id', ?, true)", t.projectID).Error; err != nil {
			return "", err
		}
	}
	res := practitionerFor(u)
	id := uuid.NewString()
	at := resourceTime()
	content, err := t.stamp(res, id, 1, at)
	if err != nil {
		return "", err
	}
	r := Resource{Type: ProfileType, ID: id, VersionID: "1", LastUpdated: at, JSON: content}
	if err := tx.Exec(`INSERT INTO resources (project_id, resource_type, id, version_id, last_updated, deleted, content)
		VALUES (?, ?, ?, 1, ?, FALSE, ?)`, t.projectID, ProfileType, id, at, string(content)).Error; err != nil {
		return "", err
	}
	return id, t.writeVersion(tx, r, 1, res)
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
			t := ForProject(tx, m.ProjectID)
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

// checkProfileWrite refuses a member's change to someone else's membership
// profile: only the person it describes and the project's admins may change
// or delete it.
func (t Tenant) checkProfileWrite(ctx context.Context, resourceType, id string) error {
	if resourceType != ProfileType || t.member == nil || t.member.Admin {
		return nil
	}
	var owners []string
	err := t.scoped(ctx).Model(&ProjectMembership{}).Where("profile_type = ? AND profile_id = ?", ProfileType, id).Pluck("id", &owners).Error
	if err != nil {
		return err
	}
	for _, owner := range owners {
		if owner != t.member.ID {
			return fmt.Errorf("%w: this %s is another member's profile; only they and the project's admins can change it", ErrForbidden, ProfileType)
		}
	}
	return nil
}
