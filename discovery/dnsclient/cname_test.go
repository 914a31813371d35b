package dnsclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/internal/dnstest"
)

func TestCNAMEToATXTInTheSameAnswer(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	c := dnstest.ClientT(t, 0, s.Addr())
	a, _ := dcQuery(t, c, "alias.client.test", dns.TypeTXT)
	if a.Final != "multi.client.test." || len(a.CNAMEs) != 1 || len(a.Records) != 1 {
		t.Fatalf("Final %q CNAMEs %v Records %v", a.Final, a.CNAMEs, a.Records)
	}
	// The answer lasts as long as its shortest link: the CNAME's 300s.
	if a.TTL != 5*time.Minute {
		t.Errorf("TTL %v, want 5m", a.TTL)
	}
	if n := s.QueryCount("multi.client.test", dns.TypeTXT); n != 0 {
		t.Errorf("target asked %d times; the first answer had it", n)
	}
}

func TestCNAMEOutOfZoneIsFollowedWithASecondQuery(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	c := dnstest.ClientT(t, 0, s.Addr())
	a, evs := dcQuery(t, c, "outside.client.test", dns.TypeTXT)
	if a.Final != "target.other.test." || len(a.Records) != 1 || dcTXT(a.Records[0]) != "reached through a CNAME from client.test" {
		t.Fatalf("Final %q Records %v", a.Final, a.Records)
	}
	if a.Name != "outside.client.test." || a.TTL != 2*time.Minute {
		t.Errorf("Name %q TTL %v, want min(CNAME 120s, TXT 900s)", a.Name, a.TTL)
	}
	if n := s.QueryCount("target.other.test", dns.TypeTXT); n != 1 {
		t.Errorf("target asked %d times, want 1", n)
	}
	if !dcHasEvent(evs, "asking for it") {
		t.Errorf("trace does not say the chain was followed: %+v", evs)
	}
}

func TestCNAMEToAMissingNameIsNXDOMAIN(t *testing.T) {
	c := dnstest.ClientT(t, 0, dcStart(t, dnstest.Config{}).Addr())
	a, _ := dcQuery(t, c, "dangling.client.test", dns.TypeTXT)
	if a.Rcode != dns.RcodeNameError || !a.Absent() || len(a.CNAMEs) != 1 || a.Final != "nowhere.client.test." {
		t.Errorf("rcode %d CNAMEs %v Final %q", a.Rcode, a.CNAMEs, a.Final)
	}
	if a.NegativeTTL != 5*time.Minute {
		t.Errorf("NegativeTTL %v", a.NegativeTTL)
	}
}

func TestCNAMELoopsAndLongChainsAreUnknown(t *testing.T) {
	s := dnstest.StartT(t, dnstest.Config{Zones: append(dcZones(),
		// A loop that only shows across queries: each zone points to the other.
		dnstest.Zone{Origin: "loopa.test.", Text: "@ IN SOA ns h 1 2 3 4 5\nx IN CNAME x.loopb.test.\n"},
		dnstest.Zone{Origin: "loopb.test.", Text: "@ IN SOA ns h 1 2 3 4 5\nx IN CNAME x.loopa.test.\n"},
	)})
	c := dnstest.ClientT(t, 0, s.Addr())
	for _, tc := range []struct{ name, want string }{
		{"loop1.client.test", "CNAME loop"},
		{"x.loopa.test", "CNAME loop"},
		{"chain1.client.test", "more than 8 CNAMEs"},
	} {
		_, err := c.Query(context.Background(), tc.name, dns.TypeTXT)
		var de *dnsclient.Error
		if !errors.As(err, &de) || !errors.Is(err, dnsclient.ErrUnknown) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want a *dnsclient.Error saying %q", tc.name, err, tc.want)
			continue
		}
		if de.Name != tc.name+"." || de.Qtype != dns.TypeTXT || de.Rcode != dns.RcodeSuccess {
			t.Errorf("%s: %+v", tc.name, de)
		}
	}
}

func TestQueryForCNAMEItselfDoesNotFollow(t *testing.T) {
	c := dnstest.ClientT(t, 0, dcStart(t, dnstest.Config{}).Addr())
	a, _ := dcQuery(t, c, "outside.client.test", dns.TypeCNAME)
	if len(a.Records) != 1 || len(a.CNAMEs) != 0 || a.Final != "outside.client.test." {
		t.Errorf("Records %v CNAMEs %v Final %q", a.Records, a.CNAMEs, a.Final)
	}
}
