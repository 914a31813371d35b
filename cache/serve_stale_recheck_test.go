package cache

import (
	"context"
	"errors"
	"testing"
	"time"
)

// RFC 8767 §4 recommends a "failure recheck timer" (30 s): after a failed
// refresh, answer from stale data without asking upstream again until it
// runs out.

func TestRefreshIsNotRetriedWithinRetryInterval(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx := context.Background()
	c.Fetch(ctx, "a", up.fetch)

	clk.Advance(2 * time.Minute)
	up.fail(errUpstream)
	if _, st, _ := c.Fetch(ctx, "a", up.fetch); !st.Stale {
		t.Fatal("the first failed refresh did not serve stale")
	}
	if n := up.calls.Load(); n != 2 {
		t.Fatalf("upstream calls = %d; want 2", n)
	}

	up.answer("v2", time.Minute) // upstream is back, but the timer still runs
	for _, d := range []time.Duration{0, 10 * time.Second, 19*time.Second + 999*time.Millisecond} {
		clk.Advance(d)
		v, st, err := c.Fetch(ctx, "a", up.fetch)
		if err != nil || v != "v1" || !st.Stale || !errors.Is(st.Err, errUpstream) {
			t.Fatalf("within the interval: %q, %+v, %v; want stale v1 with the last failure", v, st, err)
		}
	}
	if n := up.calls.Load(); n != 2 {
		t.Fatalf("upstream calls within RetryInterval = %d; want still 2", n)
	}

	clk.Advance(time.Millisecond) // 30 s after the failure
	v, st, err := c.Fetch(ctx, "a", up.fetch)
	if err != nil || v != "v2" || st.Stale {
		t.Fatalf("after the interval: %q, %+v, %v; want the refreshed v2", v, st, err)
	}
	if n := up.calls.Load(); n != 3 {
		t.Errorf("upstream calls = %d; want 3", n)
	}
	s := c.Stats()
	if s.StaleServes != 4 || s.RefreshFailures != 1 || s.Loads != 3 {
		t.Errorf("Stats = %+v; want 4 stale serves, 1 refresh failure, 3 loads", s)
	}
}

func TestRetryIntervalRestartsOnEachFailure(t *testing.T) {
	c, clk := newTestCache[string](Config{RetryInterval: 5 * time.Second})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx := context.Background()
	c.Fetch(ctx, "a", up.fetch)
	clk.Advance(time.Minute)
	up.fail(errUpstream)

	for i := range 3 {
		c.Fetch(ctx, "a", up.fetch) // fails, restarts the timer
		clk.Advance(4 * time.Second)
		c.Fetch(ctx, "a", up.fetch) // throttled
		clk.Advance(time.Second)
		if n := up.calls.Load(); n != int64(2+i) {
			t.Fatalf("round %d: upstream calls = %d; want %d", i, n, 2+i)
		}
	}
}

func TestNegativeRetryIntervalRetriesEveryFetch(t *testing.T) {
	c, clk := newTestCache[string](Config{RetryInterval: -1})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx := context.Background()
	c.Fetch(ctx, "a", up.fetch)
	clk.Advance(time.Minute)
	up.fail(errUpstream)
	for range 3 {
		if _, st, _ := c.Fetch(ctx, "a", up.fetch); !st.Stale {
			t.Fatal("want stale")
		}
	}
	if n := up.calls.Load(); n != 4 {
		t.Errorf("upstream calls = %d; want 4 (no throttling)", n)
	}
}

func TestSuccessfulSetClearsTheFailure(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx := context.Background()
	c.Fetch(ctx, "a", up.fetch)
	clk.Advance(time.Minute)
	up.fail(errUpstream)
	c.Fetch(ctx, "a", up.fetch)

	c.Set("a", "v2", time.Second)
	clk.Advance(time.Second)
	up.answer("v3", time.Minute)
	// The failure was forgotten with the new value, so the expired v2 is
	// refreshed at once rather than served stale.
	if v, st, _ := c.Fetch(ctx, "a", up.fetch); v != "v3" || st.Stale {
		t.Fatalf("Fetch = %q, %+v; want v3", v, st)
	}
}
