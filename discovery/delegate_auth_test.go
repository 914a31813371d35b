package discovery_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// The records of sec.test and of its children (child.zone).
const (
	dlSecAcme   = "v=oci1; prefix=acme; delegate=signed.sec.test"
	dlSecIsland = "v=oci1; prefix=island; delegate=island.sec.test"
	dlChildReg  = "v=oci1; registry=https://registry.child.example/child"
)

// dlSecLab serves sec.test and its children; options validate in-process
// against sec.test's DS, under --dnssec on.
func dlSecLab(t *testing.T, cfg dnstest.Config) (*dlLab, discovery.Options) {
	t.Helper()
	cfg.Zones = dlSecZones()
	l := dlStart(t, cfg)
	return l, l.options()
}

// docs/protocol.md §8: a mapping to another host is followed only when it
// is authenticated — dnssec: the TXT or SRV RRset validated in-process up
// to a trust anchor (§8.2). Both hops are signed and chained
// to the anchor, given as a DS or as a DNSKEY: the delegation and the
// registry mapping are followed, and every step says dnssec.
func TestSecureDelegationIsFollowed(t *testing.T) {
	l, _ := dlSecLab(t, dnstest.Config{})
	for _, anchors := range []struct {
		form string
		rrs  []dns.RR
	}{{"DS", l.srv.TrustAnchors()}, {"DNSKEY", l.srv.TrustAnchorKeys()}} {
		t.Run(anchors.form, func(t *testing.T) {
			o := l.options()
			o.Validator = dnssec.NewValidator(l.dns, anchors.rrs, nil)
			res, evs := dlMust(t, discovery.New(o), "org.sec.test/acme/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://registry.child.example", Repository: "child/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: discovery.AuthDNSSEC},
			})
			dlWantChain(t, res.Chain, []discovery.Step{
				{Host: "org.sec.test", Path: "acme/app", Source: discovery.SourceTXT, Record: dlSecAcme, Authenticated: discovery.AuthDNSSEC},
				{Host: "signed.sec.test", Path: "app", Source: discovery.SourceTXT, Record: dlChildReg, Authenticated: discovery.AuthDNSSEC},
			})
			if res.DNSSECOff {
				t.Error("DNSSECOff set under --dnssec on")
			}
			dlWantDecision(t, evs, "1 endpoint(s) after 2 hop(s), authenticated: dnssec")

			// A secure registry mapping to another host, in one hop.
			res, _ = dlMust(t, discovery.New(o), "org.sec.test/tools/x")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://tools.registry.example", Repository: "org/x", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: discovery.AuthDNSSEC},
			})
		})
	}
}

// docs/protocol.md §8.3: with --dnssec on (the default) unauthenticated
// cross-host mappings are skipped, reported in the trace, and discovery
// continues with the next source; --dnssec off follows them and says so in
// every result. island.sec.test is an unsigned child without DS
// (insecure, not bogus); its mapping to another host is skipped under on,
// with a trace event that says how to fix it, and followed under off.
func TestUnsignedCrossHostMappingIsSkippedUnderDNSSECOn(t *testing.T) {
	l, o := dlSecLab(t, dnstest.Config{})
	for _, name := range []string{"org.sec.test/island/app", "island.sec.test/app"} {
		t.Run(name, func(t *testing.T) {
			res, evs := dlMust(t, discovery.New(o), name)
			if len(res.Endpoints) != 1 {
				t.Fatalf("%s: endpoints\n%s", name, dlEndpoints(res.Endpoints))
			}
			// Every step was authenticated (dnssec, then the host's own TLS);
			// which of the two equal strengths the endpoint names is not pinned.
			auth := res.Endpoints[0].Authenticated
			if auth != discovery.AuthDNSSEC && auth != discovery.AuthHTTPS {
				t.Errorf("%s: endpoint authenticated %q", name, auth)
			}
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://island.sec.test", Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: auth},
			})
			last := res.Chain[len(res.Chain)-1]
			if last != (discovery.Step{Host: "island.sec.test", Path: "app", Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS}) {
				t.Errorf("%s: last step %s", name, dlSteps([]discovery.Step{last}))
			}
			dlWantDecision(t, evs, "skipped unauthenticated mapping to another host (registry.child.example)", dlChildReg,
				"to fix: sign the zone with DNSSEC", "https://island.sec.test/.well-known/oci-discovery")
			if res.DNSSECOff {
				t.Errorf("%s: DNSSECOff set under --dnssec on", name)
			}
		})
	}

	o = l.options()
	o.DNSSECOff = true
	res, evs := dlMust(t, discovery.New(o), "org.sec.test/island/app")
	dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
		{URL: "https://registry.child.example", Repository: "child/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: discovery.AuthNone},
	})
	dlWantChain(t, res.Chain, []discovery.Step{
		{Host: "org.sec.test", Path: "island/app", Source: discovery.SourceTXT, Record: dlSecIsland, Authenticated: discovery.AuthNone},
		{Host: "island.sec.test", Path: "app", Source: discovery.SourceTXT, Record: dlChildReg, Authenticated: discovery.AuthNone},
	})
	if !res.DNSSECOff {
		t.Error("DNSSECOff not set under --dnssec off")
	}
	if dlDecided(evs, "skipped") {
		t.Errorf("skipped a mapping under --dnssec off:\n%s", dlTrace(evs))
	}
}

// docs/protocol.md §8.2: a bogus answer fails discovery, never a
// fall-through. A tampered TXT RRset
// (its RRSIG no longer verifies), a child whose signatures expired and a
// child served unsigned although its parent publishes a DS (stripped) all
// fail discovery naming the TXT question — although the host's SRV record
// or the direct fallback would have given an answer.
func TestBogusAnswerIsAnErrorWithoutFallThrough(t *testing.T) {
	for _, tc := range []struct {
		what   string
		tamper string // TXT RRset to tamper with, if any
		name   string
		host   string
		reason string
	}{
		{"tampered record", "_oci-discovery.org.sec.test.", "org.sec.test/acme/app", "org.sec.test", "bad signature"},
		{"tampered record, SRV ready", "_oci-discovery.org.sec.test.", "org.sec.test/other/app", "org.sec.test", "bad signature"},
		{"expired signatures", "", "org.sec.test/expired/app", "expired.sec.test", "expired"},
		{"stripped signatures", "", "org.sec.test/stripped/app", "stripped.sec.test", "stripped"},
		// Denials are validated too: a bogus "no such record" is no
		// reason to fall through to the direct fallback.
		{"expired denial", "", "nothing.expired.sec.test/app", "nothing.expired.sec.test", "expired"},
		{"stripped denial", "", "nothing.stripped.sec.test/app", "nothing.stripped.sec.test", "stripped"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			l, o := dlSecLab(t, dnstest.Config{})
			if tc.tamper != "" {
				if err := l.srv.Tamper(tc.tamper, dns.TypeTXT); err != nil {
					t.Fatal(err)
				}
			}
			de, evs := dlFail(t, discovery.New(o), tc.name)
			if !errors.Is(de, dnssec.ErrBogus) {
				t.Errorf("%v, want ErrBogus", de)
			}
			if step := "TXT _oci-discovery." + tc.host + "."; de.Step != step || de.Host != tc.host {
				t.Errorf("Step %q, Host %q, want %q at %s", de.Step, de.Host, step, tc.host)
			}
			if !strings.Contains(de.Error(), tc.reason) {
				t.Errorf("error %q does not say %q", de, tc.reason)
			}
			if dlDecided(evs, "registry located by SRV") || dlDecided(evs, "is its own registry") {
				t.Errorf("fell through:\n%s", dlTrace(evs))
			}
		})
	}
}

// Denials from secure and insecure zones are what they say: absent.
func TestValidatedDenialFallsThrough(t *testing.T) {
	_, o := dlSecLab(t, dnstest.Config{})
	for _, host := range []string{"nothing.signed.sec.test", "nothing.island.sec.test"} {
		t.Run(host, func(t *testing.T) {
			res, _ := dlMust(t, discovery.New(o), host+"/app")
			if len(res.Endpoints) != 1 || res.Endpoints[0].URL != "https://"+host {
				t.Errorf("%s: endpoints\n%s", host, dlEndpoints(res.Endpoints))
			}
		})
	}
}

// docs/protocol.md §8.3, the attack case: a forged, unsigned TXT mapping of
// example.com to another host is not followed by default, and the name
// resolves as its owner published (well-known or direct). example.test's zone
// serves the forgery (an attacker who can answer plain DNS for it could); its
// owner publishes a well-known document over verified TLS — or nothing.
func TestForgedUnsignedMappingIsNotFollowed(t *testing.T) {
	const doc = `{"version": 1, "namespaces": [{"prefix": "", "registries": [{"url": "https://registry.example.test/owner"}]}]}`
	l, _ := dlSecLab(t, dnstest.Config{})
	for _, tc := range []struct {
		what      string
		docs      map[string]dlDoc
		validator bool
		want      discovery.Endpoint
	}{
		{"owner's well-known document", map[string]dlDoc{"example.test": {body: doc}}, true,
			discovery.Endpoint{URL: "https://registry.example.test", Repository: "owner/app", Caps: discovery.CapAll, Source: discovery.SourceWellKnown, Authenticated: discovery.AuthHTTPS}},
		{"no document: direct", map[string]dlDoc{"example.test": {status: http.StatusNotFound}}, true,
			discovery.Endpoint{URL: "https://example.test", Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS}},
		{"no validator at all", map[string]dlDoc{"example.test": {body: doc}}, false,
			discovery.Endpoint{URL: "https://registry.example.test", Repository: "owner/app", Caps: discovery.CapAll, Source: discovery.SourceWellKnown, Authenticated: discovery.AuthHTTPS}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			o := l.options()
			o.NoWellKnown = false
			o.HTTP = dlWellKnown(t, tc.docs)
			if !tc.validator {
				o.Validator = nil
			}
			res, evs := dlMust(t, discovery.New(o), "example.test/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{tc.want})
			dlWantDecision(t, evs, "skipped unauthenticated mapping to another host (evil.example)")
			for _, ep := range res.Endpoints {
				if strings.Contains(ep.URL, "evil") {
					t.Errorf("followed the forgery: %s", ep.URL)
				}
			}
		})
	}

	// The same forgery under --dnssec off is followed: that is what the
	// default protects against, and the result says it ran without.
	o := l.options()
	o.DNSSECOff = true
	res, _ := dlMust(t, discovery.New(o), "example.test/app")
	if len(res.Endpoints) != 1 || res.Endpoints[0].URL != "https://evil.example" || !res.DNSSECOff || res.Endpoints[0].Authenticated != discovery.AuthNone {
		t.Errorf("--dnssec off: endpoints\n%sDNSSECOff %v", dlEndpoints(res.Endpoints), res.DNSSECOff)
	}
}

// docs/protocol.md §8.2: or the AD bit of a resolver the operator trusts
// (--trust-ad). The server sets AD on data it knows to be secure, as a
// validating resolver would. Trusted, it authenticates the delegation
// (the trace says "ad"); not trusted, the same answer is plain DNS and the
// cross-host mapping is skipped for org's own SRV registry; and AD is not
// set for the insecure island, whose mapping stays skipped.
func TestTrustedADBitAuthenticatesTheMapping(t *testing.T) {
	l, _ := dlSecLab(t, dnstest.Config{AD: true})
	o := l.options()
	o.Validator = nil
	o.TrustAD = true
	res, evs := dlMust(t, discovery.New(o), "org.sec.test/acme/app")
	dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
		{URL: "https://registry.child.example", Repository: "child/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: discovery.AuthDNSSEC},
	})
	ad := false
	for _, e := range evs {
		ad = ad || (e.Source == "discovery" && e.DNSSEC == "ad" && strings.Contains(e.Decision, dlSecAcme))
	}
	if !ad {
		t.Errorf("no decision marked dnssec=ad:\n%s", dlTrace(evs))
	}

	res, evs = dlMust(t, discovery.New(o), "org.sec.test/island/app")
	if res.Endpoints[0].URL != "https://island.sec.test" {
		t.Errorf("insecure island under --trust-ad: endpoints\n%s", dlEndpoints(res.Endpoints))
	}
	dlWantDecision(t, evs, "skipped unauthenticated mapping", "registry.child.example")

	o.TrustAD = false
	res, evs = dlMust(t, discovery.New(o), "org.sec.test/acme/app")
	dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
		{URL: "https://registry.org.sec.test", Repository: "acme/app", Caps: discovery.CapAll, Source: discovery.SourceSRV, Authenticated: discovery.AuthNone, TLSServerName: "org.sec.test"},
	})
	dlWantDecision(t, evs, "skipped unauthenticated mapping to another host (signed.sec.test)", dlSecAcme)
}

// docs/protocol.md §7 step 1, §8.1: the operator's own local configuration
// is authenticated ("config") and wins over everything published, the
// forgery included.
func TestLocalConfigurationWinsAndIsAuthenticated(t *testing.T) {
	l, o := dlSecLab(t, dnstest.Config{})
	o.Local = map[string][]discovery.Mapping{
		"example.test": {{Prefix: "team", Registry: "https://mirror.corp.example/team", Caps: discovery.CapAll, Record: "local: team"}},
	}
	l.srv.ResetCounts()
	res, _ := dlMust(t, discovery.New(o), "example.test/team/app")
	dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
		{URL: "https://mirror.corp.example", Repository: "team/app", Caps: discovery.CapAll, Source: discovery.SourceConfig, Authenticated: discovery.AuthConfig},
	})
	if n := l.srv.TotalQueries(); n != 0 {
		t.Errorf("%d DNS queries for a name the configuration maps", n)
	}
	// Other names of the host are discovered as usual.
	res, _ = dlMust(t, discovery.New(o), "example.test/other")
	if res.Endpoints[0].URL != "https://example.test" {
		t.Errorf("endpoints\n%s", dlEndpoints(res.Endpoints))
	}
}

// docs/protocol.md §8.2: "When the chain of trust cannot be fetched at all
// (a resolver that refuses the DS or DNSKEY queries) and no signature was
// found bad, the answer is treated as not authenticated rather than
// bogus." signed.sec.test's records are signed, but its server refuses the
// DNSKEY question: the validator's verdict is indeterminate, so its
// mapping to another host is skipped under --dnssec on, as an unsigned one
// would be, and discovery goes on instead of failing.
func TestChainOfTrustThatCannotBeFetchedIsNotAuthenticated(t *testing.T) {
	l, o := dlSecLab(t, dnstest.Config{})
	l.srv.SetFault("signed.sec.test.", dns.TypeDNSKEY, dnstest.FaultRefused)
	res, evs := dlMust(t, discovery.New(o), "signed.sec.test/app")
	dlWantChain(t, res.Chain, []discovery.Step{
		{Host: "signed.sec.test", Path: "app", Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
	})
	indeterminate := false
	for _, e := range evs {
		indeterminate = indeterminate || (e.DNSSEC == "indeterminate" && e.Query == "_oci-discovery.signed.sec.test.")
	}
	if !indeterminate {
		t.Errorf("no indeterminate event for the TXT answer\ntrace:\n%s", dlTrace(evs))
	}
	dlWantDecision(t, evs, "chain of trust could not be fetched")
	dlWantDecision(t, evs, "skipped unauthenticated mapping to another host (registry.child.example)")
}
