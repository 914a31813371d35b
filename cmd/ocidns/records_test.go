package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// zoneRecords parses the zone-file output of `ocidns records` with miekg/dns
// (the parser BIND-compatible tooling uses) and returns the TXT records.
func zoneRecords(t *testing.T, zone string) []*dns.TXT {
	t.Helper()
	var out []*dns.TXT
	zp := dns.NewZoneParser(strings.NewReader(zone), "", "records output")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		txt, isTXT := rr.(*dns.TXT)
		if !isTXT {
			t.Fatalf("not a TXT record: %s", rr)
		}
		out = append(out, txt)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("output is not zone-file syntax: %v\n%s", err, zone)
	}
	return out
}

// canonicalTexts reads TXT records back as clients do — strings joined,
// ParseTXT — and returns each mapping's canonical text.
func canonicalTexts(t *testing.T, rrs []*dns.TXT) []string {
	t.Helper()
	var out []string
	for _, rr := range rrs {
		for _, s := range rr.Txt {
			if len(s) > 255 {
				t.Errorf("character-string of %d bytes: DNS allows 255", len(s))
			}
		}
		m, err := discovery.ParseTXT(strings.Join(rr.Txt, ""), discovery.ParseOptions{})
		if err != nil {
			t.Fatalf("ParseTXT of %s: %v", rr, err)
		}
		out = append(out, discovery.FormatTXT(m))
	}
	return out
}

// TestRecordsRoundTrip: the zone output and the JSON document of the same
// mappings read back, through the clients' own parsers, as those mappings.
func TestRecordsRoundTrip(t *testing.T) {
	args := []string{"records", "--host", "Example.COM.", "--ttl", "600",
		"--prefix", "tools", "--priority", "10", "--weight", "5", "--registry", "HTTPS://GHCR.io:443/example-tools/",
		"--priority", "20", "--caps", "pull", "--registry", "https://mirror.example.com/tools",
		"--prefix", "acme", "--delegate", "Acme.Example.",
		"--prefix", "", "--registry", "https://registry.example.com"}
	want := []string{
		"v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=10; weight=5",
		"v=oci1; prefix=tools; registry=https://mirror.example.com/tools; priority=20; caps=pull",
		"v=oci1; prefix=acme; delegate=acme.example",
		"v=oci1; registry=https://registry.example.com",
	}

	code, out, errOut := runCLI(t, "", append(args, "--format", "zone")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rrs := zoneRecords(t, out)
	for _, rr := range rrs {
		if rr.Hdr.Name != "_oci-discovery.example.com." || rr.Hdr.Ttl != 600 || rr.Hdr.Class != dns.ClassINET {
			t.Errorf("record header %s", rr.Hdr.String())
		}
	}
	if got := canonicalTexts(t, rrs); !slices.Equal(got, want) {
		t.Errorf("zone output reads back as\n%q\nwant\n%q", got, want)
	}
	if !strings.HasPrefix(out, `_oci-discovery.example.com. 600 IN TXT "v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=10; weight=5"`+"\n") {
		t.Errorf("zone line format:\n%s", out)
	}

	code, out, errOut = runCLI(t, "", append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ms, err := discovery.ParseWellKnown([]byte(out), discovery.ParseOptions{})
	if err != nil {
		t.Fatalf("ParseWellKnown: %v\n%s", err, out)
	}
	var got []string
	for _, m := range ms {
		got = append(got, discovery.FormatTXT(m))
	}
	if !slices.Equal(got, want) {
		t.Errorf("document reads back as\n%q\nwant\n%q", got, want)
	}

	code, out, _ = runCLI(t, "", append(args, "--format", "both")...)
	if code != 0 || !strings.Contains(out, "; DNS: TXT records for the zone of example.com\n_oci-discovery") ||
		!strings.Contains(out, "; HTTPS: the document to serve at https://example.com/.well-known/oci-discovery\n{") {
		t.Errorf("--format both: exit %d\n%s", code, out)
	}
}

// TestRecordsServedAndDiscovered: the zone text `ocidns records` writes,
// loaded into an authoritative server and signed, is what discovery then
// follows — a delegation to another zone, mirrors, and a record longer
// than one character-string.
func TestRecordsServedAndDiscovered(t *testing.T) {
	long := "https://registry.example.net/" + strings.Repeat("deep/", 50) + "end"
	code, parent, errOut := runCLI(t, "", "records", "--host", "example.test", "--ttl", "300",
		"--prefix", "tools", "--priority", "20", "--registry", "https://mirror.example.net/tools",
		"--priority", "10", "--registry", "https://ghcr.example.net/tools",
		"--prefix", "partners", "--delegate", "acme.test",
		"--prefix", "long", "--registry", long)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(parent, `" "`) {
		t.Errorf("a record over 255 bytes is not split into several strings:\n%s", parent)
	}
	code, child, errOut := runCLI(t, "", "records", "--host", "acme.test", "--registry", "https://registry.acme.test/team")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	const soa = "@ 300 IN SOA ns hostmaster 1 3600 600 86400 60\n@ 300 IN NS ns\nns 300 IN A 127.0.0.1\n"
	srv := dnstest.StartT(t, dnstest.Config{Zones: []dnstest.Zone{
		{Origin: "example.test.", Text: "$ORIGIN example.test.\n" + soa + parent, Sign: true},
		{Origin: "acme.test.", Text: "$ORIGIN acme.test.\n" + soa + child, Sign: true},
	}})
	dc := dnstest.ClientT(t, 0, srv.Addr())
	d := discovery.New(discovery.Options{
		DNS:         dc,
		Validator:   dnssec.NewValidator(dc, srv.TrustAnchors(), nil),
		NoWellKnown: true,
	})
	tests := []struct {
		path      string
		endpoints []string // url repository
		hops      int
	}{
		{"tools/app", []string{"https://ghcr.example.net tools/app", "https://mirror.example.net tools/app"}, 1},
		{"partners/app", []string{"https://registry.acme.test team/app"}, 2},
		{"long/x", []string{"https://registry.example.net " + strings.Repeat("deep/", 50) + "end/x"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := d.Discover(context.Background(), "example.test", tt.path)
			if err != nil {
				t.Errorf("discover example.test/%s: %v", tt.path, err)
				return
			}
			var got []string
			for _, ep := range res.Endpoints {
				got = append(got, ep.URL+" "+ep.Repository)
				if ep.Authenticated != discovery.AuthDNSSEC {
					t.Errorf("%s: endpoint authenticated %q, want dnssec", tt.path, ep.Authenticated)
				}
			}
			if !slices.Equal(got, tt.endpoints) || len(res.Chain) != tt.hops {
				t.Errorf("example.test/%s: endpoints %q in %d hop(s), want %q in %d", tt.path, got, len(res.Chain), tt.endpoints, tt.hops)
			}
		})
	}
}

// TestRecordsDocumentServedAndDiscovered: the JSON document, served over
// HTTPS, is what discovery follows.
func TestRecordsDocumentServedAndDiscovered(t *testing.T) {
	code, doc, errOut := runCLI(t, "", "records", "--format", "json",
		"--prefix", "tools", "--registry", "https://ghcr.example.net/example-tools",
		"--prefix", "", "--delegate", "other.example.net")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	web := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != discovery.WellKnownPath {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(doc))
	}))
	defer web.Close()
	host := strings.TrimPrefix(web.URL, "https://")
	d := discovery.New(discovery.Options{HTTP: web.Client()})
	res, err := d.Discover(context.Background(), host, "tools/x")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Endpoints) != 1 || res.Endpoints[0].URL != "https://ghcr.example.net" || res.Endpoints[0].Repository != "example-tools/x" ||
		res.Endpoints[0].Authenticated != discovery.AuthHTTPS {
		t.Errorf("endpoints %+v", res.Endpoints)
	}
}

// TestRecordsGroupRule pins how flags make mappings: each --registry or
// --delegate starts one; --prefix holds until the next --prefix; --priority,
// --weight and --caps go to the next --registry only.
func TestRecordsGroupRule(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--registry", "https://a.example"}, []string{"v=oci1; registry=https://a.example"}},
		{[]string{"--prefix", "p", "--registry", "https://a.example", "--registry", "https://b.example"},
			[]string{"v=oci1; prefix=p; registry=https://a.example", "v=oci1; prefix=p; registry=https://b.example"}},
		{[]string{"--priority", "5", "--registry", "https://a.example", "--registry", "https://b.example"},
			[]string{"v=oci1; registry=https://a.example; priority=5", "v=oci1; registry=https://b.example"}},
		{[]string{"--caps", "resolve", "--weight", "3", "--prefix", "x/y", "--registry", "https://a.example", "--prefix", "", "--delegate", "d.example"},
			[]string{"v=oci1; prefix=x/y; registry=https://a.example; weight=3; caps=resolve", "v=oci1; delegate=d.example"}},
		{[]string{"--caps", "pull,resolve", "--registry", "https://a.example"}, []string{"v=oci1; registry=https://a.example"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"records", "--host", "h.example"}, tt.args...)...)
			if code != 0 {
				t.Errorf("%q: exit %d: %s", tt.args, code, errOut)
				return
			}
			if got := canonicalTexts(t, zoneRecords(t, out)); !slices.Equal(got, tt.want) {
				t.Errorf("%q:\ngot  %q\nwant %q", tt.args, got, tt.want)
			}
		})
	}
}

// TestRecordsUsageErrors: mistakes in the command line itself exit 2.
func TestRecordsUsageErrors(t *testing.T) {
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"--registry", "https://a.example"}, "--host is required"},
		{[]string{"--host", "h.example"}, "no mapping"},
		{[]string{"--host", "h.example", "--registry", "https://a.example", "--priority", "1"}, "not followed by a --registry"},
		{[]string{"--host", "h.example", "--registry", "https://a.example", "--prefix", "x"}, "--prefix x is not followed"},
		{[]string{"--host", "h.example", "--weight", "1", "--delegate", "d.example"}, "belong to registries"},
		{[]string{"--host", "h.example", "--priority", "1", "--priority", "2", "--registry", "https://a.example"}, "given twice"},
		{[]string{"--host", "h.example", "--priority", "high", "--registry", "https://a.example"}, "non-negative integer"},
		{[]string{"--host", "h.example", "--registry", "https://a.example", "--format", "yaml"}, "--format must be"},
		{[]string{"--host", "h.example", "--registry", "https://a.example", "--ttl", "-1"}, "--ttl must be"},
		{[]string{"--host", "h.example", "--registry", "https://a.example", "--file", "x"}, "not both"},
		{[]string{"--host", "h.example", "extra"}, "unexpected arguments"},
		{[]string{"--host", "h.example", "--nope"}, "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.stderr, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"records"}, tt.args...)...)
			if code != 2 || out != "" || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", tt.args, code, out, errOut, tt.stderr)
			}
		})
	}
}

// TestRecordsInvalidMappings: values clients would refuse exit 1 with a
// message naming the mapping and the fault, and print nothing.
func TestRecordsInvalidMappings(t *testing.T) {
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"--registry", "http://a.example"}, "scheme must be https"},
		{[]string{"--registry", "ftp://a.example"}, "scheme must be https"},
		{[]string{"--registry", "https://a.example/UPPER"}, "uppercase"},
		{[]string{"--prefix", "a b", "--registry", "https://a.example"}, "whitespace"},
		{[]string{"--prefix", "a;delegate=x", "--registry", "https://a.example"}, "must not contain ';'"},
		{[]string{"--prefix", "/a", "--registry", "https://a.example"}, "must not start with '/'"},
		{[]string{"--delegate", "not_a_host"}, "invalid character"},
		{[]string{"--priority", "70000", "--registry", "https://a.example"}, "out of range"},
		{[]string{"--caps", "push", "--registry", "https://a.example"}, "unknown capability"},
		{[]string{"--prefix", "a", "--delegate", "x.example", "--prefix", "a", "--registry", "https://r.example"}, "mapping 1 (--prefix a --delegate x.example) and mapping 2 (--prefix a --registry https://r.example) conflict"},
		{[]string{"--registry", "https://a.example", "--registry", "https://A.example:443/"}, "mapping 2 (--registry https://A.example:443/) repeats mapping 1"},
	}
	for _, tt := range tests {
		t.Run(tt.stderr, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"records", "--host", "h.example"}, tt.args...)...)
			if code != 1 || out != "" || !strings.Contains(errOut, tt.stderr) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("%q: exit %d, stdout %q, stderr %q; want 1 and one line with %q", tt.args, code, out, errOut, tt.stderr)
			}
		})
	}
	code, _, errOut := runCLI(t, "", "records", "--host", "bad_host", "--registry", "https://a.example")
	if code != 1 || !strings.Contains(errOut, `host "bad_host"`) {
		t.Errorf("invalid --host: exit %d, %q", code, errOut)
	}
}

// TestRecordsInsecureRegistry: http:// passes for hosts marked insecure, as
// it would for clients given the same --insecure-registry.
func TestRecordsInsecureRegistry(t *testing.T) {
	code, out, errOut := runCLI(t, "", "records", "--host", "h.example", "--insecure-registry", "registry.lan:5000", "--registry", "http://registry.lan:5000/x")
	if code != 0 || !strings.Contains(out, `"v=oci1; registry=http://registry.lan:5000/x"`) {
		t.Errorf("exit %d, %q, %q", code, out, errOut)
	}
}

// TestRecordsFile reads mappings one a line, bare or quoted, and names the
// line of a bad one.
func TestRecordsFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte(`# the namespace of example.com
v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=10

"v=oci1; prefix=acme; " "delegate=acme.example"
  V=OCI1;REGISTRY=https://registry.example.com
`), 0o644)
	code, out, errOut := runCLI(t, "", "records", "--host", "example.com", "--file", good)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := []string{
		"v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=10",
		"v=oci1; prefix=acme; delegate=acme.example",
		"v=oci1; registry=https://registry.example.com",
	}
	if got := canonicalTexts(t, zoneRecords(t, out)); !slices.Equal(got, want) {
		t.Errorf("got %q", got)
	}
	// The zone output is itself valid --file input, from standard input.
	var values []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		values = append(values, line[strings.Index(line, `"`):])
	}
	code, out2, errOut := runCLI(t, strings.Join(values, "\n"), "records", "--host", "example.com", "--file", "-")
	if code != 0 || out2 != out {
		t.Errorf("re-reading the output: exit %d, %s\n%s", code, errOut, out2)
	}

	for _, tt := range []struct{ content, stderr string }{
		{"v=oci1; registry=https://a.example\nv=spf1 -all\n", "line 2: \"v=spf1 -all\" is not a v=oci1 record"},
		{"v=oci1; registry=https://a.example; delegate=b.example\n", "line 1: TXT record"},
		{"\"unterminated\n", "line 1: quoted TXT strings"},
		{"# nothing\n", "holds no mapping"},
		{strings.Repeat("x", maxParseLine+1) + "\n", "longer than"},
	} {
		t.Run(tt.stderr, func(t *testing.T) {
			f := filepath.Join(dir, "bad")
			os.WriteFile(f, []byte(tt.content), 0o644)
			code, _, errOut := runCLI(t, "", "records", "--host", "example.com", "--file", f)
			if code != 1 || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("%.40q: exit %d, %q; want 1 and %q", tt.content, code, errOut, tt.stderr)
			}
		})
	}
	code, _, errOut = runCLI(t, "", "records", "--host", "example.com", "--file", filepath.Join(dir, "missing"))
	if code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
}

// TestQuoteCharString: quotes and backslashes are escaped, other bytes
// outside printable ASCII written as \DDD, so that any string reads back.
func TestQuoteCharString(t *testing.T) {
	for _, s := range []string{"", "plain", `a"b`, `a\b`, "tab\there", "\x00\xff", `\"`, "é"} {
		t.Run(s, func(t *testing.T) {
			q := quoteCharString(s)
			rr, err := dns.NewRR(". 0 IN TXT " + q)
			if err != nil {
				t.Errorf("%q → %s: %v", s, q, err)
				return
			}
			// miekg/dns keeps escapes in its presentation form: compare the
			// bytes on the wire, a length octet then the string.
			buf := make([]byte, 512)
			end, err := dns.PackRR(rr, buf, 0, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if wire := buf[end-len(s)-1 : end]; int(wire[0]) != len(s) || string(wire[1:]) != s {
				t.Errorf("%q → %s → wire %q", s, q, wire)
			}
		})
	}
	if got := quoteCharString(`say "hi" \o/`); got != `"say \"hi\" \\o/"` {
		t.Errorf("got %s", got)
	}
}
