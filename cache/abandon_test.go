package cache

import (
	"context"
	"errors"
	"testing"
	"time"
)

// liveness bounds how long a test waits for something a correct cache does
// at once; it is not a timing assertion.
const liveness = 10 * time.Second

// When the last caller waiting for an upstream call leaves, the call's
// context is cancelled: no upstream work goes on for nobody (it used to run
// until CallTimeout). The cache counts it as abandoned, not as a failed
// refresh, and the next caller starts a call of its own. (That a caller
// leaving while another still waits cancels nothing is
// TestFirstCallerCancellationDoesNotCancelSharedCall; how the waiters are
// counted is internal/flight's, cancellation_test.go.)
func TestLastWaiterLeavingCancelsTheCall(t *testing.T) {
	c, _ := newTestCache[string](Config{CallTimeout: time.Hour})
	sawEnd := make(chan error, 1)
	fn := func(ctx context.Context) (string, time.Duration, error) {
		<-ctx.Done()
		sawEnd <- ctx.Err()
		return "", 0, ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() { _, _, err := c.Fetch(ctx, "a", fn); left <- err }()
	waitFor(t, "the call to start", func() bool { return c.Stats().Loads == 1 })

	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("caller: %v; want context.Canceled", err)
	}
	select {
	case err := <-sawEnd:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the call's context ended with %v; want context.Canceled", err)
		}
	case <-time.After(liveness):
		t.Fatal("the call went on after its last waiter left")
	}
	waitFor(t, "the call to finish", func() bool { return c.Stats().Running == 0 })
	if s := c.Stats(); s.Abandoned != 1 || s.RefreshFailures != 0 {
		t.Errorf("Stats = %+v; want 1 abandoned call and no refresh failure", s)
	}

	// The next caller starts a call of its own, not one on its way out.
	up := &upstream{}
	up.answer("v1", time.Minute)
	if v, st, err := c.Fetch(context.Background(), "a", up.fetch); err != nil || v != "v1" || st.Coalesced {
		t.Errorf("Fetch after the abandoned call = %q, %+v, %v; want v1 from a new call", v, st, err)
	}
}

// An abandoned call's error is its own cancellation, not news about the
// upstream: it must not start RFC 8767's failure recheck timer, which would
// serve the stale entry without asking upstream for RetryInterval.
func TestAbandonedCallDoesNotThrottleRefreshes(t *testing.T) {
	c, clk := newTestCache[string](Config{CallTimeout: time.Hour, RetryInterval: time.Hour})
	c.Set("a", "old", time.Minute)
	clk.Advance(2 * time.Minute)
	ended := make(chan struct{})
	hang := func(ctx context.Context) (string, time.Duration, error) {
		defer close(ended)
		<-ctx.Done()
		return "", 0, ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() { _, _, err := c.Fetch(ctx, "a", hang); left <- err }()
	waitFor(t, "the call to start", func() bool { return c.Stats().Loads == 1 })
	cancel()
	<-left
	select {
	case <-ended:
	case <-time.After(liveness):
		t.Fatal("the abandoned call was not cancelled")
	}
	waitFor(t, "the call to finish", func() bool { return c.Stats().Running == 0 })

	up := &upstream{}
	up.answer("new", time.Minute)
	v, st, err := c.Fetch(context.Background(), "a", up.fetch)
	if err != nil || v != "new" || st.Stale || up.calls.Load() != 1 {
		t.Errorf("Fetch after an abandoned refresh = %q, %+v, %v with %d upstream calls; want new from upstream", v, st, err, up.calls.Load())
	}
}

// A caller that gives the call more time than CallTimeout gets it: the
// cache's own bound must not cut a resolution whose caller allows longer
// (`resolve --timeout 60s` used to fail at 30 s).
func TestCallerDeadlineBeyondCallTimeoutIsHonoured(t *testing.T) {
	const callTimeout = 20 * time.Millisecond
	c, _ := newTestCache[string](Config{CallTimeout: callTimeout})
	release := make(chan struct{})
	fn := func(ctx context.Context) (string, time.Duration, error) {
		select {
		case <-release:
			return "v1", time.Minute, nil
		case <-ctx.Done():
			return "", 0, ctx.Err()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		v, _, err := c.Fetch(ctx, "a", fn)
		if err == nil && v != "v1" {
			err = errors.New("value " + v)
		}
		got <- err
	}()
	time.Sleep(5 * callTimeout) // well past CallTimeout, well within ctx
	close(release)
	if err := <-got; err != nil {
		t.Fatalf("Fetch with a deadline beyond CallTimeout: %v; want v1", err)
	}
}
