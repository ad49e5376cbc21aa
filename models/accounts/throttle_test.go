package accounts_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"enclave/models/accounts"
	"enclave/models/testdb"
)

// TestThrottle: attempts are counted before the work they guard, so
// parallel ones cannot all slip through; past the free ones each waits
// twice as long as the last; keys are independent; a quiet key starts
// afresh.
var ctx = context.Background()

func TestThrottle(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := accounts.New(db.DB)
			clock := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
			defer accounts.SetThrottleClockForTests(func() time.Time { return clock })()
			rule := accounts.ThrottleRule{Free: 5, Max: time.Minute, Window: 15 * time.Minute}

			var allowed atomic.Int32
			var wg sync.WaitGroup
			for range 40 {
				wg.Go(func() {
					wait, err := sys.Attempt(ctx, "guess:ada", rule)
					if err != nil {
						t.Error(err)
					}
					if err == nil && wait == 0 {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			if n := allowed.Load(); n != 5 {
				t.Fatalf("%d of 40 parallel attempts went ahead, want the 5 free ones", n)
			}
			attempt := func(key string) time.Duration {
				t.Helper()
				wait, err := sys.Attempt(ctx, key, rule)
				if err != nil {
					t.Fatal(err)
				}
				return wait
			}
			if w := attempt("guess:ada"); w != time.Second {
				t.Errorf("wait after the free attempts: %v, want 1s", w)
			}
			if w := attempt("guess:bob"); w != 0 {
				t.Errorf("another key waits %v", w)
			}
			// Growing delays: after each wait one attempt goes ahead, and the
			// next must wait twice as long.
			wait := time.Second
			for range 3 {
				clock = clock.Add(wait)
				if w := attempt("guess:ada"); w != 0 {
					t.Fatalf("attempt after waiting %v: still %v to wait", wait, w)
				}
				if w := attempt("guess:ada"); w != wait*2 {
					t.Errorf("next wait %v, want %v", w, wait*2)
				}
				wait *= 2
			}
			// Refunded attempts (successes) do not add up.
			few := accounts.ThrottleRule{Free: 3, Max: time.Minute, Window: time.Hour}
			for i := range 10 {
				wait, err := sys.Attempt(ctx, "address", few)
				if err != nil || wait != 0 {
					t.Fatalf("refunded attempt %d: wait %v, %v", i+1, wait, err)
				}
				if err := sys.RefundAttempt(ctx, "address"); err != nil {
					t.Fatal(err)
				}
			}
			// A success forgets the key; so does a quiet window.
			if err := sys.ResetAttempts(ctx, "guess:ada"); err != nil {
				t.Fatal(err)
			}
			if w := attempt("guess:ada"); w != 0 {
				t.Errorf("after a reset: wait %v", w)
			}
			for range 10 {
				attempt("guess:carl")
			}
			clock = clock.Add(rule.Window + time.Hour)
			for i := range rule.Free {
				if w := attempt("guess:carl"); w != 0 {
					t.Fatalf("free attempt %d after a quiet window waits %v", i+1, w)
				}
			}
		})
	}
}
