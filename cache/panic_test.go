package cache

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

func TestPanicInFnIsReturnedToAllWaiters(t *testing.T) {
	const n = 20
	c, _ := newTestCache[string](Config{})
	release := make(chan struct{})
	fn := func(context.Context) (string, time.Duration, error) {
		<-release
		panic("registry client bug")
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _, err := c.Fetch(context.Background(), "a", fn)
			var pe *PanicError
			if !errors.Is(err, ErrPanic) || !errors.As(err, &pe) {
				t.Errorf("err = %v; want a *PanicError wrapping ErrPanic", err)
				return
			}
			if pe.Value != "registry client bug" || !strings.Contains(string(pe.Stack), "panic_test.go") {
				t.Errorf("PanicError = %v with stack %q; want the value and the stack of fn", pe.Value, pe.Stack)
			}
		})
	}
	waitFor(t, "all callers to wait", func() bool { return c.Stats().Coalesced == n-1 })
	close(release)
	wg.Wait()

	// The process is alive and the key is usable again.
	up := &upstream{}
	up.answer("v1", time.Minute)
	if v, _, err := c.Fetch(context.Background(), "a", up.fetch); err != nil || v != "v1" {
		t.Fatalf("Fetch after the panic = %q, %v", v, err)
	}
	if s := c.Stats(); s.RefreshFailures != 1 {
		t.Errorf("RefreshFailures = %d; want 1", s.RefreshFailures)
	}
}

func TestPanicWithErrorValueUnwrapsToIt(t *testing.T) {
	c, _ := newTestCache[string](Config{})
	_, _, err := c.Fetch(context.Background(), "a", func(context.Context) (string, time.Duration, error) {
		panic(io.ErrUnexpectedEOF)
	})
	if !errors.Is(err, ErrPanic) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v; want both ErrPanic and the panic value", err)
	}
	if msg := err.Error(); msg != "cache: upstream call panicked: unexpected EOF" {
		t.Errorf("Error() = %q", msg)
	}
}

func TestPanicFallsBackToStale(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	c.Set("a", "v1", time.Minute)
	clk.Advance(time.Minute)
	v, st, err := c.Fetch(context.Background(), "a", func(context.Context) (string, time.Duration, error) {
		panic("boom")
	})
	if err != nil || v != "v1" || !st.Stale || !errors.Is(st.Err, ErrPanic) {
		t.Fatalf("Fetch = %q, %+v, %v; want stale v1 with the panic as Status.Err", v, st, err)
	}
}

func TestGoexitInFnReleasesWaiters(t *testing.T) {
	c, _ := newTestCache[string](Config{})
	_, _, err := c.Fetch(context.Background(), "a", func(context.Context) (string, time.Duration, error) {
		runtime.Goexit()
		return "", 0, nil
	})
	if err == nil || !strings.Contains(err.Error(), "Goexit") {
		t.Fatalf("err = %v; want an error naming runtime.Goexit", err)
	}
	up := &upstream{}
	up.answer("v1", time.Minute)
	if v, _, err := c.Fetch(context.Background(), "a", up.fetch); err != nil || v != "v1" {
		t.Fatalf("Fetch after Goexit = %q, %v", v, err)
	}
}
