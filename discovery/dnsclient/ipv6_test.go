package dnsclient_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/internal/dnstest"
)

func TestIPv6ServerAddress(t *testing.T) {
	s, err := dnstest.Start(dnstest.Config{Zones: dcZones(), Addr: "[::1]:0"})
	if err != nil {
		t.Skipf("IPv6 loopback [::1] unavailable on this machine: %v", err)
	}
	defer s.Close()
	c := dnstest.ClientT(t, 0, s.Addr())
	if !strings.HasPrefix(c.Servers()[0], "[::1]:") {
		t.Fatalf("Servers() = %v", c.Servers())
	}
	// UDP, and TCP after truncation.
	for name, n := range map[string]int{"multi.client.test": 1, "big.client.test": 8} {
		a, _ := dcQuery(t, c, name, dns.TypeTXT)
		if len(a.Records) != n || a.Server != s.Addr() {
			t.Errorf("%s: %d records from %s", name, len(a.Records), a.Server)
		}
	}
}
