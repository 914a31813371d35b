package cache

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ocidns/ocidns/internal/flight"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultSize is the entry bound used when Config.Size is zero or negative.
	DefaultSize = 10_000
	// maxSize bounds Config.Size: entries are numbered in 32 bits.
	maxSize = 1 << 31
	// DefaultStaleWindow is how long past expiry an entry stays available for
	// serve-stale when Config.StaleWindow is zero. RFC 8767 suggests one to
	// three days; one day keeps names resolving through a long outage
	// without serving a week-old answer.
	DefaultStaleWindow = 24 * time.Hour
	// DefaultRetryInterval is the minimum time between two refresh attempts of
	// one key after a failed refresh when Config.RetryInterval is zero; it is
	// RFC 8767's recommended failure recheck timer.
	DefaultRetryInterval = 30 * time.Second
	// DefaultCallTimeout bounds one shared upstream call when
	// Config.CallTimeout is zero or negative.
	DefaultCallTimeout = 30 * time.Second
)

// Config configures a Cache. The zero value is usable and means every default.
type Config struct {
	// Size is the maximum number of entries, fresh and stale together.
	// Zero or negative means DefaultSize. Adding an entry beyond the bound
	// evicts the least recently used one.
	Size int
	// StaleWindow is how long past its expiry an entry is kept as a
	// serve-stale candidate. Zero means DefaultStaleWindow; negative disables
	// serve-stale (expired entries are dropped when next looked up).
	StaleWindow time.Duration
	// RetryInterval is the minimum time between refresh attempts of one key
	// after a refresh failed while a stale entry was available; in between,
	// Fetch serves the stale entry without calling upstream. Zero means
	// DefaultRetryInterval; negative retries on every Fetch.
	RetryInterval time.Duration
	// CallTimeout bounds each shared upstream call, unless the caller that
	// starts it has a later deadline of its own, which then applies. Zero or
	// negative means DefaultCallTimeout. A call also ends, cancelled, when
	// every caller waiting for it has left (see Fetch).
	CallTimeout time.Duration
	// MaxCalls bounds the upstream calls running at once (fn still running,
	// whether or not anyone still waits for it); a call beyond it waits for
	// a slot. Zero or negative means no bound.
	MaxCalls int
	// Now is the clock. Nil means the monotonic clock (time.Now); tests
	// inject a fake clock to step through TTLs without sleeping. Expiry is
	// measured as the difference between two readings of Now, so a clock
	// returning times with a monotonic reading is immune to wall-clock jumps.
	Now func() time.Time
}

// entry is one cached value. Times are nanoseconds since Cache.base so an
// entry carries 16 bytes of clock instead of two 24-byte time.Time values.
type entry[V any] struct {
	val     V
	stored  int64 // when val was stored
	expires int64 // val is fresh while now < expires
	// fail is set while the last refresh of this entry failed; nil otherwise.
	// A pointer keeps the common case one word.
	fail *failure
}

// failure remembers the last failed refresh of an entry (RFC 8767's failure
// recheck timer).
type failure struct {
	at  int64
	err error
}

// Cache is a bounded, TTL-aware LRU cache with serve-stale and coalesced
// upstream calls. All methods are safe for concurrent use. Create one with
// New; the zero value is not usable.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	lru     *store[K, V]
	flights flight.Group[K, outcome[V]] // the upstream calls in flight
	slots   chan struct{}               // one token per running call; nil: no bound

	// base is the instant all entry times are measured from. With the real
	// clock it carries a monotonic reading, so time.Since(base) reads only
	// the monotonic clock.
	base     time.Time
	now      func() time.Time // nil: real clock via time.Since(base)
	stale    int64            // stale window in ns; <0 disabled
	retry    int64            // retry interval in ns; <0 no throttle
	counters counters
}

// counters are the atomic event counters and gauges behind Stats.
type counters struct {
	hits, misses, staleServes, evictions, refreshFailures atomic.Uint64
	running, queued                                       atomic.Int64
}

// New returns an empty Cache configured by cfg (see Config for defaults).
func New[K comparable, V any](cfg Config) *Cache[K, V] {
	size := cfg.Size
	if size <= 0 {
		size = DefaultSize
	}
	c := &Cache[K, V]{
		lru:   newStore[K, V](min(size, maxSize)),
		now:   cfg.Now,
		stale: int64(DefaultStaleWindow),
		retry: int64(DefaultRetryInterval),
	}
	if c.now != nil {
		c.base = c.now()
	} else {
		c.base = time.Now()
	}
	switch {
	case cfg.StaleWindow < 0:
		c.stale = -1
	case cfg.StaleWindow > 0:
		c.stale = int64(cfg.StaleWindow)
	}
	switch {
	case cfg.RetryInterval < 0:
		c.retry = -1
	case cfg.RetryInterval > 0:
		c.retry = int64(cfg.RetryInterval)
	}
	c.flights.Timeout = DefaultCallTimeout
	if cfg.CallTimeout > 0 {
		c.flights.Timeout = cfg.CallTimeout
	}
	if cfg.MaxCalls > 0 {
		c.slots = make(chan struct{}, cfg.MaxCalls)
	}
	c.flights.Finish, c.flights.Lookup = c.finish, c.lookup
	return c
}

// clock returns the current time as nanoseconds since c.base.
func (c *Cache[K, V]) clock() int64 {
	if c.now == nil {
		// time.Since on a monotonic base reads only the monotonic clock,
		// cheaper than time.Now, which also reads the wall clock.
		return int64(time.Since(c.base))
	}
	return int64(c.now().Sub(c.base))
}

// addSat returns a+b, saturating at math.MaxInt64 so that "forever" TTLs and
// stale windows do not wrap around into the past.
func addSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// staleUntil returns the instant after which e may no longer be served stale;
// it equals e.expires when serve-stale is disabled.
func (c *Cache[K, V]) staleUntil(e *entry[V]) int64 {
	if c.stale < 0 {
		return e.expires
	}
	return addSat(e.expires, c.stale)
}

// status describes e as seen at now.
func (c *Cache[K, V]) status(e *entry[V], now int64) Status {
	return Status{
		Age:     time.Duration(now - e.stored),
		Expires: c.base.Add(time.Duration(e.expires)),
	}
}

// Get returns the value stored under key if it is fresh (not expired). It
// never calls upstream and never returns a stale entry: an expired entry
// reads as absent (ok false) though it stays available to Fetch for
// serve-stale. A hit marks the entry most recently used and counts in
// Stats.Hits; a miss is not counted, because Get is the probe callers make
// before Fetch, and Fetch counts the miss.
//
// Cost: one clock read, one mutex and one map lookup; no allocation.
func (c *Cache[K, V]) Get(key K) (v V, st Status, ok bool) {
	now := c.clock()
	c.mu.Lock()
	e, found := c.lru.get(key)
	if !found || now >= e.expires {
		c.mu.Unlock()
		return v, st, false
	}
	v, stored, expires := e.val, e.stored, e.expires
	c.mu.Unlock()
	c.counters.hits.Add(1)
	return v, Status{
		Hit:     true,
		Age:     time.Duration(now - stored),
		Expires: c.base.Add(time.Duration(expires)),
	}, true
}

// Set stores v under key, fresh for ttl. A ttl of zero or less stores v
// already expired: Get and Fetch will not return it as fresh, but Fetch may
// serve it stale if a refresh fails within the stale window (with
// serve-stale disabled such a value is not stored at all and any previous
// entry is removed). Forever keeps v fresh until evicted. Set clears any
// remembered refresh failure of key and does not affect an upstream call in
// flight for key, whose result replaces v when it completes.
func (c *Cache[K, V]) Set(key K, v V, ttl time.Duration) {
	now := c.clock()
	c.mu.Lock()
	c.storeLocked(key, v, ttl, now)
	c.mu.Unlock()
}

// storeLocked stores v under key at now and returns its expiry. c.mu must be
// held.
func (c *Cache[K, V]) storeLocked(key K, v V, ttl time.Duration, now int64) (expires int64) {
	expires = now
	if ttl > 0 {
		expires = addSat(now, int64(ttl))
	} else if c.stale < 0 {
		// Neither fresh nor a stale candidate: nothing worth keeping, and an
		// older value must not outlive the newer one.
		c.lru.remove(key)
		return expires
	}
	if e, ok := c.lru.get(key); ok {
		// Reuse the entry: no allocation, and no reader holds it outside
		// c.mu, so updating in place is safe.
		e.val, e.stored, e.expires, e.fail = v, now, expires, nil
		return expires
	}
	if c.lru.add(key, entry[V]{val: v, stored: now, expires: expires}) {
		c.counters.evictions.Add(1)
	}
	return expires
}

// Remove deletes key's entry, fresh or stale, and reports whether there was
// one. An upstream call in flight for key is not cancelled; its result is
// stored when it completes.
func (c *Cache[K, V]) Remove(key K) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.remove(key)
}

// Len returns the number of entries, fresh and stale.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.len()
}

// Purge deletes every entry. Counters are kept, and upstream calls in flight
// store their results when they complete.
func (c *Cache[K, V]) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.purge()
}

// Stats returns a snapshot of the counters. Each counter is read atomically
// but the snapshot as a whole is not: under load, fields may reflect slightly
// different instants.
func (c *Cache[K, V]) Stats() Stats {
	calls := c.flights.Stats()
	return Stats{
		Hits:            c.counters.hits.Load(),
		Misses:          c.counters.misses.Load(),
		StaleServes:     c.counters.staleServes.Load(),
		Coalesced:       calls.Joined,
		Evictions:       c.counters.evictions.Load(),
		Loads:           calls.Started - calls.Found,
		RefreshFailures: c.counters.refreshFailures.Load(),
		Abandoned:       calls.Abandoned,
		Entries:         uint64(c.Len()),
		Running:         uint64(max(c.counters.running.Load(), 0)),
		Queued:          uint64(max(c.counters.queued.Load(), 0)),
	}
}
