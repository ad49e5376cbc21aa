// Package mail is the outbox: mail written in the transaction of the change
// it tells about, sealed at rest, and sent later by a background worker that
// retries. A request never waits for the mail server.
package mail

import (
	"context"
	"enclave/models/kit"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Message is one plain-text email.
type Message struct {
	To      string
	Subject string
	// Body usually holds a one-time link: the outbox keeps it sealed.
	Body string
	// Purpose names the mail in the sender's log, e.g. "password-reset".
	Purpose string
}

// How the outbox retries: a mail that failed waits FirstRetry, twice as long
// after each further failure, and is given up (kept, marked failed) after
// MaxAttempts tries, about an hour after the first. A claimed mail belongs to
// its sender for Lease: if that sender dies mid-send, the mail is claimed
// again once the lease runs out.
const (
	FirstRetry  = 30 * time.Second
	MaxAttempts = 8
	Lease       = 10 * time.Minute
)

// maxLastError bounds the mail server's answer kept with a failed mail.
const maxLastError = 200

// outboxRow is a queued mail as stored; the body only sealed.
type outboxRow struct {
	ID            string
	Recipient     string
	Subject       string
	Body          []byte
	KeyID         string
	Purpose       string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	SentAt        *time.Time
	FailedAt      *time.Time
	CreatedAt     time.Time
}

func (outboxRow) TableName() string { return "outbox" }

// pendingMail selects the mail neither sent nor given up.
const pendingMail = "sent_at IS NULL AND failed_at IS NULL"

// Outbox is the queue of mail waiting for the background sender. Mail is
// queued in the transaction of the change that causes it (see Letter), and
// several server instances may send from one queue: each mail is claimed by
// one sender at a time. Bodies are sealed with the secrets key.
type Outbox struct {
	db  *gorm.DB
	box Sealer
}

// Sealer seals and opens bodies with the secrets key (secrets.Box).
type Sealer interface {
	KeyID() string
	Seal(aad, value []byte) ([]byte, error)
	Open(aad, sealed []byte) ([]byte, bool)
}

// NewOutbox returns the server's mail queue in db, its bodies sealed with box.
func NewOutbox(db *gorm.DB, box Sealer) *Outbox { return &Outbox{db: db, box: box} }

// outboxClock is the outbox's clock; tests move it.
var outboxClock = kit.Now

// SetClockForTests makes the outbox read the time from clock until the
// returned function restores it; tests only.
func SetClockForTests(clock func() time.Time) (restore func()) {
	old := outboxClock
	outboxClock = clock
	return func() { outboxClock = old }
}

func outboxAAD(id string) []byte { return []byte("enclave/outbox/v1\x00" + id) }

// Enqueue queues m in tx, the transaction that writes the change the mail
// is about, so that a rollback takes the mail with it; nil queues it on its
// own.
func (o *Outbox) Enqueue(ctx context.Context, tx *gorm.DB, m Message) error {
	if tx == nil {
		tx = o.db
	}
	ts := outboxClock()
	r := outboxRow{ID: uuid.NewString(), Recipient: m.To, Subject: m.Subject, KeyID: o.box.KeyID(), Purpose: m.Purpose,
		NextAttemptAt: ts, CreatedAt: ts}
	var err error
	if r.Body, err = o.box.Seal(outboxAAD(r.ID), []byte(m.Body)); err != nil {
		return err
	}
	return tx.WithContext(ctx).Create(&r).Error
}

// Queued is a mail a sender claimed: it is that sender's to send until the
// lease runs out.
type Queued struct {
	ID string
	Message
	// Attempts counts the tries, this one included.
	Attempts int
}

// Claim takes up to n due mails for this sender: each counts one more
// attempt and is not due again for Lease. Concurrent claimers, on
// other server instances too, never take the same mail. A mail whose body
// does not open (sealed with another key) is given up on the spot.
func (o *Outbox) Claim(ctx context.Context, n int) ([]Queued, error) {
	ts := outboxClock()
	db := o.db.WithContext(ctx)
	// An idle sender only reads.
	var due []string
	if err := db.Model(&outboxRow{}).Where(pendingMail+" AND next_attempt_at <= ?", ts).Limit(1).Pluck("id", &due).Error; err != nil {
		return nil, err
	}
	if len(due) == 0 {
		return nil, nil
	}
	// PostgreSQL: rows another claimer holds are skipped, and a row it
	// claimed meanwhile is checked again and no longer due. SQLite runs one
	// writer at a time.
	skipLocked := ""
	if kit.DialectOf(o.db) == kit.Postgres {
		skipLocked = " FOR UPDATE SKIP LOCKED"
	}
	var rows []outboxRow
	err := db.Raw(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?
WHERE id IN (SELECT id FROM outbox WHERE `+pendingMail+` AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`+skipLocked+`)
  AND `+pendingMail+` AND next_attempt_at <= ?
RETURNING id, recipient, subject, body, key_id, purpose, attempts`, ts.Add(Lease), ts, n, ts).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]Queued, 0, len(rows))
	for _, r := range rows {
		body, err := o.open(r)
		if err != nil {
			if gerr := o.giveUp(ctx, r.ID, shortError(err)); gerr != nil {
				return out, gerr
			}
			continue
		}
		out = append(out, Queued{ID: r.ID, Attempts: r.Attempts,
			Message: Message{To: r.Recipient, Subject: r.Subject, Body: string(body), Purpose: r.Purpose}})
	}
	return out, nil
}

// open decrypts a queued mail's body.
func (o *Outbox) open(r outboxRow) ([]byte, error) {
	if r.KeyID != o.box.KeyID() {
		return nil, fmt.Errorf("sealed with secrets key %s, but the configured key is %s", r.KeyID, o.box.KeyID())
	}
	body, ok := o.box.Open(outboxAAD(r.ID), r.Body)
	if !ok {
		return nil, errors.New("the stored body does not decrypt")
	}
	return body, nil
}

// MarkSent records that the mail server took the mail, and forgets its
// body.
func (o *Outbox) MarkSent(ctx context.Context, id string) error {
	return o.db.WithContext(ctx).Model(&outboxRow{}).Where("id = ? AND sent_at IS NULL", id).
		Updates(map[string]any{"sent_at": outboxClock(), "body": nil}).Error
}

// MarkFailed records that sending m failed with cause and says when it is
// tried again: FirstRetry after the first attempt, doubling after
// each. After MaxAttempts the mail is given up: it stays, marked
// failed, without its body, and the zero time is returned.
func (o *Outbox) MarkFailed(ctx context.Context, m Queued, cause error) (time.Time, error) {
	msg := shortError(cause)
	if m.Attempts >= MaxAttempts {
		return time.Time{}, o.giveUp(ctx, m.ID, msg)
	}
	next := outboxClock().Add(retryDelay(m.Attempts))
	err := o.db.WithContext(ctx).Model(&outboxRow{}).Where("id = ? AND "+pendingMail, m.ID).
		Updates(map[string]any{"next_attempt_at": next, "last_error": msg}).Error
	return next, err
}

// retryDelay is the wait after the attempts-th failed attempt.
func retryDelay(attempts int) time.Duration {
	return FirstRetry << (max(attempts, 1) - 1)
}

// giveUp marks a mail failed for good, with msg (see shortError), and
// forgets its body.
func (o *Outbox) giveUp(ctx context.Context, id, msg string) error {
	return o.db.WithContext(ctx).Model(&outboxRow{}).Where("id = ? AND "+pendingMail, id).
		Updates(map[string]any{"failed_at": outboxClock(), "body": nil, "last_error": msg}).Error
}

// shortError is the first line of err, cut to maxLastError characters.
func shortError(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if utf8.RuneCountInString(msg) > maxLastError {
		msg = string([]rune(msg)[:maxLastError-1]) + "…"
	}
	return strings.TrimSpace(msg)
}

// Backlog counts the mail waiting to be sent (due or retrying), for
// monitoring.
func (o *Outbox) Backlog(ctx context.Context) (int64, error) {
	var n int64
	err := o.db.WithContext(ctx).Model(&outboxRow{}).Where(pendingMail).Count(&n).Error
	return n, err
}

// Purge deletes the mail sent, or given up, more than age ago, and returns
// how many.
func (o *Outbox) Purge(ctx context.Context, age time.Duration) (int64, error) {
	cutoff := outboxClock().Add(-age)
	res := o.db.WithContext(ctx).Where("sent_at < ? OR failed_at < ?", cutoff, cutoff).Delete(&outboxRow{})
	return res.RowsAffected, res.Error
}

// A Letter is the mail that carries a new one-time link (an invitation,
// an account link). The store that creates the link calls Write with the
// link's token and expiry, addresses the mail to the address the link is
// for, and queues it in Outbox in the same transaction: the mail goes if,
// and only if, the link exists. The zero Letter queues nothing (no mail
// server: the caller passes the link on itself).
type Letter struct {
	Outbox *Outbox
	Write  func(token string, expires time.Time) Message
}

// Post queues the letter for to in tx.
func (l Letter) Post(ctx context.Context, tx *gorm.DB, to, token string, expires time.Time) error {
	if l.Outbox == nil || l.Write == nil {
		return nil
	}
	m := l.Write(token, expires)
	m.To = to
	return l.Outbox.Enqueue(ctx, tx, m)
}
