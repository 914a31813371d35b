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
		// The example records of docs/protocol.md §13.
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
			// FormatTXT gives the canonical record, which parses to the same
			// mapping.
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
		t.Run(record, func(t *testing.T) {
			_, err := ParseTXT(record, ParseOptions{})
			if !errors.Is(err, ErrNotOCI) {
				t.Errorf("ParseTXT(%q) = %v, want ErrNotOCI", record, err)
			}
			if errors.Is(err, ErrMalformed) {
				t.Errorf("ParseTXT(%q): %v is also ErrMalformed", record, err)
			}
		})
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
		t.Run(tc.want, func(t *testing.T) {
			if got := FormatTXT(tc.m); got != tc.want {
				t.Errorf("FormatTXT(%+v) = %q, want %q", tc.m, got, tc.want)
			}
		})
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
		t.Run(tc.msg, func(t *testing.T) {
			_, err := ValidateMapping(tc.m, ParseOptions{})
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ValidateMapping(%+v) = %v, want ErrMalformed saying %q", tc.m, err, tc.msg)
			}
		})
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
		t.Run(FormatTXT(m), func(t *testing.T) {
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
		})
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

// "a duplicated key or a malformed value makes that record invalid (reported
// in the trace, never a crash)": each error names the key and its offset.
func TestParseTXTMalformed(t *testing.T) {
	for _, tc := range []struct {
		rule   string
		record string
		opt    ParseOptions
		offset int
		key    string
		msg    string
	}{
		// Duplicated keys.
		{"a duplicated key", "v=oci1; registry=https://a.example; registry=https://b.example", ParseOptions{}, 36, "registry", "duplicated key (first at offset 8)"},
		{"keys are case-insensitive, so PREFIX duplicates prefix", "v=oci1; prefix=a; PREFIX=b; registry=https://r.example", ParseOptions{}, 18, "PREFIX", "duplicated key"},
		{"an unknown key duplicated", "v=oci1; x=1; X=2; registry=https://r.example", ParseOptions{}, 13, "X", "duplicated key (first at offset 8)"},
		{"v twice", "v=oci1; v=oci1; registry=https://r.example", ParseOptions{}, 8, "v", "duplicated key (first at offset 0)"},

		// Targets: "exactly one target".
		{"missing target", "v=oci1; prefix=acme", ParseOptions{}, 19, "", "no target"},
		{"missing target, only v", "v=oci1", ParseOptions{}, 6, "", "no target"},
		{"two targets", "v=oci1; registry=https://r.example; delegate=d.example", ParseOptions{}, 36, "delegate", "a second target: the record already has registry= at offset 8"},
		{"two targets, delegate first", "v=oci1; delegate=d.example; registry=https://r.example", ParseOptions{}, 28, "registry", "already has delegate="},

		// Registry URLs: "registry=<https URL> (http:// only for hosts the
		// operator marked insecure)".
		{"scheme ftp", "v=oci1; registry=ftp://x", ParseOptions{}, 8, "registry", "scheme must be https"},
		{"no scheme", "v=oci1; registry=r.example/x", ParseOptions{}, 8, "registry", "is not a URL"},
		{"http:// for a host not marked insecure", "v=oci1; registry=http://r.example", insecureHosts("other.example"), 8, "registry", "http:// is allowed only for hosts marked insecure (--insecure-registry), and r.example is not"},
		{"http:// with no insecure hosts at all", "v=oci1; registry=http://localhost:5000", ParseOptions{}, 8, "registry", "scheme must be https"},
		{"http:// for another port of an insecure host:port", "v=oci1; registry=http://localhost:6000", insecureHosts("localhost:5000"), 8, "registry", "localhost:6000 is not"},
		{"userinfo", "v=oci1; registry=https://user:pw@r.example", ParseOptions{}, 8, "registry", "no user information"},
		{"query", "v=oci1; registry=https://r.example/x?y=1", ParseOptions{}, 8, "registry", "no query"},
		{"fragment", "v=oci1; registry=https://r.example/x#y", ParseOptions{}, 8, "registry", "no fragment"},
		{"empty host", "v=oci1; registry=https:///x", ParseOptions{}, 8, "registry", "empty host"},
		{"port out of range", "v=oci1; registry=https://r.example:65536", ParseOptions{}, 8, "registry", `port "65536"`},
		{"port 0", "v=oci1; registry=https://r.example:0", ParseOptions{}, 8, "registry", `port "0"`},
		{"empty port", "v=oci1; registry=https://r.example:", ParseOptions{}, 8, "registry", `port ""`},
		{"host with an underscore", "v=oci1; registry=https://my_registry.example", ParseOptions{}, 8, "registry", "invalid character '_'"},
		{"host with a trailing dot", "v=oci1; registry=https://r.example.", ParseOptions{}, 8, "registry", "no trailing dot"},
		{"bad IPv4", "v=oci1; registry=https://300.1.1.1", ParseOptions{}, 8, "registry", "not a valid IPv4 address"},
		{"IPv6 zone", "v=oci1; registry=https://[fe80::1%25eth0]", ParseOptions{}, 8, "registry", "zones are not allowed"},
		{"IPv6 without ']'", "v=oci1; registry=https://[::1", ParseOptions{}, 8, "registry", "missing ']'"},
		{"URL path is a repository prefix: uppercase", "v=oci1; registry=https://ghcr.io/Example", ParseOptions{}, 8, "registry", "uppercase letter 'E'"},
		{"URL path with an empty component", "v=oci1; registry=https://ghcr.io/a//b", ParseOptions{}, 8, "registry", "empty path component"},
		{"URL path of only slashes", "v=oci1; registry=https://ghcr.io//", ParseOptions{}, 8, "registry", "must not start with '/'"},
		{"URL with a percent-escape", "v=oci1; registry=https://ghcr.io/a%2Fb", ParseOptions{}, 8, "registry", "invalid character '%'"},
		{"empty registry", "v=oci1; registry=", ParseOptions{}, 8, "registry", "is not a URL"},

		// Delegates: "delegate=<dns name>".
		{"delegate with an underscore", "v=oci1; delegate=acme_corp.example", ParseOptions{}, 8, "delegate", "invalid character '_'"},
		{"delegate label starting with '-'", "v=oci1; delegate=-acme.example", ParseOptions{}, 8, "delegate", "must not begin or end with '-'"},
		{"delegate with an empty label", "v=oci1; delegate=acme..example", ParseOptions{}, 8, "delegate", "empty DNS label"},
		{"delegate label of 64 bytes", "v=oci1; delegate=" + strings.Repeat("a", 64) + ".example", ParseOptions{}, 8, "delegate", "more than 63"},
		{"delegate name over 253 bytes", "v=oci1; delegate=" + strings.Repeat("abcdefghi.", 26), ParseOptions{}, 8, "delegate", "more than 253"},
		{"delegate that is an IP address", "v=oci1; delegate=192.0.2.1", ParseOptions{}, 8, "delegate", "looks like an IP address"},
		{"delegate with a port", "v=oci1; delegate=acme.example:5000", ParseOptions{}, 8, "delegate", "invalid character ':'"},
		{"empty delegate", "v=oci1; delegate=", ParseOptions{}, 8, "delegate", "empty DNS name"},

		// Prefixes: OCI repository path components.
		{"empty prefix component", "v=oci1; prefix=acme//x; registry=https://r.example", ParseOptions{}, 8, "prefix", "empty path component at byte 5"},
		{"prefix with a leading slash", "v=oci1; prefix=/acme; registry=https://r.example", ParseOptions{}, 8, "prefix", "must not start with '/'"},
		{"prefix with a trailing slash", "v=oci1; prefix=acme/; registry=https://r.example", ParseOptions{}, 8, "prefix", "must not end with '/'"},
		{"uppercase prefix", "v=oci1; prefix=Acme; registry=https://r.example", ParseOptions{}, 8, "prefix", "uppercase letter 'A' in path component \"Acme\""},
		{"prefix separator '..'", "v=oci1; prefix=a..b; registry=https://r.example", ParseOptions{}, 8, "prefix", `separator ".."`},
		{"prefix separator '___'", "v=oci1; prefix=a___b; registry=https://r.example", ParseOptions{}, 8, "prefix", `separator "___"`},
		{"prefix component ending in '-'", "v=oci1; prefix=a-; registry=https://r.example", ParseOptions{}, 8, "prefix", "must begin and end with a letter or digit"},
		{"prefix with a tag-like ':'", "v=oci1; prefix=a:b; registry=https://r.example", ParseOptions{}, 8, "prefix", "invalid character ':'"},
		{"prefix over 255 bytes", "v=oci1; prefix=" + strings.Repeat("a", 256) + "; registry=https://r.example", ParseOptions{}, 8, "prefix", "more than 255"},

		// priority, weight: integers 0..65535.
		{"negative priority", "v=oci1; registry=https://r.example; priority=-1", ParseOptions{}, 36, "priority", "not an integer 0..65535"},
		{"priority out of range", "v=oci1; registry=https://r.example; priority=65536", ParseOptions{}, 36, "priority", "out of range"},
		{"priority not a number", "v=oci1; registry=https://r.example; priority=ten", ParseOptions{}, 36, "priority", "not an integer"},
		{"priority with a fraction", "v=oci1; registry=https://r.example; priority=1.5", ParseOptions{}, 36, "priority", "not an integer"},
		{"empty weight", "v=oci1; registry=https://r.example; weight=", ParseOptions{}, 36, "weight", "empty value"},
		{"huge weight", "v=oci1; registry=https://r.example; weight=99999999999999999999999", ParseOptions{}, 36, "weight", "out of range"},

		// caps=resolve,pull.
		{"unknown capability", "v=oci1; registry=https://r.example; caps=resolve,push", ParseOptions{}, 36, "caps", `unknown capability "push"`},
		{"empty caps", "v=oci1; registry=https://r.example; caps=", ParseOptions{}, 36, "caps", "empty capability"},
		{"empty capability in the list", "v=oci1; registry=https://r.example; caps=resolve,,pull", ParseOptions{}, 36, "caps", "empty capability"},
		{"capability twice", "v=oci1; registry=https://r.example; caps=pull,pull", ParseOptions{}, 36, "caps", "listed twice"},

		// Syntax.
		{"a missing ';' after v=oci1", "v=oci1 registry=https://r.example", ParseOptions{}, 0, "v", `must be followed by ";"`},
		{"a missing ';' between pairs", "v=oci1; prefix=acme registry=https://r.example", ParseOptions{}, 8, "prefix", "contains whitespace (a missing ';' between pairs?)"},
		{"a pair without '='", "v=oci1; registry", ParseOptions{}, 8, "", `"registry" is not key=value`},
		{"an empty key", "v=oci1; =x; registry=https://r.example", ParseOptions{}, 8, "", "empty key"},
		{"a key with a space", "v=oci1; re gistry=https://r.example", ParseOptions{}, 8, "re gistry", "invalid character ' ' in key"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			m, err := ParseTXT(tc.record, tc.opt)
			if err == nil {
				t.Fatalf("ParseTXT(%q) = %+v, want an error", tc.record, m)
			}
			if !errors.Is(err, ErrMalformed) || errors.Is(err, ErrNotOCI) {
				t.Errorf("error %v: want ErrMalformed and not ErrNotOCI", err)
			}
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v is not a *RecordError", err, err)
			}
			if re.Record != tc.record || re.Offset != tc.offset || re.Key != tc.key {
				t.Errorf("RecordError{Offset: %d, Key: %q}, want {Offset: %d, Key: %q}", re.Offset, re.Key, tc.offset, tc.key)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if tc.key != "" && !strings.Contains(err.Error(), `key "`+tc.key+`" at offset `) {
				t.Errorf("error %q does not name the key and offset", err)
			}
		})
	}
}

// The message format promised to operators (and shown in traces).
func TestParseTXTErrorMessage(t *testing.T) {
	_, err := ParseTXT("v=oci1; registry=ftp://x", ParseOptions{})
	want := `TXT record "v=oci1; registry=ftp://x": key "registry" at offset 8: scheme must be https, not "ftp"`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n got %v\nwant %s", err, want)
	}
	_, err = ParseTXT("v=oci1; prefix=acme", ParseOptions{})
	want = `TXT record "v=oci1; prefix=acme": at offset 19: no target: want registry=<https URL> or delegate=<DNS name>`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n got %v\nwant %s", err, want)
	}
	_, err = ParseTXT("v=spf1 -all", ParseOptions{})
	want = `TXT record "v=spf1 -all": not a v=oci1 record`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n got %v\nwant %s", err, want)
	}
}

// A record of many tiny unknown pairs must not be quadratic, and a duplicate
// among them is still found.
func TestParseTXTManyUnknownKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("v=oci1; registry=https://r.example")
	for i := 0; i < 5000; i++ {
		b.WriteString("; k")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(string(rune('a' + i/26%26)))
		b.WriteString(string(rune('a' + i/676%26)))
		b.WriteString("=1")
	}
	if _, err := ParseTXT(b.String(), ParseOptions{}); err != nil {
		t.Fatalf("5000 distinct unknown keys: %v", err)
	}
	b.WriteString("; KAAA=2") // "kaaa" was the first unknown key, at offset 36
	_, err := ParseTXT(b.String(), ParseOptions{})
	var re *RecordError
	if !errors.As(err, &re) || re.Key != "KAAA" || !strings.Contains(err.Error(), "duplicated key (first at offset 36)") {
		t.Fatalf("duplicate among many unknown keys: %v", err)
	}
}

// Records are parsed as published: the presentation escapes miekg/dns keeps
// in TXT strings are undone, and the strings are concatenated.
func TestTXTStringUndoesPresentationEscapes(t *testing.T) {
	for _, c := range []struct {
		zone string
		want string
	}{
		{`x. 60 IN TXT "v=oci1; " "registry=https://r.example"`, "v=oci1; registry=https://r.example"},
		{`x. 60 IN TXT "a\"b\\c"`, `a"b\c`},
		{`x. 60 IN TXT "semi\059colon \240"`, "semi;colon \xf0"},
	} {
		t.Run(c.zone, func(t *testing.T) {
			rr, err := dns.NewRR(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			// Round trip through the wire, as answers arrive.
			buf := make([]byte, 512)
			n, err := dns.PackRR(rr, buf, 0, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			back, _, err := dns.UnpackRR(buf[:n], 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := TXTString(back.(*dns.TXT)); got != c.want {
				t.Errorf("%s: got %q, want %q", c.zone, got, c.want)
			}
		})
	}
}

func BenchmarkParseTXT(b *testing.B) {
	for _, bc := range []struct{ name, record string }{
		{"delegate", "v=oci1; prefix=acme; delegate=acme.example"},
		{"registry", "v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=10; weight=5; caps=resolve"},
		{"non-canonical", "V=OCI1; Prefix=tools; Registry=HTTPS://GHCR.io:443/example-tools/; note=x"},
		{"spf", "v=spf1 include:_spf.example.com -all"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParseTXT(bc.record, ParseOptions{})
			}
		})
	}
}

func BenchmarkParseWellKnown(b *testing.B) {
	doc := readWellKnownFile(b, "example.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := ParseWellKnown(doc, ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
