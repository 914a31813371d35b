package flight

import (
	"context"
	"errors"
	"testing"
)

// Finish sees each call's outcome once, with whether every waiter had
// left, and what it returns is what the waiters get.
func TestFinishSeesTheOutcomeOnceAndReplacesIt(t *testing.T) {
	type seen struct {
		v         string
		err       error
		abandoned bool
	}
	finished := make(chan seen, 4)
	g := Group[string, string]{Finish: func(_ string, v string, err error, abandoned bool) (string, error) {
		finished <- seen{v, err, abandoned}
		return v + "+stored", err
	}}
	v, _, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "v1", nil })
	if err != nil || v != "v1+stored" {
		t.Fatalf("Do = %q, %v; want what Finish returned", v, err)
	}
	if s := <-finished; s.v != "v1" || s.abandoned {
		t.Errorf("Finish saw %+v; want v1, not abandoned", s)
	}

	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() {
		_, _, err := g.Do(ctx, "k", func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		})
		left <- err
	}()
	waitFor(t, "the second call to start", func() bool { return g.Stats().Started == 2 })
	cancel()
	<-left
	if s := <-finished; !s.abandoned || !errors.Is(s.err, context.Canceled) {
		t.Errorf("Finish of the abandoned call saw %+v; want abandoned with context.Canceled", s)
	}
	if len(finished) != 0 {
		t.Errorf("Finish ran %d more times", len(finished))
	}
}

// A Do while Finish publishes a result joins the call and gets the result:
// the call leaves the Group only once its outcome is final, so no caller
// falls in the gap between a result stored and the call gone.
func TestDoDuringFinishJoinsTheCall(t *testing.T) {
	inFinish, release := make(chan struct{}), make(chan struct{})
	g := Group[string, string]{Finish: func(_ string, v string, err error, _ bool) (string, error) {
		if v == "first" {
			close(inFinish)
			<-release
		}
		return v, err
	}}
	first := make(chan outcome, 1)
	go func() {
		v, joined, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "first", nil })
		first <- outcome{v, joined, err}
	}()
	<-inFinish
	second := make(chan outcome, 1)
	go func() {
		v, joined, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "second", nil })
		second <- outcome{v, joined, err}
	}()
	waitFor(t, "the second caller to join", func() bool { return g.Stats().Joined == 1 })
	close(release)
	if o := <-first; o.v != "first" || o.err != nil {
		t.Errorf("first = %+v", o)
	}
	if o := <-second; o.v != "first" || !o.joined || o.err != nil {
		t.Errorf("second = %+v; want the first call's result, joined", o)
	}
}

// Lookup is asked as a call starts: what it finds is the call's result,
// and neither fn nor Finish runs. This is the value a call that ended just
// before stored, after the caller had looked and found nothing.
func TestLookupAnswersACallWithoutRunningIt(t *testing.T) {
	store := map[string]string{}
	finished := 0
	g := Group[string, string]{
		Lookup: func(k string) (string, bool) { v, ok := store[k]; return v, ok },
		Finish: func(_ string, v string, err error, _ bool) (string, error) { finished++; return v, err },
	}
	ran := false
	fn := func(context.Context) (string, error) { ran = true; return "fetched", nil }
	store["k"] = "stored meanwhile"
	v, _, err := g.Do(context.Background(), "k", fn)
	if err != nil || v != "stored meanwhile" || ran || finished != 0 {
		t.Errorf("Do = %q, %v, fn ran %v, Finish ran %d times; want the stored value, neither run", v, err, ran, finished)
	}
	if s := g.Stats(); s.Started != 1 || s.Found != 1 || g.Len() != 0 {
		t.Errorf("Stats = %+v, %d in flight; want one call started and found", s, g.Len())
	}
	delete(store, "k")
	if v, _, err := g.Do(context.Background(), "k", fn); err != nil || v != "fetched" || !ran || finished != 1 {
		t.Errorf("Do without a stored value = %q, %v, fn ran %v, Finish %d; want fn's value through Finish", v, err, ran, finished)
	}
}
