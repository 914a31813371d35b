package discovery_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// Issue 3: "on a truncated UDP answer, retry over TCP". The TXT RRset of
// big.mapping.test does not fit in 1232 bytes: the server truncates the UDP
// answer, the client asks again over TCP, and the mapping among the
// records is found.
func TestTruncatedTXTAnswerIsReadOverTCP(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			l, o := mode.start(t)
			res, evs := dlMust(t, discovery.New(o), "big.mapping.test/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://registry.example", Repository: "big/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
			if n := l.srv.QueryCount("_oci-discovery.big.mapping.test.", dns.TypeTXT); n != 2 {
				t.Errorf("TXT asked %d times, want 2 (UDP, then TCP)", n)
			}
			dlWantTCPRetry(t, evs, "TXT _oci-discovery.big.mapping.test.")
		})
	}
}

// A server that truncates every UDP answer (FaultTruncate) is read over
// TCP for both the TXT and the SRV question.
func TestTruncationOfEveryUDPAnswerFallsBackToTCP(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	l.srv.SetFault("_oci-discovery.txtsrv.mapping.test.", dns.TypeTXT, dnstest.FaultTruncate)
	l.srv.SetFault("_oci-registry._tcp.txtsrv.mapping.test.", dns.TypeSRV, dnstest.FaultTruncate)
	o := l.options()
	o.DNSSECOff = true
	res, evs := dlMust(t, discovery.New(o), "txtsrv.mapping.test/app")
	if len(res.Endpoints) != 1 || res.Endpoints[0].URL != "https://registry.txtsrv.mapping.test" {
		t.Errorf("endpoints:\n%s", dlEndpoints(res.Endpoints))
	}
	dlWantTCPRetry(t, evs, "TXT _oci-discovery.txtsrv.mapping.test.")
	dlWantTCPRetry(t, evs, "SRV _oci-registry._tcp.txtsrv.mapping.test.")
}

// dlWantTCPRetry wants a truncated UDP answer to query q, then the answer
// over TCP, in the trace.
func dlWantTCPRetry(t *testing.T, evs []trace.Event, q string) {
	t.Helper()
	truncated, tcp := false, false
	for _, e := range evs {
		if e.Source != "dns" || e.Query != q {
			continue
		}
		truncated = truncated || (strings.Contains(e.Outcome, "truncated") && strings.Contains(e.Decision, "TCP"))
		tcp = tcp || (truncated && strings.HasSuffix(e.Server, "(tcp)") && e.Outcome == "NOERROR")
	}
	if !truncated || !tcp {
		t.Errorf("%s: no truncated UDP answer followed by a TCP answer in the trace:\n%s", q, dlTrace(evs))
	}
}
