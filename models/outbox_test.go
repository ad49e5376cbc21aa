package models_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/testdb"

	"gorm.io/gorm"
)

func newOutbox(t *testing.T, db testdb.DB) *mail.Outbox {
	t.Helper()
	return models.NewSystem(db.DB).Outbox(newTestBox(t))
}

// stopOutboxClock stops the outbox's clock until the test ends; the test
// moves it through the pointer.
func stopOutboxClock(t *testing.T) *time.Time {
	clock := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	t.Cleanup(mail.SetClockForTests(func() time.Time { return clock }))
	return &clock
}

// outboxState is a queued mail's row as stored.
type outboxState struct {
	Recipient string
	Body      []byte
	Attempts  int
	LastError string
	SentAt    *time.Time
	FailedAt  *time.Time
}

func outboxRow(t *testing.T, db testdb.DB, id string) outboxState {
	t.Helper()
	var s outboxState
	res := db.DB.Raw("SELECT recipient, body, attempts, last_error, sent_at, failed_at FROM outbox WHERE id = ?", id).Scan(&s)
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("outbox row %s: %v, %d rows", id, res.Error, res.RowsAffected)
	}
	return s
}

func claim(t *testing.T, o *mail.Outbox, n int) []mail.Queued {
	t.Helper()
	got, err := o.Claim(ctx, n)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return got
}

func backlog(t *testing.T, o *mail.Outbox) int64 {
	t.Helper()
	n, err := o.Backlog(ctx)
	if err != nil {
		t.Fatalf("backlog: %v", err)
	}
	return n
}

func enqueue(t *testing.T, o *mail.Outbox, to, body string) {
	t.Helper()
	if err := o.Enqueue(ctx, nil, mail.Message{To: to, Subject: "Hello", Body: body, Purpose: "test"}); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
}

// TestOutboxGoesWithItsTransaction: mail queued in a transaction that
// rolls back is gone with it; the stores that issue links queue their
// letter with the link, addressed to the link's address, and a refused
// change queues nothing.
func TestOutboxGoesWithItsTransaction(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			o := newOutbox(t, db)
			errRollback := errors.New("roll back")
			err := db.DB.Transaction(func(tx *gorm.DB) error {
				if err := o.Enqueue(ctx, tx, mail.Message{To: "a@example.org", Subject: "Hi", Body: "x", Purpose: "test"}); err != nil {
					return err
				}
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatalf("transaction: %v", err)
			}
			if n := backlog(t, o); n != 0 {
				t.Fatalf("backlog %d after a rollback, want 0", n)
			}
			if got := claim(t, o, 10); len(got) != 0 {
				t.Fatalf("claimed %d mails after a rollback", len(got))
			}

			f := newMemberFixture(t, db)
			letter := func(purpose string) mail.Letter {
				return mail.Letter{Outbox: o, Write: func(token string, expires time.Time) mail.Message {
					return mail.Message{To: "ignored@example.org", Subject: purpose, Body: "token " + token + " until " + expires.UTC().Format(time.RFC3339), Purpose: purpose}
				}}
			}
			token, expires, err := f.sys.IssueAccountToken(ctx, f.admin.ID, accounts.PurposeReset, f.admin.Email, letter("reset"))
			if err != nil {
				t.Fatal(err)
			}
			invited, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: " Nia@Example.org "}, letter("invitation"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: f.admin.Email}, letter("refused")); kit.FieldErrors(err) == nil {
				t.Fatalf("inviting a member: %v, want a field error", err)
			}
			if _, err := f.tn.Invite(ctx, f.actor, members.InviteInput{Email: "bo@example.org"}, mail.Letter{}); err != nil {
				t.Fatal(err)
			}
			got := claim(t, o, 10)
			if len(got) != 2 {
				t.Fatalf("%d mails queued, want the reset link's and the invitation's: %+v", len(got), got)
			}
			want := map[string]struct{ to, body string }{
				"reset":      {f.admin.Email, "token " + token + " until " + expires.UTC().Format(time.RFC3339)},
				"invitation": {"nia@example.org", "token " + invited.Token + " until " + invited.Invitation.ExpiresAt.UTC().Format(time.RFC3339)},
			}
			for _, m := range got {
				w, ok := want[m.Purpose]
				if !ok || m.To != w.to || m.Body != w.body || m.Subject != m.Purpose {
					t.Errorf("queued %+v, want to %q, body %q", m, w.to, w.body)
				}
				delete(want, m.Purpose)
			}
		})
	}
}

// TestOutboxRetriesThenGivesUp: a claimed mail is leased, a failure waits
// 30 seconds then twice as long each time, and after the last attempt the
// mail is kept as failed, without its body; a sent mail forgets its body.
func TestOutboxRetriesThenGivesUp(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			clock := stopOutboxClock(t)
			o := newOutbox(t, db)
			enqueue(t, o, "sent@example.org", "first body")
			enqueue(t, o, "doomed@example.org", "second body")
			if n := backlog(t, o); n != 2 {
				t.Fatalf("backlog %d, want 2", n)
			}
			got := claim(t, o, 10)
			if len(got) != 2 {
				t.Fatalf("claimed %d, want 2", len(got))
			}
			byTo := map[string]mail.Queued{}
			for _, m := range got {
				byTo[m.To] = m
				if m.Attempts != 1 || m.Subject != "Hello" || m.Purpose != "test" {
					t.Errorf("claimed %+v", m)
				}
			}
			sent, doomed := byTo["sent@example.org"], byTo["doomed@example.org"]
			if sent.Body != "first body" || doomed.Body != "second body" {
				t.Fatalf("bodies %q and %q", sent.Body, doomed.Body)
			}
			if again := claim(t, o, 10); len(again) != 0 {
				t.Fatalf("claimed mails are claimed again at once: %+v", again)
			}

			if err := o.MarkSent(ctx, sent.ID); err != nil {
				t.Fatal(err)
			}
			if row := outboxRow(t, db, sent.ID); row.SentAt == nil || row.Body != nil || row.FailedAt != nil {
				t.Errorf("sent row %+v: want sent_at and no body", row)
			}
			if n := backlog(t, o); n != 1 {
				t.Fatalf("backlog %d after one was sent, want 1", n)
			}

			cause := errors.New("451 4.3.0 mailbox busy\nsecond line of the answer")
			wait := mail.FirstRetry
			m := doomed
			for attempt := 1; attempt <= mail.MaxAttempts; attempt++ {
				if m.Attempts != attempt {
					t.Fatalf("claim %d counts %d attempts", attempt, m.Attempts)
				}
				next, err := o.MarkFailed(ctx, m, cause)
				if err != nil {
					t.Fatal(err)
				}
				if attempt == mail.MaxAttempts {
					if !next.IsZero() {
						t.Fatalf("the last attempt is retried at %v", next)
					}
					break
				}
				if !next.Equal(clock.Add(wait)) {
					t.Fatalf("attempt %d: retry at %v, want %v later", attempt, next.Sub(*clock), wait)
				}
				if row := outboxRow(t, db, m.ID); row.LastError != "451 4.3.0 mailbox busy" || row.Body == nil {
					t.Fatalf("after attempt %d: %+v", attempt, row)
				}
				*clock = next.Add(-time.Second)
				if early := claim(t, o, 10); len(early) != 0 {
					t.Fatalf("attempt %d: retried before its time", attempt)
				}
				*clock = next
				retry := claim(t, o, 10)
				if len(retry) != 1 || retry[0].ID != m.ID || retry[0].Body != "second body" {
					t.Fatalf("attempt %d: retry claimed %+v", attempt, retry)
				}
				m = retry[0]
				wait *= 2
			}
			row := outboxRow(t, db, doomed.ID)
			if row.FailedAt == nil || row.SentAt != nil || row.Body != nil || row.Attempts != mail.MaxAttempts || row.LastError != "451 4.3.0 mailbox busy" {
				t.Errorf("given-up row %+v", row)
			}
			if n := backlog(t, o); n != 0 {
				t.Errorf("backlog %d after giving up, want 0", n)
			}
			*clock = clock.Add(24 * time.Hour)
			if late := claim(t, o, 10); len(late) != 0 {
				t.Errorf("a given-up mail was claimed: %+v", late)
			}
		})
	}
}

// TestOutboxLease: a sender that claimed a mail and died leaves it to
// another once the lease runs out.
func TestOutboxLease(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			clock := stopOutboxClock(t)
			o := newOutbox(t, db)
			enqueue(t, o, "a@example.org", "body")
			first := claim(t, o, 1)
			if len(first) != 1 {
				t.Fatalf("claimed %d", len(first))
			}
			*clock = clock.Add(mail.Lease - time.Second)
			if got := claim(t, o, 1); len(got) != 0 {
				t.Fatal("claimed again within the lease")
			}
			*clock = clock.Add(time.Second)
			again := claim(t, o, 1)
			if len(again) != 1 || again[0].ID != first[0].ID || again[0].Attempts != 2 {
				t.Fatalf("after the lease: %+v", again)
			}
		})
	}
}

// TestOutboxClaimersNeverShare: senders claiming at the same time (other
// server instances) each get their own mails, and every mail goes to one.
func TestOutboxClaimersNeverShare(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			o := newOutbox(t, db)
			const total = 60
			for range total {
				enqueue(t, o, "a@example.org", "body")
			}
			var mu sync.Mutex
			seen := map[string]int{}
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for {
						batch, err := o.Claim(ctx, 3)
						if err != nil {
							t.Errorf("claim: %v", err)
							return
						}
						if len(batch) == 0 {
							return
						}
						mu.Lock()
						for _, m := range batch {
							seen[m.ID]++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(seen) != total {
				t.Errorf("%d mails claimed, want %d", len(seen), total)
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("mail %s claimed %d times", id, n)
				}
			}
		})
	}
}

// TestOutboxSealsBodies: the body, which holds a one-time link, is stored
// only sealed; a body sealed with another key, or moved to another row,
// does not open, and its mail is given up rather than sent garbled.
func TestOutboxSealsBodies(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			o := newOutbox(t, db)
			const token = "Reset-Token-4b1d6c0e9a7f"
			enqueue(t, o, "ada@example.org", "Open https://enclave.example.org/reset/"+token+" to choose a password.")
			if hits := testdb.RowsContaining(t, db.DB, []byte(token)); len(hits) != 0 {
				t.Fatalf("the link is stored in the clear in %v", hits)
			}
			got := claim(t, o, 1)
			if len(got) != 1 || !strings.Contains(got[0].Body, token) {
				t.Fatalf("claimed %+v", got)
			}
			if err := o.MarkSent(ctx, got[0].ID); err != nil {
				t.Fatal(err)
			}

			other := newOutbox(t, db)
			enqueue(t, other, "bob@example.org", "sealed with another key")
			if got := claim(t, o, 10); len(got) != 0 {
				t.Fatalf("a mail sealed with another key was claimed: %+v", got)
			}
			var foreign []string
			if err := db.DB.Raw("SELECT id FROM outbox WHERE recipient = ?", "bob@example.org").Scan(&foreign).Error; err != nil || len(foreign) != 1 {
				t.Fatalf("find the row: %v %v", foreign, err)
			}
			if row := outboxRow(t, db, foreign[0]); row.FailedAt == nil || row.Body != nil || !strings.Contains(row.LastError, "key") {
				t.Errorf("mail under another key: %+v", row)
			}

			enqueue(t, o, "cy@example.org", "one body")
			enqueue(t, o, "di@example.org", "another body")
			res := db.DB.Exec("UPDATE outbox SET body = (SELECT body FROM outbox WHERE recipient = ?) WHERE recipient = ?", "cy@example.org", "di@example.org")
			if res.Error != nil || res.RowsAffected != 1 {
				t.Fatalf("move the body: %v, %d rows", res.Error, res.RowsAffected)
			}
			got = claim(t, o, 10)
			if len(got) != 1 || got[0].To != "cy@example.org" || got[0].Body != "one body" {
				t.Fatalf("claimed %+v, want only the untouched mail", got)
			}
			if n := backlog(t, o); n != 1 {
				t.Errorf("backlog %d, want the claimed mail only", n)
			}
		})
	}
}

// TestOutboxPurge: mail sent or given up long enough ago goes; pending
// mail stays however old.
func TestOutboxPurge(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			clock := stopOutboxClock(t)
			o := newOutbox(t, db)
			for _, to := range []string{"sent@example.org", "failed@example.org", "pending@example.org"} {
				enqueue(t, o, to, "body")
			}
			for _, m := range claim(t, o, 10) {
				var err error
				switch m.To {
				case "sent@example.org":
					err = o.MarkSent(ctx, m.ID)
				case "failed@example.org":
					m.Attempts = mail.MaxAttempts
					_, err = o.MarkFailed(ctx, m, errors.New("550 no such user"))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			const keep = 7 * 24 * time.Hour
			*clock = clock.Add(keep)
			if n, err := o.Purge(ctx, keep); err != nil || n != 0 {
				t.Fatalf("purge at the limit: %d, %v; want 0", n, err)
			}
			*clock = clock.Add(time.Second)
			if n, err := o.Purge(ctx, keep); err != nil || n != 2 {
				t.Fatalf("purge: %d, %v; want the sent and the failed mail", n, err)
			}
			var left []string
			if err := db.DB.Raw("SELECT recipient FROM outbox").Scan(&left).Error; err != nil {
				t.Fatal(err)
			}
			if len(left) != 1 || left[0] != "pending@example.org" {
				t.Errorf("left %v, want the pending mail", left)
			}
		})
	}
}
