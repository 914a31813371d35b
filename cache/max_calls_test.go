package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Config.MaxCalls bounds the upstream functions running at once, over
// distinct keys; the calls beyond it wait for a slot and then run.
func TestMaxCallsBoundsRunningUpstreamCalls(t *testing.T) {
	const limit, callers = 3, 12
	c, _ := newTestCache[string](Config{MaxCalls: limit})
	var running, most atomic.Int64
	release := make(chan struct{})
	fn := func(context.Context) (string, time.Duration, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		return "v", time.Minute, nil
	}
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			if _, _, err := c.Fetch(context.Background(), fmt.Sprint("k", i), fn); err != nil {
				t.Error(err)
			}
		})
	}
	waitFor(t, "the calls beyond the bound to queue", func() bool {
		s := c.Stats()
		return s.Running == limit && s.Queued == callers-limit
	})
	close(release)
	wg.Wait()
	if m := most.Load(); m != limit {
		t.Errorf("at most %d upstream functions ran at once; want %d", m, limit)
	}
	if s := c.Stats(); s.Running != 0 || s.Queued != 0 || s.Loads != callers {
		t.Errorf("Stats = %+v after the calls", s)
	}
}

// A call whose every caller left holds its slot until its function returns:
// what is bounded is upstream work, and a function that ignores its
// context is still work. A queued call whose callers all left never runs.
func TestAbandonedCallKeepsItsSlotUntilItReturns(t *testing.T) {
	c, _ := newTestCache[string](Config{MaxCalls: 1})
	stuck := make(chan struct{})
	ignoresCtx := func(context.Context) (string, time.Duration, error) {
		<-stuck
		return "late", time.Minute, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() { _, _, err := c.Fetch(ctx, "a", ignoresCtx); left <- err }()
	waitFor(t, "the call to run", func() bool { return c.Stats().Running == 1 })
	cancel()
	<-left

	var ranB atomic.Bool
	queued := func(context.Context) (string, time.Duration, error) {
		ranB.Store(true)
		return "b", time.Minute, nil
	}
	ctxB, cancelB := context.WithCancel(context.Background())
	leftB := make(chan error, 1)
	go func() { _, _, err := c.Fetch(ctxB, "b", queued); leftB <- err }()
	waitFor(t, "b to queue behind the abandoned call", func() bool { return c.Stats().Queued == 1 })
	cancelB()
	if err := <-leftB; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued caller: %v", err)
	}
	waitFor(t, "b's call to leave the queue", func() bool { return c.Stats().Queued == 0 })

	close(stuck)
	waitFor(t, "the abandoned call to return", func() bool { return c.Stats().Running == 0 })
	if ranB.Load() {
		t.Error("a queued call whose callers all left ran anyway")
	}
	if v, _, ok := c.Get("a"); !ok || v != "late" {
		t.Errorf("Get(a) = %q, %v; want the late value stored", v, ok)
	}
	if v, _, err := c.Fetch(context.Background(), "b", queued); err != nil || v != "b" {
		t.Errorf("Fetch(b) with a free slot = %q, %v", v, err)
	}
}

// A Fetch on the same Cache from inside an upstream function runs on that
// function's slot: with one slot, the nested call would otherwise wait for
// itself forever.
func TestNestedFetchRunsOnItsCallersSlot(t *testing.T) {
	c, _ := newTestCache[string](Config{MaxCalls: 1})
	outer := func(ctx context.Context) (string, time.Duration, error) {
		v, _, err := c.Fetch(ctx, "inner", func(context.Context) (string, time.Duration, error) {
			return "inner", time.Minute, nil
		})
		return "outer+" + v, time.Minute, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	v, _, err := c.Fetch(ctx, "outer", outer)
	if err != nil || v != "outer+inner" {
		t.Fatalf("nested Fetch = %q, %v; want outer+inner without waiting for a second slot", v, err)
	}
}
