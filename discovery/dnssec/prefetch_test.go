package dnssec_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// watched passes every query to the lab's client and keeps count: which
// questions were asked, how many are in flight at once, and how many have
// finished. It changes no answer.
type watched struct {
	c *dnsclient.Client

	mu          sync.Mutex
	asked       []string
	inFlight    int
	maxInFlight int
	finished    int
}

func (w *watched) Query(ctx context.Context, name string, qtype uint16) (*dnsclient.Answer, error) {
	w.mu.Lock()
	w.asked = append(w.asked, dns.Type(qtype).String()+" "+dns.CanonicalName(name))
	w.inFlight++
	w.maxInFlight = max(w.maxInFlight, w.inFlight)
	w.mu.Unlock()
	a, err := w.c.Query(ctx, name, qtype)
	w.mu.Lock()
	w.inFlight--
	w.finished++
	w.mu.Unlock()
	return a, err
}

// wait returns the questions asked once n queries have finished.
func (w *watched) wait(t testing.TB, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		w.mu.Lock()
		done, asked := w.finished, slices.Clone(w.asked)
		w.mu.Unlock()
		if done >= n {
			slices.Sort(asked)
			return asked
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d queries finished: %v", done, n, asked)
		}
		time.Sleep(time.Millisecond)
	}
}

func watchedLab(t testing.TB, zones []dnstest.Zone) (*lab, *watched) {
	t.Helper()
	l := startLab(t, zones)
	w := &watched{c: l.client}
	l.v = dnssec.NewValidator(w, l.srv.TrustAnchors(), l.clock.now)
	return l, w
}

// Prefetch asks the DS and DNSKEY RRsets of every zone between the trust
// anchor and the name at once (the anchor's DNSKEY alone, no question
// about underscore labels); the validation that follows asks nothing
// more, for a secure child as for an unsigned one (its DNSKEY question
// also finds its zone).
func TestValidationFindsThePrefetchedChain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		want  dnssec.Security
		asked []string
	}{
		{"_oci-discovery.corp.example.", dnssec.Secure, []string{"DNSKEY corp.example.", "DNSKEY example.", "DS corp.example."}},
		{"_oci-discovery.island.example.", dnssec.Insecure, []string{"DNSKEY example.", "DNSKEY island.example.", "DS island.example."}},
		{"_oci-registry._tcp.corp.example.", dnssec.Secure, []string{"DNSKEY corp.example.", "DNSKEY example.", "DS corp.example."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, w := watchedLab(t, testZones(0))
			qtype := dns.TypeTXT
			if strings.HasPrefix(tc.name, "_oci-registry") {
				qtype = dns.TypeSRV
			}
			a := l.ask(t, tc.name, qtype)
			l.v.Prefetch(context.Background(), tc.name)
			if asked := w.wait(t, len(tc.asked)); !slices.Equal(asked, tc.asked) {
				t.Errorf("prefetched %q, want %q", asked, tc.asked)
			}
			l.srv.ResetCounts()
			tr := trace.New(nil)
			sec, err := l.v.Validate(trace.NewContext(context.Background(), tr), a)
			wantSecurity(t, "after Prefetch", sec, err, tc.want)
			if n := l.srv.TotalQueries(); n != 0 {
				t.Errorf("validation sent %d queries; want none, the chain was prefetched", n)
			}
			// The queries it used are in its trace, as its own would be.
			for _, q := range tc.asked {
				found := false
				for _, e := range tr.Events() {
					found = found || (e.Source == "dns" && e.Query == q && e.Outcome != "" && strings.Contains(e.Decision, "prefetched"))
				}
				if !found {
					t.Errorf("no prefetched event for %s in the validation's trace:\n%v", q, tr.Events())
				}
			}
		})
	}
}

// Prefetch asks nothing that is cached or cannot help: keys of zones
// already validated, zones under one known to be insecure, names outside
// every trust anchor; and a second call while the first is in flight.
func TestPrefetchAsksNothingTwice(t *testing.T) {
	l, w := watchedLab(t, testZones(0))
	ctx := context.Background()
	sec, err := l.validate(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	wantSecurity(t, "corp.example.", sec, err, dnssec.Secure)
	sec, err = l.validate(t, "_oci-discovery.island.example.", dns.TypeTXT)
	wantSecurity(t, "island.example.", sec, err, dnssec.Insecure)
	before := len(w.wait(t, 0))

	l.v.Prefetch(ctx, "_oci-discovery.corp.example.")        // all cached
	l.v.Prefetch(ctx, "_oci-discovery.deep.island.example.") // under an insecure zone
	l.v.Prefetch(ctx, "_oci-discovery.elsewhere.")           // outside the anchor
	l.v.Prefetch(ctx, "not a name..")
	l.v.Prefetch(ctx, "_oci-discovery.new.corp.example.") // one new zone: DS and DNSKEY new.corp.example.
	l.v.Prefetch(ctx, "_oci-registry._tcp.new.corp.example.")
	asked := w.wait(t, before+2)
	time.Sleep(50 * time.Millisecond) // nothing else may come
	if got := w.wait(t, 0)[before:]; len(got) != 2 {
		t.Errorf("asked %q after the first validations; want only DS and DNSKEY new.corp.example.", got)
	}
	if !slices.Contains(asked, "DS new.corp.example.") || !slices.Contains(asked, "DNSKEY new.corp.example.") {
		t.Errorf("asked %q", asked)
	}
}

// A speculative failure fails nothing: the answer is dropped, and the
// validation asks for itself.
func TestFailedPrefetchIsAskedAgainByTheValidation(t *testing.T) {
	l, w := watchedLab(t, testZones(0))
	a := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	l.srv.SetFault("corp.example.", dns.TypeDS, dnstest.FaultServFail)
	l.v.Prefetch(context.Background(), "_oci-discovery.corp.example.")
	w.wait(t, 3)
	l.srv.SetFault("corp.example.", dns.TypeDS, dnstest.FaultNone)
	l.srv.ResetCounts()
	sec, err := l.v.Validate(context.Background(), a)
	wantSecurity(t, "after a failed prefetch", sec, err, dnssec.Secure)
	if n, total := l.srv.QueryCount("corp.example.", dns.TypeDS), l.srv.TotalQueries(); n != 1 || total != 1 {
		t.Errorf("validation asked DS %d times and %d queries in all; want the failed DS again, alone", n, total)
	}
}

// Prefetching is bounded: per name (8 zones below the anchor, 17
// queries), and across names (64 queries in flight); it ends with its
// context.
func TestPrefetchIsBounded(t *testing.T) {
	l, w := watchedLab(t, testZones(0))
	deep := "_oci-discovery.a.b.c.d.e.f.g.h.i.j.k.l.corp.example."
	l.v.Prefetch(context.Background(), deep)
	if asked := w.wait(t, 17); len(asked) != 17 {
		t.Errorf("%d queries for a name 13 labels below the anchor, want 17 (8 zones and the anchor): %q", len(asked), asked)
	}

	// Servers that never answer: every query stays in flight until the
	// context ends.
	l, w = watchedLab(t, testZones(0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 100 {
		name := fmt.Sprintf("_oci-discovery.host%d.corp.example.", i)
		l.srv.SetFault(strings.TrimPrefix(name, "_oci-discovery."), dns.TypeNone, dnstest.FaultDrop)
	}
	l.srv.SetFault("corp.example.", dns.TypeNone, dnstest.FaultDrop)
	l.srv.SetFault("example.", dns.TypeNone, dnstest.FaultDrop)
	for i := range 100 {
		l.v.Prefetch(ctx, fmt.Sprintf("_oci-discovery.host%d.corp.example.", i))
	}
	time.Sleep(100 * time.Millisecond)
	w.mu.Lock()
	asked, most := len(w.asked), w.maxInFlight
	w.mu.Unlock()
	if asked > 64 || most > 64 {
		t.Errorf("%d queries asked, %d in flight at once; want at most 64", asked, most)
	}
	cancel()
	w.wait(t, asked) // every query ends with the context
}
