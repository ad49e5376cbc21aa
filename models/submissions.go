package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"enclave/models/kit"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// A create form (a new project, a new resource) carries a one-time token,
// made when the form is shown. The server remembers each token it has acted
// on, in the database so that every server instance sees it, and a second
// submission of the same form creates nothing: it gets what the first made.

// FormTokenTTL is how long a submitted form's token is remembered.
const FormTokenTTL = 24 * time.Hour

// submissionWait bounds how long a submission waits for an earlier one of
// the same form that is still at work.
const submissionWait = 15 * time.Second

// submissionPurgeEvery is how often, at most, one server instance deletes
// the expired tokens.
const submissionPurgeEvery = time.Hour

// ErrSubmissionPending means another request is still acting on the same
// form (it was sent twice in quick succession) and did not finish in time.
var ErrSubmissionPending = fmt.Errorf("%w: this form is already being submitted", kit.ErrConflict)

// NewFormToken returns a fresh token for a create form.
func NewFormToken() string { return rand.Text() }

// validFormToken accepts what NewFormToken makes and any similar token of
// 16 to 64 letters, digits, '-' and '_'.
func validFormToken(token string) bool {
	if len(token) < 16 || len(token) > 64 {
		return false
	}
	for _, r := range token {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// SubmitOnce runs create at most once for the form that userID submitted
// for purpose (say "project") with token, and returns create's result (such
// as the new row's id). A later submission of the same form returns the
// first one's result without running create, with replayed set; one that
// arrives while the first is still at work waits for it (or gives up with
// ErrSubmissionPending). When create fails, the token is forgotten, so the
// form can be corrected and sent again. Without a valid token (a client that
// sends none) create simply runs.
func (s System) SubmitOnce(ctx context.Context, userID, purpose, token string, create func() (string, error)) (result string, replayed bool, err error) {
	if !validFormToken(token) {
		result, err = create()
		return result, false, err
	}
	key := submissionKey(userID, purpose, token)
	if result, err := s.claimSubmission(ctx, key); err != nil || result != "" {
		return result, err == nil, err
	}
	result, err = create()
	if err == nil && result == "" {
		err = errors.New("models: a submitted form created nothing to return to")
	}
	// Recorded even when the request is cancelled meanwhile: the token
	// must not stay claimed with nothing behind it.
	done := context.WithoutCancel(ctx)
	if err != nil {
		if ferr := s.db.WithContext(done).Exec(`DELETE FROM form_submissions WHERE id = ? AND result = ''`, key).Error; ferr != nil {
			return "", false, errors.Join(err, ferr)
		}
		return "", false, err
	}
	if err := s.db.WithContext(done).Exec(`UPDATE form_submissions SET result = ? WHERE id = ?`, result, key).Error; err != nil {
		return "", false, err
	}
	s.purgeSubmissions(done)
	return result, false, nil
}

// claimSubmission records the form's token as being acted on, and returns
// "" when it did; otherwise it returns what the earlier submission made,
// waiting for it while it is at work. A row past its expiry counts as
// absent.
func (s System) claimSubmission(ctx context.Context, key string) (string, error) {
	deadline := time.Now().Add(submissionWait)
	pause := 10 * time.Millisecond
	for {
		at := submissionClock()
		// Not cancelled with the request: a claim written but reported
		// as cancelled would hold the token with nothing behind it, and
		// the second copy of a double submit would wait for it in vain.
		res := s.db.WithContext(context.WithoutCancel(ctx)).Exec(`INSERT INTO form_submissions (id, result, expires_at) VALUES (?, '', ?)
			ON CONFLICT (id) DO UPDATE SET result = '', expires_at = excluded.expires_at WHERE form_submissions.expires_at < ?`,
			key, at.Add(FormTokenTTL), at)
		if res.Error != nil {
			return "", res.Error
		}
		if res.RowsAffected == 1 {
			return "", nil
		}
		var result []string
		if err := s.db.WithContext(ctx).Raw(`SELECT result FROM form_submissions WHERE id = ?`, key).Scan(&result).Error; err != nil {
			return "", err
		}
		if len(result) == 1 && result[0] != "" {
			return result[0], nil
		}
		// The first submission is at work (or just failed and let the
		// token go, when the row is gone): look again shortly.
		if time.Now().After(deadline) {
			return "", ErrSubmissionPending
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// lastSubmissionPurge is when this process last deleted expired tokens, in
// Unix seconds.
var lastSubmissionPurge atomic.Int64

// purgeSubmissions deletes the expired tokens, at most once every
// submissionPurgeEvery per process. A failure is left for the next time:
// expired rows are ignored anyway.
func (s System) purgeSubmissions(ctx context.Context) {
	at := submissionClock()
	last := lastSubmissionPurge.Load()
	if at.Unix()-last < int64(submissionPurgeEvery/time.Second) || !lastSubmissionPurge.CompareAndSwap(last, at.Unix()) {
		return
	}
	_ = s.db.WithContext(ctx).Exec(`DELETE FROM form_submissions WHERE expires_at < ?`, at).Error
}

// submissionClock is the clock of form tokens; tests move it.
var submissionClock = kit.Now

// submissionKey keeps a token to the user and the form it was made for: the
// same token sent by someone else, or to another form, is another key.
func submissionKey(userID, purpose, token string) string {
	sum := sha256.Sum256([]byte(userID + "\x00" + purpose + "\x00" + token))
	return hex.EncodeToString(sum[:])
}
