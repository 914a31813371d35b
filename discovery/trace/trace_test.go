package trace_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
)

func TestEventStringReadsLikeDigTrace(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    trace.Event
		want string
	}{
		{"decision only", trace.Event{Source: "discovery", Decision: "done"}, "discovery -> done"},
		{"every field", trace.Event{Source: "dns", Query: "TXT _oci-discovery.example.com.", Server: "127.0.0.1:53",
			Outcome: "NOERROR", TTL: 300 * time.Second, DNSSEC: "secure", Duration: 1234567 * time.Nanosecond, Decision: "mapping"},
			"dns TXT _oci-discovery.example.com. @127.0.0.1:53 NOERROR ttl=5m0s dnssec=secure in 1.23ms -> mapping"},
		{"no server, no decision", trace.Event{Source: "cache", Query: "txt|example.com", Outcome: "hit"}, "cache txt|example.com hit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNilTraceDiscards(t *testing.T) {
	var tr *trace.Trace
	tr.Add(trace.Event{Source: "dns"})
	if evs := tr.Events(); evs != nil {
		t.Errorf("nil trace has events %v", evs)
	}
	if tr := trace.FromContext(context.Background()); tr != nil {
		t.Errorf("a context without a trace gives %v, want nil", tr)
	}
}

func TestTraceStampsKeepsOrderAndCopies(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tr := trace.New(func() time.Time { return at })
	ctx := trace.NewContext(context.Background(), tr)
	if trace.FromContext(ctx) != tr {
		t.Fatal("FromContext does not return the trace NewContext stored")
	}
	given := at.Add(-time.Hour)
	trace.FromContext(ctx).Add(trace.Event{Source: "a"})
	trace.FromContext(ctx).Add(trace.Event{Source: "b", Time: given})
	evs := tr.Events()
	if len(evs) != 2 || evs[0].Source != "a" || evs[1].Source != "b" {
		t.Fatalf("events %v, want a then b", evs)
	}
	if !evs[0].Time.Equal(at) || !evs[1].Time.Equal(given) {
		t.Errorf("times %v, %v: want the clock's for an unset time, the given one otherwise", evs[0].Time, evs[1].Time)
	}
	evs[0].Source = "changed"
	if tr.Events()[0].Source != "a" {
		t.Error("Events returns the trace's own slice")
	}
}

func TestTraceIsSafeForConcurrentUse(t *testing.T) {
	tr := trace.New(nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				tr.Add(trace.Event{Source: "dns"})
				_ = tr.Events()
			}
		})
	}
	wg.Wait()
	if n := len(tr.Events()); n != 800 {
		t.Errorf("%d events, want 800", n)
	}
}

// A fork collects events apart, with the parent's clock; Join appends them
// in one run and empties the fork, so a second Join adds only what came
// after the first; a nil trace forks to nil.
func TestForkJoinKeepsConcurrentWorkTogether(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tr := trace.New(func() time.Time { return at })
	a, b := tr.Fork(), tr.Fork()
	a.Add(trace.Event{Source: "a1"})
	b.Add(trace.Event{Source: "b1"})
	a.Add(trace.Event{Source: "a2"})
	tr.Add(trace.Event{Source: "parent"})
	tr.Join(b)
	tr.Join(a)
	b.Add(trace.Event{Source: "b2"})
	tr.Join(b)
	tr.Join(a) // empty by now
	var got []string
	for _, e := range tr.Events() {
		got = append(got, e.Source)
		if !e.Time.Equal(at) {
			t.Errorf("event %s stamped %v, want the parent's clock", e.Source, e.Time)
		}
	}
	if want := "parent b1 a1 a2 b2"; strings.Join(got, " ") != want {
		t.Errorf("events %q, want %q", got, want)
	}
	var none *trace.Trace
	if f := none.Fork(); f != nil {
		t.Errorf("Fork of a nil trace = %v", f)
	}
	none.Join(a) // no panic
}
