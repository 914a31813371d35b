package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a concurrency-safe manual clock for Config.Now. Its times
// carry no monotonic reading, so expiry is computed from the wall values the
// test sets.
type fakeClock struct {
	base time.Time
	off  atomic.Int64
}

func newFakeClock() *fakeClock {
	return &fakeClock{base: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time          { return f.base.Add(time.Duration(f.off.Load())) }
func (f *fakeClock) Advance(d time.Duration) { f.off.Add(int64(d)) }

// newTestCache returns a Cache on a fake clock.
func newTestCache[V any](cfg Config) (*Cache[string, V], *fakeClock) {
	clk := newFakeClock()
	cfg.Now = clk.Now
	return New[string, V](cfg), clk
}

// waitFor polls cond until it holds. It is a liveness bound for goroutines
// to reach a blocking point, not a timing assertion: the deadline is far
// beyond anything a correct run needs.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// upstream is a scripted upstream: Fetch functions return whatever it was
// last told to, and it counts how often it was asked.
type upstream struct {
	calls atomic.Int64
	mu    sync.Mutex
	val   string
	ttl   time.Duration
	err   error
}

func (u *upstream) answer(val string, ttl time.Duration) {
	u.mu.Lock()
	u.val, u.ttl, u.err = val, ttl, nil
	u.mu.Unlock()
}

func (u *upstream) fail(err error) {
	u.mu.Lock()
	u.err = err
	u.mu.Unlock()
}

func (u *upstream) fetch(context.Context) (string, time.Duration, error) {
	u.calls.Add(1)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err != nil {
		return "", 0, u.err
	}
	return u.val, u.ttl, nil
}

// errUpstream stands for SERVFAIL, a timeout or a 503.
var errUpstream = errors.New("upstream: SERVFAIL")
