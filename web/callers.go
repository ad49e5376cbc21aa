package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"enclave/models"
	"enclave/models/kit"
)

// CallerCacheTTL is how long this process reuses a resolved caller (session,
// user, memberships, projects and access policies) without asking the
// database again. On this process a change applies at once: every write that
// can change a caller moves kit.AuthEpoch, which voids the cache. Another
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

// callerCache holds resolved session callers; an entry never outlives its
// session.
type callerCache = epochCache[callerKey, models.Caller]

func newCallerCache(ttl time.Duration, max int) *callerCache {
	return newEpochCache[callerKey](ttl, max, func(c models.Caller, err error) time.Time {
		if err != nil {
			return time.Time{}
		}
		return c.SessionExpires
	})
}

type cacheEntry[V any] struct {
	value V
	// err is nil or kit.ErrNotFound (nothing there to resolve).
	err     error
	epoch   uint64
	expires time.Time
}

// epochCache is a bounded, short-lived, in-process cache of resolutions
// (callers, API clients). An entry serves while the auth epoch is the one it
// was filled under and its time is not up.
type epochCache[K comparable, V any] struct {
	ttl time.Duration
	max int
	now func() time.Time
	// until is when an entry must go at the latest (zero: only its TTL).
	until func(V, error) time.Time

	mu      sync.Mutex
	entries map[K]cacheEntry[V]
	swept   time.Time
}

func newEpochCache[K comparable, V any](ttl time.Duration, max int, until func(V, error) time.Time) *epochCache[K, V] {
	return &epochCache[K, V]{ttl: ttl, max: max, now: time.Now, until: until, entries: make(map[K]cacheEntry[V])}
}

// get returns the entry for k if it is still valid under epoch.
func (c *epochCache[K, V]) get(k K, epoch uint64) (cacheEntry[V], bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return cacheEntry[V]{}, false
	}
	if e.epoch != epoch || !c.now().Before(e.expires) {
		delete(c.entries, k)
		return cacheEntry[V]{}, false
	}
	return e, true
}

// put stores a resolution made after reading epoch.
func (c *epochCache[K, V]) put(k K, v V, err error, epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	e := cacheEntry[V]{value: v, err: err, epoch: epoch, expires: now.Add(c.ttl)}
	if until := c.until(v, err); !until.IsZero() && until.Before(e.expires) {
		e.expires = until
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
func (c *epochCache[K, V]) makeRoom(now time.Time, epoch uint64) {
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
// epoch the answer is valid under. kit.ErrNotFound means no live session.
func (s *Server) resolveCaller(ctx context.Context, token, project string) (models.Caller, uint64, error) {
	k := callerKey{session: sha256.Sum256([]byte(token)), project: project}
	epoch := kit.AuthEpoch() // before the query: a write committed during it voids the answer
	if e, ok := s.callers.get(k, epoch); ok {
		return e.value, epoch, e.err
	}
	caller, err := s.sys.ResolveCaller(ctx, token, project)
	if err != nil && !errors.Is(err, kit.ErrNotFound) {
		return models.Caller{}, epoch, err
	}
	s.callers.put(k, caller, err, epoch)
	return caller, epoch, err
}
