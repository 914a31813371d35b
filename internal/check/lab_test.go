package check

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// lab is a small Internet on loopback: an authoritative DNS server for
// example.com (signed) and other.test (unsigned), a registry, a web server
// that answers port 443 for every host it has a site for (the well-known
// documents), a web server that is not a registry, a port where nothing
// listens, and one that drops every connection (port 443 of reset.*, a host
// whose document is unknown). Names resolve through the DNS server; a connection to
// <site>:443 reaches the web server, which dispatches on the Host.
//
// httptest's certificate is valid for example.com, *.example.com and
// 127.0.0.1, so every server is trusted under example.com names and no
// other: a host under other.test presents a certificate that is not its own.
type lab struct {
	dns      *dnsclient.Client
	server   *dnstest.Server
	reg      *registrytest.Registry
	web      *httptest.Server // :443 of every site
	notReg   *httptest.Server // answers /v2/ with an HTML 404
	closed   string           // host:port where nothing listens
	reset    string           // host:port that closes every connection at once
	sites    map[string]http.Handler
	pool     *x509.CertPool
	client   *http.Client
	validate bool
	fill     *strings.Replacer // the zone placeholders, for documents too
}

// labZones is the zone text; {{REG}}, {{NOTREG}} and {{CLOSED}} are
// host:port of the registry, the non-registry and the closed port, under
// example.com names.
const labZones = `$ORIGIN example.com.
$TTL 300
@                SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 60
@                NS  ns
ns               A   127.0.0.1
reg              A   127.0.0.1
web              A   127.0.0.1
closed           A   127.0.0.1
wk               A   127.0.0.1

; good: one valid mapping to a working registry.
_oci-discovery.good  TXT "v=oci1; registry=https://{{REG}}/good"

; malformed: a record with two targets, beside a valid one.
_oci-discovery.malformed TXT "v=oci1; prefix=a; registry=https://{{REG}}/a; delegate=x.example.com"
_oci-discovery.malformed TXT "v=oci1; registry=https://{{REG}}/m"

; http: a plain-HTTP registry for a host nobody marked insecure.
_oci-discovery.http TXT "v=oci1; registry=http://{{REG}}/h"

; conflict: a delegate and a registry for one prefix.
_oci-discovery.conflict TXT "v=oci1; prefix=tools; delegate=good.example.com"
_oci-discovery.conflict TXT "v=oci1; prefix=tools; registry=https://{{REG}}/tools"
_oci-discovery.conflict TXT "v=oci1; registry=https://{{REG}}/c"

; versions: records ignored for their v=.
_oci-discovery.versions TXT "v=oci2; registry=https://{{REG}}/v2"
_oci-discovery.versions TXT "prefix=x; registry=https://{{REG}}/x"
_oci-discovery.versions TXT "v=spf1 -all"
_oci-discovery.versions TXT "v=oci1; registry=https://{{REG}}/v"

; pullonly: mirrors that cannot resolve tags, one published twice.
_oci-discovery.pullonly TXT "v=oci1; registry=https://{{REG}}/p1; caps=pull"
_oci-discovery.pullonly TXT "v=oci1;registry=https://{{REG}}/p1;caps=pull"

; disagree: TXT and the well-known document map the host differently.
_oci-discovery.disagree TXT "v=oci1; registry=https://{{REG}}/from-dns"

; partial: TXT maps only a prefix; the rest depends on the well-known document.
_oci-discovery.partial TXT "v=oci1; prefix=acme; registry=https://{{REG}}/acme"
_oci-discovery.reset.partial TXT "v=oci1; prefix=acme; registry=https://{{REG}}/acme"
_oci-discovery.reset.good TXT "v=oci1; registry=https://{{REG}}/good"

; srv: the host's registry located by SRV.
srv                 A   127.0.0.1
_oci-registry._tcp.srv SRV 0 0 {{REGPORT}} reg.example.com.
; srvbad: an SRV target without addresses.
_oci-registry._tcp.srvbad SRV 0 0 443 nowhere.example.com.
; srvport0: a target with port 0.
_oci-registry._tcp.srvport0 SRV 0 0 0 reg.example.com.
; srvnone: "no registry here".
_oci-registry._tcp.srvnone SRV 0 0 0 .

; notoci: a registry URL that is a web site; down: one where nothing listens.
_oci-discovery.notoci TXT "v=oci1; registry=https://{{NOTREG}}/x"
_oci-discovery.down   TXT "v=oci1; registry=https://{{CLOSED}}/x"

; loop-a and loop-b delegate to each other.
_oci-discovery.loop-a TXT "v=oci1; delegate=loop-b.example.com"
_oci-discovery.loop-b TXT "v=oci1; delegate=loop-a.example.com"

; d1 → d2 → d3 → d4 → registry: four hops.
_oci-discovery.d1 TXT "v=oci1; delegate=d2.example.com"
_oci-discovery.d2 TXT "v=oci1; delegate=d3.example.com"
_oci-discovery.d3 TXT "v=oci1; delegate=d4.example.com"
_oci-discovery.d4 TXT "v=oci1; registry=https://{{REG}}/deep"

; deleg: a signed delegation to a host in an unsigned zone.
_oci-discovery.deleg TXT "v=oci1; prefix=team; delegate=child.other.test"

; tobroken: a delegation to a host whose TXT answer fails (SERVFAIL).
_oci-discovery.tobroken TXT "v=oci1; delegate=broken.example.com"
_oci-discovery.broken   TXT "v=oci1; registry=https://{{REG}}/never"

; bogus: tampered after signing by the test that uses it.
_oci-discovery.bogus TXT "v=oci1; registry=https://{{REG}}/bogus"

; hijack: two prefixes delegated to a host in an unsigned zone, whose
; mapping to another host default clients skip; tonowhere: a delegation
; to a host that has nothing else to offer.
_oci-discovery.hijack TXT "v=oci1; prefix=a; delegate=hijacked.other.test"
_oci-discovery.hijack TXT "v=oci1; prefix=b; delegate=hijacked.other.test"
_oci-discovery.tonowhere TXT "v=oci1; delegate=nowhere.other.test"
`

const labOtherZone = `$ORIGIN other.test.
$TTL 300
@                SOA ns.other.test. hostmaster.other.test. 1 3600 600 86400 60
@                NS  ns.example.com.
_oci-discovery.child TXT "v=oci1; registry=https://{{REG}}/child"
; hijacked, nowhere: unsigned mappings to a port where nothing listens;
; nowhere's SRV record says it has no registry of its own.
_oci-discovery.hijacked TXT "v=oci1; registry=https://{{CLOSED}}/stolen"
_oci-discovery.nowhere  TXT "v=oci1; registry=https://{{CLOSED}}/stolen"
_oci-registry._tcp.nowhere SRV 0 0 0 .
; srvtls: an unsigned SRV record moving the connection to reg.example.com,
; whose certificate does not name srvtls.other.test.
_oci-registry._tcp.srvtls SRV 0 0 {{REGPORT}} reg.example.com.
`

// tooLargeRRset is the TXT RRset of toolarge.example.com and the SRV
// RRset of srvtoolarge.example.com: one record more than clients read
// (discovery.MaxRRsetRecords).
func tooLargeRRset() string {
	var b strings.Builder
	b.WriteString("; toolarge, srvtoolarge: more records than clients read.\n")
	for i := range discovery.MaxRRsetRecords + 1 {
		fmt.Fprintf(&b, "_oci-discovery.toolarge TXT \"v=oci1; prefix=p%d; registry=https://reg.example.com/p\"\n", i)
		fmt.Fprintf(&b, "_oci-registry._tcp.srvtoolarge SRV 0 0 443 t%d.example.com.\n", i)
	}
	return b.String()
}

// newLab starts the lab. sites are the well-known documents (and anything
// else) served on port 443, by host name.
func newLab(t *testing.T, sites map[string]http.Handler, dnsOpts ...func(*dnstest.Config)) *lab {
	t.Helper()
	l := &lab{sites: sites, validate: true}
	l.reg = registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	if _, err := l.reg.PushImage("good/app", "v1"); err != nil {
		t.Fatal(err)
	}
	l.notReg = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<html><body>Not here</body></html>"))
	}))
	t.Cleanup(l.notReg.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.closed = ln.Addr().String()
	ln.Close()
	rl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rl.Close() })
	l.reset = rl.Addr().String()
	go func() {
		for {
			conn, err := rl.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	port := func(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
	l.fill = strings.NewReplacer(
		"{{REG}}", "reg.example.com:"+port(l.reg.Host()),
		"{{REGPORT}}", port(l.reg.Host()),
		"{{NOTREG}}", "web.example.com:"+port(l.notReg.Listener.Addr().String()),
		"{{CLOSED}}", "closed.example.com:"+port(l.closed),
	)
	l.web = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		switch h := l.sites[host].(type) {
		case nil:
			http.NotFound(w, r)
		case doc:
			if r.URL.Path != discovery.WellKnownPath {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(l.fill.Replace(string(h))))
		default:
			h.ServeHTTP(w, r)
		}
	}))
	l.web.StartTLS()
	t.Cleanup(l.web.Close)

	r := l.fill
	dcfg := dnstest.Config{Zones: []dnstest.Zone{
		{Origin: "example.com.", Text: r.Replace(labZones) + tooLargeRRset(), Sign: true},
		{Origin: "other.test.", Text: r.Replace(labOtherZone)},
	}}
	for _, o := range dnsOpts {
		o(&dcfg)
	}
	l.server = dnstest.StartT(t, dcfg)
	l.dns = dnstest.ClientT(t, 2*time.Second, l.server.Addr())
	l.pool = x509.NewCertPool()
	l.pool.AddCert(l.web.Certificate())
	tr := l.web.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = l.pool
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, p, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if _, ok := l.sites[host]; ok && p == "443" {
			return (&net.Dialer{}).DialContext(ctx, network, l.web.Listener.Addr().String())
		}
		if strings.HasPrefix(host, "reset.") && p == "443" {
			return (&net.Dialer{}).DialContext(ctx, network, l.reset)
		}
		return l.dns.DialContext(ctx, network, addr)
	}
	l.client = &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return l
}

// config is the view of a default client: DNSSEC validated in-process
// against the lab's anchor, well-known documents fetched.
func (l *lab) config() Config {
	cfg := Config{DNS: l.dns, HTTP: l.client, Timeout: 5 * time.Second}
	if l.validate {
		cfg.Validator = dnssec.NewValidator(l.dns, l.server.TrustAnchors(), nil)
	}
	return cfg
}

// check runs the check of host with the lab's config changed by mutate.
func (l *lab) check(t *testing.T, host string, mutate func(*Config)) []Finding {
	t.Helper()
	cfg := l.config()
	if mutate != nil {
		mutate(&cfg)
	}
	fs, err := Run(context.Background(), host, cfg)
	if err != nil {
		t.Fatalf("Run(%s): %v", host, err)
	}
	return fs
}

// codes lists the findings' codes, with their severities: "error TXT_MALFORMED".
func codes(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Severity.String() + " " + f.Code
	}
	return out
}

// want fails unless every "severity CODE" in wanted is among the findings.
func want(t *testing.T, fs []Finding, wanted ...string) {
	t.Helper()
	got := codes(fs)
	for _, w := range wanted {
		if !slices.Contains(got, w) {
			t.Errorf("missing finding %q; got:\n%s", w, dump(fs))
		}
	}
}

// wantNo fails if a finding with one of these codes (any severity) is present.
func wantNo(t *testing.T, fs []Finding, unwanted ...string) {
	t.Helper()
	for _, f := range fs {
		if slices.Contains(unwanted, f.Code) {
			t.Errorf("unexpected finding %s; got:\n%s", f, dump(fs))
		}
	}
}

// wantNoErrors fails on any error finding.
func wantNoErrors(t *testing.T, fs []Finding) {
	t.Helper()
	for _, f := range fs {
		if f.Severity == Error {
			t.Errorf("unexpected error finding %s; got:\n%s", f, dump(fs))
		}
	}
}

func find(fs []Finding, code string) (Finding, bool) {
	for _, f := range fs {
		if f.Code == code {
			return f, true
		}
	}
	return Finding{}, false
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.String() + " [host " + f.Host + " record " + strconv.Quote(f.Record) + "]\n")
	}
	return b.String()
}

// doc is a site that serves this well-known document (200), with the
// lab's placeholders filled in.
type doc string

// ServeHTTP is never called: the lab's web server serves docs itself.
func (doc) ServeHTTP(http.ResponseWriter, *http.Request) {}
