package accounts

import (
	"context"
	"crypto/sha256"
	"enclave/models/kit"
	"encoding/hex"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ThrottleRule says how fast attempts under one key may come: Free of them
// at once, then each waits twice as long as the one before (from one
// second, at most Max). A key quiet for Window starts afresh.
type ThrottleRule struct {
	Free   int
	Max    time.Duration
	Window time.Duration
}

// The rules of the console's sign-in and registration.
var (
	// One account from one client address: a guesser slows down, and
	// nobody elsewhere is locked out.
	SignInPerAccount = ThrottleRule{Free: 5, Max: 15 * time.Minute, Window: 15 * time.Minute}
	// One client address across accounts: password spraying (successful
	// sign-ins are refunded, see RefundAttempt).
	SignInPerAddress = ThrottleRule{Free: 30, Max: 15 * time.Minute, Window: 15 * time.Minute}
	// Registrations from one client address.
	RegisterPerAddress = ThrottleRule{Free: 10, Max: time.Hour, Window: time.Hour}
	// New email-verification links asked for by one account.
	VerifyLinksPerAccount = ThrottleRule{Free: 5, Max: time.Hour, Window: time.Hour}
	// Password-reset links asked for one email address, from anywhere:
	// nobody can fill someone's inbox with them.
	ResetPerEmail = ThrottleRule{Free: 5, Max: time.Hour, Window: time.Hour}
	// Password-reset links asked for from one client address, across
	// email addresses.
	ResetPerAddress = ThrottleRule{Free: 20, Max: time.Hour, Window: time.Hour}
)

// delay is how long the attempt after the n-th must wait.
func (r ThrottleRule) delay(n int) time.Duration {
	if n < r.Free {
		return 0
	}
	d := time.Second
	for i := r.Free; i < n && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

// Throttle is one row of attempt counts.
type Throttle struct {
	ID        string // SHA-256 of the key
	Attempts  int
	AllowedAt time.Time
	UpdatedAt time.Time
}

// TableName keeps GORM from pluralising.
func (Throttle) TableName() string { return "throttle" }

// Attempt records one attempt under key before the caller does the costly
// or sensitive work, and says how long to wait when the attempt comes too
// soon (0 means go ahead). The count and the decision are one locked step,
// so parallel attempts cannot all slip through.
func (s Store) Attempt(ctx context.Context, key string, rule ThrottleRule) (time.Duration, error) {
	k := throttleKey(key)
	var wait time.Duration
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		at := throttleClock()
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&Throttle{ID: k, AllowedAt: at, UpdatedAt: at}).Error; err != nil {
			return err
		}
		q := tx
		if kit.DialectOf(tx) == kit.Postgres {
			q = tx.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var t Throttle
		if err := q.Where("id = ?", k).Take(&t).Error; err != nil {
			return err
		}
		// The time of this attempt is taken once it holds the row, so
		// that attempts queued behind one another see times in order.
		at = throttleClock()
		if at.Sub(t.UpdatedAt) > rule.Window {
			t.Attempts = 0
		}
		if t.AllowedAt.After(at) {
			wait = t.AllowedAt.Sub(at)
			return nil
		}
		t.Attempts++
		t.AllowedAt = at.Add(rule.delay(t.Attempts))
		t.UpdatedAt = at
		return tx.Model(&Throttle{}).Where("id = ?", k).
			Updates(map[string]any{"attempts": t.Attempts, "allowed_at": t.AllowedAt, "updated_at": t.UpdatedAt}).Error
	})
	return wait, err
}

// ResetAttempts forgets the attempts under key (after a successful sign-in).
func (s Store) ResetAttempts(ctx context.Context, key string) error {
	return s.db.WithContext(ctx).Where("id = ?", throttleKey(key)).Delete(&Throttle{}).Error
}

// RefundAttempt takes back one attempt under key: an attempt that turned
// out well (a correct sign-in) does not count towards its address's limit,
// so that many people behind one address can sign in, while failures there
// still add up.
func (s Store) RefundAttempt(ctx context.Context, key string) error {
	return s.db.WithContext(ctx).Model(&Throttle{}).Where("id = ? AND attempts > 0", throttleKey(key)).
		Update("attempts", gorm.Expr("attempts - 1")).Error
}

// throttleClock is the throttle's clock; tests move it.
var throttleClock = kit.Now

// throttleKey keeps emails and addresses out of the table.
func throttleKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// SetThrottleClockForTests makes the throttle read the time from clock until
// the returned function restores it; tests only.
func SetThrottleClockForTests(clock func() time.Time) (restore func()) {
	old := throttleClock
	throttleClock = clock
	return func() { throttleClock = old }
}
