package discovery

import "testing"

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
