package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"enclave/models"
)

// CallerCacheTTL is how long this process reuses a resolved caller (session,
// user, memberships, projects and access policies) without asking the
// database again. On this process a change applies at once: every write that
// can change a caller moves models.AuthEpoch, which voids the cache. Another
// process sharing the database sees a revocation (sign-out, a removed or
// deactivated member, a policy or settings change) at most this long after it.
const CallerCacheTTL = 2 * time.Second

// callerCacheSize bounds the number of cached callers.
const callerCacheSize = 10000

// callerKey names one resolution: a session (by its token's SHA-256) and the
// project asked for (a project id, models.AllProjects, or empty).
type callerKey struct {
	session [sha256.Size]byte
	project string
}

type callerEntry struct {
	caller models.Caller
	// err is nil or models.ErrNotFound (no live session).
	err     error
	epoch   uint64
	expires time.Time
}

// callerCache is a bounded, short-lived, in-process cache of resolved
// callers. An entry serves while the auth epoch is the one it was filled
// under and its time is not up.
type callerCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[callerKey]callerEntry
	swept   time.Time
}

func newCallerCache(ttl time.Duration, max int) *callerCache {
	return &callerCache{ttl: ttl, max: max, now: time.Now, entries: make(map[callerKey]callerEntry)}
}

// get returns the entry for k if it is still valid under epoch.
func (c *callerCache) get(k callerKey, epoch uint64) (callerEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return callerEntry{}, false
	}
	if e.epoch != epoch || !c.now().Before(e.expires) {
		delete(c.entries, k)
		return callerEntry{}, false
	}
	return e, true
}

// put stores a resolution made after reading epoch. It never outlives the
// session it resolved.
func (c *callerCache) put(k callerKey, caller models.Caller, err error, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	e := callerEntry{caller: caller, err: err, epoch: epoch, expires: now.Add(c.ttl)}
	if err == nil && caller.SessionExpires.Before(e.expires) {
		e.expires = caller.SessionExpires
	}
	old, ok := c.entries[k]
	if ok && old.epoch > epoch {
		return // a later resolution is already here
	}
	if !ok && len(c.entries) >= c.max {
		c.makeRoom(now, epoch)
	}
	c.entries[k] = e
}

// makeRoom drops entries that can no longer serve (at most one sweep per
// TTL), then arbitrary ones until one more fits.
func (c *callerCache) makeRoom(now time.Time, epoch uint64) {
	if now.Sub(c.swept) >= c.ttl {
		c.swept = now
		for k, e := range c.entries {
			if e.epoch != epoch || !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
	}
	for k := range c.entries {
		if len(c.entries) < c.max {
			break
		}
		delete(c.entries, k)
	}
}

// resolveCaller resolves the caller of a session token for project (see
// models.System.ResolveCaller), through the cache. It also returns the auth
// epoch the answer is valid under. models.ErrNotFound means no live session.
func (s *Server) resolveCaller(ctx context.Context, token, project string) (models.Caller, uint64, error) {
	k := callerKey{session: sha256.Sum256([]byte(token)), project: project}
	epoch := models.AuthEpoch() // before the query: a write committed during it voids the answer
	if e, ok := s.callers.get(k, epoch); ok {
		return e.caller, epoch, e.err
	}
	caller, err := s.sys.ResolveCaller(ctx, token, project)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return models.Caller{}, epoch, err
	}
	s.callers.put(k, caller, err, epoch)
	return caller, epoch, err
}
