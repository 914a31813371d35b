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
	"github.com/ocidns/ocidns/internal/dnstest"
)

// DESIGN §2: "Never a silent downgrade. NXDOMAIN / NODATA / HTTP 404 mean
// absent and fall through to the next source. SERVFAIL, timeouts, TLS
// errors and 5xx mean unknown: ... fail — never fall through to a source
// that the owner may have overridden."
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
		l := dlStart(t, dnstest.Config{})
		l.srv.SetFault("_oci-registry._tcp.txtsrv.mapping.test.", dns.TypeSRV, fault)
		o := l.options()
		o.DNSSECOff = true
		res, _ := dlMust(t, discovery.New(o), "txtsrv.mapping.test/tools/x")
		if len(res.Endpoints) != 1 || res.Endpoints[0].URL != "https://tools.example" {
			t.Errorf("SRV %s: endpoints\n%s", fault, dlEndpoints(res.Endpoints))
		}
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

// DESIGN §2: "a deadline for the whole discovery". A server that never
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

// Issue 4: "404/410 → absent (fall through); 5xx, timeouts, TLS failures,
// invalid JSON → unknown (fail, no fall-through)". The well-known document
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
		if _, evs, err := dlDiscover(d, name); err != nil {
			t.Errorf("%s: %v\n%s", name, err, dlTrace(evs))
		}
	}
	// Nothing in DNS: the document decides, and it is unknown.
	for _, tc := range []struct{ host, cause string }{
		{"direct.mapping.test", "503"},
		{"onlyspf.mapping.test", "JSON"},
		{"onlyacme.mapping.test", "version"},
	} {
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
	}
}
