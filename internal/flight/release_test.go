package flight

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// A panic in fn reaches every waiter as a *PanicError with the value and
// the stack; the process keeps running and the key is usable again.
func TestPanicReleasesEveryWaiter(t *testing.T) {
	const n = 10
	var g Group[string, string]
	release := make(chan struct{})
	fn := func(context.Context) (string, error) {
		<-release
		panic(io.ErrUnexpectedEOF)
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _, err := g.Do(context.Background(), "k", fn)
			var pe *PanicError
			if !errors.As(err, &pe) || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(string(pe.Stack), "release_test.go") {
				t.Errorf("err = %v; want a *PanicError wrapping the panic value, with fn's stack", err)
			}
		})
	}
	waitFor(t, "every caller to wait", func() bool { return g.Stats().Joined == n-1 })
	close(release)
	wg.Wait()
	if v, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "v", nil }); err != nil || v != "v" {
		t.Errorf("Do after the panic = %q, %v", v, err)
	}
}

// runtime.Goexit in fn (t.FailNow) releases the waiters with ErrGoexit.
func TestGoexitReleasesTheWaiters(t *testing.T) {
	var g Group[string, string]
	_, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) {
		runtime.Goexit()
		return "", nil
	})
	if !errors.Is(err, ErrGoexit) {
		t.Fatalf("err = %v; want ErrGoexit", err)
	}
	if g.Len() != 0 {
		t.Errorf("%d calls still in flight", g.Len())
	}
}

// At its deadline a call releases its waiters with a *TimeoutError, even
// when fn ignores its context; fn's late result is dropped.
func TestDeadlineReleasesWaitersWhenFnIgnoresItsContext(t *testing.T) {
	finishes := make(chan error, 2)
	g := Group[string, string]{Timeout: 20 * time.Millisecond, Finish: func(_, v string, err error, _ bool) (string, error) {
		finishes <- err
		return v, err
	}}
	stuck := make(chan struct{})
	returned := make(chan struct{})
	_, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) {
		defer close(returned)
		<-stuck
		return "late", nil
	})
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || te.After != 20*time.Millisecond {
		t.Fatalf("err = %v; want a *TimeoutError after 20ms wrapping context.DeadlineExceeded", err)
	}
	close(stuck)
	<-returned
	if err := <-finishes; !errors.As(err, &te) {
		t.Errorf("Finish saw %v first; want the timeout", err)
	}
	select {
	case err := <-finishes:
		t.Errorf("Finish ran again, with %v, for fn's late result", err)
	case <-time.After(20 * time.Millisecond):
	}
}

// A caller that gives the call more time than Timeout gets it.
func TestStartersLaterDeadlineExtendsTheCall(t *testing.T) {
	g := Group[string, string]{Timeout: 10 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, _, err := g.Do(ctx, "k", func(ctx context.Context) (string, error) {
		select {
		case <-time.After(50 * time.Millisecond): // well past Timeout
			return "v1", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	if err != nil || v != "v1" {
		t.Fatalf("Do = %q, %v; want v1 within the caller's minute", v, err)
	}
}
