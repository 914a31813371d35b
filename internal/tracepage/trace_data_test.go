package tracepage_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/demo"
	"github.com/ocidns/ocidns/internal/tracepage"
	"github.com/ocidns/ocidns/resolver"
)

var (
	labOnce sync.Once
	theLab  *demo.Lab
	labErr  error
)

func lab(t *testing.T) *demo.Lab {
	t.Helper()
	labOnce.Do(func() { theLab, labErr = demo.Start(context.Background()) })
	if labErr != nil {
		t.Fatal(labErr)
	}
	return theLab
}

// traced resolves ref once on a fresh resolver of the demo lab and returns
// the body of /v1/trace, as a program reads it: through its JSON.
func traced(t *testing.T, ref string, opts ...resolver.Option) tracepage.Body {
	t.Helper()
	r, err := resolver.New(append(lab(t).Options(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, events, err := r.Trace(context.Background(), ref)
	b, jerr := json.Marshal(tracepage.NewBody(ref, "", res, events, err))
	if jerr != nil {
		t.Fatal(jerr)
	}
	var body tracepage.Body
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatal(err)
	}
	return body
}

func end(e trace.Event) time.Duration { return e.Start + e.Duration }

// The trace of a two-hop name — a signed delegation from example.test to
// vendor.test, whose unsigned TXT holds a forged mapping (skipped) and
// whose SRV names a registry and a mirror — places every step as data:
// an ID of its own, the step it is part of, its hop, its start and its
// duration.
func TestTraceDataOfATwoHopName(t *testing.T) {
	body := traced(t, "example.test/vendor/scanner:1.0")
	if body.Result == nil {
		t.Fatalf("resolution failed: %s", body.Error)
	}
	byID := map[int]trace.Event{}
	for _, e := range body.Events {
		if e.ID <= 0 {
			t.Fatalf("event without an ID: %+v", e)
		}
		if _, dup := byID[e.ID]; dup {
			t.Fatalf("two events with ID %d", e.ID)
		}
		byID[e.ID] = e
	}
	find := func(what string, match func(e trace.Event) bool) trace.Event {
		t.Helper()
		for _, e := range body.Events {
			if match(e) {
				return e
			}
		}
		t.Fatalf("no event of %s", what)
		return trace.Event{}
	}
	query := func(q string, p trace.Protocol) func(trace.Event) bool {
		return func(e trace.Event) bool { return e.Query == q && e.Request == p }
	}
	disc := find("the discovery", func(e trace.Event) bool {
		return e.Source == "discovery" && e.Query == "example.test/vendor/scanner" && e.Duration > 0
	})
	txt1 := find("hop 1's TXT query", query("TXT _oci-discovery.example.test.", trace.DNS))
	txt2 := find("hop 2's TXT query", query("TXT _oci-discovery.vendor.test.", trace.DNS))
	srv2 := find("hop 2's SRV query", query("SRV _oci-registry._tcp.vendor.test.", trace.DNS))
	val1 := find("hop 1's TXT validation", func(e trace.Event) bool {
		return e.Query == "TXT _oci-discovery.example.test." && e.Request == trace.NoRequest && e.DNSSEC == "secure"
	})
	delegated := find("hop 1's delegation", func(e trace.Event) bool {
		return e.Source == "discovery" && strings.HasPrefix(e.Decision, "delegated to vendor.test")
	})
	head := find("the registry request", func(e trace.Event) bool {
		return e.Request == trace.HTTP && strings.HasPrefix(e.Query, "HEAD ") && strings.Contains(e.Query, "/v2/scanner/manifests/1.0")
	})

	t.Run("hops", func(t *testing.T) {
		for _, c := range []struct {
			name string
			e    trace.Event
			hop  int
		}{
			{"hop 1's TXT query", txt1, 1}, {"hop 1's validation", val1, 1}, {"hop 1's delegation", delegated, 1},
			{"hop 2's TXT query", txt2, 2}, {"hop 2's SRV query", srv2, 2},
			{"the discovery", disc, 0}, {"the registry request", head, 0},
		} {
			if c.e.Hop != c.hop {
				t.Errorf("%s (%s) in hop %d, want %d", c.name, c.e.Query, c.e.Hop, c.hop)
			}
		}
		// Hop 2 is asked once hop 1 has delegated to it.
		for _, e := range body.Events {
			if e.Hop == 2 && e.Start < delegated.Start {
				t.Errorf("hop 2's %s %s began at %v, before hop 1 delegated (%v)", e.Source, e.Query, e.Start, delegated.Start)
			}
		}
	})

	t.Run("parents", func(t *testing.T) {
		for _, e := range body.Events {
			if e.Parent == 0 {
				continue
			}
			p, ok := byID[e.Parent]
			if !ok {
				t.Errorf("%s %s names parent %d, which is not in the trace", e.Source, e.Query, e.Parent)
				continue
			}
			if p.Duration <= 0 {
				t.Errorf("%s %s is part of %s %s, which took no time", e.Source, e.Query, p.Source, p.Query)
			}
			// A part ends before its step does.
			if end(e) > end(p) {
				t.Errorf("%s %s ends at %v, after the step it is part of (%s %s, %v)", e.Source, e.Query, end(e), p.Source, p.Query, end(p))
			}
		}
		for _, e := range []trace.Event{txt1, txt2, srv2, val1, delegated} {
			if e.Parent != disc.ID {
				t.Errorf("%s %s is part of step %d, want the discovery (%d)", e.Source, e.Query, e.Parent, disc.ID)
			}
		}
		if disc.Parent != 0 || head.Parent != 0 {
			t.Errorf("the discovery and the registry request are parts of %d and %d, want the top", disc.Parent, head.Parent)
		}
		// The chain of trust of example.test is asked by a validation:
		// its DNSKEY query is part of one.
		key := find("example.test's DNSKEY query", query("DNSKEY example.test.", trace.DNS))
		if p := byID[key.Parent]; p.Request != trace.NoRequest || p.DNSSEC == "" || p.Parent != disc.ID {
			t.Errorf("DNSKEY example.test. is part of %+v, want a validation within the discovery", p)
		}
	})

	t.Run("offsets", func(t *testing.T) {
		for _, e := range body.Events {
			if e.Parent == disc.ID && e.Start < disc.Start {
				t.Errorf("%s %s began at %v, before the discovery (%v)", e.Source, e.Query, e.Start, disc.Start)
			}
		}
		if txt1.Duration <= 0 || txt2.Duration <= 0 || val1.Duration <= 0 || head.Duration <= 0 {
			t.Errorf("requests and validations without a duration: %v %v %v %v", txt1.Duration, txt2.Duration, val1.Duration, head.Duration)
		}
		// The validation of an answer begins once the answer is in.
		if val1.Start < end(txt1) {
			t.Errorf("hop 1's validation began at %v, before its answer came in (%v)", val1.Start, end(txt1))
		}
		// The registry is asked once discovery is done: serial steps.
		if head.Start < end(disc) {
			t.Errorf("the registry request began at %v, before discovery ended (%v)", head.Start, end(disc))
		}
	})

	t.Run("hop reports", func(t *testing.T) {
		if len(body.Hops) != 2 || body.Hops[0].Host != "example.test" || body.Hops[1].Host != "vendor.test" || body.Hops[1].Path != "scanner" {
			t.Fatalf("hops %+v", body.Hops)
		}
		var txt, srv *tracepage.Source
		for i := range body.Hops[1].Sources {
			switch s := &body.Hops[1].Sources[i]; s.Source {
			case "dns-txt":
				txt = s
			case "dns-srv":
				srv = s
			}
		}
		if txt == nil || srv == nil {
			t.Fatalf("hop 2 sources %+v", body.Hops[1].Sources)
		}
		var reasons []string
		for _, sk := range txt.Skipped {
			reasons = append(reasons, sk.Reason)
			if sk.Reason == "unauthenticated-cross-host" && (sk.Host != "evil.example.test" || !strings.Contains(sk.Record, "evil.example.test:6666/stolen")) {
				t.Errorf("forged mapping reported as %+v", sk)
			}
		}
		if !slices.Contains(reasons, "unauthenticated-cross-host") || !slices.Contains(reasons, "not-oci") || txt.Outcome != "no-match" || txt.Auth != "none" {
			t.Errorf("hop 2's TXT: outcome %s auth %s skipped %v", txt.Outcome, txt.Auth, reasons)
		}
		if srv.Outcome != "decided" || len(srv.Used) != 2 || len(body.Result.Endpoints) != 2 {
			t.Errorf("hop 2's SRV: outcome %s, %d used, %d endpoints: want a registry and its mirror", srv.Outcome, len(srv.Used), len(body.Result.Endpoints))
		}
		first := body.Hops[0].Sources[0]
		if first.Source != "dns-txt" || first.Auth != "dnssec" || first.DNSSEC != "secure" || len(first.Used) != 1 ||
			first.Used[0].Delegate != "vendor.test" || first.Used[0].Prefix != "vendor" {
			t.Errorf("hop 1's TXT: %+v", first)
		}
	})
}

// A failed discovery still has the reports of its hops so far, and the
// discovery step is in the trace, ended by the failure: here the chain of
// example.test/partners/acme/tool is one hop too long for --max-hops 1.
func TestTraceDataOfAFailedDiscovery(t *testing.T) {
	body := traced(t, "example.test/partners/acme/tool:1.0", resolver.WithMaxHops(1))
	if body.Result != nil || body.Code != "DISCOVERY_FAILED" {
		t.Fatalf("result %v code %s (%s)", body.Result, body.Code, body.Error)
	}
	if len(body.Hops) != 2 || body.Hops[0].Host != "example.test" || body.Hops[1].Host != "acme.test" {
		t.Errorf("hops %+v, want example.test and acme.test", body.Hops)
	}
	var step trace.Event
	hops := map[int]bool{}
	for _, e := range body.Events {
		if e.Source == "discovery" && e.Outcome == "failed" {
			step = e
		}
		hops[e.Hop] = true
	}
	if step.ID == 0 || step.Duration <= 0 || !strings.Contains(step.Decision, "too many delegation hops") {
		t.Fatalf("the discovery step: %+v", step)
	}
	for _, e := range body.Events {
		if e.Hop > 0 && e.Parent == 0 {
			t.Errorf("%s %s of hop %d is part of no step", e.Source, e.Query, e.Hop)
		}
	}
	if !hops[1] || !hops[2] || hops[3] {
		t.Errorf("events in hops %v, want 1 and 2 only", hops)
	}
}
