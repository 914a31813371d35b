package cache

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// errGoexit is returned to waiters when the upstream function ended its
// goroutine with runtime.Goexit (for example t.FailNow in a test) instead of
// returning.
var errGoexit = errors.New("cache: upstream call exited without returning (runtime.Goexit)")

// call is one upstream call shared by every Fetch of its key that arrives
// while it is in flight (singleflight).
type call[V any] struct {
	done   chan struct{}      // closed when the fields below are final
	cancel context.CancelFunc // ends the upstream function's context
	budget time.Duration      // from the call's start to its deadline
	// Guarded by Cache.mu.
	waiters   int  // Fetches waiting for the call
	abandoned bool // every waiter left before the call finished
	// Guarded by Cache.mu until done is closed, read-only after.
	finished bool
	val      V
	st       Status
	err      error
}

// result is what one upstream function invocation produced.
type result[V any] struct {
	val V
	ttl time.Duration
	err error
}

// slotKey marks, in the context of an upstream call, that the call holds a
// slot of the semaphore sem: a Fetch on the same Cache from inside fn runs
// on that slot instead of waiting for another (which could deadlock).
type slotKey struct{ sem chan struct{} }

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
// The shared call runs on its own goroutine with a context that keeps the
// first caller's values (such as a trace) but not its cancellation: the
// first caller giving up does not fail the others. The call lives as long as
// someone waits for it: each caller stops waiting when its own ctx ends and
// gets ctx.Err(), and when the last one leaves, the call's context is
// cancelled (Stats.Abandoned) — no upstream work goes on for nobody. A value
// fn still returns then is stored; an error is dropped without counting as a
// failed refresh. A caller whose ctx is already done gets ctx.Err() on a
// miss without starting a call (a fresh or throttled stale entry is still
// returned).
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
	if err := ctx.Err(); err != nil {
		// The caller has already given up: no upstream traffic on its behalf.
		c.mu.Unlock()
		var zero V
		return zero, Status{}, err
	}
	cl, joined := c.inflight[key]
	var callCtx context.Context
	if joined {
		c.counters.coalesced.Add(1)
	} else {
		cl = &call[V]{done: make(chan struct{})}
		callCtx, cl.cancel, cl.budget = c.callContext(ctx)
		if c.inflight == nil {
			c.inflight = make(map[K]*call[V])
		}
		c.inflight[key] = cl
		c.counters.loads.Add(1)
	}
	cl.waiters++
	c.mu.Unlock()
	if !joined {
		go c.run(callCtx, key, cl, fn)
	}

	select {
	case <-cl.done:
	case <-ctx.Done():
		select {
		case <-cl.done: // both ready: the answer is worth more than the error
		default:
			c.leave(key, cl)
			var zero V
			return zero, Status{Coalesced: joined}, ctx.Err()
		}
	}
	st := cl.st
	st.Coalesced = joined
	if cl.err != nil {
		var zero V
		return zero, st, cl.err
	}
	if st.Stale {
		c.counters.staleServes.Add(1)
	}
	return cl.val, st, nil
}

// callContext returns the context of a new upstream call started by a
// caller with ctx: ctx's values, no cancellation from it, and a deadline
// CallTimeout from now or ctx's own if later.
func (c *Cache[K, V]) callContext(ctx context.Context) (context.Context, context.CancelFunc, time.Duration) {
	budget := c.timeout
	if d, ok := ctx.Deadline(); ok {
		budget = max(budget, time.Until(d))
	}
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	return callCtx, cancel, budget
}

// leave records that one waiter of cl stopped waiting; the last one to
// leave an unfinished call cancels it. A later Fetch of key starts afresh
// rather than joining a call on its way out.
func (c *Cache[K, V]) leave(key K, cl *call[V]) {
	c.mu.Lock()
	cl.waiters--
	if cl.waiters > 0 || cl.finished {
		c.mu.Unlock()
		return
	}
	cl.abandoned = true
	if c.inflight[key] == cl {
		delete(c.inflight, key)
	}
	c.mu.Unlock()
	c.counters.abandoned.Add(1)
	cl.cancel()
}

// run performs the shared upstream call for cl and publishes its result.
func (c *Cache[K, V]) run(ctx context.Context, key K, cl *call[V], fn func(context.Context) (V, time.Duration, error)) {
	// If fn ignores ctx, waiters are released at the deadline anyway; fn's
	// late result is then dropped (finish runs once per call).
	stop := context.AfterFunc(ctx, func() {
		if ctx.Err() == context.DeadlineExceeded {
			c.finish(key, cl, result[V]{err: fmt.Errorf("%w after %v: %w", ErrCallTimeout, cl.budget.Round(time.Millisecond), context.DeadlineExceeded)})
		}
	})
	var r result[V]
	returned := false
	defer func() {
		// Also reached when fn calls runtime.Goexit, which no recover stops:
		// waiters must be released whatever way fn ends.
		if !returned {
			r = result[V]{err: errGoexit}
		}
		stop()
		cl.cancel()
		c.finish(key, cl, r)
	}()
	fnCtx, release, err := c.acquire(ctx)
	if err != nil {
		r, returned = result[V]{err: err}, true
		return
	}
	defer release()
	c.counters.running.Add(1)
	defer c.counters.running.Add(-1)
	r = invoke(fnCtx, fn)
	returned = true
}

// acquire waits for a slot of Config.MaxCalls for a call with ctx, unless
// there is no bound or the call was started from inside a call that holds
// one. It returns ctx marked as holding the slot and the function that
// frees it; err is ctx's error when the call ended while queued.
func (c *Cache[K, V]) acquire(ctx context.Context) (_ context.Context, release func(), err error) {
	if c.slots == nil || ctx.Value(slotKey{c.slots}) != nil {
		return ctx, func() {}, nil
	}
	select {
	case c.slots <- struct{}{}:
	default:
		c.counters.queued.Add(1)
		select {
		case c.slots <- struct{}{}:
			c.counters.queued.Add(-1)
		case <-ctx.Done():
			c.counters.queued.Add(-1)
			return ctx, nil, ctx.Err()
		}
	}
	return context.WithValue(ctx, slotKey{c.slots}, true), func() { <-c.slots }, nil
}

// invoke calls fn, turning a panic into a *PanicError.
func invoke[V any](ctx context.Context, fn func(context.Context) (V, time.Duration, error)) (r result[V]) {
	defer func() {
		if p := recover(); p != nil {
			r = result[V]{err: &PanicError{Value: p, Stack: debug.Stack()}}
		}
	}()
	r.val, r.ttl, r.err = fn(ctx)
	return r
}

// finish stores r (or falls back to a stale entry) and releases cl's
// waiters. Only the first finish of a call has an effect.
func (c *Cache[K, V]) finish(key K, cl *call[V], r result[V]) {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl.finished {
		return
	}
	cl.finished = true
	if c.inflight[key] == cl {
		delete(c.inflight, key)
	}
	defer close(cl.done)

	if r.err == nil {
		expires := c.storeLocked(key, r.val, r.ttl, now)
		cl.val = r.val
		cl.st = Status{Expires: c.base.Add(time.Duration(expires))}
		return
	}
	if cl.abandoned {
		// Most likely the cancellation of a call nobody waits for: it says
		// nothing about upstream, so it neither counts nor throttles.
		cl.err = r.err
		return
	}
	c.counters.refreshFailures.Add(1)
	e, ok := c.lru.get(key)
	switch {
	case !ok:
		cl.err = r.err
	case now < e.expires:
		// Set stored a fresh value while the call was failing: serve it.
		cl.val, cl.st = e.val, c.status(e, now)
	case now < c.staleUntil(e):
		e.fail = &failure{at: now, err: r.err}
		cl.val, cl.st = e.val, c.status(e, now)
		cl.st.Stale, cl.st.Err = true, r.err
	default:
		c.lru.remove(key)
		cl.err = r.err
	}
}
