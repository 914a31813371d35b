package discovery_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// The SRV records of srvonly.mapping.test, in the zone file's order.
func dlSrvonlyRecords() []*dns.SRV {
	srv := func(prio, weight, port uint16, target string) *dns.SRV {
		return &dns.SRV{Hdr: dns.RR_Header{Name: "_oci-registry._tcp.srvonly.mapping.test.", Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 1000},
			Priority: prio, Weight: weight, Port: port, Target: target}
	}
	return []*dns.SRV{
		srv(10, 60, 443, "registry.srvonly.mapping.test."),
		srv(10, 40, 5000, "mirror.srvonly.mapping.test."),
		srv(20, 0, 443, "backup.example."),
	}
}

// DESIGN §2 item 2: SRV at _oci-registry._tcp.<host> is "where the host's
// own registry runs (ordered by RFC 2782 priority/weight)"; "The
// repository path is unchanged". Port 443 is left out of the URL. The
// weighted order is the one OrderSRV draws from Options.Rand.
func TestSRVOnlyHostIsServedByItsSRVTargets(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			for seed := uint64(1); seed <= 5; seed++ {
				o.Rand = dlRand(seed)
				res, evs := dlMust(t, discovery.New(o), "srvonly.mapping.test/team/app")
				ep := map[string]discovery.Endpoint{
					"registry.srvonly.mapping.test.": {URL: "https://registry.srvonly.mapping.test", Repository: "team/app", Priority: 10, Weight: 60, Caps: discovery.CapAll, Source: discovery.SourceSRV, Authenticated: mode.auth},
					"mirror.srvonly.mapping.test.":   {URL: "https://mirror.srvonly.mapping.test:5000", Repository: "team/app", Priority: 10, Weight: 40, Caps: discovery.CapAll, Source: discovery.SourceSRV, Authenticated: mode.auth},
					"backup.example.":                {URL: "https://backup.example", Repository: "team/app", Priority: 20, Caps: discovery.CapAll, Source: discovery.SourceSRV, Authenticated: mode.auth},
				}
				var want []discovery.Endpoint
				for _, s := range discovery.OrderSRV(dlSrvonlyRecords(), dlRand(seed)) {
					want = append(want, ep[s.Target])
				}
				dlWantEndpoints(t, res.Endpoints, want)
				dlWantChain(t, res.Chain, []discovery.Step{{Host: "srvonly.mapping.test", Path: "team/app", Source: discovery.SourceSRV,
					Record: "10 60 443 registry.srvonly.mapping.test. | 10 40 5000 mirror.srvonly.mapping.test. | 20 0 443 backup.example.", Authenticated: mode.auth}})
				// The absent TXT answer (900 s) lives shorter than the SRV (1000 s).
				if res.TTL != 900*time.Second {
					t.Errorf("TTL %v, want 15m (the TXT denial's)", res.TTL)
				}
				dlWantDecision(t, evs, "registry located by SRV")
			}
		})
	}
}

// An SRV answer that is not authenticated may move the connection, never
// the identity (DESIGN §2 item 2: "TLS must be valid for <host> unless the
// SRV answer was DNSSEC-authenticated"): under --dnssec on with plain DNS,
// every target on another host must present a certificate for the name's
// host.
func TestUnauthenticatedSRVKeepsTheHostsTLSIdentity(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	res, _ := dlMust(t, discovery.New(l.options()), "srvonly.mapping.test/app")
	if len(res.Endpoints) != 3 {
		t.Fatalf("endpoints:\n%s", dlEndpoints(res.Endpoints))
	}
	for _, ep := range res.Endpoints {
		if ep.TLSServerName != "srvonly.mapping.test" || ep.Authenticated != discovery.AuthNone || ep.Source != discovery.SourceSRV {
			t.Errorf("endpoint %s: TLSServerName %q, Authenticated %s", ep.URL, ep.TLSServerName, ep.Authenticated)
		}
	}
}

// RFC 2782: 'A Target of "." means that the service is decidedly not
// available at this domain.' With no TXT mapping (and no well-known
// document) nothing else serves the name: ErrNoRegistry, not the direct
// fallback.
func TestSRVTargetDotMeansNoRegistry(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			l, o := mode.start(t)
			de, evs := dlFail(t, discovery.New(o), "noregistry.mapping.test/app")
			if !errors.Is(de, discovery.ErrNoRegistry) {
				t.Errorf("%v, want ErrNoRegistry", de)
			}
			if de.Host != "noregistry.mapping.test" || de.Step != "SRV _oci-registry._tcp.noregistry.mapping.test." {
				t.Errorf("Host %q, Step %q", de.Host, de.Step)
			}
			dlWantDecision(t, evs, `SRV target "." says there is no registry at this host`)
			if n := l.srv.QueryCount("_oci-registry._tcp.noregistry.mapping.test.", dns.TypeSRV); n != 1 {
				t.Errorf("SRV asked %d times, want 1", n)
			}
			if slices.ContainsFunc(evs, func(e trace.Event) bool { return e.Source == "discovery" && e.Query == "noregistry.mapping.test" }) {
				t.Errorf("the direct fallback was considered:\n%s", dlTrace(evs))
			}
		})
	}
}
