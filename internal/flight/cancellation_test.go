package flight

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A waiter that leaves gets its own context's error; the call goes on and
// the others get its result.
func TestLeavingWaiterDoesNotFailTheOthers(t *testing.T) {
	var g Group[string, string]
	release := make(chan struct{})
	sawErr := make(chan error, 1)
	fn := func(ctx context.Context) (string, error) {
		<-release
		sawErr <- ctx.Err()
		return "v1", nil
	}
	first, cancelFirst := context.WithCancel(context.Background())
	got := make(chan outcome, 2)
	do := func(ctx context.Context) {
		v, joined, err := g.Do(ctx, "k", fn)
		got <- outcome{v, joined, err}
	}
	go do(first)
	waitFor(t, "the call to start", func() bool { return g.Stats().Started == 1 })
	go do(context.Background())
	waitFor(t, "the second caller to join", func() bool { return g.Stats().Joined == 1 })

	cancelFirst() // the caller that started the call leaves
	if o := <-got; !errors.Is(o.err, context.Canceled) || o.joined {
		t.Fatalf("first caller = %+v; want its own context.Canceled", o)
	}
	close(release)
	if o := <-got; o.err != nil || o.v != "v1" || !o.joined {
		t.Fatalf("second caller = %+v; want v1 from the shared call", o)
	}
	if err := <-sawErr; err != nil {
		t.Errorf("the call's context ended (%v) while a caller still waited", err)
	}
	if s := g.Stats(); s.Abandoned != 0 || g.Len() != 0 {
		t.Errorf("Stats = %+v, %d in flight; want nothing abandoned, nothing left", s, g.Len())
	}
}

// When the last waiter leaves, the call's context is cancelled, and the
// call leaves the Group at once: the next caller starts a call of its own.
func TestLastWaiterLeavingCancelsTheCall(t *testing.T) {
	var g Group[string, string]
	sawEnd := make(chan error, 1)
	hang := func(ctx context.Context) (string, error) {
		<-ctx.Done()
		sawEnd <- ctx.Err()
		return "", ctx.Err()
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { _, _, err := g.Do(ctxA, "k", hang); errs <- err }()
	waitFor(t, "the call to start", func() bool { return g.Stats().Started == 1 })
	go func() { _, _, err := g.Do(ctxB, "k", hang); errs <- err }()
	waitFor(t, "the second caller to join", func() bool { return g.Stats().Joined == 1 })

	cancelA()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v; want context.Canceled", err)
	}
	select {
	case err := <-sawEnd:
		t.Fatalf("the call ended (%v) while a caller still waited", err)
	case <-time.After(20 * time.Millisecond):
	}
	cancelB()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("second caller: %v; want context.Canceled", err)
	}
	select {
	case err := <-sawEnd:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the call's context ended with %v; want context.Canceled", err)
		}
	case <-time.After(liveness):
		t.Fatal("the call went on after its last waiter left")
	}
	if s := g.Stats(); s.Abandoned != 1 || g.InFlight("k") {
		t.Errorf("Stats = %+v, in flight %v; want one abandoned call, gone from the Group", s, g.InFlight("k"))
	}
	v, joined, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "v2", nil })
	if err != nil || v != "v2" || joined {
		t.Errorf("Do after the abandoned call = %q, joined %v, %v; want v2 from a new call", v, joined, err)
	}
}

// The call keeps the values of the caller that started it, not its
// cancellation, and has a deadline: Timeout, or the caller's own if later.
func TestCallKeepsTheStartersValuesNotItsCancel(t *testing.T) {
	type key struct{}
	g := Group[string, string]{Timeout: time.Hour}
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "trace-1"), 2*time.Hour)
	defer cancel()
	var sawValue any
	var sawDeadline time.Time
	var hasDeadline bool
	_, _, err := g.Do(ctx, "k", func(ctx context.Context) (string, error) {
		sawValue = ctx.Value(key{})
		sawDeadline, hasDeadline = ctx.Deadline()
		return "", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sawValue != "trace-1" {
		t.Errorf("the call's value = %v; want the starter's", sawValue)
	}
	if d, _ := ctx.Deadline(); !hasDeadline || sawDeadline.Before(d.Add(-time.Minute)) {
		t.Errorf("the call's deadline = %v (%v); want about the caller's later one, %v", sawDeadline, hasDeadline, d)
	}
}

// A caller whose context has ended starts nothing and joins nothing.
func TestEndedContextStartsNoCall(t *testing.T) {
	var g Group[string, string]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	_, _, err := g.Do(ctx, "k", func(context.Context) (string, error) { ran = true; return "", nil })
	if !errors.Is(err, context.Canceled) || ran || g.Stats().Started != 0 {
		t.Errorf("Do with an ended context = %v, ran %v, %+v; want context.Canceled and no call", err, ran, g.Stats())
	}
}

// Every waiter gets the value and the error fn returned, both.
func TestWaitersGetValueAndError(t *testing.T) {
	var g Group[string, string]
	errPartial := errors.New("partial")
	v, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "events", errPartial })
	if v != "events" || !errors.Is(err, errPartial) {
		t.Errorf("Do = %q, %v; want both the value and the error", v, err)
	}
}
