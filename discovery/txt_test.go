package discovery

import (
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// insecure returns ParseOptions that allow plain HTTP for exactly hosts.
func insecureHosts(hosts ...string) ParseOptions {
	return ParseOptions{Insecure: func(h string) bool {
		for _, x := range hosts {
			if x == h {
				return true
			}
		}
		return false
	}}
}

func TestParseTXTValid(t *testing.T) {
	for _, tc := range []struct {
		rule   string
		record string
		opt    ParseOptions
		want   Mapping
	}{
		// DESIGN §2, the three example records.
		{"a delegation of a prefix", "v=oci1; prefix=acme; delegate=acme.example",
			ParseOptions{}, Mapping{Prefix: "acme", Delegate: "acme.example", Caps: CapAll}},
		{"a registry with a repository prefix in its URL path and a priority", "v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=10",
			ParseOptions{}, Mapping{Prefix: "tools", Registry: "https://ghcr.io/example-tools", Priority: 10, Caps: CapAll}},
		{"prefix absent means the whole host", "v=oci1; registry=https://registry.example.com",
			ParseOptions{}, Mapping{Registry: "https://registry.example.com", Caps: CapAll}},

		{"keys are case-insensitive (and so is oci1)", "V=OCI1; Registry=https://r.example; PRIORITY=3; Weight=4; CAPS=resolve",
			ParseOptions{}, Mapping{Registry: "https://r.example", Priority: 3, Weight: 4, Caps: CapResolve}},
		{"optional whitespace around pairs, keys and '='", " \tv = oci1 ;registry= https://r.example ;\tweight =5  ",
			ParseOptions{}, Mapping{Registry: "https://r.example", Weight: 5, Caps: CapAll}},
		{"no whitespace at all", "v=oci1;prefix=a;delegate=d.example",
			ParseOptions{}, Mapping{Prefix: "a", Delegate: "d.example", Caps: CapAll}},
		{"unknown keys are ignored, whatever their value", "v=oci1; registry=https://r.example; note=ask the platform team; x-future=1,2,3",
			ParseOptions{}, Mapping{Registry: "https://r.example", Caps: CapAll}},
		{"a trailing ';' and empty pairs are tolerated", "v=oci1;; registry=https://r.example;",
			ParseOptions{}, Mapping{Registry: "https://r.example", Caps: CapAll}},
		{"prefix= empty is the whole host", "v=oci1; prefix=; registry=https://r.example",
			ParseOptions{}, Mapping{Registry: "https://r.example", Caps: CapAll}},
		{"a prefix of several components with every separator", "v=oci1; prefix=a/b-c/d__e.f/g---h/i_j; registry=https://r.example",
			ParseOptions{}, Mapping{Prefix: "a/b-c/d__e.f/g---h/i_j", Registry: "https://r.example", Caps: CapAll}},
		{"caps=resolve,pull is the default", "v=oci1; registry=https://r.example; caps=resolve,pull",
			ParseOptions{}, Mapping{Registry: "https://r.example", Caps: CapAll}},
		{"caps: a pull-only mirror", "v=oci1; registry=https://mirror.example; caps=pull",
			ParseOptions{}, Mapping{Registry: "https://mirror.example", Caps: CapPull}},
		{"caps: any order, case, spaces around commas", "v=oci1; registry=https://r.example; caps=PULL , Resolve",
			ParseOptions{}, Mapping{Registry: "https://r.example", Caps: CapAll}},
		{"priority and weight take 0..65535 (leading zeros read as decimal)", "v=oci1; registry=https://r.example; priority=65535; weight=007",
			ParseOptions{}, Mapping{Registry: "https://r.example", Priority: 65535, Weight: 7, Caps: CapAll}},
		{"URL canonical: lowercase scheme and host, default port and trailing slash dropped", "v=oci1; registry=HTTPS://Registry.Example.COM:443/tools/",
			ParseOptions{}, Mapping{Registry: "https://registry.example.com/tools", Caps: CapAll}},
		{"a non-default port is kept", "v=oci1; registry=https://r.example:5443/a/b",
			ParseOptions{}, Mapping{Registry: "https://r.example:5443/a/b", Caps: CapAll}},
		{"IPv4 registry", "v=oci1; registry=https://127.0.0.1:5000",
			ParseOptions{}, Mapping{Registry: "https://127.0.0.1:5000", Caps: CapAll}},
		{"IPv6 registry, canonical form", "v=oci1; registry=https://[0:0::1]:5000",
			ParseOptions{}, Mapping{Registry: "https://[::1]:5000", Caps: CapAll}},
		{"delegate: trailing dot dropped, lowercased", "v=oci1; delegate=Acme.EXAMPLE.",
			ParseOptions{}, Mapping{Delegate: "acme.example", Caps: CapAll}},
		{"delegate: a single label is a DNS name", "v=oci1; delegate=localhost",
			ParseOptions{}, Mapping{Delegate: "localhost", Caps: CapAll}},
		{"http:// for a host:port marked insecure", "v=oci1; registry=http://localhost:5000/lab",
			insecureHosts("localhost:5000"), Mapping{Registry: "http://localhost:5000/lab", Caps: CapAll}},
		{"http:// for a host marked insecure without port (as Docker)", "v=oci1; registry=http://lab.internal:5000",
			insecureHosts("lab.internal"), Mapping{Registry: "http://lab.internal:5000", Caps: CapAll}},
		{"http:// for an IPv6 host marked insecure without brackets", "v=oci1; registry=http://[::1]:5000",
			insecureHosts("::1"), Mapping{Registry: "http://[::1]:5000", Caps: CapAll}},
		{"http:// default port 80 elided", "v=oci1; registry=http://lab.internal:80",
			insecureHosts("lab.internal:80", "lab.internal"), Mapping{Registry: "http://lab.internal", Caps: CapAll}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			got, err := ParseTXT(tc.record, tc.opt)
			if err != nil {
				t.Fatalf("ParseTXT(%q): %v", tc.record, err)
			}
			tc.want.Record = tc.record
			if got != tc.want {
				t.Fatalf("ParseTXT(%q)\n got %+v\nwant %+v", tc.record, got, tc.want)
			}
			// FormatTXT gives the canonical record, which parses to the same mapping.
			text := FormatTXT(got)
			again, err := ParseTXT(text, tc.opt)
			if err != nil {
				t.Fatalf("ParseTXT(FormatTXT) = ParseTXT(%q): %v", text, err)
			}
			again.Record = got.Record
			if again != got {
				t.Fatalf("round trip through %q\n got %+v\nwant %+v", text, again, got)
			}
		})
	}
}

// "records with another v are ignored (other protocols share TXT space)"
func TestParseTXTNotOCI(t *testing.T) {
	for _, record := range []string{
		"v=spf1 include:_spf.example.com -all",
		"v=DMARC1; p=reject",
		"v=oci2; registry=https://r.example", // a future version this client does not read
		"v=oci10; registry=https://r.example",
		"v=oci; registry=https://r.example",
		"registry=https://r.example; v=oci1", // v=oci1 must come first
		"google-site-verification=abc123",
		"hello world",
		"",
		"   ",
		"; v=oci1; registry=https://r.example",
		"v; registry=https://r.example",
	} {
		_, err := ParseTXT(record, ParseOptions{})
		if !errors.Is(err, ErrNotOCI) {
			t.Errorf("ParseTXT(%q) = %v, want ErrNotOCI", record, err)
		}
		if errors.Is(err, ErrMalformed) {
			t.Errorf("ParseTXT(%q): %v is also ErrMalformed", record, err)
		}
	}
}

func TestFormatTXTCanonical(t *testing.T) {
	for _, tc := range []struct {
		m    Mapping
		want string
	}{
		{Mapping{Prefix: "acme", Delegate: "acme.example", Caps: CapAll}, "v=oci1; prefix=acme; delegate=acme.example"},
		{Mapping{Prefix: "tools", Registry: "https://ghcr.io/example-tools", Priority: 10, Caps: CapAll}, "v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=10"},
		{Mapping{Registry: "https://registry.example.com"}, "v=oci1; registry=https://registry.example.com"},
		{Mapping{Registry: "https://m.example", Priority: 1, Weight: 5, Caps: CapPull}, "v=oci1; registry=https://m.example; priority=1; weight=5; caps=pull"},
	} {
		if got := FormatTXT(tc.m); got != tc.want {
			t.Errorf("FormatTXT(%+v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestValidateMapping(t *testing.T) {
	m, err := ValidateMapping(Mapping{Prefix: "tools", Registry: "HTTPS://GHCR.io:443/example-tools/"}, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Mapping{Prefix: "tools", Registry: "https://ghcr.io/example-tools", Caps: CapAll}); m != want {
		t.Fatalf("ValidateMapping = %+v, want %+v", m, want)
	}
	m, err = ValidateMapping(Mapping{Delegate: "Acme.Example."}, ParseOptions{})
	if err != nil || m.Delegate != "acme.example" {
		t.Fatalf("ValidateMapping(delegate) = %+v, %v", m, err)
	}
	for _, tc := range []struct {
		m   Mapping
		msg string
	}{
		{Mapping{}, "no target"},
		{Mapping{Registry: "https://r.example", Delegate: "d.example"}, "want exactly one target"},
		{Mapping{Prefix: "Acme", Delegate: "d.example"}, `prefix "Acme": uppercase`},
		{Mapping{Registry: "http://r.example"}, `registry "http://r.example": scheme must be https`},
		{Mapping{Delegate: "d_x.example"}, `delegate "d_x.example"`},
		{Mapping{Registry: "https://r.example", Priority: 70000}, `priority "70000": want an integer 0..65535`},
		{Mapping{Registry: "https://r.example", Weight: -1}, `weight "-1"`},
		{Mapping{Registry: "https://r.example", Caps: 0x80}, "unknown capability bits"},
	} {
		_, err := ValidateMapping(tc.m, ParseOptions{})
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ValidateMapping(%+v) = %v, want ErrMalformed saying %q", tc.m, err, tc.msg)
		}
	}
}

// `ocidns records` output read back by the resolver's own parsers: the zone
// file text of the RR, parsed by miekg/dns, strings concatenated, ParseTXT.
func TestTXTRecordRoundTrip(t *testing.T) {
	long := Mapping{Prefix: strings.Repeat("abcdefghij/", 20) + "end", Registry: "https://registry.example.com/" + strings.Repeat("x", 100), Priority: 10, Weight: 20, Caps: CapResolve}
	for _, m := range []Mapping{
		{Prefix: "acme", Delegate: "acme.example"},
		{Registry: "https://registry.example.com"},
		long,
	} {
		rr, err := TXTRecord("Example.COM.", 3600, m, ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rr.Hdr.Name != "_oci-discovery.example.com." || rr.Hdr.Ttl != 3600 {
			t.Errorf("owner/TTL %q %d", rr.Hdr.Name, rr.Hdr.Ttl)
		}
		for _, s := range rr.Txt {
			if len(s) > 255 {
				t.Errorf("a TXT string of %d bytes", len(s))
			}
		}
		parsed, err := dns.NewRR(rr.String())
		if err != nil {
			t.Fatalf("zone text %q: %v", rr.String(), err)
		}
		text := strings.Join(parsed.(*dns.TXT).Txt, "")
		got, err := ParseTXT(text, ParseOptions{})
		if err != nil {
			t.Fatalf("ParseTXT(%q): %v", text, err)
		}
		want, _ := ValidateMapping(m, ParseOptions{})
		want.Record = text
		if got != want {
			t.Errorf("round trip via %s\n got %+v\nwant %+v", rr, got, want)
		}
	}
	if len(mustTXT(t, long).Txt) < 2 {
		t.Error("a record over 255 bytes was not split")
	}
	if _, err := TXTRecord("bad_host", 60, Mapping{Delegate: "d.example"}, ParseOptions{}); err == nil {
		t.Error("TXTRecord accepted an invalid host")
	}
	if _, err := TXTRecord("example.com", 60, Mapping{Registry: "http://r.example"}, ParseOptions{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("TXTRecord accepted http:// for a host not insecure: %v", err)
	}
}

func mustTXT(t *testing.T, m Mapping) *dns.TXT {
	t.Helper()
	rr, err := TXTRecord("example.com", 60, m, ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rr
}
