package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"gorm.io/gorm/clause"
)

// Session is a server-side sign-in session. The browser holds only a random
// token; the row is keyed by the token's SHA-256, so a copy of the database
// does not hand out live sessions.
type Session struct {
	ID        string
	UserID    *string
	Data      []byte
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Sessions persists sessions for the web layer's session store. Every write
// moves AuthEpoch once done.
type Sessions struct{ sys System }

// Sessions returns the session persistence.
func (s System) Sessions() Sessions { return Sessions{sys: s} }

// Load returns the data of a live session, or ErrNotFound.
func (s Sessions) Load(ctx context.Context, token string) ([]byte, error) {
	var row Session
	err := s.sys.db.WithContext(ctx).Where("id = ? AND expires_at > ?", sessionKey(token), now()).Take(&row).Error
	if err != nil {
		return nil, notFound(err)
	}
	return row.Data, nil
}

// Save writes a session's data, creating the row if needed.
func (s Sessions) Save(ctx context.Context, token string, userID *string, data []byte, expires time.Time) error {
	t := now()
	row := Session{ID: sessionKey(token), UserID: userID, Data: data, ExpiresAt: expires.UTC(), CreatedAt: t, UpdatedAt: t}
	defer bumpAuthEpoch()
	return s.sys.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"user_id", "data", "expires_at", "updated_at"}),
	}).Create(&row).Error
}

// Delete ends a session.
func (s Sessions) Delete(ctx context.Context, token string) error {
	defer bumpAuthEpoch()
	return s.sys.db.WithContext(ctx).Where("id = ?", sessionKey(token)).Delete(&Session{}).Error
}

// DeleteExpired removes sessions past their expiry and says how many.
func (s Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	res := s.sys.db.WithContext(ctx).Where("expires_at <= ?", now()).Delete(&Session{})
	if res.RowsAffected > 0 {
		bumpAuthEpoch()
	}
	return res.RowsAffected, res.Error
}
