package discovery_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// docs/protocol.md §6: a registry URL's path is a repository prefix:
// example.com/tools/x → ghcr.io, repository example-tools/x. One TXT
// record maps the whole host; the chain has one step with that record.
func TestSingleMappingSendsTheNameToTheRegistry(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			const record = "v=oci1; registry=https://registry.example/single"
			// The host is matched case-insensitively and without its root dot.
			for _, name := range []string{"single.mapping.test/app", "Single.Mapping.Test./app"} {
				res, evs := dlMust(t, d, name)
				if res.Name != name {
					t.Errorf("Name %q, want %q", res.Name, name)
				}
				dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
					{URL: "https://registry.example", Repository: "single/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
				})
				dlWantChain(t, res.Chain, []discovery.Step{
					{Host: "single.mapping.test", Path: "app", Source: discovery.SourceTXT, Record: record, Authenticated: mode.auth},
				})
				if res.DNSSECOff != !mode.sign {
					t.Errorf("DNSSECOff %v, want %v", res.DNSSECOff, !mode.sign)
				}
				if res.TTL != 1800*time.Second || res.Chain[0].TTL != 1800*time.Second {
					t.Errorf("TTL %v, step TTL %v, want the record's 30m", res.TTL, res.Chain[0].TTL)
				}
				dlWantDecision(t, evs, "mapping "+record)
				dlWantDecision(t, evs, "1 endpoint(s) after 1 hop(s), authenticated: "+string(mode.auth))
			}
		})
	}
}

// docs/protocol.md §3: caps=resolve,pull (both by default; only resolve
// endpoints may turn a tag into a digest); keys are case-insensitive.
func TestMappingCapsPriorityAndCanonicalURL(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, _ := dlMust(t, discovery.New(o), "caps.mapping.test/tools/x")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://cache.example", Repository: "tools/x", Priority: 1, Caps: discovery.CapPull, Source: discovery.SourceTXT, Authenticated: mode.auth},
				{URL: "https://origin.example:5000", Repository: "org/tools/x", Priority: 2, Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
		})
	}
}

// docs/protocol.md §3.2: records with another v are ignored (other
// protocols share the TXT space). They are noted in the trace, and the
// v=oci1 record decides.
func TestOtherTXTRecordsAreIgnored(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)

			res, evs := dlMust(t, d, "ignored.mapping.test/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://registry.example", Repository: "ignored/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
			for _, rec := range []string{"v=spf1 -all", "google-site-verification=abc123", "v=oci2; registry=https://future.example"} {
				dlWantDecision(t, evs, "ignored TXT record that is not v=oci1", rec)
			}

			// Only other protocols' records: the host is its own registry.
			res, evs = dlMust(t, d, "onlyspf.mapping.test/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://onlyspf.mapping.test", Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
			})
			dlWantDecision(t, evs, "ignored TXT record that is not v=oci1", "v=spf1 -all")
			dlWantDecision(t, evs, "onlyspf.mapping.test is its own registry")
		})
	}
}

// docs/protocol.md §6: two records of one prefix with different targets
// are a conflict unless both are registry= (then they are mirrors); the error
// names both records and the step. Other prefixes of the host still work.
func TestConflictingRecordsAreAnErrorNamingBoth(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			for _, tc := range []struct {
				name string
				a, b string
			}{
				{"conflict.mapping.test/acme/app", "v=oci1; prefix=acme; delegate=acme.example", "v=oci1; prefix=acme; registry=https://acme-registry.example"},
				{"conflict.mapping.test/tools/x", "v=oci1; prefix=tools; delegate=tools-a.example", "v=oci1; prefix=tools; delegate=tools-b.example"},
			} {
				de, _ := dlFail(t, d, tc.name)
				if !errors.Is(de, discovery.ErrConflict) {
					t.Errorf("%s: %v, want ErrConflict", tc.name, de)
				}
				var ce *discovery.ConflictError
				if !errors.As(de, &ce) || ce.A.Record != tc.a || ce.B.Record != tc.b {
					t.Errorf("%s: ConflictError %+v, want A %q, B %q", tc.name, ce, tc.a, tc.b)
				}
				if de.Host != "conflict.mapping.test" || de.Step != "TXT _oci-discovery.conflict.mapping.test." {
					t.Errorf("%s: Host %q, Step %q", tc.name, de.Host, de.Step)
				}
				for _, s := range []string{tc.name, tc.a, tc.b, "_oci-discovery.conflict.mapping.test."} {
					if !strings.Contains(de.Error(), s) {
						t.Errorf("%s: error %q does not name %q", tc.name, de, s)
					}
				}
			}
			res, _ := dlMust(t, d, "conflict.mapping.test/other/x")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://registry.example", Repository: "conflict/other/x", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
		})
	}
}

// docs/protocol.md §7 step 3: TXT mapping, then SRV, then well-known
// mapping, then direct. A TXT mapping wins for its prefix; the SRV serves the rest.
func TestTXTMappingTakesPrecedenceOverSRV(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)

			res, _ := dlMust(t, d, "txtsrv.mapping.test/tools/x")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://tools.example", Repository: "x", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})

			res, evs := dlMust(t, d, "txtsrv.mapping.test/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://registry.txtsrv.mapping.test", Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceSRV, Authenticated: mode.auth},
			})
			dlWantChain(t, res.Chain, []discovery.Step{
				{Host: "txtsrv.mapping.test", Path: "app", Source: discovery.SourceSRV, Record: "0 0 443 registry.txtsrv.mapping.test.", Authenticated: mode.auth},
			})
			dlWantDecision(t, evs, `no v=oci1 prefix matches path "app"`)
			dlWantDecision(t, evs, "registry located by SRV: https://registry.txtsrv.mapping.test")
		})
	}
}

// docs/protocol.md §6: a prefix matches on whole components (acme matches
// acme/x, not acmex); absent means the whole host; the longest prefix
// wins. The rows follow the comments of prefix.mapping.test.
func TestPrefixMatchesWholeComponentsAndTheLongestWins(t *testing.T) {
	rows := []struct {
		name      string
		url, repo string
		record    string
	}{
		{"prefix.mapping.test/acme/app", "https://acme.example", "acme-org/app", "v=oci1; prefix=acme; registry=https://acme.example/acme-org"},
		// The name ends at the prefix: the URL's path is the repository.
		{"prefix.mapping.test/acme", "https://acme.example", "acme-org", "v=oci1; prefix=acme; registry=https://acme.example/acme-org"},
		{"prefix.mapping.test/acme/team/app", "https://team.example", "app", "v=oci1; prefix=acme/team; registry=https://team.example"},
		{"prefix.mapping.test/acme/team/a/b/c", "https://team.example", "a/b/c", "v=oci1; prefix=acme/team; registry=https://team.example"},
		{"prefix.mapping.test/acme/teamx/app", "https://acme.example", "acme-org/teamx/app", "v=oci1; prefix=acme; registry=https://acme.example/acme-org"},
		{"prefix.mapping.test/acmex/app", "https://default.example", "all/acmex/app", "v=oci1; registry=https://default.example/all"},
		{"prefix.mapping.test/ac/app", "https://default.example", "all/ac/app", "v=oci1; registry=https://default.example/all"},
		{"prefix.mapping.test/team/app", "https://default.example", "all/team/app", "v=oci1; registry=https://default.example/all"},
	}
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			for _, r := range rows {
				res, _ := dlMust(t, d, r.name)
				dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
					{URL: r.url, Repository: r.repo, Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
				})
				if len(res.Chain) != 1 || res.Chain[0].Record != r.record {
					t.Errorf("%s: chain %s, want the record %q", r.name, dlSteps(res.Chain), r.record)
				}
			}
		})
	}
}

// A host whose mappings all have a prefix maps no other name: acmex is not
// under acme, so the host is its own registry, and the trace says why.
func TestNoPrefixMatchFallsThroughToTheHost(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, evs := dlMust(t, discovery.New(o), "onlyacme.mapping.test/acmex/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://onlyacme.mapping.test", Repository: "acmex/app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
			})
			dlWantDecision(t, evs, `no v=oci1 prefix matches path "acmex/app"`)
		})
	}
}

// The records of mirrors.mapping.test, in the zone file's order.
var dlMirrorRecords = []string{
	"v=oci1; registry=https://primary.example; priority=10",
	"v=oci1; registry=https://heavy.example; priority=20; weight=60",
	"v=oci1; registry=https://medium.example; priority=20; weight=30",
	"v=oci1; registry=https://light.example; priority=20; weight=10",
	"v=oci1; registry=https://last.example; priority=30; caps=pull",
}

// docs/protocol.md §6: records of one prefix that are all registry= are
// mirrors, ordered by priority, then RFC 2782 weight. Every mirror is an endpoint
// with its priority, weight and caps; the lowest priority comes first, the
// highest last, and the chain's record lists them all.
func TestMirrorsAreOrderedByPriorityThenWeight(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, _ := dlMust(t, discovery.New(o), "mirrors.mapping.test/team/app")
			eps := res.Endpoints
			if len(eps) != 5 {
				t.Fatalf("endpoints:\n%s", dlEndpoints(eps))
			}
			mirror := func(url string, prio, weight int, caps discovery.Caps) discovery.Endpoint {
				return discovery.Endpoint{URL: url, Repository: "team/app", Priority: prio, Weight: weight, Caps: caps,
					Source: discovery.SourceTXT, Authenticated: mode.auth}
			}
			dlWantEndpoints(t, []discovery.Endpoint{eps[0], eps[4]}, []discovery.Endpoint{
				mirror("https://primary.example", 10, 0, discovery.CapAll),
				mirror("https://last.example", 30, 0, discovery.CapPull),
			})
			middle := slices.Clone(eps[1:4])
			slices.SortFunc(middle, func(a, b discovery.Endpoint) int { return strings.Compare(a.URL, b.URL) })
			dlWantEndpoints(t, middle, []discovery.Endpoint{
				mirror("https://heavy.example", 20, 60, discovery.CapAll),
				mirror("https://light.example", 20, 10, discovery.CapAll),
				mirror("https://medium.example", 20, 30, discovery.CapAll),
			})
			if want := strings.Join(dlMirrorRecords, " | "); len(res.Chain) != 1 || res.Chain[0].Record != want {
				t.Errorf("chain %s, want one step with record %q", dlSteps(res.Chain), want)
			}
		})
	}
}

// The weighted order within a priority comes from Options.Rand: for one
// seed it is the order OrderMirrors draws from that seed, the same on
// every run, and different seeds do give different orders.
func TestMirrorOrderIsDeterministicPerSeed(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	var mirrors []discovery.Mapping
	for _, r := range dlMirrorRecords {
		m, err := discovery.ParseTXT(r, discovery.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mirrors = append(mirrors, m)
	}
	orders := map[string]bool{}
	for seed := uint64(1); seed <= 20; seed++ {
		var want []string
		for _, m := range discovery.OrderMirrors(mirrors, dlRand(seed)) {
			u, _, err := discovery.RegistryEndpoint(m, "app")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, u)
		}
		for run := 0; run < 2; run++ {
			o := l.options()
			o.DNSSECOff = true
			o.Rand = dlRand(seed)
			res, _ := dlMust(t, discovery.New(o), "mirrors.mapping.test/app")
			if got := dlURLs(res.Endpoints); !slices.Equal(got, want) {
				t.Errorf("seed %d, run %d: order %q, want %q", seed, run, got, want)
			}
		}
		orders[strings.Join(want, " ")] = true
	}
	if len(orders) < 3 {
		t.Errorf("20 seeds gave %d orders of three weighted mirrors: %v", len(orders), orders)
	}
}

// RFC 2782: within one priority a target is chosen first with probability
// proportional to its weight (60/30/10 here). One Discoverer drawing from
// one seeded source over many discoveries shows the proportions; the seed
// makes the counts exact on every run, the bounds leave room for changes
// of the draw that keep the distribution.
func TestMirrorWeightsShareTheFirstPlace(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	o := l.options()
	o.DNSSECOff = true
	o.Rand = dlRand(7)
	d := discovery.New(o)
	const n = 300
	first := map[string]int{}
	for range n {
		res, _ := dlMust(t, d, "mirrors.mapping.test/app")
		first[res.Endpoints[1].URL]++
	}
	for url, want := range map[string]float64{"https://heavy.example": 0.6, "https://medium.example": 0.3, "https://light.example": 0.1} {
		if got := float64(first[url]) / n; got < want-0.1 || got > want+0.1 {
			t.Errorf("%s first among priority 20 in %.2f of discoveries, want about %.1f (%v)", url, got, want, first)
		}
	}
}

// docs/protocol.md §7 step 3.4: direct — none of the above: https://<host>
// itself is the registry (today's Docker behaviour, docker.io →
// registry-1.docker.io), so a name works with zero configuration wherever
// it works today.
func TestDirectFallbackWhenNothingIsPublished(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, evs := dlMust(t, discovery.New(o), "direct.mapping.test/team/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://direct.mapping.test", Repository: "team/app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
			})
			dlWantChain(t, res.Chain, []discovery.Step{
				{Host: "direct.mapping.test", Path: "team/app", Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
			})
			// Both denials were consulted: the answer lives as long as they do.
			if res.TTL != 900*time.Second {
				t.Errorf("TTL %v, want 15m", res.TTL)
			}
			dlWantDecision(t, evs, "no mapping published: direct.mapping.test is its own registry (https://direct.mapping.test)")
		})
	}
}

// docker.io publishes nothing, and its registry is registry-1.docker.io.
// Nothing connects to it: discovery only names the endpoint.
func TestDirectFallbackOfDockerHub(t *testing.T) {
	l := dlStart(t, dnstest.Config{Zones: []dnstest.Zone{dlZone("docker.io.", "docker.io.zone")}})
	d := discovery.New(l.options())
	for _, name := range []string{"docker.io/library/ubuntu", "index.docker.io/library/ubuntu"} {
		res, _ := dlMust(t, d, name)
		dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
			{URL: "https://registry-1.docker.io", Repository: "library/ubuntu", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
		})
	}
}

// A host with a port or an IP literal has no DNS names to ask
// (_oci-discovery.localhost:5000 is not a name): it is its own registry,
// without a single query, and the trace says why. An insecure registry is
// plain HTTP whether the operator marked host:port or the bare host.
func TestDirectForHostsWithAPortOrAnIPAddress(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	for _, tc := range []struct {
		name     string
		insecure string
		url      string
		auth     discovery.Auth
	}{
		{"localhost:5000/app", "", "https://localhost:5000", discovery.AuthHTTPS},
		{"127.0.0.1/app", "", "https://127.0.0.1", discovery.AuthHTTPS},
		{"[::1]:5000/app", "", "https://[::1]:5000", discovery.AuthHTTPS},
		{"localhost:5000/app", "localhost:5000", "http://localhost:5000", discovery.AuthNone},
		{"localhost:5000/app", "localhost", "http://localhost:5000", discovery.AuthNone},
		{"127.0.0.1:5000/app", "127.0.0.1", "http://127.0.0.1:5000", discovery.AuthNone},
		{"direct.mapping.test/app", "direct.mapping.test", "http://direct.mapping.test", discovery.AuthNone},
		{"localhost:5000/app", "localhost:5001", "https://localhost:5000", discovery.AuthHTTPS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l.srv.ResetCounts()
			o := l.options()
			o.Insecure = func(h string) bool { return h == tc.insecure }
			res, evs := dlMust(t, discovery.New(o), tc.name)
			want := discovery.Endpoint{URL: tc.url, Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: tc.auth}
			if len(res.Endpoints) != 1 || res.Endpoints[0] != want {
				t.Errorf("%s, insecure %q: endpoints\n%swant\n%s", tc.name, tc.insecure, dlEndpoints(res.Endpoints), dlEndpoints([]discovery.Endpoint{want}))
			}
			if tc.name == "direct.mapping.test/app" {
				return
			}
			if n := l.srv.TotalQueries(); n != 0 {
				t.Errorf("%s: %d DNS queries, want none", tc.name, n)
			}
			dlWantDecision(t, evs, "no DNS discovery for an IP address or a host with a port")
		})
	}
}

// A name whose host is not a host is an error naming it, before any query.
func TestInvalidHostIsAnError(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	d := discovery.New(l.options())
	for _, name := range []string{"/app", "exa_mple..test/app", "host:0/app", "host:99999/app", "host:+80/app", "[::1/app", "[::1]x/app", "[::1]:/app", "[example.test]/app", "::1/app", "a b.test/app"} {
		t.Run(name, func(t *testing.T) {
			res, _, err := dlDiscover(d, name)
			var de *discovery.Error
			if !errors.Is(err, discovery.ErrInvalidName) || !errors.As(err, &de) || de.Step != "parse name" {
				t.Errorf("%s: (%v, %v), want ErrInvalidName at step parse name", name, res, err)
			}
		})
	}
	if n := l.srv.TotalQueries(); n != 0 {
		t.Errorf("%d DNS queries for invalid names", n)
	}
}

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

// docs/protocol.md §4: SRV at _oci-registry._tcp.<host> says where the
// host's own registry runs (ordered by RFC 2782 priority and weight); the
// repository path is unchanged. Port 443 is left out of the URL. The
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
				// The absent TXT answer (900 s) lives shorter than the SRV
				// (1000 s).
				if res.TTL != 900*time.Second {
					t.Errorf("TTL %v, want 15m (the TXT denial's)", res.TTL)
				}
				dlWantDecision(t, evs, "registry located by SRV")
			}
		})
	}
}

// An SRV answer that is not authenticated may move the connection, never
// the identity (docs/protocol.md §4: TLS must be valid for <host> unless
// the SRV answer was authenticated): under --dnssec on with plain DNS,
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

// A document that maps every name of its host to wk.example.
const dlWKDoc = `{"version": 1, "namespaces": [{"prefix": "", "registries": [{"url": "https://wk.example/direct", "priority": 5}]}]}`

// docs/protocol.md §5, §8.1: the well-known document serves hosts that
// cannot or will not use DNS records; its mappings carry authenticated
// "https" — the host's own verified TLS — so its mapping to
// another host is followed under --dnssec on with plain DNS. Its max-age
// (600 s, under both DNS denials) is the answer's TTL.
func TestWellKnownMappingServesAHostWithoutDNSRecords(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	o := l.options()
	o.NoWellKnown = false
	o.HTTP = dlWellKnown(t, map[string]dlDoc{"direct.mapping.test": {body: dlWKDoc, maxAge: 600}})
	res, evs := dlMust(t, discovery.New(o), "direct.mapping.test/app")
	dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
		{URL: "https://wk.example", Repository: "direct/app", Priority: 5, Caps: discovery.CapAll, Source: discovery.SourceWellKnown, Authenticated: discovery.AuthHTTPS},
	})
	if len(res.Chain) != 1 || res.Chain[0].Source != discovery.SourceWellKnown || res.Chain[0].Authenticated != discovery.AuthHTTPS ||
		!strings.Contains(res.Chain[0].Record, "https://wk.example/direct") {
		t.Errorf("chain %s", dlSteps(res.Chain))
	}
	if res.TTL != 600*time.Second {
		t.Errorf("TTL %v, want the document's max-age 10m", res.TTL)
	}
	dlWantDecision(t, evs, "well-known document with 1 mapping(s)")
}

// docs/protocol.md §7 step 3: TXT mapping, then SRV, then well-known
// mapping, then direct. Every host below publishes the same document; only the one
// whose DNS maps nothing uses it. An SRV target "." says the host runs no
// registry itself, which the document may still map elsewhere; a 404 is
// absent and falls through to direct, with the 5-minute negative TTL.
func TestWellKnownComesAfterTXTAndSRV(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	doc := dlDoc{body: dlWKDoc, maxAge: 3600}
	o := l.options()
	o.DNSSECOff = true
	o.NoWellKnown = false
	o.HTTP = dlWellKnown(t, map[string]dlDoc{
		"single.mapping.test": doc, "srvonly.mapping.test": doc, "noregistry.mapping.test": doc, "onlyacme.mapping.test": doc,
		"direct.mapping.test": {status: http.StatusNotFound},
	})
	d := discovery.New(o)
	for _, tc := range []struct {
		name   string
		source discovery.Source
		url    string
		ttl    time.Duration
	}{
		{"single.mapping.test/app", discovery.SourceTXT, "https://registry.example", 1800 * time.Second},
		{"srvonly.mapping.test/app", discovery.SourceSRV, "https://registry.srvonly.mapping.test", 900 * time.Second},
		{"noregistry.mapping.test/app", discovery.SourceWellKnown, "https://wk.example", 900 * time.Second},
		{"onlyacme.mapping.test/acmex/app", discovery.SourceWellKnown, "https://wk.example", 900 * time.Second},
		{"direct.mapping.test/app", discovery.SourceDirect, "https://direct.mapping.test", 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, evs := dlMust(t, d, tc.name)
			if got := res.Endpoints[0]; got.Source != tc.source || got.URL != tc.url {
				t.Errorf("%s: first endpoint %s %s, want %s %s\n%s", tc.name, got.Source, got.URL, tc.source, tc.url, dlTrace(evs))
			}
			if res.TTL != tc.ttl {
				t.Errorf("%s: TTL %v, want %v", tc.name, res.TTL, tc.ttl)
			}
		})
	}
}

// A well-known document may delegate too: the next host is reached by an
// authenticated step (https), and its signed records carry on (dnssec).
func TestWellKnownDelegationIsFollowed(t *testing.T) {
	l := dlStart(t, dnstest.Config{Zones: dlMappingZones(true)})
	o := l.options()
	o.NoWellKnown = false
	o.HTTP = dlWellKnown(t, map[string]dlDoc{
		"direct.mapping.test": {body: `{"version": 1, "namespaces": [{"prefix": "acme", "delegate": "acme.chain.test"}]}`},
		"acme.chain.test":     {status: http.StatusNotFound},
	})
	res, _ := dlMust(t, discovery.New(o), "direct.mapping.test/acme/app")
	want := []discovery.Step{
		{Host: "direct.mapping.test", Path: "acme/app", Source: discovery.SourceWellKnown, Authenticated: discovery.AuthHTTPS},
		{Host: "acme.chain.test", Path: "app", Source: discovery.SourceTXT, Record: dlAcmeReg, Authenticated: discovery.AuthDNSSEC},
	}
	if len(res.Chain) == 2 {
		want[0].Record = res.Chain[0].Record // the document's entry, as ParseWellKnown words it
	}
	dlWantChain(t, res.Chain, want)
	if len(res.Endpoints) != 1 || res.Endpoints[0].URL != "https://registry.acme.example" || res.Endpoints[0].Repository != "app" {
		t.Errorf("endpoints\n%s", dlEndpoints(res.Endpoints))
	}
}
