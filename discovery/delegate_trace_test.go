package discovery_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// DESIGN §5: "Every step emits an event: source ..., query, server,
// outcome (rcode / HTTP status), TTL, DNSSEC status, duration, and what it
// decided." Each source looked at has its query and its decision in the
// trace — absent ones included — and the last event sums up the result.
func TestTraceHasEveryQueryAndEveryDecision(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	o := l.options()
	o.DNSSECOff = true
	for _, tc := range []struct {
		name      string
		queries   map[string]string // DNS question → outcome
		decisions []string
	}{
		{"direct.mapping.test/app",
			map[string]string{"TXT _oci-discovery.direct.mapping.test.": "NXDOMAIN", "SRV _oci-registry._tcp.direct.mapping.test.": "NXDOMAIN"},
			[]string{"no TXT record", "no SRV record", "direct.mapping.test is its own registry"}},
		{"onlyspf.mapping.test/app",
			map[string]string{"TXT _oci-discovery.onlyspf.mapping.test.": "NOERROR", "SRV _oci-registry._tcp.onlyspf.mapping.test.": "NXDOMAIN"},
			[]string{"ignored TXT record that is not v=oci1", "no valid v=oci1 record", "no SRV record", "is its own registry"}},
		{"srvonly.mapping.test/app",
			map[string]string{"TXT _oci-discovery.srvonly.mapping.test.": "NXDOMAIN", "SRV _oci-registry._tcp.srvonly.mapping.test.": "NOERROR"},
			[]string{"no TXT record", "registry located by SRV"}},
		{"org.chain.test/acme/app",
			map[string]string{"TXT _oci-discovery.org.chain.test.": "NOERROR", "TXT _oci-discovery.acme.chain.test.": "NOERROR"},
			[]string{"mapping " + dlOrgAcme, "delegated to acme.chain.test", "mapping " + dlAcmeReg}},
	} {
		res, evs := dlMust(t, discovery.New(o), tc.name)
		for q, outcome := range tc.queries {
			found := false
			for _, e := range evs {
				found = found || (e.Source == "dns" && e.Query == q && e.Outcome == outcome && e.Server == l.srv.Addr() && e.Duration > 0)
			}
			if !found {
				t.Errorf("%s: no event for %s answered %s by %s", tc.name, q, outcome, l.srv.Addr())
			}
		}
		for _, dec := range tc.decisions {
			dlWantDecision(t, evs, dec)
		}
		last := evs[len(evs)-1]
		if last.Source != "discovery" || last.Query != tc.name || last.TTL != res.TTL || !strings.Contains(last.Decision, "endpoint(s)") {
			t.Errorf("%s: last event %q, want the summary", tc.name, last)
		}
	}
}

// The trace is complete when Discover returns: a lookup still in flight
// when another source decided (here an SRV query the server never answers)
// is cancelled, and its event is in the trace before the summary — not
// added later, behind the caller's back.
//
// Each round has its own server, and reads its count once the server has
// stopped: Close waits for the handler of every query the server read, so
// a query of this round is counted now or never. With one server whose
// counts were reset between rounds, a round's dropped SRV datagram could be
// read by the server after the next round's reset and be blamed on a round
// that never sent it (the client had added its event in the round that did).
func TestTraceIsCompleteWhenDiscoverReturns(t *testing.T) {
	for range 5 {
		l := dlStart(t, dnstest.Config{})
		l.srv.SetFault("_oci-registry._tcp.single.mapping.test.", dns.TypeSRV, dnstest.FaultDrop)
		o := l.options()
		o.DNSSECOff = true
		_, evs := dlMust(t, discovery.New(o), "single.mapping.test/app")
		if err := l.srv.Close(); err != nil {
			t.Fatal(err)
		}
		asked := l.srv.QueryCount("_oci-registry._tcp.single.mapping.test.", dns.TypeSRV) > 0
		srvEvent := -1
		for i, e := range evs {
			if e.Source == "dns" && e.Query == "SRV _oci-registry._tcp.single.mapping.test." {
				srvEvent = i
			}
		}
		if asked && srvEvent < 0 {
			t.Fatalf("the SRV query was sent but has no event:\n%s", dlTrace(evs))
		}
		if srvEvent == len(evs)-1 {
			t.Fatalf("the SRV event came after the summary:\n%s", dlTrace(evs))
		}
	}
}
