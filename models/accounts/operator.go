package accounts

import (
	"context"
	"enclave/models/kit"
	"time"

	"gorm.io/gorm"
)

// The operator's acts on one account. Each runs in the caller's
// transaction tx, so that models can audit it in the same one; the caller
// moves kit.AuthEpoch once it is committed.

// SetDeactivated deactivates the account (on) and ends every session of
// it at once, or reactivates it. An unknown user is kit.ErrNotFound.
func SetDeactivated(ctx context.Context, tx *gorm.DB, userID string, on bool) error {
	var at *time.Time
	if on {
		t := kit.Now()
		at = &t
	}
	res := tx.WithContext(ctx).Model(&User{}).Where("id = ?", userID).
		Updates(map[string]any{"deactivated_at": at, "updated_at": kit.Now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return kit.ErrNotFound
	}
	if !on {
		return nil
	}
	return endSessionsAndResets(tx.WithContext(ctx), userID, "")
}

// temporaryPasswordBytes is the randomness of a temporary password: 96
// bits, 16 characters of base64url.
const temporaryPasswordBytes = 12

// SetTemporaryPassword gives the account a new random password, returned
// once and stored only hashed, that must be changed at the next sign-in,
// and ends every session of the account.
func SetTemporaryPassword(ctx context.Context, tx *gorm.DB, userID string) (string, error) {
	pw, err := kit.NewTokenOf(temporaryPasswordBytes)
	if err != nil {
		return "", err
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return "", err
	}
	res := tx.WithContext(ctx).Model(&User{}).Where("id = ?", userID).
		Updates(map[string]any{"password_hash": hash, "must_change_password": true, "updated_at": kit.Now()})
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected == 0 {
		return "", kit.ErrNotFound
	}
	return pw, endSessionsAndResets(tx.WithContext(ctx), userID, "")
}
