package cache

import (
	"context"
	"sync"
	"sync/atomic"
)

// The slots of Config.MaxCalls: a call takes one before its upstream
// function runs and gives it back when the function returns. What they
// bound is upstream work, so a function that waits for something else
// meanwhile gives its slot back for that long (Idle).

// slotKey marks, in the context of an upstream call, that the call holds a
// slot of the semaphore sem: a Fetch on the same Cache from inside fn runs
// on that slot instead of waiting for another (which could deadlock). The
// value is the *heldSlot.
type slotKey struct{ sem chan struct{} }

// innerSlotKey is, in the context of an upstream call, the *heldSlot of
// the innermost call holding one: the slot Idle gives back.
type innerSlotKey struct{}

// heldSlot is the slot a call holds.
type heldSlot struct {
	sem    chan struct{}
	queued *atomic.Int64 // Stats.Queued of its Cache
	mu     sync.Mutex
	held   bool // false while Idle has given it back
}

// acquire waits for a slot of Config.MaxCalls for a call with ctx, unless
// there is no bound or the call was started from inside a call that holds
// one. It returns ctx marked as holding the slot and the function that
// frees it; err is ctx's error when the call ended while queued.
func (c *Cache[K, V]) acquire(ctx context.Context) (_ context.Context, release func(), err error) {
	if c.slots == nil || ctx.Value(slotKey{c.slots}) != nil {
		return ctx, func() {}, nil
	}
	h := &heldSlot{sem: c.slots, queued: &c.counters.queued}
	if err := h.take(ctx); err != nil {
		return ctx, nil, err
	}
	ctx = context.WithValue(context.WithValue(ctx, slotKey{c.slots}, h), innerSlotKey{}, h)
	return ctx, h.give, nil
}

// take waits for a free slot, counted in Stats.Queued meanwhile; err is
// ctx's error when ctx ends first.
func (h *heldSlot) take(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
	default:
		h.queued.Add(1)
		defer h.queued.Add(-1)
		select {
		case h.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h.mu.Lock()
	h.held = true
	h.mu.Unlock()
	return nil
}

// give gives the slot back, if held.
func (h *heldSlot) give() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held {
		h.held = false
		<-h.sem
	}
}

// Idle runs wait, which waits for something other than upstream work (the
// caller of a Fetch, say), with the Config.MaxCalls slot of the upstream
// call whose context is ctx given back for that long, and then waits for a
// slot again: an upstream function that waits for its caller must not hold
// a place that its caller's other calls need, or they would wait for each
// other for good. It returns wait's error, or ctx's if ctx ends before a
// slot is free again (the function should then return). Without a slot in
// ctx (no bound, or not inside an upstream function), Idle just runs wait.
// Call it from the upstream function's own goroutine.
func Idle(ctx context.Context, wait func() error) error {
	h, _ := ctx.Value(innerSlotKey{}).(*heldSlot)
	if h == nil {
		return wait()
	}
	h.give()
	err := wait()
	if terr := h.take(ctx); terr != nil {
		return terr
	}
	return err
}
