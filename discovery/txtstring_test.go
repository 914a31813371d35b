package discovery

import (
	"testing"

	"github.com/miekg/dns"
)

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
	}
}
