package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ocidns/ocidns/internal/flight"
)

// outcome is what one shared call produced: fn's value and TTL, and, once
// the call is finished, the Status its waiters get.
type outcome[V any] struct {
	val V
	ttl time.Duration
	st  Status
}

// Fetch returns the value for key: the cached one while fresh, otherwise the
// result of fn, called at most once at a time per key however many callers
// Fetch it concurrently.
//
// fn returns the value and how long it stays fresh. The value is stored with
// expiry now+ttl; a ttl of zero or less stores it already expired, so every
// Fetch revalidates it while it still backs serve-stale (see Set). Forever
// means until evicted. Negative answers (NXDOMAIN, 404) are values like any
// other, with the TTL the caller chooses (see ClampTTL, MaxNegativeTTL).
//
// An error from fn is never stored. If an entry for key is within its stale
// window, Fetch returns it with a nil error and Status.Stale set, Status.Err
// holding fn's error (RFC 8767 serve-stale); for Config.RetryInterval after
// that failure, Fetch serves the stale entry without calling fn. Without a
// stale entry Fetch returns fn's error as is.
//
// Concurrent Fetches of key share one call, under the cancellation rule of
// internal/flight: the call runs on its own goroutine with the first
// caller's context values (such as a trace) but not its cancellation, so
// the first caller giving up does not fail the others; each caller stops
// waiting when its own ctx ends and gets ctx.Err(); when the last one
// leaves, the call is cancelled (Stats.Abandoned) — no upstream work goes
// on for nobody. A value fn still returns then is stored; an error is
// dropped without counting as a failed refresh. A caller whose ctx is
// already done gets ctx.Err() on a miss without starting a call (a fresh
// or throttled stale entry is still returned).
//
// The call's deadline is Config.CallTimeout from its start, or the first
// caller's own deadline if that is later; at the deadline, waiters get an
// error wrapping ErrCallTimeout and context.DeadlineExceeded (or the stale
// entry) even if fn ignores its context. If fn panics, every waiter gets a
// *PanicError (wrapping ErrPanic) and the process keeps running.
//
// With Config.MaxCalls, a new call waits for a free slot (counted in
// Stats.Queued) before fn runs, and holds it until fn returns, even after
// every waiter left: the bound is on upstream work, not on waiting. A Fetch
// on the same Cache from inside fn runs on its caller's slot, so nesting
// cannot deadlock; two Caches with bounds must not nest in both directions.
//
// Cost on a fresh hit: as Get, plus, if fn is a closure capturing variables,
// the allocation of that closure by the caller (fn may run on another
// goroutine, so it escapes). Hot paths call Get first and Fetch on a miss.
func (c *Cache[K, V]) Fetch(ctx context.Context, key K, fn func(ctx context.Context) (V, time.Duration, error)) (V, Status, error) {
	now := c.clock()
	c.mu.Lock()
	if e, ok := c.lru.get(key); ok {
		switch {
		case now < e.expires:
			v, st := e.val, c.status(e, now)
			c.mu.Unlock()
			c.counters.hits.Add(1)
			st.Hit = true
			return v, st, nil
		case now >= c.staleUntil(e):
			c.lru.remove(key)
		case e.fail != nil && c.retry >= 0 && now-e.fail.at < c.retry:
			// RFC 8767 failure recheck: upstream failed moments ago, so
			// asking again now would most likely fail again, slowly.
			v, st := e.val, c.status(e, now)
			st.Stale, st.Err = true, e.fail.err
			c.mu.Unlock()
			c.counters.misses.Add(1)
			c.counters.staleServes.Add(1)
			return v, st, nil
		}
	}
	c.counters.misses.Add(1)
	c.mu.Unlock()
	o, joined, err := c.flights.Do(ctx, key, func(ctx context.Context) (outcome[V], error) { return c.load(ctx, fn) })
	if err != nil {
		var zero V
		return zero, Status{Coalesced: joined}, err
	}
	st := o.st
	st.Coalesced = joined
	if st.Stale {
		c.counters.staleServes.Add(1)
	}
	return o.val, st, nil
}

// load runs fn for a shared call, on a slot of Config.MaxCalls when there
// is a bound. The slot is held until fn returns, even after every waiter
// left: the bound is on upstream work.
func (c *Cache[K, V]) load(ctx context.Context, fn func(context.Context) (V, time.Duration, error)) (outcome[V], error) {
	ctx, release, err := c.acquire(ctx)
	if err != nil {
		return outcome[V]{}, err
	}
	defer release()
	c.counters.running.Add(1)
	defer c.counters.running.Add(-1)
	v, ttl, err := fn(ctx)
	return outcome[V]{val: v, ttl: ttl}, err
}

// lookup returns key's fresh entry as the outcome of a call starting for
// it: one stored after the Fetch that starts the call looked, by a call
// that ended meanwhile (flight.Group.Lookup), so that no second upstream
// call is made for it.
func (c *Cache[K, V]) lookup(key K) (outcome[V], bool) {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.get(key)
	if !ok || now >= e.expires {
		return outcome[V]{}, false
	}
	st := c.status(e, now)
	st.Hit = true
	return outcome[V]{val: e.val, st: st}, true
}

// finish stores the outcome of a shared call for key, or falls back to a
// stale entry; it is the flight.Group's Finish, called once a call before
// its waiters are released.
func (c *Cache[K, V]) finish(key K, o outcome[V], err error, abandoned bool) (outcome[V], error) {
	err = fromFlight(err)
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		expires := c.storeLocked(key, o.val, o.ttl, now)
		return outcome[V]{val: o.val, st: Status{Expires: c.base.Add(time.Duration(expires))}}, nil
	}
	if abandoned {
		// Most likely the cancellation of a call nobody waits for: it says
		// nothing about upstream, so it neither counts nor throttles.
		return outcome[V]{}, err
	}
	c.counters.refreshFailures.Add(1)
	e, ok := c.lru.get(key)
	switch {
	case !ok:
		return outcome[V]{}, err
	case now < e.expires:
		// Set stored a fresh value while the call was failing: serve it.
		return outcome[V]{val: e.val, st: c.status(e, now)}, nil
	case now < c.staleUntil(e):
		e.fail = &failure{at: now, err: err}
		st := c.status(e, now)
		st.Stale, st.Err = true, err
		return outcome[V]{val: e.val, st: st}, nil
	}
	c.lru.remove(key)
	return outcome[V]{}, err
}

// fromFlight gives the errors of internal/flight the cache's own
// identities: a panic is a *PanicError wrapping ErrPanic, a deadline
// ErrCallTimeout.
func fromFlight(err error) error {
	var pe *flight.PanicError
	var te *flight.TimeoutError
	switch {
	case errors.As(err, &pe):
		return &PanicError{Value: pe.Value, Stack: pe.Stack}
	case errors.As(err, &te):
		return fmt.Errorf("%w after %v: %w", ErrCallTimeout, te.After.Round(time.Millisecond), context.DeadlineExceeded)
	}
	return err
}
