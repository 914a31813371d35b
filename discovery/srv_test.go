package discovery

import (
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func srvRRPort(prio, weight, port uint16, target string) *dns.SRV {
	s := srvRR(prio, weight, target)
	s.Port = port
	return s
}

// "DNS SRV at _oci-registry._tcp.<host> — where the host's own registry runs
// ... target "." means "no registry here". The repository path is unchanged."
func TestSRVEndpoints(t *testing.T) {
	eps, none, err := SRVEndpoints([]*dns.SRV{
		srvRRPort(10, 5, 443, "Registry.Example.COM."),
		srvRRPort(20, 0, 5000, "backup.example."),
	}, "example.com", "team/app")
	if err != nil || none {
		t.Fatalf("SRVEndpoints: %v, none=%v", err, none)
	}
	want := []Endpoint{
		{URL: "https://registry.example.com", Repository: "team/app", Priority: 10, Weight: 5, Caps: CapAll, Source: SourceSRV},
		{URL: "https://backup.example:5000", Repository: "team/app", Priority: 20, Caps: CapAll, Source: SourceSRV},
	}
	if len(eps) != len(want) || eps[0] != want[0] || eps[1] != want[1] {
		t.Fatalf("endpoints\n got %+v\nwant %+v", eps, want)
	}
}

func TestSRVEndpointsNoRegistryHere(t *testing.T) {
	for _, tc := range []struct {
		rule string
		srvs []*dns.SRV
		none bool
		n    int
	}{
		{`a single target "." means the service is decidedly not available (RFC 2782)`, []*dns.SRV{srvRRPort(0, 0, 0, ".")}, true, 0},
		{`only "." targets: no registry here`, []*dns.SRV{srvRRPort(0, 0, 0, "."), srvRRPort(1, 0, 0, ".")}, true, 0},
		{`a "." among real targets carries no meaning and is skipped`, []*dns.SRV{srvRRPort(0, 0, 0, "."), srvRRPort(1, 0, 443, "r.example.")}, false, 1},
		{`no records: absent, not "no registry"`, nil, false, 0},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			eps, none, err := SRVEndpoints(tc.srvs, "example.com", "app")
			if err != nil || none != tc.none || len(eps) != tc.n {
				t.Errorf("%s: got %d endpoints, none=%v, %v", tc.rule, len(eps), none, err)
			}
		})
	}
}

func TestSRVEndpointsMalformed(t *testing.T) {
	for _, tc := range []struct {
		srv *dns.SRV
		msg string
	}{
		{srvRRPort(0, 0, 0, "r.example."), `record "0 0 0 r.example.": port 0`},
		{srvRRPort(0, 0, 443, "bad_name.example."), `invalid character '_'`},
	} {
		t.Run(srvText(tc.srv), func(t *testing.T) {
			_, _, err := SRVEndpoints([]*dns.SRV{srvRRPort(0, 0, 443, "ok.example."), tc.srv}, "example.com", "app")
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "_oci-registry._tcp.example.com.") {
				t.Errorf("SRV %v: %v, want ErrMalformed naming the RRset and saying %q", tc.srv, err, tc.msg)
			}
		})
	}
}
