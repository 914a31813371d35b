package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestConcurrentColdFetchesShareOneCall(t *testing.T) {
	const n = 1000
	c, _ := newTestCache[string](Config{})
	var calls atomic.Int64
	release := make(chan struct{})
	fn := func(context.Context) (string, time.Duration, error) {
		calls.Add(1)
		<-release
		return "digest", time.Minute, nil
	}

	var wg sync.WaitGroup
	var coalesced atomic.Int64
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			v, st, err := c.Fetch(context.Background(), "example.com/app:v1", fn)
			if err != nil || v != "digest" {
				errs <- errors.New("Fetch = " + v + ", " + errString(err))
			}
			if st.Coalesced {
				coalesced.Add(1)
			}
		})
	}
	// Hold fn until every other caller has joined its call.
	waitFor(t, "all callers to wait", func() bool { return c.Stats().Coalesced == n-1 })
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	if got := calls.Load(); got != 1 {
		t.Errorf("upstream calls = %d; want exactly 1", got)
	}
	if got := coalesced.Load(); got != n-1 {
		t.Errorf("callers with Status.Coalesced = %d; want %d", got, n-1)
	}
	want := Stats{Misses: n, Coalesced: n - 1, Loads: 1, Entries: 1}
	if s := c.Stats(); s != want {
		t.Errorf("Stats = %+v; want %+v", s, want)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestWaiterGivesUpOnItsContextWhileCallContinues(t *testing.T) {
	c, _ := newTestCache[string](Config{})
	release := make(chan struct{})
	fn := func(context.Context) (string, time.Duration, error) {
		<-release
		return "v1", time.Minute, nil
	}

	leaderDone := make(chan struct{})
	go func() {
		defer close(leaderDone)
		if v, _, err := c.Fetch(context.Background(), "a", fn); err != nil || v != "v1" {
			t.Errorf("leader Fetch = %q, %v", v, err)
		}
	}()
	waitFor(t, "the call to start", func() bool { return c.Stats().Loads == 1 })

	ctx, cancel := context.WithCancel(context.Background())
	waiterDone := make(chan struct{})
	go func() {
		defer close(waiterDone)
		v, st, err := c.Fetch(ctx, "a", fn)
		if !errors.Is(err, context.Canceled) || v != "" || !st.Coalesced {
			t.Errorf("cancelled waiter = %q, %+v, %v; want context.Canceled", v, st, err)
		}
	}()
	waitFor(t, "the waiter to join", func() bool { return c.Stats().Coalesced == 1 })
	cancel()
	<-waiterDone // returns while fn is still held

	close(release)
	<-leaderDone
	if v, _, ok := c.Get("a"); !ok || v != "v1" {
		t.Errorf("Get after the call = %q, %v; want the stored result", v, ok)
	}
}

func TestFirstCallerCancellationDoesNotCancelSharedCall(t *testing.T) {
	c, _ := newTestCache[string](Config{})
	type ctxKey struct{}
	release := make(chan struct{})
	sawCancel := make(chan error, 1)
	sawValue := make(chan any, 1)
	fn := func(ctx context.Context) (string, time.Duration, error) {
		<-release
		sawCancel <- ctx.Err()
		sawValue <- ctx.Value(ctxKey{})
		if _, ok := ctx.Deadline(); !ok {
			return "", 0, errors.New("shared call has no deadline")
		}
		return "v1", time.Minute, nil
	}

	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "trace-1"))
	leaderDone := make(chan struct{})
	go func() {
		defer close(leaderDone)
		if _, _, err := c.Fetch(ctx, "a", fn); !errors.Is(err, context.Canceled) {
			t.Errorf("leader err = %v; want context.Canceled", err)
		}
	}()
	waitFor(t, "the call to start", func() bool { return c.Stats().Loads == 1 })

	waiterDone := make(chan struct{})
	go func() {
		defer close(waiterDone)
		v, st, err := c.Fetch(context.Background(), "a", fn)
		if err != nil || v != "v1" || !st.Coalesced {
			t.Errorf("second caller = %q, %+v, %v; want v1 from the shared call", v, st, err)
		}
	}()
	waitFor(t, "the second caller to join", func() bool { return c.Stats().Coalesced == 1 })
	cancel()
	<-leaderDone

	close(release)
	if err := <-sawCancel; err != nil {
		t.Errorf("shared call's ctx.Err() = %v after the first caller left; want nil", err)
	}
	if v := <-sawValue; v != "trace-1" {
		t.Errorf("shared call's ctx value = %v; want the first caller's values", v)
	}
	<-waiterDone
}

func TestResultIsStoredAfterEveryCallerLeft(t *testing.T) {
	c, _ := newTestCache[string](Config{})
	release := make(chan struct{})
	var calls atomic.Int64
	fn := func(context.Context) (string, time.Duration, error) {
		calls.Add(1)
		<-release
		return "v1", time.Minute, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error)
	go func() {
		_, _, err := c.Fetch(ctx, "a", fn)
		left <- err
	}()
	waitFor(t, "the call to start", func() bool { return c.Stats().Loads == 1 })
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	close(release)
	waitFor(t, "the abandoned call to store its result", func() bool {
		_, _, ok := c.Get("a")
		return ok
	})
	if calls.Load() != 1 {
		t.Errorf("upstream calls = %d; want 1", calls.Load())
	}
}

func TestCancelledContextStartsNoCall(t *testing.T) {
	c, _ := newTestCache[string](Config{})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.Fetch(ctx, "a", up.fetch); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	if n := up.calls.Load(); n != 0 {
		t.Errorf("upstream calls = %d; want none for a caller that already gave up", n)
	}
	// A fresh entry is still returned: serving it costs nothing upstream.
	c.Set("a", "v0", time.Minute)
	if v, _, err := c.Fetch(ctx, "a", up.fetch); err != nil || v != "v0" {
		t.Errorf("Fetch of a fresh entry with a done ctx = %q, %v; want v0", v, err)
	}
}

func TestCallTimeoutReleasesWaitersWhenFnIgnoresContext(t *testing.T) {
	c, clk := newTestCache[string](Config{CallTimeout: 20 * time.Millisecond})
	c.Set("stale", "old", time.Second)
	clk.Advance(time.Second)
	stuck := make(chan struct{})
	defer close(stuck)
	fn := func(context.Context) (string, time.Duration, error) {
		<-stuck // ignores ctx, as a buggy upstream might
		return "late", time.Minute, nil
	}

	_, _, err := c.Fetch(context.Background(), "cold", fn)
	if !errors.Is(err, ErrCallTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want ErrCallTimeout and context.DeadlineExceeded", err)
	}
	v, st, err := c.Fetch(context.Background(), "stale", fn)
	if err != nil || v != "old" || !st.Stale || !errors.Is(st.Err, ErrCallTimeout) {
		t.Fatalf("Fetch with a stale entry = %q, %+v, %v; want stale old", v, st, err)
	}
	if s := c.Stats(); s.RefreshFailures != 2 {
		t.Errorf("RefreshFailures = %d; want 2", s.RefreshFailures)
	}
}

func TestStaleIsServedToEveryWaiterOfAFailedRefresh(t *testing.T) {
	const n = 50
	c, clk := newTestCache[string](Config{})
	c.Set("a", "v1", time.Minute)
	clk.Advance(time.Minute)
	release := make(chan struct{})
	fn := func(context.Context) (string, time.Duration, error) {
		<-release
		return "", 0, errUpstream
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			v, st, err := c.Fetch(context.Background(), "a", fn)
			if err != nil || v != "v1" || !st.Stale {
				t.Errorf("Fetch = %q, %+v, %v; want stale v1", v, st, err)
			}
		})
	}
	waitFor(t, "all callers to wait", func() bool { return c.Stats().Coalesced == n-1 })
	close(release)
	wg.Wait()
	if s := c.Stats(); s.StaleServes != n || s.RefreshFailures != 1 || s.Loads != 1 {
		t.Errorf("Stats = %+v; want %d stale serves from 1 failed load", s, n)
	}
}
