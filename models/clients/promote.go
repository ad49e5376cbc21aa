package clients

import (
	"context"
	"errors"
	"time"

	"enclave/models/audit"
	"enclave/models/kit"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// PutByName gives project to, on tx (a promotion's transaction, see package
// promote), a client with src's name and settings (description, redirect
// URIs, token lifetime, enabled), under policyID (an access policy of
// project to; nil for none): it updates the client of that name, or makes
// one. A made client has a secret nobody ever sees, so it cannot sign in
// until an admin of to rotates its secret; an updated one keeps its
// secrets, and turning it off voids its tokens. It reports whether it made
// the client. It works behind to's row-level-security wall and leaves it
// again (see kit.Bound.Walled), so that the rest of tx keeps its rights.
func PutByName(ctx context.Context, tx *gorm.DB, to string, src Client, policyID *string, a audit.Actor) (made bool, err error) {
	err = kit.Bind(tx, to).Walled(ctx, func(w kit.Bound) error {
		now := clock()
		uris := kit.StringList(append([]string{}, src.RedirectURIs...))
		var cur row
		err := w.Scoped(ctx).Where("name = ?", src.Name).Take(&cur).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			_, hash, err := newSecret()
			if err != nil {
				return err
			}
			made = true
			return w.DB().WithContext(ctx).Create(&row{ID: uuid.NewString(), ProjectID: to, Name: src.Name,
				Description: src.Description, RedirectURIs: uris, AccessPolicyID: policyID,
				TokenLifetime: int(src.TokenLifetime / time.Second), Enabled: src.Enabled, SecretHash: hash,
				CreatedAt: now, UpdatedAt: now, UpdatedBy: a.UserRef()}).Error
		}
		if err != nil {
			return err
		}
		update := map[string]any{"description": src.Description, "redirect_uris": uris,
			"token_lifetime": int(src.TokenLifetime / time.Second), "enabled": src.Enabled, "access_policy_id": policyID,
			"updated_at": now, "updated_by": a.UserRef()}
		if cur.Enabled && !src.Enabled {
			update["revoked_before"] = now
		}
		return w.Scoped(ctx).Model(&row{}).Where("id = ?", cur.ID).Updates(update).Error
	})
	return made && err == nil, err
}
