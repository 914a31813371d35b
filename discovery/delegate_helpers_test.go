package discovery_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/testkit"
)

// Helpers of the delegation tests (delegate_*_test.go): an in-process
// authoritative server with the zones of testdata/zones/delegate, a
// Discoverer on it with deterministic randomness, HTTPS servers for
// well-known documents, and comparisons that print the trace on failure.

// dlZone is a zone file of testdata/zones/delegate.
func dlZone(origin, file string) dnstest.Zone {
	return dnstest.Zone{Origin: origin, File: dnstest.ZonePath("delegate/" + file)}
}

// dlMappingZones are mapping.test and chain.test, signed when sign is set
// (both are then top-most signed zones: their DS are the trust anchors).
func dlMappingZones(sign bool) []dnstest.Zone {
	zs := []dnstest.Zone{dlZone("mapping.test.", "mapping.test.zone"), dlZone("chain.test.", "chain.test.zone")}
	for i := range zs {
		zs[i].Sign = sign
	}
	return zs
}

// dlSecZones are sec.test (signed, the trust anchor) and its children in
// every DNSSEC state, and the unsigned example.test of the attack case.
func dlSecZones() []dnstest.Zone {
	child := func(origin string) dnstest.Zone { return dlZone(origin, "child.zone") }
	signed, island, stripped, expired := child("signed.sec.test."), child("island.sec.test."), child("stripped.sec.test."), child("expired.sec.test.")
	signed.Sign = true
	stripped.StripSigs = true
	expired.Sign, expired.Expired = true, true
	parent := dlZone("sec.test.", "sec.test.zone")
	parent.Sign = true
	return []dnstest.Zone{parent, signed, island, stripped, expired, dlZone("example.test.", "example.test.zone")}
}

// dlLab is a running server and a DNS client that asks only it.
type dlLab struct {
	srv *dnstest.Server
	dns *dnsclient.Client
}

// dlStart starts a server for cfg (the mapping zones, unsigned, when
// cfg.Zones is nil) and a client with one attempt and a timeout generous
// enough for a loaded machine; tests that expect a timeout use dnstest.ClientT.
func dlStart(t testing.TB, cfg dnstest.Config) *dlLab {
	t.Helper()
	if cfg.Zones == nil {
		cfg.Zones = dlMappingZones(false)
	}
	srv := dnstest.StartT(t, cfg)
	return &dlLab{srv: srv, dns: dnstest.ClientT(t, 10*time.Second, srv.Addr())}
}

// anchors are the server's trust anchors, never nil: a nil slice would make
// the validator trust the root instead and walk up to it.
func (l *dlLab) anchors() []dns.RR {
	return append([]dns.RR{}, l.srv.TrustAnchors()...)
}

// options are the Options every delegation test starts from: the lab's DNS,
// an in-process validator with the lab's anchors, --dnssec on, no
// well-known documents (they would go to the network), and a seeded
// random source so mirror and SRV orders are reproducible.
func (l *dlLab) options() discovery.Options {
	return discovery.Options{
		DNS:         l.dns,
		Validator:   dnssec.NewValidator(l.dns, l.anchors(), nil),
		NoWellKnown: true,
		Rand:        dlRand(1),
		Timeout:     30 * time.Second,
	}
}

// dlRand is a deterministic random source for one seed.
func dlRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// dlMode is one way of running the mapping tests: plain DNS with --dnssec
// off, or signed zones validated in-process under --dnssec on
// (docs/protocol.md §8). Both must map every name the same way; only the
// authentication differs.
type dlMode struct {
	name string
	sign bool
	auth discovery.Auth
}

var dlModes = []dlMode{
	{name: "unsigned zones, dnssec off", sign: false, auth: discovery.AuthNone},
	{name: "signed zones, dnssec on", sign: true, auth: discovery.AuthDNSSEC},
}

// start serves the mapping zones for the mode and returns options for it.
func (m dlMode) start(t testing.TB) (*dlLab, discovery.Options) {
	t.Helper()
	l := dlStart(t, dnstest.Config{Zones: dlMappingZones(m.sign)})
	o := l.options()
	o.DNSSECOff = !m.sign
	return l, o
}

// dlDiscover discovers name ("host/path") with a trace.
func dlDiscover(d *discovery.Discoverer, name string) (*discovery.Result, []trace.Event, error) {
	host, path, _ := strings.Cut(name, "/")
	tr := trace.New(nil)
	res, err := d.Discover(trace.NewContext(context.Background(), tr), host, path)
	return res, tr.Events(), err
}

// dlMust discovers name and fails the test, with the trace, on error.
func dlMust(t testing.TB, d *discovery.Discoverer, name string) (*discovery.Result, []trace.Event) {
	t.Helper()
	res, evs, err := dlDiscover(d, name)
	if err != nil {
		t.Fatalf("Discover(%s): %v\ntrace:\n%s", name, err, dlTrace(evs))
	}
	return res, evs
}

// dlFail discovers name, which must fail, and returns the *discovery.Error.
func dlFail(t testing.TB, d *discovery.Discoverer, name string) (*discovery.Error, []trace.Event) {
	t.Helper()
	res, evs, err := dlDiscover(d, name)
	if err == nil {
		t.Fatalf("Discover(%s) = %+v, want an error\ntrace:\n%s", name, res.Endpoints, dlTrace(evs))
	}
	if res != nil {
		t.Errorf("Discover(%s) returned a result with its error: %+v", name, res)
	}
	de, ok := err.(*discovery.Error)
	if !ok {
		t.Fatalf("Discover(%s) error %T %v, want *discovery.Error", name, err, err)
	}
	return de, evs
}

func dlTrace(evs []trace.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString("  ")
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// dlDecided reports whether some event's Decision contains every one of parts.
func dlDecided(evs []trace.Event, parts ...string) bool {
	for _, e := range evs {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(e.Decision, p)
		}
		if all {
			return true
		}
	}
	return false
}

// dlWantDecision fails the test unless some decision contains every part.
func dlWantDecision(t testing.TB, evs []trace.Event, parts ...string) {
	t.Helper()
	if !dlDecided(evs, parts...) {
		t.Errorf("no trace decision with %q\ntrace:\n%s", parts, dlTrace(evs))
	}
}

// dlWantEndpoints compares endpoints field by field.
func dlWantEndpoints(t testing.TB, got, want []discovery.Endpoint) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("endpoints:\n%s\nwant:\n%s", dlEndpoints(got), dlEndpoints(want))
	}
}

func dlEndpoints(eps []discovery.Endpoint) string {
	var b strings.Builder
	for _, e := range eps {
		fmt.Fprintf(&b, "  {URL: %q, Repository: %q, Priority: %d, Weight: %d, Caps: %s, Source: %s, Authenticated: %s, TLSServerName: %q}\n",
			e.URL, e.Repository, e.Priority, e.Weight, e.Caps, e.Source, e.Authenticated, e.TLSServerName)
	}
	return b.String()
}

// dlWantChain compares the chain, without the steps' TTLs (tests of TTLs
// look at them on their own).
func dlWantChain(t testing.TB, got, want []discovery.Step) {
	t.Helper()
	g := slices.Clone(got)
	for i := range g {
		g[i].TTL = 0
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("chain:\n%s\nwant:\n%s", dlSteps(g), dlSteps(want))
	}
}

func dlSteps(steps []discovery.Step) string {
	var b strings.Builder
	for _, s := range steps {
		fmt.Fprintf(&b, "  {Host: %q, Path: %q, Source: %s, Record: %q, Authenticated: %s}\n", s.Host, s.Path, s.Source, s.Record, s.Authenticated)
	}
	return b.String()
}

// dlURLs are the endpoints' URLs, in order.
func dlURLs(eps []discovery.Endpoint) []string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.URL
	}
	return out
}

// dlDoc is what a host's well-known URL answers: a status (200 when 0), a
// body and a Cache-Control max-age in seconds (none when 0).
type dlDoc struct {
	status int
	body   string
	maxAge int
}

// dlWellKnown starts one HTTPS server for the hosts of docs, with a
// certificate for those names made by the test, and returns a client that
// trusts it and connects every <host>:443 of docs to it — so discovery
// fetches https://<host>/.well-known/oci-discovery as it would in
// production, over verified TLS, without the network. Other addresses fail
// to connect. Hosts without a doc answer 404.
func dlWellKnown(t testing.TB, docs map[string]dlDoc) *http.Client {
	t.Helper()
	names := make([]string, 0, len(docs))
	for h := range docs {
		names = append(names, h)
	}
	srv, pool := testkit.StartTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := docs[r.Host]
		if !ok || r.URL.Path != discovery.WellKnownPath {
			http.NotFound(w, r)
			return
		}
		if doc.maxAge > 0 {
			w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(doc.maxAge))
		}
		if doc.status != 0 {
			w.WriteHeader(doc.status)
		}
		io.WriteString(w, doc.body)
	}), names...)
	addr := srv.Listener.Addr().String()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(a)
			if err != nil || port != "443" || !slices.Contains(names, host) {
				return nil, fmt.Errorf("no test HTTPS server for %s", a)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}
