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
	done chan struct{} // closed when the fields below are final
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
// The shared call runs on its own goroutine with a context that keeps ctx's
// values (such as a trace) but not its cancellation, bounded by
// Config.CallTimeout: the first caller giving up does not fail the others,
// and a result that arrives after every caller left is still stored. Each
// caller stops waiting when its own ctx ends and gets ctx.Err(); a caller
// whose ctx is already done gets ctx.Err() on a miss without starting a
// call (a fresh or throttled stale entry is still returned). If fn
// panics, every waiter gets a *PanicError (wrapping ErrPanic) and the process
// keeps running; if fn outlives CallTimeout ignoring its context, waiters get
// an error wrapping ErrCallTimeout and context.DeadlineExceeded.
//
// Cost on a fresh hit: as Get, plus, if fn is a closure capturing variables,
// the allocation of that closure by the caller (fn may run on another
// goroutine, so it escapes). Hot paths call Get first and Fetch on a miss.
func (c *Cache[K, V]) Fetch(ctx context.Context, key K, fn func(ctx context.Context) (V, time.Duration, error)) (V, Status, error) {
	now := c.clock()
	c.mu.Lock()
	if e, ok := c.lru.Get(key); ok {
		switch {
		case now < e.expires:
			v, st := e.val, c.status(e, now)
			c.mu.Unlock()
			c.counters.hits.Add(1)
			st.Hit = true
			return v, st, nil
		case now >= c.staleUntil(e):
			c.lru.Remove(key)
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
	if joined {
		c.counters.coalesced.Add(1)
	} else {
		cl = &call[V]{done: make(chan struct{})}
		if c.inflight == nil {
			c.inflight = make(map[K]*call[V])
		}
		c.inflight[key] = cl
		c.counters.loads.Add(1)
	}
	c.mu.Unlock()
	if !joined {
		go c.run(ctx, key, cl, fn)
	}

	select {
	case <-cl.done:
	case <-ctx.Done():
		select {
		case <-cl.done: // both ready: the answer is worth more than the error
		default:
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

// run performs the shared upstream call for cl and publishes its result.
func (c *Cache[K, V]) run(parent context.Context, key K, cl *call[V], fn func(context.Context) (V, time.Duration, error)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), c.timeout)
	// If fn ignores ctx, waiters are released at the deadline anyway; fn's
	// late result is then dropped (finish runs once per call).
	stop := context.AfterFunc(ctx, func() {
		c.finish(key, cl, result[V]{err: fmt.Errorf("%w after %v: %w", ErrCallTimeout, c.timeout, context.DeadlineExceeded)})
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
		cancel()
		c.finish(key, cl, r)
	}()
	r = invoke(ctx, fn)
	returned = true
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
	c.counters.refreshFailures.Add(1)
	e, ok := c.lru.Get(key)
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
		c.lru.Remove(key)
		cl.err = r.err
	}
}
