package dnssec_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// rootZone is a root for the test namespace: signed, it is the only trust
// anchor, as the IANA root is in production.
const rootZone = `$ORIGIN .
$TTL 86400
.          SOA ns.example. hostmaster.example. 1 1800 900 604800 86400
.          NS  ns.example.
example.   NS  ns.example.
ns.example. A  127.0.0.1
`

// rootLab serves the root and the test namespace below it; its validator
// trusts the root alone (plus extra anchors) and checks its resolver.
type rootLab struct {
	*lab
	notified atomic.Int32
	why      atomic.Value
}

func startRootLab(t *testing.T, require bool, extra ...dns.RR) *rootLab {
	t.Helper()
	zones := append([]dnstest.Zone{{Origin: ".", Text: rootZone, Sign: true}}, testZones(0)...)
	l := &rootLab{lab: startLab(t, zones)}
	anchors := l.srv.TrustAnchors()
	if len(anchors) != 1 || anchors[0].Header().Name != "." {
		t.Fatalf("trust anchors %v, want the root's", anchors)
	}
	l.validator(require, extra...)
	return l
}

// validator gives the lab a new validator trusting the root and extra,
// checking its resolver.
func (l *rootLab) validator(require bool, extra ...dns.RR) {
	l.v = dnssec.NewValidator(l.client, append(l.srv.TrustAnchors(), extra...), l.clock.now)
	l.v.CheckResolver(dnssec.ResolverCheck{Plain: l.client.WithoutDNSSEC(), Require: require, Notify: func(why string) {
		l.notified.Add(1)
		l.why.Store(why)
	}})
}

// A resolver that passes DNSSEC data is found so with one question (the
// root's DNSKEY RRset, which the chain of trust needs anyway), and a
// missing signature stays bogus.
func TestResolverThatServesDNSSECKeepsValidationStrict(t *testing.T) {
	l := startRootLab(t, false)
	if st, _ := l.v.Resolver(); st != dnssec.ResolverUnchecked {
		t.Errorf("before any validation: %v", st)
	}
	tr := trace.New(nil)
	a := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	l.srv.ResetCounts()
	sec, err := l.v.Validate(trace.NewContext(context.Background(), tr), a)
	wantSecurity(t, "TXT", sec, err, dnssec.Secure)
	if st, why := l.v.Resolver(); st != dnssec.ResolverServesDNSSEC || why != "" {
		t.Errorf("Resolver() = %v %q, want available", st, why)
	}
	if n := l.srv.QueryCount(".", dns.TypeDNSKEY); n != 1 {
		t.Errorf("DNSKEY . asked %d times, want once for the check and the chain", n)
	}
	if !traced(tr, "resolver check: the DNS resolver serves DNSSEC data") {
		t.Errorf("no trace event for the check: %+v", tr.Events())
	}
	stripped := *a
	stripped.Sigs = nil
	sec, err = l.v.Validate(context.Background(), &stripped)
	wantBogus(t, "TXT without RRSIG", sec, err, "signatures stripped")
	if l.notified.Load() != 0 {
		t.Error("notified about a resolver that serves DNSSEC")
	}
}

func traced(tr *trace.Trace, part string) bool {
	for _, e := range tr.Events() {
		if strings.Contains(e.Decision, part) {
			return true
		}
	}
	return false
}

// Resolvers that cannot serve DNSSEC data — NXDOMAIN for the root's
// DNSKEY RRset, RRSIGs dropped, SERVFAIL for queries with the DO bit,
// the question refused — are found out once: every answer under the root
// is then insecure, not bogus, Notify is called once with why, and
// ResolverCheck.Require makes the same answers bogus with
// ErrDNSSECUnavailable. An answer under a deeper trust anchor is still
// validated against it.
func TestResolverWithoutDNSSECMakesAnswersInsecure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(*dnstest.Server)
		why   string
		// underAnchor is what an answer of corp.example. is under a
		// private anchor for it.
		underAnchor dnssec.Security
	}{
		{"NXDOMAIN for the root's DNSKEY", func(s *dnstest.Server) { s.SetFault(".", dns.TypeDNSKEY, dnstest.FaultNXDomain) },
			"NXDOMAIN", dnssec.Secure},
		{"RRSIGs dropped", func(s *dnstest.Server) { s.SetServerFault(dnstest.FaultStripDNSSEC) },
			"without the RRSIG", dnssec.Bogus},
		{"SERVFAIL with the DO bit", func(s *dnstest.Server) { s.SetServerFault(dnstest.FaultServFailDO) },
			"with the DNSSEC OK bit", dnssec.Bogus},
		{"root's DNSKEY refused", func(s *dnstest.Server) { s.SetFault(".", dns.TypeDNSKEY, dnstest.FaultRefused) },
			"refuses", dnssec.Secure},
		{"root's DNSKEY failing with and without DO", func(s *dnstest.Server) { s.SetFault(".", dns.TypeDNSKEY, dnstest.FaultServFail) },
			"with the DNSSEC OK bit or without", dnssec.Secure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := startRootLab(t, false)
			tc.fault(l.srv)
			// The answers as such a resolver gives them (without DO when
			// it fails queries with it).
			asker := l.client
			if strings.Contains(tc.name, "SERVFAIL") {
				asker = l.client.WithoutDNSSEC()
			}
			txt, err := asker.Query(context.Background(), "_oci-discovery.corp.example.", dns.TypeTXT)
			if err != nil {
				t.Fatal(err)
			}
			tr := trace.New(nil)
			l.srv.ResetCounts()
			for range 3 {
				sec, err := l.v.Validate(trace.NewContext(context.Background(), tr), txt)
				wantSecurity(t, "TXT", sec, err, dnssec.Insecure)
			}
			// The client's own retry without the DO bit answers the check:
			// it does not ask without the bit a second time.
			if plain := l.srv.TotalQueries() - l.srv.QueriesWithDO(); plain > 1 {
				t.Errorf("%d queries without the DO bit, want at most 1", plain)
			}
			st, why := l.v.Resolver()
			if st != dnssec.ResolverWithoutDNSSEC || !strings.Contains(why, tc.why) {
				t.Errorf("Resolver() = %v %q, want unavailable saying %q", st, why, tc.why)
			}
			if n := l.notified.Load(); n != 1 || l.why.Load() != why {
				t.Errorf("notified %d times (%v), want once with %q", n, l.why.Load(), why)
			}
			if !traced(tr, "cannot serve DNSSEC data") {
				t.Errorf("no trace event says why: %+v", tr.Events())
			}

			// Strict: the same answer is an error.
			strict := startRootLab(t, true)
			tc.fault(strict.srv)
			sec, err := strict.v.Validate(context.Background(), txt)
			wantBogus(t, "under --dnssec require", sec, err, "cannot serve DNSSEC data")
			if !errors.Is(err, dnssec.ErrDNSSECUnavailable) || dnssec.Verdict(sec, err) != dnssec.Bogus {
				t.Errorf("want ErrDNSSECUnavailable, and bogus: %v", err)
			}

			// A private anchor for corp.example. is still validated
			// against, whatever the root.
			ds, err := l.srv.DS("corp.example.")
			if err != nil {
				t.Fatal(err)
			}
			l.validator(false, ds...)
			sec, err = l.v.Validate(context.Background(), txt)
			wantSecurity(t, "under a private anchor", sec, err, tc.underAnchor)
		})
	}
}

// A resolver that answers nothing at all, with the DO bit or without, may
// just be down: the check concludes nothing, validation stays strict, and
// the check is made again 30 s later.
func TestResolverCheckIsInconclusiveWhenNothingAnswers(t *testing.T) {
	l := startRootLab(t, false)
	a := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	l.client = dnstest.ClientT(t, 100*time.Millisecond, l.srv.Addr())
	l.v = dnssec.NewValidator(l.client, l.srv.TrustAnchors(), l.clock.now)
	l.v.CheckResolver(dnssec.ResolverCheck{Plain: l.client.WithoutDNSSEC()})
	l.srv.SetFault(".", dns.TypeDNSKEY, dnstest.FaultDrop)
	sec, err := l.v.Validate(context.Background(), a)
	wantBogus(t, "root's keys unreachable", sec, err, "DNSKEY .")
	if dnssec.Verdict(sec, err) != dnssec.Indeterminate {
		t.Errorf("Verdict %v, want indeterminate", dnssec.Verdict(sec, err))
	}
	if st, _ := l.v.Resolver(); st != dnssec.ResolverUnchecked {
		t.Errorf("Resolver() = %v, want unchecked", st)
	}
	asked := l.srv.QueryCount(".", dns.TypeDNSKEY)
	l.v.Validate(context.Background(), a)
	// The chain asks again (failures are not cached); the check does not.
	if n := l.srv.QueryCount(".", dns.TypeDNSKEY) - asked; n != 1 {
		t.Errorf("second validation asked DNSKEY . %d times, want once (the chain's, no check)", n)
	}
	l.srv.SetFault(".", dns.TypeDNSKEY, dnstest.FaultNone)
	l.clock.advance(31 * time.Second)
	sec, err = l.v.Validate(context.Background(), a)
	wantSecurity(t, "after the resolver came back", sec, err, dnssec.Secure)
	if st, _ := l.v.Resolver(); st != dnssec.ResolverServesDNSSEC {
		t.Errorf("Resolver() = %v after the recheck, want available", st)
	}
}

// Concurrent validations share one check.
func TestResolverCheckIsMadeOnce(t *testing.T) {
	l := startRootLab(t, false)
	l.srv.SetFault(".", dns.TypeDNSKEY, dnstest.FaultNXDomain)
	answers := []*dnsclient.Answer{
		l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT),
		l.ask(t, "_oci-discovery.island.example.", dns.TypeTXT),
		l.ask(t, "nothing.corp.example.", dns.TypeTXT),
	}
	l.srv.ResetCounts()
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sec, err := l.v.Validate(context.Background(), answers[i%3]); sec != dnssec.Insecure {
				t.Errorf("answer %d: %v %v", i%3, sec, err)
			}
		}()
	}
	wg.Wait()
	if n := l.srv.QueryCount(".", dns.TypeDNSKEY); n != 1 {
		t.Errorf("DNSKEY . asked %d times by 30 validations, want 1", n)
	}
	if n := l.srv.TotalQueries(); n != 1 {
		t.Errorf("%d queries in all, want the check's alone: nothing is validated", n)
	}
	if n := l.notified.Load(); n != 1 {
		t.Errorf("notified %d times", n)
	}
	// Nor does Prefetch ask for a chain that will not be validated.
	l.v.Prefetch(context.Background(), "_oci-discovery.other.example.")
	time.Sleep(50 * time.Millisecond)
	if n := l.srv.TotalQueries(); n != 1 {
		t.Errorf("Prefetch asked %d questions", n-1)
	}
}
