package discovery

import (
	"errors"
	"testing"
)

// FuzzParseTXT: no input panics or hangs; every error is ErrNotOCI or a
// *RecordError pointing inside the record; every valid record is canonical
// after one FormatTXT, which parses back to the same mapping.
func FuzzParseTXT(f *testing.F) {
	for _, s := range []string{
		"v=oci1; prefix=acme; delegate=acme.example",
		"v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=10",
		"v=oci1; registry=https://registry.example.com",
		"V=OCI1;Registry=HTTPS://R.Example:443/a/;caps=pull , resolve;weight=007",
		"v=oci1; registry=http://localhost:5000/lab",
		"v=oci1; registry=https://[::1]:5000",
		"v=oci1; delegate=Acme.EXAMPLE.",
		"v=oci1; registry=https://a.example; registry=https://b.example",
		"v=oci1; x=1; X=2; registry=https://r.example",
		"v=oci1 registry=https://r.example",
		"v=oci1; prefix=a//b; registry=https://r.example",
		"v=oci1; registry=ftp://x",
		"v=spf1 -all",
		"v=oci2; registry=https://r.example",
		"",
		";;;",
	} {
		f.Add(s)
	}
	opt := insecureHosts("localhost", "localhost:5000", "::1")
	f.Fuzz(func(t *testing.T, record string) {
		m, err := ParseTXT(record, opt)
		if err != nil {
			var re *RecordError
			switch {
			case errors.Is(err, ErrNotOCI):
			case errors.As(err, &re):
				if re.Offset < 0 || re.Offset > len(record) || re.Record != record || !errors.Is(err, ErrMalformed) {
					t.Fatalf("RecordError %+v for %q", re, record)
				}
			default:
				t.Fatalf("ParseTXT(%q): unexpected error type %T: %v", record, err, err)
			}
			return
		}
		if (m.Registry == "") == (m.Delegate == "") || m.Caps == 0 || m.Record != record {
			t.Fatalf("ParseTXT(%q) = %+v: not exactly one target, no caps, or Record changed", record, m)
		}
		if v, err := ValidateMapping(m, opt); err != nil || v != m {
			t.Fatalf("ValidateMapping of a parsed mapping %+v: %+v, %v", m, v, err)
		}
		text := FormatTXT(m)
		again, err := ParseTXT(text, opt)
		if err != nil {
			t.Fatalf("ParseTXT(FormatTXT) = ParseTXT(%q) from %q: %v", text, record, err)
		}
		if FormatTXT(again) != text {
			t.Fatalf("FormatTXT not stable: %q then %q", text, FormatTXT(again))
		}
		again.Record = m.Record
		if again != m {
			t.Fatalf("round trip of %q via %q:\n got %+v\nwant %+v", record, text, again, m)
		}
	})
}
