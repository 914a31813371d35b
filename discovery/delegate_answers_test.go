package discovery_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// docs/protocol.md §9: never a silent downgrade. NXDOMAIN, NODATA and HTTP
// 404 are absent and fall through to the next source; SERVFAIL, timeouts,
// TLS errors and 5xx are unknown and fail, never falling through to a
// source the owner may have overridden.
//
// Each row breaks one question of a host that has a lower-precedence
// source ready (an SRV record, or the direct fallback): discovery must
// fail naming the query that went unanswered, with an error wrapping
// dnsclient.ErrUnknown and the *dnsclient.Error.
func TestUnknownDNSAnswerFailsWithoutFallThrough(t *testing.T) {
	rows := []struct {
		what  string
		qname string
		qtype uint16
		fault dnstest.Fault
		name  string // discovered
		cause string // in the error
	}{
		{"TXT SERVFAIL, SRV ready", "_oci-discovery.txtsrv.mapping.test.", dns.TypeTXT, dnstest.FaultServFail, "txtsrv.mapping.test/app", "SERVFAIL"},
		{"TXT REFUSED, SRV ready", "_oci-discovery.txtsrv.mapping.test.", dns.TypeTXT, dnstest.FaultRefused, "txtsrv.mapping.test/app", "REFUSED"},
		{"TXT malformed, SRV ready", "_oci-discovery.txtsrv.mapping.test.", dns.TypeTXT, dnstest.FaultMalformed, "txtsrv.mapping.test/app", "no response within"},
		{"TXT timeout, SRV ready", "_oci-discovery.txtsrv.mapping.test.", dns.TypeTXT, dnstest.FaultDrop, "txtsrv.mapping.test/app", "no response within"},
		{"TXT SERVFAIL, direct ready", "_oci-discovery.direct.mapping.test.", dns.TypeTXT, dnstest.FaultServFail, "direct.mapping.test/app", "SERVFAIL"},
		{"SRV SERVFAIL, TXT absent", "_oci-registry._tcp.srvonly.mapping.test.", dns.TypeSRV, dnstest.FaultServFail, "srvonly.mapping.test/app", "SERVFAIL"},
		{"SRV timeout, TXT without a match", "_oci-registry._tcp.txtsrv.mapping.test.", dns.TypeSRV, dnstest.FaultDrop, "txtsrv.mapping.test/app", "no response within"},
		{"SRV SERVFAIL, direct ready", "_oci-registry._tcp.direct.mapping.test.", dns.TypeSRV, dnstest.FaultServFail, "direct.mapping.test/app", "SERVFAIL"},
	}
	for _, r := range rows {
		t.Run(r.what, func(t *testing.T) {
			l := dlStart(t, dnstest.Config{})
			l.srv.SetFault(r.qname, r.qtype, r.fault)
			o := l.options()
			o.DNSSECOff = true
			// A short per-query timeout: the drop rows wait for it once.
			o.DNS = dnstest.ClientT(t, 300*time.Millisecond, l.srv.Addr())
			de, evs := dlFail(t, discovery.New(o), r.name)
			step := dns.Type(r.qtype).String() + " " + r.qname
			host, _, _ := strings.Cut(r.name, "/")
			if de.Step != step || de.Host != host || de.Name != r.name {
				t.Errorf("Step %q, Host %q, Name %q; want step %q at host %q", de.Step, de.Host, de.Name, step, host)
			}
			if !errors.Is(de, dnsclient.ErrUnknown) {
				t.Errorf("%v does not wrap dnsclient.ErrUnknown", de)
			}
			var dnsErr *dnsclient.Error
			if !errors.As(de, &dnsErr) || dnsErr.Qtype != r.qtype {
				t.Errorf("%v: no *dnsclient.Error for the %s question", de, dns.Type(r.qtype))
			}
			if !strings.Contains(de.Error(), r.cause) || !strings.Contains(de.Error(), r.qname) {
				t.Errorf("error %q should name the question and the cause %q", de, r.cause)
			}
			dlWantDecision(t, evs, "no fall-through")
			if dlDecided(evs, "registry located by SRV") || dlDecided(evs, "is its own registry") {
				t.Errorf("fell through:\n%s", dlTrace(evs))
			}
		})
	}
}

// An unknown answer of a source that is not reached does not matter: a
// TXT mapping decides before the SRV answer is looked at.
func TestUnknownAnswerOfASourceNotReachedIsHarmless(t *testing.T) {
	for _, fault := range []dnstest.Fault{dnstest.FaultServFail, dnstest.FaultDrop} {
		t.Run(fault.String(), func(t *testing.T) {
			l := dlStart(t, dnstest.Config{})
			l.srv.SetFault("_oci-registry._tcp.txtsrv.mapping.test.", dns.TypeSRV, fault)
			o := l.options()
			o.DNSSECOff = true
			res, _ := dlMust(t, discovery.New(o), "txtsrv.mapping.test/tools/x")
			if len(res.Endpoints) != 1 || res.Endpoints[0].URL != "https://tools.example" {
				t.Errorf("SRV %s: endpoints\n%s", fault, dlEndpoints(res.Endpoints))
			}
		})
	}
}

// The failure of a later hop names that hop's host and question, and the
// name that was being discovered.
func TestUnknownAnswerAtASecondHopNamesThatHop(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	l.srv.SetFault("_oci-discovery.acme.chain.test.", dns.TypeTXT, dnstest.FaultServFail)
	o := l.options()
	o.DNSSECOff = true
	de, _ := dlFail(t, discovery.New(o), "org.chain.test/acme/app")
	if de.Host != "acme.chain.test" || de.Step != "TXT _oci-discovery.acme.chain.test." || de.Name != "org.chain.test/acme/app" {
		t.Errorf("Host %q, Step %q, Name %q", de.Host, de.Step, de.Name)
	}
	if !errors.Is(de, dnsclient.ErrUnknown) {
		t.Errorf("%v, want dnsclient.ErrUnknown", de)
	}
}

// docs/protocol.md §11: a deadline bounds the whole discovery. A server that never
// answers cannot hold discovery past Options.Timeout, even when one query
// may take longer; the error is the deadline's and still an unknown answer.
func TestDiscoveryDeadlineBoundsAStalledServer(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	l.srv.SetFault("_oci-discovery.single.mapping.test.", dns.TypeTXT, dnstest.FaultDrop)
	o := l.options()
	o.DNSSECOff = true
	o.Timeout = 200 * time.Millisecond // the DNS client would wait 10s
	de, _ := dlFail(t, discovery.New(o), "single.mapping.test/app")
	if !errors.Is(de, context.DeadlineExceeded) || !errors.Is(de, dnsclient.ErrUnknown) {
		t.Errorf("%v, want the deadline and dnsclient.ErrUnknown", de)
	}
	if de.Step != "TXT _oci-discovery.single.mapping.test." {
		t.Errorf("Step %q", de.Step)
	}
}

// docs/protocol.md §5.1, §9: 404/410 are absent (fall through); 5xx,
// timeouts, TLS failures and invalid JSON are unknown (fail, no
// fall-through). The well-known document
// is fetched concurrently but only consulted when TXT and SRV map nothing:
// its failure fails discovery only when it is reached.
func TestWellKnownFailureFailsOnlyWhenReached(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	broken := map[string]dlDoc{
		"single.mapping.test":   {status: http.StatusInternalServerError, body: "oops"},
		"srvonly.mapping.test":  {status: http.StatusBadGateway},
		"direct.mapping.test":   {status: http.StatusServiceUnavailable},
		"onlyspf.mapping.test":  {body: `{"version": 1, "namespaces": [`},
		"onlyacme.mapping.test": {body: `{"version": 2, "namespaces": []}`},
	}
	o := l.options()
	o.DNSSECOff = true
	o.NoWellKnown = false
	o.HTTP = dlWellKnown(t, broken)
	d := discovery.New(o)

	// TXT decides; SRV decides.
	for _, name := range []string{"single.mapping.test/app", "srvonly.mapping.test/app"} {
		t.Run(name, func(t *testing.T) {
			if _, evs, err := dlDiscover(d, name); err != nil {
				t.Errorf("%s: %v\n%s", name, err, dlTrace(evs))
			}
		})
	}
	// Nothing in DNS: the document decides, and it is unknown.
	for _, tc := range []struct{ host, cause string }{
		{"direct.mapping.test", "503"},
		{"onlyspf.mapping.test", "JSON"},
		{"onlyacme.mapping.test", "version"},
	} {
		t.Run(tc.host, func(t *testing.T) {
			de, _ := dlFail(t, d, tc.host+"/app")
			if !errors.Is(de, discovery.ErrWellKnownUnknown) {
				t.Errorf("%s: %v, want ErrWellKnownUnknown", tc.host, de)
			}
			if want := "GET https://" + tc.host + "/.well-known/oci-discovery"; de.Step != want || de.Host != tc.host {
				t.Errorf("%s: Step %q, Host %q, want %q", tc.host, de.Step, de.Host, want)
			}
			if !strings.Contains(de.Error(), tc.cause) {
				t.Errorf("%s: error %q does not say %q", tc.host, de, tc.cause)
			}
		})
	}
}

// docs/protocol.md §3.2: a duplicated key or a malformed value makes that
// record invalid; an invalid v=oci1 record is reported in the trace and
// skipped, never a crash. Each record of
// malformed.mapping.test breaks one rule; the name under its prefix falls
// to the host-wide mapping, and the trace names the record and the fault.
func TestMalformedRecordsAreReportedAndSkipped(t *testing.T) {
	rows := []struct {
		prefix string
		record string
		fault  string // in the trace's report
	}{
		{"dup", "v=oci1; prefix=dup; priority=1; registry=https://dup.example; priority=2", `key "priority" at offset 62: duplicated key`},
		{"notarget", "v=oci1; prefix=notarget; priority=5", "no target"},
		{"two", "v=oci1; prefix=two; registry=https://two.example; delegate=two.example", `key "delegate"`},
		{"badurl", "v=oci1; prefix=badurl; registry=ftp://badurl.example", "scheme must be https"},
		{"badpath", "v=oci1; prefix=badpath; registry=https://badpath.example/Not_Lower", "repository paths are lowercase"},
		// docs/protocol.md §3.2, §8.4: http:// only for hosts the operator
		// marked insecure.
		{"plain", "v=oci1; prefix=plain; registry=http://plain.example:5000/lab", "marked insecure"},
	}
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			for _, r := range rows {
				name := "malformed.mapping.test/" + r.prefix + "/app"
				res, evs := dlMust(t, d, name)
				dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
					{URL: "https://registry.example", Repository: "malformed/" + r.prefix + "/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
				})
				dlWantDecision(t, evs, "skipped malformed record", r.record, r.fault)
			}
		})
	}
}

// The same http:// record is valid when the operator marked its registry
// insecure, as host:port or as the bare host (Docker's
// insecure-registries); marking another host changes nothing.
func TestPlainHTTPRegistryNeedsTheHostMarkedInsecure(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			for _, tc := range []struct {
				insecure string
				url      string
				repo     string
			}{
				{"plain.example:5000", "http://plain.example:5000", "lab/app"},
				{"plain.example", "http://plain.example:5000", "lab/app"},
				{"plain.example:5001", "https://registry.example", "malformed/plain/app"},
				{"other.example", "https://registry.example", "malformed/plain/app"},
			} {
				o.Insecure = func(h string) bool { return h == tc.insecure }
				res, _ := dlMust(t, discovery.New(o), "malformed.mapping.test/plain/app")
				dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
					{URL: tc.url, Repository: tc.repo, Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
				})
			}
		})
	}
}

// docs/protocol.md §7: a truncated UDP answer is asked again over TCP. The
// TXT RRset of big.mapping.test does not fit in 1232 bytes: the server
// truncates the UDP answer, the client asks again over TCP, and the mapping
// among the records is found.
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

// docs/protocol.md §7, §10: a result has the TTL of the whole answer; DNS
// answers live by their TTL, negative answers by the SOA minimum (RFC 2308).
// The result's TTL is the minimum over every answer the decision consulted
// — positive TTLs, and the negative TTL (min(SOA TTL, MINIMUM) = 900 s in
// these zones) of sources that were absent — and over nothing else: an
// answer not looked at (the SRV when TXT decided) does not shorten it.
func TestResultTTLIsTheMinimumOverTheAnswersConsulted(t *testing.T) {
	rows := []struct {
		name string
		ttl  time.Duration
		why  string
	}{
		{"single.mapping.test/app", 1800 * time.Second, "TXT 1800; SRV not consulted"},
		{"txtsrv.mapping.test/tools/x", 1200 * time.Second, "TXT 1200; SRV not consulted"},
		{"txtsrv.mapping.test/app", 700 * time.Second, "TXT 1200 without a match, SRV 700"},
		{"srvonly.mapping.test/app", 900 * time.Second, "TXT absent 900, SRV 1000"},
		{"onlyspf.mapping.test/app", 600 * time.Second, "TXT 600 without v=oci1, SRV absent 900"},
		{"direct.mapping.test/app", 900 * time.Second, "TXT and SRV absent, 900"},
		{"cname.mapping.test/app", 120 * time.Second, "CNAME 120 to TXT 1800"},
		{"org.chain.test/acme/app", 300 * time.Second, "TXT 300, then TXT 1800"},
		{"org.chain.test/acme/team/web/app", 60 * time.Second, "TXT 300, 1800, 3600, then 60"},
	}
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			for _, r := range rows {
				res, _ := dlMust(t, d, r.name)
				if res.TTL != r.ttl {
					t.Errorf("%s: TTL %v, want %v (%s)", r.name, res.TTL, r.ttl, r.why)
				}
				for _, s := range res.Chain {
					if s.TTL > 0 && s.TTL < res.TTL {
						t.Errorf("%s: step %s/%s lives %v, less than the result's %v", r.name, s.Host, s.Path, s.TTL, res.TTL)
					}
				}
			}
		})
	}
}
