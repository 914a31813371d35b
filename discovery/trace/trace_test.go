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

// Every event gets an ID of its own, across forks; its start is its time
// less its duration, from the trace's start; a step begun with Begin is
// the Parent of what is added under its context, and is recorded with its
// own ID, its start and its duration when it ends; WithHop marks the
// events under it, and those of the steps begun there, with the hop.
func TestSpansGiveIDsParentsHopsAndOffsets(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := at
	tr := trace.New(func() time.Time { return clock })
	ctx := trace.NewContext(context.Background(), tr)

	clock = at.Add(1 * time.Millisecond)
	dctx, disc := trace.Begin(ctx)
	hctx := trace.WithHop(dctx, 2)
	clock = at.Add(4 * time.Millisecond)
	trace.FromContext(hctx).Add(trace.Event{Source: "dns", Query: "TXT q.", Duration: 2 * time.Millisecond})
	vctx, val := trace.Begin(hctx)
	fork := trace.FromContext(vctx).Fork()
	clock = at.Add(5 * time.Millisecond)
	fork.Add(trace.Event{Source: "dns", Query: "DNSKEY z.", Duration: 500 * time.Microsecond})
	trace.FromContext(vctx).Join(fork)
	clock = at.Add(6 * time.Millisecond)
	val.End(trace.Event{Source: "dns", Query: "TXT q.", DNSSEC: "secure"})
	clock = at.Add(7 * time.Millisecond)
	disc.End(trace.Event{Source: "discovery", Query: "q/p", Decision: "done"})
	trace.FromContext(ctx).Add(trace.Event{Source: "registry", Query: "HEAD", ID: 99, Parent: 42, Hop: 7, Start: time.Hour})

	type want struct {
		query       string
		parent, hop int
		start, dur  time.Duration
	}
	ms := time.Millisecond
	wants := []want{
		{"TXT q.", 1, 2, 2 * ms, 2 * ms},                                     // the query: under the discovery, in hop 2
		{"DNSKEY z.", 3, 2, 4500 * time.Microsecond, 500 * time.Microsecond}, // under the validation, through a fork
		{"TXT q.", 1, 2, 4 * ms, 2 * ms},                                     // the validation: begun at 4ms, ended at 6ms
		{"q/p", 0, 0, 1 * ms, 6 * ms},                                        // the discovery: 1ms to 7ms, at the top
		{"HEAD", 0, 0, 7 * ms, 0},                                            // what the caller set is the trace's to say
	}
	evs := tr.Events()
	if len(evs) != len(wants) {
		t.Fatalf("%d events, want %d: %v", len(evs), len(wants), evs)
	}
	ids := map[int]string{}
	for i, w := range wants {
		e := evs[i]
		t.Run(e.Query, func(t *testing.T) {
			if e.Query != w.query || e.Parent != w.parent || e.Hop != w.hop || e.Start != w.start || e.Duration != w.dur {
				t.Errorf("event %d = %q parent %d hop %d start %v duration %v, want %q parent %d hop %d start %v duration %v",
					i, e.Query, e.Parent, e.Hop, e.Start, e.Duration, w.query, w.parent, w.hop, w.start, w.dur)
			}
		})
		if e.ID <= 0 || ids[e.ID] != "" {
			t.Errorf("event %d (%s) has ID %d, not new", i, e.Query, e.ID)
		}
		ids[e.ID] = e.Query
	}
	if evs[3].ID != 1 || evs[0].ID != 2 || evs[2].ID != 3 {
		t.Errorf("IDs %v: want the discovery 1, the query 2 and the validation 3, in the order they began", ids)
	}

	var none *trace.Trace
	nctx, span := trace.Begin(trace.NewContext(context.Background(), none))
	span.End(trace.Event{Source: "x"}) // no panic, nothing recorded
	if trace.FromContext(trace.WithHop(nctx, 1)) != nil {
		t.Error("WithHop without a trace made one")
	}
}

// An event's protocol reads back from its JSON name.
func TestProtocolJSONRoundTrip(t *testing.T) {
	for _, p := range []trace.Protocol{trace.NoRequest, trace.DNS, trace.HTTP} {
		b, err := p.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var q trace.Protocol
		if err := q.UnmarshalText(b); err != nil || q != p {
			t.Errorf("%v: read back as %v, %v", p, q, err)
		}
	}
	var q trace.Protocol
	if err := q.UnmarshalText([]byte("smtp")); err == nil {
		t.Error("an unknown protocol was read")
	}
}
