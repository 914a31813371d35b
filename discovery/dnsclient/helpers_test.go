package dnsclient_test

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
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

// dcQuery runs one query with a trace and fails the test on error.
func dcQuery(t *testing.T, c *dnsclient.Client, name string, qtype uint16) (*dnsclient.Answer, []trace.Event) {
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
