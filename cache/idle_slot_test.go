package cache

import (
	"context"
	"errors"
	"testing"
	"time"
)

// An upstream function that waits for its caller gives its slot back for
// that long (Idle): with one slot, a call that waits for another call of
// the same caller would otherwise keep it from ever running. Here a waits,
// idle, until b has run; b needs a's slot.
func TestIdleGivesTheSlotBackWhileWaiting(t *testing.T) {
	c, _ := newTestCache[string](Config{MaxCalls: 1})
	bDone := make(chan struct{})
	a := func(ctx context.Context) (string, time.Duration, error) {
		err := Idle(ctx, func() error {
			select {
			case <-bDone:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		return "a", time.Minute, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), liveness)
	defer cancel()
	gotA := make(chan error, 1)
	go func() { _, _, err := c.Fetch(ctx, "a", a); gotA <- err }()
	waitFor(t, "a to run", func() bool { return c.Stats().Running == 1 })

	v, _, err := c.Fetch(ctx, "b", func(context.Context) (string, time.Duration, error) { return "b", time.Minute, nil })
	if err != nil || v != "b" {
		t.Fatalf("Fetch(b) while a waits idle = %q, %v; want b (a gave its slot back)", v, err)
	}
	close(bDone)
	if err := <-gotA; err != nil {
		t.Fatalf("Fetch(a) = %v; want a once b has run", err)
	}
	if s := c.Stats(); s.Running != 0 || s.Queued != 0 {
		t.Errorf("Stats = %+v; want nothing running or queued", s)
	}
}

// A call whose waiters all left while it was idle does not take a slot
// again: Idle returns the call's context error.
func TestIdleCallAbandonedMeanwhileTakesNoSlot(t *testing.T) {
	c, _ := newTestCache[string](Config{MaxCalls: 1})
	idle := make(chan struct{})
	release := make(chan struct{})
	sawErr := make(chan error, 1)
	a := func(ctx context.Context) (string, time.Duration, error) {
		err := Idle(ctx, func() error {
			close(idle)
			<-release
			return nil
		})
		sawErr <- err
		return "", 0, err
	}
	// b holds the slot while a is idle, so that a must queue to take one.
	holdB := make(chan struct{})
	ctxA, cancelA := context.WithCancel(context.Background())
	go func() { _, _, _ = c.Fetch(ctxA, "a", a) }()
	<-idle
	go func() {
		_, _, _ = c.Fetch(context.Background(), "b", func(context.Context) (string, time.Duration, error) {
			<-holdB
			return "b", time.Minute, nil
		})
	}()
	waitFor(t, "b to run", func() bool { return c.Stats().Running == 2 })
	close(release)
	waitFor(t, "a to queue for a slot again", func() bool { return c.Stats().Queued == 1 })
	cancelA()
	if err := <-sawErr; !errors.Is(err, context.Canceled) {
		t.Errorf("Idle after a was abandoned = %v; want context.Canceled", err)
	}
	close(holdB)
	waitFor(t, "every call to end", func() bool { s := c.Stats(); return s.Running == 0 && s.Queued == 0 })
	if v, _, err := c.Fetch(context.Background(), "c", func(context.Context) (string, time.Duration, error) { return "c", time.Minute, nil }); err != nil || v != "c" {
		t.Errorf("Fetch(c) after = %q, %v; want the slot free", v, err)
	}
}

// Idle outside an upstream function, or without a bound, just waits.
func TestIdleWithoutASlotJustWaits(t *testing.T) {
	called := false
	if err := Idle(context.Background(), func() error { called = true; return nil }); err != nil || !called {
		t.Errorf("Idle without a slot = %v, called %v", err, called)
	}
}
