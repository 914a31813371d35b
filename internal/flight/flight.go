// Package flight shares one call among the concurrent callers that need
// the same result (singleflight), under the one cancellation rule that the
// cache, the DNSSEC validator and the registry token cache follow:
//
//   - A shared call runs on a goroutine of its own, detached from every
//     caller's cancellation: its context keeps the values of the caller
//     that started it (a trace, say) but not its cancel.
//   - Each waiter returns on its own context: when that ends first, the
//     waiter gets the context's error and the call goes on for the others.
//   - The call is cancelled when its last waiter leaves, and it leaves the
//     Group at once: no work goes on for nobody, and a later caller starts
//     a call of its own instead of joining one on its way out.
//   - Its deadline is Group.Timeout from its start, or the starting
//     caller's deadline if that is later; at the deadline the waiters get a
//     *TimeoutError, even if the function ignores its context.
//   - A panic in the function, or runtime.Goexit, releases the waiters with
//     a *PanicError or ErrGoexit; the process keeps running.
//
// A Group holds only the calls in flight: what a caller keeps of a result
// (a cache, a token store) is its own, filled by the function before it
// returns or by Group.Finish, and looked up before Do. A call that
// finishes between that look-up and Do would be missed, and a second one
// made: Group.Lookup, asked as a call starts, closes that gap.
package flight

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// ErrGoexit is what the waiters get when the function ended its goroutine
// with runtime.Goexit (t.FailNow in a test, say) instead of returning.
var ErrGoexit = errors.New("shared call exited without returning (runtime.Goexit)")

// TimeoutError is what the waiters of a call get at its deadline. It wraps
// context.DeadlineExceeded.
type TimeoutError struct {
	// After is how long the call had, from its start to its deadline.
	After time.Duration
}

// Error says how long the call had.
func (e *TimeoutError) Error() string {
	return "shared call timed out after " + e.After.Round(time.Millisecond).String()
}

// Unwrap returns context.DeadlineExceeded.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// PanicError is what the waiters of a call get when its function panicked.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack trace, for logs.
	Stack []byte
}

// Error names the panic value; the stack is kept out of the message so the
// error stays one line.
func (e *PanicError) Error() string { return fmt.Sprintf("shared call panicked: %v", e.Value) }

// Unwrap returns the panic value when it is an error, else nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Group runs calls by key: at most one at a time per key, shared by every
// Do of that key while it is in flight. The zero value is ready to use;
// set its fields before the first Do. Safe for concurrent use.
type Group[K comparable, V any] struct {
	// Timeout bounds each call, unless the caller that starts it has a
	// later deadline, which then applies. Zero: the starting caller's
	// deadline alone, if it has one.
	Timeout time.Duration
	// Finish, when set, is called once a call with what it ended with —
	// the function's result, a *PanicError, ErrGoexit or a *TimeoutError —
	// before its waiters are released; they get what Finish returns.
	// abandoned reports that every waiter had left by then. Finish runs on
	// the call's goroutine (at a deadline, on a timer's), without the
	// Group's lock, and must not panic. A Do of the key meanwhile joins the
	// call, so a result Finish stores elsewhere is never missed.
	Finish func(key K, v V, err error, abandoned bool) (V, error)
	// Lookup, when set, is asked as a call starts, before fn: a value it
	// finds (one a call that has just ended stored, after the caller
	// looked) is the call's result as it is, without fn or Finish.
	Lookup func(key K) (V, bool)

	mu    sync.Mutex
	calls map[K]*call[V]

	started, joined, abandoned, found atomic.Uint64
}

// call is one shared call.
type call[V any] struct {
	done   chan struct{} // closed when val and err are final
	ctx    context.Context
	cancel context.CancelFunc
	budget time.Duration // from the start to the deadline; 0: none

	// Guarded by Group.mu.
	waiters   int
	abandoned bool // every waiter left before the call finished
	finished  bool // publish has begun: no more abandoning

	val V
	err error
}

// Stats counts a Group's calls since it was made.
type Stats struct {
	// Started counts calls started; Joined counts the Do calls that waited
	// for a call another had started.
	Started, Joined uint64
	// Abandoned counts calls cancelled because every waiter left first.
	Abandoned uint64
	// Found counts the calls Lookup answered: started, but fn not run.
	Found uint64
}

// Stats returns the Group's counters.
func (g *Group[K, V]) Stats() Stats {
	return Stats{Started: g.started.Load(), Joined: g.joined.Load(), Abandoned: g.abandoned.Load(), Found: g.found.Load()}
}

// InFlight reports whether a call for key is in flight.
func (g *Group[K, V]) InFlight(key K) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.calls[key]
	return ok
}

// Len returns the number of calls in flight.
func (g *Group[K, V]) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// Do returns the outcome of fn for key: it starts a call of fn, or joins
// the one in flight for key (joined), and waits for it under the rule of
// the package comment. The value and error are fn's as it returned them
// (through Finish), both of them, to every waiter. A caller whose ctx has
// ended gets ctx.Err() and joins nothing; a caller whose ctx ends while it
// waits gets ctx.Err(), unless the call finished meanwhile: an answer is
// worth more than the error.
//
// fn runs on a goroutine of its own and must be safe to run after the
// caller that passed it has returned; of the functions joined callers
// pass, none runs.
func (g *Group[K, V]) Do(ctx context.Context, key K, fn func(context.Context) (V, error)) (v V, joined bool, err error) {
	if err := ctx.Err(); err != nil {
		return v, false, err
	}
	g.mu.Lock()
	c, joined := g.calls[key]
	if joined {
		g.joined.Add(1)
	} else {
		c = g.newCall(ctx)
		if g.calls == nil {
			g.calls = make(map[K]*call[V])
		}
		g.calls[key] = c
		g.started.Add(1)
	}
	c.waiters++
	g.mu.Unlock()
	if !joined {
		go g.run(key, c, fn)
	}

	select {
	case <-c.done:
	case <-ctx.Done():
		select {
		case <-c.done: // both ready: the answer is worth more than the error
		default:
			g.leave(key, c)
			return v, joined, ctx.Err()
		}
	}
	return c.val, joined, c.err
}

// newCall returns a call started by a caller with ctx: ctx's values, no
// cancellation from it, and the deadline of the package comment.
func (g *Group[K, V]) newCall(ctx context.Context) *call[V] {
	c := &call[V]{done: make(chan struct{})}
	d, hasDeadline := ctx.Deadline()
	if !hasDeadline && g.Timeout <= 0 {
		c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
		return c
	}
	c.budget = g.Timeout
	if hasDeadline {
		c.budget = max(c.budget, time.Until(d))
	}
	c.ctx, c.cancel = context.WithTimeout(context.WithoutCancel(ctx), c.budget)
	return c
}

// leave records that one waiter of c stopped waiting; the last one to
// leave an unfinished call cancels it and takes it out of the Group.
func (g *Group[K, V]) leave(key K, c *call[V]) {
	g.mu.Lock()
	c.waiters--
	if c.waiters > 0 || c.finished {
		g.mu.Unlock()
		return
	}
	c.abandoned = true
	if g.calls[key] == c {
		delete(g.calls, key)
	}
	g.mu.Unlock()
	g.abandoned.Add(1)
	c.cancel()
}

// run performs the call c and releases its waiters, however fn ends.
func (g *Group[K, V]) run(key K, c *call[V], fn func(context.Context) (V, error)) {
	if g.Lookup != nil {
		if v, ok := g.Lookup(key); ok {
			g.found.Add(1)
			c.cancel()
			g.publish(key, c, v, nil, false)
			return
		}
	}
	// If fn ignores its context, the waiters are released at the deadline
	// all the same; fn's late result is then dropped (finish runs once).
	stop := context.AfterFunc(c.ctx, func() {
		if errors.Is(c.ctx.Err(), context.DeadlineExceeded) {
			var zero V
			g.publish(key, c, zero, &TimeoutError{After: c.budget}, true)
		}
	})
	var v V
	err := ErrGoexit
	defer func() {
		// Also reached when fn calls runtime.Goexit, which no recover
		// stops: err is then still ErrGoexit.
		stop()
		c.cancel()
		g.publish(key, c, v, err, true)
	}()
	v, err = invoke(c.ctx, fn)
}

// invoke calls fn, turning a panic into a *PanicError.
func invoke[V any](ctx context.Context, fn func(context.Context) (V, error)) (v V, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero V
			v, err = zero, &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	return fn(ctx)
}

// publish sets the outcome of c, through Finish if finish is set, and
// releases its waiters. Only the first publish of a call has an effect.
// The call stays in the Group until its outcome is set, so that a Do
// meanwhile joins it rather than starting another.
func (g *Group[K, V]) publish(key K, c *call[V], v V, err error, finish bool) {
	g.mu.Lock()
	if c.finished {
		g.mu.Unlock()
		return
	}
	c.finished = true
	abandoned := c.abandoned
	g.mu.Unlock()

	if finish && g.Finish != nil {
		v, err = g.Finish(key, v, err, abandoned)
	}
	c.val, c.err = v, err
	g.mu.Lock()
	if g.calls[key] == c {
		delete(g.calls, key)
	}
	g.mu.Unlock()
	close(c.done)
}
