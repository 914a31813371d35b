package discovery

import (
	"errors"
	"strings"
	"testing"
)

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

		// Registry URLs: "registry=<https URL> (http:// only for hosts the operator marked insecure)".
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
