package accounts

import (
	"context"
	"enclave/models/kit"
	"strings"
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
	// IP and UserAgent describe where the session was last used from.
	IP        string
	UserAgent string
	// LastSeenAt is when the session was last used, to about a minute
	// (see Touch); nil until then.
	LastSeenAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SessionMeta is where a session is used from: the client's address and
// browser.
type SessionMeta struct {
	IP        string
	UserAgent string
}

// maxUserAgent bounds the stored User-Agent.
const maxUserAgent = 300

// sessionKey is a session row's key: its token's SHA-256, like every
// stored token (hashToken).
func sessionKey(token string) string { return kit.HashToken(token) }

// Sessions persists sessions for the web layer's session store. Every write
// moves AuthEpoch once done.
type Sessions struct{ s Store }

// Sessions returns the session persistence.
func (s Store) Sessions() Sessions { return Sessions{s: s} }

// Load returns the data of a live session, or kit.ErrNotFound.
func (s Sessions) Load(ctx context.Context, token string) ([]byte, error) {
	var row Session
	err := s.s.db.WithContext(ctx).Where("id = ? AND expires_at > ?", sessionKey(token), kit.Now()).Take(&row).Error
	if err != nil {
		return nil, kit.NotFound(err)
	}
	return row.Data, nil
}

// Save writes a session's data, creating the row if needed; meta is where
// it is used from, and the time counts as its last use.
func (s Sessions) Save(ctx context.Context, token string, userID *string, data []byte, expires time.Time, meta SessionMeta) error {
	t := kit.Now()
	row := Session{ID: sessionKey(token), UserID: userID, Data: data, ExpiresAt: expires.UTC(), IP: meta.IP,
		UserAgent: storedUserAgent(meta.UserAgent), LastSeenAt: &t, CreatedAt: t, UpdatedAt: t}
	defer kit.BumpAuthEpoch()
	return s.s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"user_id", "data", "expires_at", "ip", "user_agent", "last_seen_at", "updated_at"}),
	}).Create(&row).Error
}

// Update writes the data of a session that exists. A session ended while
// a request was using it (signed out elsewhere, or by a password change) is
// kit.ErrNotFound and stays ended, where Save would bring it back.
func (s Sessions) Update(ctx context.Context, token string, userID *string, data []byte, expires time.Time, meta SessionMeta) error {
	t := kit.Now()
	defer kit.BumpAuthEpoch()
	res := s.s.db.WithContext(ctx).Model(&Session{}).Where("id = ?", sessionKey(token)).Updates(map[string]any{
		"user_id": userID, "data": data, "expires_at": expires.UTC(), "ip": meta.IP,
		"user_agent": storedUserAgent(meta.UserAgent), "last_seen_at": t, "updated_at": t})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return kit.ErrNotFound
	}
	return nil
}

// storedUserAgent is a User-Agent as sessions keep it: valid UTF-8, at most
// maxUserAgent bytes.
func storedUserAgent(ua string) string {
	ua = strings.ToValidUTF8(ua, "")
	if len(ua) > maxUserAgent {
		ua = strings.ToValidUTF8(ua[:maxUserAgent], "")
	}
	return ua
}

// TouchEvery is how stale a session's last use may get before a request
// records it again.
const TouchEvery = time.Minute

// Touch records that the session is in use now, from meta's address. It
// does not move AuthEpoch: nothing a caller may do depends on it.
func (s Sessions) Touch(ctx context.Context, token string, meta SessionMeta) error {
	return s.s.db.WithContext(ctx).Model(&Session{}).Where("id = ?", sessionKey(token)).
		Updates(map[string]any{"last_seen_at": kit.Now(), "ip": meta.IP}).Error
}

// Delete ends a session.
func (s Sessions) Delete(ctx context.Context, token string) error {
	defer kit.BumpAuthEpoch()
	return s.s.db.WithContext(ctx).Where("id = ?", sessionKey(token)).Delete(&Session{}).Error
}

// DeleteExpired removes sessions past their expiry and says how many.
func (s Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	res := s.s.db.WithContext(ctx).Where("expires_at <= ?", kit.Now()).Delete(&Session{})
	if res.RowsAffected > 0 {
		kit.BumpAuthEpoch()
	}
	return res.RowsAffected, res.Error
}
