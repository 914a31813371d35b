package discovery_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// dcZones are the zones of the DNS client tests (testdata/zones/README.md).
func dcZones() []dnstest.Zone {
	return []dnstest.Zone{
		{Origin: "client.test.", File: dnstest.ZonePath("client.test.zone")},
		{Origin: "other.test.", File: dnstest.ZonePath("other.test.zone")},
	}
}

// dcStart starts an in-process authoritative server with the client zones.
func dcStart(t testing.TB, cfg dnstest.Config) *dnstest.Server {
	t.Helper()
	if cfg.Zones == nil {
		cfg.Zones = dcZones()
	}
	return dnstest.StartT(t, cfg)
}

// dcClient returns a client for servers, one attempt each, with a timeout
// generous enough for a loaded CI machine (tests that expect a timeout
// pass a short one).
func dcClient(t testing.TB, timeout time.Duration, servers ...string) *discovery.DNSClient {
	t.Helper()
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	c, err := discovery.NewDNSClient(discovery.DNSConfig{Servers: servers, Timeout: timeout, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dcQuery runs one query with a trace and fails the test on error.
func dcQuery(t *testing.T, c *discovery.DNSClient, name string, qtype uint16) (*discovery.Answer, []trace.Event) {
	t.Helper()
	tr := trace.New(nil)
	a, err := c.Query(trace.NewContext(context.Background(), tr), name, qtype)
	if err != nil {
		t.Fatalf("Query %s %s: %v", dns.Type(qtype), name, err)
	}
	return a, tr.Events()
}

func dcTXT(rr dns.RR) string { return strings.Join(rr.(*dns.TXT).Txt, "") }

// dcHasEvent reports whether an event's Outcome or Decision contains s.
func dcHasEvent(evs []trace.Event, s string) bool {
	for _, e := range evs {
		if strings.Contains(e.Outcome, s) || strings.Contains(e.Decision, s) {
			return true
		}
	}
	return false
}
