package web

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/kit"
)

// fakeClock is a settable clock for the caller cache.
type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time { return f.t }

func key(i int) callerKey {
	return callerKey{session: sha256.Sum256(fmt.Append(nil, i)), project: models.AllProjects}
}

func TestCallerCacheEntries(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := newCallerCache(2*time.Second, 100)
	c.now = clock.now
	live := models.Caller{User: accounts.User{ID: "u"}, SessionExpires: clock.t.Add(time.Hour)}

	c.put(key(1), live, nil, 7)
	if e, ok := c.get(key(1), 7); !ok || e.value.User.ID != "u" {
		t.Fatal("a fresh entry is not served")
	}
	if _, ok := c.get(key(2), 7); ok {
		t.Error("an unknown key is served")
	}
	if _, ok := c.get(key(1), 8); ok {
		t.Error("an entry filled under an older epoch is served")
	}
	if _, ok := c.get(key(1), 7); ok {
		t.Error("a stale entry is kept after it was found stale")
	}

	c.put(key(1), live, nil, 7)
	clock.t = clock.t.Add(2*time.Second - time.Millisecond)
	if _, ok := c.get(key(1), 7); !ok {
		t.Error("an entry expired before its TTL")
	}
	clock.t = clock.t.Add(time.Millisecond)
	if _, ok := c.get(key(1), 7); ok {
		t.Error("an entry is served after its TTL")
	}

	// An entry never outlives its session.
	ending := live
	ending.SessionExpires = clock.t.Add(time.Second)
	c.put(key(3), ending, nil, 7)
	clock.t = clock.t.Add(time.Second)
	if _, ok := c.get(key(3), 7); ok {
		t.Error("an entry is served after its session expired")
	}

	// "No live session" is cached too.
	c.put(key(4), models.Caller{}, kit.ErrNotFound, 7)
	if e, ok := c.get(key(4), 7); !ok || e.err != kit.ErrNotFound {
		t.Errorf("no session: %v, %v", e.err, ok)
	}

	// A resolution that started before a newer one does not replace it.
	c.put(key(5), models.Caller{User: accounts.User{ID: "new"}, SessionExpires: clock.t.Add(time.Hour)}, nil, 9)
	c.put(key(5), models.Caller{User: accounts.User{ID: "old"}, SessionExpires: clock.t.Add(time.Hour)}, nil, 8)
	if e, ok := c.get(key(5), 9); !ok || e.value.User.ID != "new" {
		t.Errorf("an older resolution replaced a newer one: %+v, %v", e.value.User, ok)
	}
}

func TestCallerCacheIsBounded(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := newCallerCache(2*time.Second, 50)
	c.now = clock.now
	live := models.Caller{User: accounts.User{ID: "u"}, SessionExpires: clock.t.Add(time.Hour)}
	for i := range 500 {
		c.put(key(i), live, nil, 1)
		if n := c.len(); n > 50 {
			t.Fatalf("%d entries after %d puts, want at most 50", n, i+1)
		}
	}
	if _, ok := c.get(key(499), 1); !ok {
		t.Error("the newest entry was evicted")
	}
	// Entries that can no longer serve go first.
	clock.t = clock.t.Add(3 * time.Second)
	for i := range 10 {
		c.put(key(1000+i), live, nil, 2)
	}
	if n := c.len(); n != 10 {
		t.Errorf("%d entries after the sweep, want the 10 live ones", n)
	}
}
