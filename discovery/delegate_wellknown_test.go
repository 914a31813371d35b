package discovery_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// A document that maps every name of its host to wk.example.
const dlWKDoc = `{"version": 1, "namespaces": [{"prefix": "", "registries": [{"url": "https://wk.example/direct", "priority": 5}]}]}`

// DESIGN §2 item 3 and "Authentication": the well-known document serves
// hosts "that cannot or will not use DNS records"; its mappings carry
// authenticated "https" — the host's own verified TLS — so its mapping to
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

// DESIGN §2 "Algorithm": "valid TXT mapping → SRV → well-known mapping →
// direct". Every host below publishes the same document; only the one
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
		res, evs := dlMust(t, d, tc.name)
		if got := res.Endpoints[0]; got.Source != tc.source || got.URL != tc.url {
			t.Errorf("%s: first endpoint %s %s, want %s %s\n%s", tc.name, got.Source, got.URL, tc.source, tc.url, dlTrace(evs))
		}
		if res.TTL != tc.ttl {
			t.Errorf("%s: TTL %v, want %v", tc.name, res.TTL, tc.ttl)
		}
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
