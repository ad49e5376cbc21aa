package clients

import (
	"context"
	"time"

	"enclave/models/audit"
	"enclave/models/kit"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ProjectClients lists the clients of projectID by name, on tx: a
// transaction that works in two projects (a compare or a promotion, see
// package promote). It reads behind projectID's row-level-security wall and
// leaves the wall again, so that the rest of tx keeps its rights.
func ProjectClients(ctx context.Context, tx *gorm.DB, projectID string) ([]Client, error) {
	if err := kit.EnterWall(ctx, tx, "enclave.project_id", projectID); err != nil {
		return nil, err
	}
	var rows []row
	if err := tx.WithContext(ctx).Where("project_id = ?", projectID).Order("name, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Client, len(rows))
	for i, r := range rows {
		out[i] = r.client()
	}
	return out, leaveWall(ctx, tx)
}

// PutByName gives project to, on tx, a client with src's name and settings
// (description, redirect URIs, token lifetime, enabled), under policyID (an
// access policy of project to; nil for none): it updates the client of that
// name, or makes one. A made client has a secret nobody ever sees, so it
// cannot sign in until an admin of to rotates its secret; an updated one
// keeps its secrets, and turning it off voids its tokens. It reports
// whether it made the client.
func PutByName(ctx context.Context, tx *gorm.DB, to string, src Client, policyID *string, a audit.Actor) (bool, error) {
	if err := kit.EnterWall(ctx, tx, "enclave.project_id", to); err != nil {
		return false, err
	}
	now := clock()
	var cur row
	err := tx.WithContext(ctx).Where("project_id = ? AND name = ?", to, src.Name).Take(&cur).Error
	switch {
	case kit.NotFound(err) == kit.ErrNotFound:
		_, hash, err := newSecret()
		if err != nil {
			return false, err
		}
		r := row{ID: uuid.NewString(), ProjectID: to, Name: src.Name, Description: src.Description,
			RedirectURIs: kit.StringList(append([]string{}, src.RedirectURIs...)), AccessPolicyID: policyID,
			TokenLifetime: int(src.TokenLifetime / time.Second), Enabled: src.Enabled, SecretHash: hash,
			CreatedAt: now, UpdatedAt: now, UpdatedBy: a.UserRef()}
		if err := tx.WithContext(ctx).Create(&r).Error; err != nil {
			return false, err
		}
		return true, leaveWall(ctx, tx)
	case err != nil:
		return false, err
	}
	update := map[string]any{"description": src.Description, "redirect_uris": kit.StringList(append([]string{}, src.RedirectURIs...)),
		"token_lifetime": int(src.TokenLifetime / time.Second), "enabled": src.Enabled, "access_policy_id": policyID,
		"updated_at": now, "updated_by": a.UserRef()}
	if cur.Enabled && !src.Enabled {
		update["revoked_before"] = now
	}
	if err := tx.WithContext(ctx).Model(&row{}).Where("project_id = ? AND id = ?", to, cur.ID).Updates(update).Error; err != nil {
		return false, err
	}
	return false, leaveWall(ctx, tx)
}

// leaveWall takes tx back to the application's own role after EnterWall.
func leaveWall(ctx context.Context, tx *gorm.DB) error {
	if kit.DialectOf(tx) != kit.Postgres {
		return nil
	}
	return tx.WithContext(ctx).Exec("SELECT set_config('role', 'none', true)").Error
}
