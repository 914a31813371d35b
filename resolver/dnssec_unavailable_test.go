package resolver

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/testkit"
)

// rootLab is a signed root, a signed test. and a signed names.test, as
// the Internet's chain of trust runs from the root: the lab's root key is
// the trust anchor of "." (beside the IANA keys, which sign nothing here).
// app.names.test maps to a registry on another host by a TXT record only;
// wk.names.test:PORT publishes a well-known document over TLS mapping to
// the same registry.
type rootLab struct {
	*lab
	reg       *registrytest.Registry
	wkHost    string
	pool      *x509.CertPool
	app, site digest.Digest
}

func startRootLab(t *testing.T) *rootLab {
	t.Helper()
	reg := registrytest.StartT(t, registrytest.Options{TLS: true})
	rl := &rootLab{reg: reg}
	rl.app = reg.MustPushImage(t, "org/app", "v1")
	rl.site = reg.MustPushImage(t, "web/site", "1.0", registrytest.WithSeed("site"))

	doc := `{"version": 1, "namespaces": [{"prefix": "", "registries": [{"url": "https://` + reg.Host() + `/web"}]}]}`
	wk, _ := testkit.StartTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != discovery.WellKnownPath {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(doc))
	}), "*.names.test")
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(wk.URL, "https://"))
	rl.wkHost = "wk.names.test:" + port

	root := dnstest.Zone{Origin: ".", Sign: true, Text: "$TTL 86400\n. SOA ns.test. hostmaster.test. 1 1800 900 604800 86400\n. NS ns.test.\n" +
		"test. NS ns.test.\nns.test. A 127.0.0.1\n"}
	rl.lab = startLab(t, []*registrytest.Registry{reg}, root,
		zone("test.", "names NS ns.names\nns.names A 127.0.0.1\n", true),
		zone("names.test.", `_oci-discovery.app TXT "v=oci1; registry=https://{{REG0}}"`+"\nwk A 127.0.0.1\n", true))
	if a := rl.dns.TrustAnchors(); len(a) != 1 || a[0].Header().Name != "." {
		t.Fatalf("trust anchors %v, want the lab root's", a)
	}
	rl.pool = reg.Transport().TLSClientConfig.RootCAs.Clone()
	rl.pool.AddCert(wk.Certificate())
	return rl
}

// warnings collects what WithDNSSECWarning reports.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func (rl *rootLab) resolver(t *testing.T, w *warnings, opts ...Option) *Resolver {
	t.Helper()
	base := []Option{WithRootCAs(rl.pool)}
	if w != nil {
		base = append(base, WithDNSSECWarning(w.add))
	}
	r := rl.lab.resolver(t, append(base, opts...)...)
	t.Cleanup(func() { r.Close() })
	return r
}

// The faults of resolvers that cannot serve DNSSEC data, as dnstest
// plays them.
var withoutDNSSEC = []struct {
	name  string
	fault func(*dnstest.Server)
	why   string
}{
	{"NXDOMAIN for the root's DNSKEY", func(s *dnstest.Server) { s.SetFault(".", dns.TypeDNSKEY, dnstest.FaultNXDomain) }, "NXDOMAIN"},
	{"RRSIGs stripped", func(s *dnstest.Server) { s.SetServerFault(dnstest.FaultStripDNSSEC) }, "without the RRSIG"},
	{"SERVFAIL with the DO bit", func(s *dnstest.Server) { s.SetServerFault(dnstest.FaultServFailDO) }, "DNSSEC OK bit"},
}

// The lab itself, with a resolver that serves DNSSEC: the signed mapping
// to another host is followed, authenticated dnssec, and nothing warns.
func TestResolverServingDNSSECAuthenticatesTheMapping(t *testing.T) {
	rl := startRootLab(t)
	var w warnings
	r := rl.resolver(t, &w)
	res := mustResolve(t, r, "app.names.test/org/app:v1")
	if res.Digest != rl.app || res.Authenticated != discovery.AuthDNSSEC || res.DNSSEC != "" {
		t.Errorf("digest %s authenticated %q dnssec %q", res.Digest, res.Authenticated, res.DNSSEC)
	}
	if _, ok := r.DNSSECUnavailable(); ok || len(w.all()) != 0 {
		t.Errorf("DNSSEC reported unavailable: %v", w.all())
	}
}

// A resolver that cannot serve DNSSEC data no longer makes every name
// fail as bogus (docs/protocol.md §8.2): answers are unauthenticated, so
// the mapping published only in DNS is skipped — never followed — with
// one warning saying why and what to do; a well-known document over
// verified TLS still authenticates; results say dnssec: unavailable.
func TestResolverWithoutDNSSECSkipsDNSMappingsAndWarnsOnce(t *testing.T) {
	for _, tc := range withoutDNSSEC {
		t.Run(tc.name, func(t *testing.T) {
			rl := startRootLab(t)
			tc.fault(rl.dns)
			var w warnings
			r := rl.resolver(t, &w)

			disc, err := r.Discover(context.Background(), "app.names.test", "org/app")
			if err != nil {
				t.Fatalf("discover: %v", err)
			}
			if len(disc.Endpoints) != 1 || disc.Endpoints[0].Source != discovery.SourceDirect || disc.DNSSEC != "unavailable" {
				t.Errorf("endpoints %+v, dnssec %q: want the direct fallback only, unavailable", disc.Endpoints, disc.DNSSEC)
			}
			_, events, _ := r.Trace(context.Background(), "app.names.test/org/app:v1")
			skipped := false
			for _, e := range events {
				skipped = skipped || strings.Contains(e.Decision, "skipped unauthenticated mapping to another host")
			}
			if !skipped {
				t.Error("no trace event says the mapping was skipped")
			}

			res := mustResolve(t, r, rl.wkHost+"/site:1.0")
			if res.Digest != rl.site || res.Authenticated != discovery.AuthHTTPS {
				t.Errorf("well-known name: digest %s, authenticated %q", res.Digest, res.Authenticated)
			}
			why, ok := r.DNSSECUnavailable()
			if !ok || !strings.Contains(why, tc.why) {
				t.Errorf("DNSSECUnavailable() = %q, %v; want it saying %q", why, ok, tc.why)
			}
			msgs := w.all()
			if len(msgs) != 1 {
				t.Fatalf("%d warnings, want one: %q", len(msgs), msgs)
			}
			for _, part := range []string{"DNSSEC unavailable", rl.dns.Addr(), tc.why, "--dns", "--trust-ad", "--dnssec require"} {
				if !strings.Contains(msgs[0], part) {
					t.Errorf("warning %q does not say %q", msgs[0], part)
				}
			}
		})
	}
}

// --dnssec require: the same answers fail the resolution, naming why.
func TestRequireDNSSECFailsWhenTheResolverCannotServeIt(t *testing.T) {
	for _, tc := range withoutDNSSEC {
		t.Run(tc.name, func(t *testing.T) {
			rl := startRootLab(t)
			tc.fault(rl.dns)
			var w warnings
			r := rl.resolver(t, &w, WithRequireDNSSEC(true))
			_, err := r.Resolve(context.Background(), "app.names.test/org/app:v1")
			if !errors.Is(err, dnssec.ErrDNSSECUnavailable) || !errors.Is(err, ErrDiscovery) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("error %v: want ErrDNSSECUnavailable saying %q", err, tc.why)
			}
			if len(w.all()) != 0 {
				t.Errorf("warned under require: %q", w.all())
			}
		})
	}
}

// A trust anchor given for names.test (--trust-anchor) is validated
// against whatever the root: a resolver that cannot prove the root can
// still serve the private zone, whose mapping is then followed; one that
// strips its signatures makes it bogus.
func TestPrivateTrustAnchorIsStillValidated(t *testing.T) {
	rl := startRootLab(t)
	ds, err := rl.dns.DS("names.test.")
	if err != nil {
		t.Fatal(err)
	}
	rl.dns.SetFault(".", dns.TypeDNSKEY, dnstest.FaultNXDomain)
	r := rl.resolver(t, nil, WithTrustAnchors(ds...))
	res := mustResolve(t, r, "app.names.test/org/app:v1")
	if res.Digest != rl.app || res.Authenticated != discovery.AuthDNSSEC {
		t.Errorf("private zone without the root: digest %s, authenticated %q", res.Digest, res.Authenticated)
	}

	rl.dns.SetServerFault(dnstest.FaultStripDNSSEC)
	r = rl.resolver(t, nil, WithTrustAnchors(ds...))
	_, err = r.Resolve(context.Background(), "app.names.test/org/app:v1")
	if !errors.Is(err, dnssec.ErrSignaturesStripped) {
		t.Errorf("stripped private zone: %v, want signatures stripped", err)
	}
}

// Under --dnssec off nothing validates: the DNS client asks without the
// DO bit, so no signature or denial proof is sent.
func TestDNSSECOffAsksWithoutTheDOBit(t *testing.T) {
	rl := startRootLab(t)
	rl.dns.ResetCounts()
	res := mustResolve(t, rl.resolver(t, nil, WithDNSSEC(false)), "app.names.test/org/app:v1")
	if res.Digest != rl.app || !res.DNSSECOff {
		t.Errorf("digest %s, dnssecOff %v", res.Digest, res.DNSSECOff)
	}
	if n, all := rl.dns.QueriesWithDO(), rl.dns.TotalQueries(); n != 0 || all == 0 {
		t.Errorf("%d of %d queries had the DO bit under --dnssec off", n, all)
	}
	rl.dns.ResetCounts()
	mustResolve(t, rl.resolver(t, nil), "app.names.test/org/app:v1")
	if n := rl.dns.QueriesWithDO(); n == 0 {
		t.Error("no query had the DO bit under --dnssec on")
	}
}

// A chain of trust that cannot be fetched (here the DS of names.test
// fails, with the DO bit and without) leaves the mapping unauthenticated
// under --dnssec on, and skipped; under --dnssec require it is an error.
func TestRequireDNSSECFailsWhenTheChainCannotBeFetched(t *testing.T) {
	rl := startRootLab(t)
	rl.dns.SetFault("names.test.", dns.TypeDS, dnstest.FaultServFail)
	disc, err := rl.resolver(t, nil).Discover(context.Background(), "app.names.test", "org/app")
	if err != nil || len(disc.Endpoints) != 1 || disc.Endpoints[0].Source != discovery.SourceDirect || disc.DNSSEC != "" {
		t.Errorf("--dnssec on: %+v (%v), want the direct fallback, DNSSEC available", disc, err)
	}
	_, err = rl.resolver(t, nil, WithRequireDNSSEC(true)).Resolve(context.Background(), "app.names.test/org/app:v1")
	if !errors.Is(err, dnssec.ErrChainUnavailable) || !errors.Is(err, ErrDiscovery) {
		t.Errorf("--dnssec require: %v, want the chain's failure", err)
	}
}
