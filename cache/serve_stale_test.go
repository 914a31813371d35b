package cache

import (
	"context"
	"errors"
	"testing"
	"time"
)

// RFC 8767 §4: stale data is used only when the refresh fails, and only
// within a bounded window past expiry.

func TestServesStaleWhenRefreshFailsWithinWindow(t *testing.T) {
	c, clk := newTestCache[string](Config{StaleWindow: time.Hour})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx := context.Background()
	if _, _, err := c.Fetch(ctx, "a", up.fetch); err != nil {
		t.Fatal(err)
	}
	stored := clk.Now()

	clk.Advance(time.Minute + 30*time.Minute)
	up.fail(errUpstream)
	v, st, err := c.Fetch(ctx, "a", up.fetch)
	if err != nil {
		t.Fatalf("Fetch = %v; want the stale value and a nil error", err)
	}
	if v != "v1" || !st.Stale || st.Hit {
		t.Fatalf("Fetch = %q, %+v; want v1 marked stale", v, st)
	}
	if !errors.Is(st.Err, errUpstream) {
		t.Errorf("Status.Err = %v; want the refresh failure", st.Err)
	}
	if st.Age != 31*time.Minute || !st.Expires.Equal(stored.Add(time.Minute)) {
		t.Errorf("Age, Expires = %v, %v; want 31m, %v", st.Age, st.Expires, stored.Add(time.Minute))
	}
	if n := up.calls.Load(); n != 2 {
		t.Errorf("upstream calls = %d; want 2 (the refresh was attempted)", n)
	}
	if _, _, ok := c.Get("a"); ok {
		t.Error("Get returned a stale entry; Get serves fresh entries only")
	}
	s := c.Stats()
	if s.StaleServes != 1 || s.RefreshFailures != 1 {
		t.Errorf("Stats = %+v; want 1 stale serve, 1 refresh failure", s)
	}
}

func TestStaleIsNotServedWhileRefreshSucceeds(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx := context.Background()
	c.Fetch(ctx, "a", up.fetch)
	clk.Advance(2 * time.Minute)
	up.answer("v2", time.Minute)
	v, st, err := c.Fetch(ctx, "a", up.fetch)
	if err != nil || v != "v2" || st.Stale {
		t.Fatalf("Fetch = %q, %+v, %v; want the refreshed v2", v, st, err)
	}
}

func TestNoStaleServePastWindow(t *testing.T) {
	c, clk := newTestCache[string](Config{StaleWindow: time.Hour})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx := context.Background()
	c.Fetch(ctx, "a", up.fetch)

	// Exactly at expiry+window the entry is out: the window is half-open.
	clk.Advance(time.Minute + time.Hour)
	up.fail(errUpstream)
	v, st, err := c.Fetch(ctx, "a", up.fetch)
	if !errors.Is(err, errUpstream) {
		t.Fatalf("Fetch past the window = %q, %+v, %v; want the upstream error", v, st, err)
	}
	if v != "" || st.Stale {
		t.Errorf("Fetch past the window returned %q, %+v; want nothing", v, st)
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d; the entry past its window should be gone", c.Len())
	}
}

func TestStaleWindowDefaultsTo24h(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx := context.Background()
	c.Fetch(ctx, "a", up.fetch)
	up.fail(errUpstream)

	clk.Advance(time.Minute + 24*time.Hour - time.Nanosecond)
	if _, st, err := c.Fetch(ctx, "a", up.fetch); err != nil || !st.Stale {
		t.Fatalf("just inside 24h: %+v, %v; want stale", st, err)
	}
	clk.Advance(time.Nanosecond)
	if _, _, err := c.Fetch(ctx, "a", up.fetch); !errors.Is(err, errUpstream) {
		t.Fatalf("at 24h: err = %v; want the upstream error", err)
	}
}

func TestNegativeStaleWindowDisablesServeStale(t *testing.T) {
	c, clk := newTestCache[string](Config{StaleWindow: -1})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx := context.Background()
	c.Fetch(ctx, "a", up.fetch)
	clk.Advance(time.Minute)
	up.fail(errUpstream)
	if _, _, err := c.Fetch(ctx, "a", up.fetch); !errors.Is(err, errUpstream) {
		t.Fatalf("err = %v; want the upstream error with serve-stale disabled", err)
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d; want 0", c.Len())
	}
}

func TestErrorsAreNeverCached(t *testing.T) {
	c, _ := newTestCache[string](Config{})
	up := &upstream{}
	up.fail(errUpstream)
	ctx := context.Background()
	for i := range 3 {
		if _, _, err := c.Fetch(ctx, "a", up.fetch); !errors.Is(err, errUpstream) {
			t.Fatalf("Fetch %d: err = %v; want the upstream error", i, err)
		}
	}
	if n := up.calls.Load(); n != 3 {
		t.Errorf("upstream calls = %d; want 3: a failure must not be remembered as an answer", n)
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d; a failure was stored", c.Len())
	}
	up.answer("v1", time.Minute)
	if v, _, err := c.Fetch(ctx, "a", up.fetch); err != nil || v != "v1" {
		t.Fatalf("Fetch after recovery = %q, %v", v, err)
	}
}

func TestNegativeAnswerIsCachedForItsOwnTTL(t *testing.T) {
	type answer struct {
		nxdomain bool
		target   string
	}
	c := New[string, answer](Config{Now: newFakeClock().Now})
	calls := 0
	nx := func(context.Context) (answer, time.Duration, error) {
		calls++
		return answer{nxdomain: true}, ClampTTL(3*time.Hour, 0, MaxNegativeTTL), nil
	}
	ctx := context.Background()
	for range 3 {
		a, _, err := c.Fetch(ctx, "_oci.missing.example.", nx)
		if err != nil || !a.nxdomain {
			t.Fatalf("Fetch = %+v, %v; want the NXDOMAIN value", a, err)
		}
	}
	if calls != 1 {
		t.Errorf("upstream calls = %d; want 1 (the negative answer is cached)", calls)
	}
	_, st, _ := c.Get("_oci.missing.example.")
	if got := st.Expires.Sub(newFakeClock().Now()); got != time.Hour {
		t.Errorf("negative TTL = %v; want capped at MaxNegativeTTL", got)
	}
}

func TestSetDuringFailingRefreshIsServedFresh(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	c.Set("a", "old", time.Minute)
	clk.Advance(2 * time.Minute)
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		v, st, err := c.Fetch(context.Background(), "a", func(context.Context) (string, time.Duration, error) {
			<-release
			return "", 0, errUpstream
		})
		if err != nil || v != "new" || st.Stale {
			t.Errorf("Fetch = %q, %+v, %v; want the fresh value Set during the call", v, st, err)
		}
	}()
	waitFor(t, "the refresh to start", func() bool { return c.Stats().Loads == 1 })
	c.Set("a", "new", time.Minute)
	close(release)
	<-done
}
