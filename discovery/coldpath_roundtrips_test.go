package discovery_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/testkit"
)

// The cold path, as a client on a real network meets it: a fresh
// Discoverer and a fresh Validator (nothing cached), a signed root that is
// the only trust anchor (as the IANA root is), and the zones of
// testdata/zones/delegate below a signed test. TLD. With a fixed delay on
// every DNS answer, a discovery's wall time grows by that delay once per
// DNS round trip it waits through one after another; queries sent
// concurrently cost one. So serial round trips = (wall with the delay −
// wall without) / delay.

// cpCase is one discovery of the cold-path benchmark.
type cpCase struct {
	name      string
	ref       string // host/path
	wellKnown bool   // fetch the host's well-known document (over the lab's DNS)
	url       string // the first endpoint discovery must find
	auth      discovery.Auth
}

var cpCases = []cpCase{
	{name: "signed name, one hop", ref: "signed.sec.test/app",
		url: "https://registry.child.example", auth: discovery.AuthDNSSEC},
	{name: "two-hop delegation", ref: "org.sec.test/acme/app",
		url: "https://registry.child.example", auth: discovery.AuthDNSSEC},
	{name: "unsigned host, well-known document", ref: "direct.mapping.test/app", wellKnown: true,
		url: "https://wk.example", auth: discovery.AuthHTTPS},
	{name: "unsigned child of a signed zone", ref: "island.sec.test/app",
		url: "https://island.sec.test", auth: discovery.AuthHTTPS},
}

// cpLab is the cold-path lab: one DNS server with the root, test., the
// sec.test family and mapping.test, and an HTTPS server for the
// well-known document of direct.mapping.test.
type cpLab struct {
	srv *dnstest.Server
	wk  *httptest.Server
	tls *tls.Config // trusts wk
}

func cpStart(tb testing.TB) *cpLab {
	tb.Helper()
	zones := []dnstest.Zone{
		{Origin: ".", File: dnstest.ZonePath("root.zone"), Sign: true},
		{Origin: "test.", File: dnstest.ZonePath("test.zone"), Sign: true},
		dlZone("mapping.test.", "mapping.test.zone"),
	}
	zones = append(zones, dlSecZones()...)
	l := &cpLab{srv: dnstest.StartT(tb, dnstest.Config{Zones: zones})}
	if a := l.srv.TrustAnchors(); len(a) == 0 || a[0].Header().Name != "." {
		tb.Fatalf("trust anchors %v, want the root's DS only", a)
	}
	var pool *x509.CertPool
	l.wk, pool = testkit.StartTLSServer(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "direct.mapping.test" || r.URL.Path != discovery.WellKnownPath {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, dlWKDoc)
	}), "direct.mapping.test")
	l.tls = &tls.Config{RootCAs: pool}
	return l
}

// discoverer returns a fresh Discoverer and Validator for one run: nothing
// cached. Its HTTP client finds the well-known host's address through the
// lab's DNS (as the resolver's transport does), then connects to the
// test's HTTPS server.
func (l *cpLab) discoverer(tb testing.TB, c cpCase) *discovery.Discoverer {
	dc := dnstest.ClientT(tb, 10*time.Second, l.srv.Addr())
	wkAddr := l.wk.Listener.Addr().String()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := dc.LookupIP(ctx, host)
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(ips, func(ip netip.Addr) bool { return ip.IsLoopback() }) {
				return nil, fmt.Errorf("no loopback address for %s", host)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, wkAddr)
		},
		TLSClientConfig:   l.tls,
		DisableKeepAlives: true,
	}
	return discovery.New(discovery.Options{
		DNS:         dc,
		HTTP:        &http.Client{Transport: tr},
		Validator:   dnssec.NewValidator(dc, l.srv.TrustAnchors(), nil),
		NoWellKnown: !c.wellKnown,
		Rand:        dlRand(1),
		Timeout:     30 * time.Second,
	})
}

// run discovers c once, cold, and returns its wall time and the DNS
// queries the server received.
func (l *cpLab) run(tb testing.TB, c cpCase) (time.Duration, int, []trace.Event) {
	tb.Helper()
	d := l.discoverer(tb, c)
	l.srv.ResetCounts()
	start := time.Now()
	res, evs, err := dlDiscover(d, c.ref)
	took := time.Since(start)
	if err != nil {
		tb.Fatalf("%s: %v\ntrace:\n%s", c.ref, err, dlTrace(evs))
	}
	if len(res.Endpoints) == 0 || res.Endpoints[0].URL != c.url || res.Endpoints[0].Authenticated != c.auth {
		tb.Fatalf("%s: endpoints\n%s want %s (%s)\ntrace:\n%s", c.ref, dlEndpoints(res.Endpoints), c.url, c.auth, dlTrace(evs))
	}
	return took, l.srv.TotalQueries(), evs
}

// Each case of the benchmark discovers what it should, from a cold start.
func TestColdPathCasesDiscoverTheirRegistry(t *testing.T) {
	l := cpStart(t)
	for _, c := range cpCases {
		t.Run(c.name, func(t *testing.T) {
			_, queries, _ := l.run(t, c)
			if queries == 0 {
				t.Errorf("no DNS query: not a cold start")
			}
		})
	}
}

// BenchmarkColdPathRoundTrips reports, per case, the serial DNS round
// trips of a cold discovery (round-trips/op, from the wall time with and
// without a 50 ms delay on every DNS answer), the DNS queries it sends
// (queries/op), the answers and keys it validates (validations/op: the
// DNS events with a DNSSEC verdict) and its wall time without the delay
// (undelayed-µs/op: on loopback, mostly the work of parsing and
// validating). The ns/op is the delayed wall time.
//
//	go test -run '^$' -bench BenchmarkColdPathRoundTrips -benchtime 5x ./discovery/
func BenchmarkColdPathRoundTrips(b *testing.B) {
	const delay = 50 * time.Millisecond
	l := cpStart(b)
	for _, c := range cpCases {
		b.Run(c.name, func(b *testing.B) {
			l.srv.SetDelay(0)
			base := make([]time.Duration, 7)
			validations := make([]time.Duration, len(base)) // counts, sorted by median
			var queries int
			for i := range base {
				var evs []trace.Event
				base[i], queries, evs = l.run(b, c)
				for _, e := range evs {
					if e.Source == "dns" && e.DNSSEC != "" {
						validations[i]++
					}
				}
			}
			l.srv.SetDelay(delay)
			defer l.srv.SetDelay(0)
			var delayed []time.Duration
			b.ResetTimer()
			for b.Loop() {
				took, _, _ := l.run(b, c)
				delayed = append(delayed, took)
			}
			b.StopTimer()
			rt := float64(median(delayed)-median(base)) / float64(delay)
			b.ReportMetric(rt, "round-trips/op")
			b.ReportMetric(float64(queries), "queries/op")
			b.ReportMetric(float64(median(validations)), "validations/op")
			b.ReportMetric(float64(median(base).Microseconds()), "undelayed-µs/op")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
