package models_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/testdb"
)

// TestSubmitOnce: a form's one-time token lets create run once; every later
// submission of that form, at once or in parallel, gets the first one's
// result. A failed create lets the token go, and a token means nothing to
// another user, another form, or after it expired.
func TestSubmitOnce(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			var runs atomic.Int32
			made := func() (string, error) {
				return "row-" + string(rune('0'+runs.Add(1))), nil
			}
			submit := func(user, purpose, token string, create func() (string, error)) (string, bool) {
				t.Helper()
				res, replayed, err := sys.SubmitOnce(ctx, user, purpose, token, create)
				if err != nil {
					t.Fatalf("SubmitOnce(%s, %s, %s): %v", user, purpose, token, err)
				}
				return res, replayed
			}

			token := models.NewFormToken()
			if res, replayed := submit("ada", "project", token, made); res != "row-1" || replayed {
				t.Fatalf("first submission: %q, replayed %v", res, replayed)
			}
			if res, replayed := submit("ada", "project", token, made); res != "row-1" || !replayed {
				t.Errorf("second submission: %q, replayed %v; want row-1 replayed", res, replayed)
			}
			if runs.Load() != 1 {
				t.Fatalf("create ran %d times", runs.Load())
			}

			// Another user, or another form, with the same token is another submission.
			if res, _ := submit("grace", "project", token, made); res != "row-2" {
				t.Errorf("another user's submission: %q", res)
			}
			if res, _ := submit("ada", "resource:p/Patient", token, made); res != "row-3" {
				t.Errorf("another form's submission: %q", res)
			}

			// No token, or a malformed one: nothing to remember, create runs each time.
			for _, tok := range []string{"", "short", "has spaces in it, too many"} {
				before := runs.Load()
				submit("ada", "project", tok, made)
				submit("ada", "project", tok, made)
				if runs.Load() != before+2 {
					t.Errorf("token %q: create ran %d times for two submissions", tok, runs.Load()-before)
				}
			}

			// A refused create lets the token go: the corrected form goes through.
			refused := errors.New("refused")
			retry := models.NewFormToken()
			if _, _, err := sys.SubmitOnce(ctx, "ada", "project", retry, func() (string, error) { return "", refused }); !errors.Is(err, refused) {
				t.Fatalf("refused create: %v", err)
			}
			if res, replayed := submit("ada", "project", retry, func() (string, error) { return "corrected", nil }); res != "corrected" || replayed {
				t.Errorf("after a refusal: %q, replayed %v", res, replayed)
			}

			// Parallel submissions of one form: one create, the same answer for all.
			parallel := models.NewFormToken()
			var creates atomic.Int32
			slow := func() (string, error) {
				creates.Add(1)
				time.Sleep(50 * time.Millisecond)
				return "parallel", nil
			}
			var wg sync.WaitGroup
			results := make([]string, 8)
			for i := range results {
				wg.Go(func() {
					res, _, err := sys.SubmitOnce(ctx, "ada", "project", parallel, slow)
					if err != nil {
						t.Errorf("parallel submission: %v", err)
					}
					results[i] = res
				})
			}
			wg.Wait()
			if creates.Load() != 1 {
				t.Errorf("parallel submissions ran create %d times", creates.Load())
			}
			for i, res := range results {
				if res != "parallel" {
					t.Errorf("parallel submission %d got %q", i, res)
				}
			}

			// An expired token is forgotten.
			later := time.Now().Add(models.FormTokenTTL + time.Minute)
			defer models.SetSubmissionClock(func() time.Time { return later })()
			if res, replayed := submit("ada", "project", token, made); replayed || res == "row-1" {
				t.Errorf("an expired token still answers %q (replayed %v)", res, replayed)
			}
		})
	}
}
