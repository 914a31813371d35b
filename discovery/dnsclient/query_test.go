package dnsclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/dnstest"
)

func TestQueryTXTConcatenatesNothingAndKeepsEveryString(t *testing.T) {
	s := dcStart(t, dnstest.Config{})
	c := dnstest.ClientT(t, 0, s.Addr())
	a, evs := dcQuery(t, c, "multi.client.test", dns.TypeTXT)
	if a.Name != "multi.client.test." || a.Final != "multi.client.test." || a.Qtype != dns.TypeTXT {
		t.Errorf("Name %q Final %q Qtype %d", a.Name, a.Final, a.Qtype)
	}
	if a.Rcode != dns.RcodeSuccess || a.Absent() || len(a.Records) != 1 {
		t.Fatalf("rcode %d absent %v records %v", a.Rcode, a.Absent(), a.Records)
	}
	if got := a.Records[0].(*dns.TXT).Txt; len(got) != 3 || dcTXT(a.Records[0]) != "v=oci1; prefix=acme; registry=https://registry.client.test" {
		t.Errorf("TXT strings %q", got)
	}
	if a.TTL != time.Hour || a.NegativeTTL != 0 {
		t.Errorf("TTL %v NegativeTTL %v, want 1h and 0", a.TTL, a.NegativeTTL)
	}
	if a.Server != s.Addr() || a.Msg == nil || a.Duration <= 0 || a.AD {
		t.Errorf("Server %q Msg %v Duration %v AD %v", a.Server, a.Msg != nil, a.Duration, a.AD)
	}
	// docs/protocol.md §7: one trace event per exchange, with query, server,
	// outcome, TTL.
	if len(evs) != 1 {
		t.Fatalf("events %+v, want one", evs)
	}
	e := evs[0]
	if e.Source != "dns" || e.Query != "TXT multi.client.test." || e.Server != s.Addr() ||
		e.Outcome != "NOERROR" || e.TTL != time.Hour || e.DNSSEC != "" || e.Time.IsZero() {
		t.Errorf("event %+v", e)
	}
}

func TestQueryTTLIsTheMinimumOverTheRRset(t *testing.T) {
	c := dnstest.ClientT(t, 0, dcStart(t, dnstest.Config{}).Addr())
	a, _ := dcQuery(t, c, "twotxt.client.test.", dns.TypeTXT)
	if len(a.Records) != 2 || a.TTL != time.Minute {
		t.Errorf("%d records, TTL %v; want 2 and 1m", len(a.Records), a.TTL)
	}
}

func TestQuerySRV(t *testing.T) {
	c := dnstest.ClientT(t, 0, dcStart(t, dnstest.Config{}).Addr())
	a, _ := dcQuery(t, c, "_oci-registry._tcp.client.test", dns.TypeSRV)
	if len(a.Records) != 2 {
		t.Fatalf("records %v", a.Records)
	}
	ports := map[uint16]string{}
	for _, rr := range a.Records {
		srv := rr.(*dns.SRV)
		ports[srv.Port] = srv.Target
	}
	if ports[443] != "registry.client.test." || ports[5000] != "mirror.client.test." {
		t.Errorf("SRV records %v", a.Records)
	}
}

// RFC 2308 §5: a negative answer is cached for min(SOA TTL, SOA MINIMUM).
func TestQueryNegativeAnswersKeepTheSOAMinimum(t *testing.T) {
	c := dnstest.ClientT(t, 0, dcStart(t, dnstest.Config{}).Addr())
	for _, tc := range []struct {
		name   string
		qtype  uint16
		rcode  int
		negTTL time.Duration
	}{
		{"nothing.client.test", dns.TypeTXT, dns.RcodeNameError, 5 * time.Minute}, // SOA TTL 3600, MINIMUM 300
		{"nothing.other.test", dns.TypeTXT, dns.RcodeNameError, time.Minute},      // SOA TTL 60, MINIMUM 600
		{"multi.client.test", dns.TypeA, dns.RcodeSuccess, 5 * time.Minute},       // NODATA
		{"deep.client.test", dns.TypeTXT, dns.RcodeSuccess, 5 * time.Minute},      // empty non-terminal
		{"_oci-registry._tcp.other.test", dns.TypeSRV, dns.RcodeNameError, time.Minute},
	} {
		a, evs := dcQuery(t, c, tc.name, tc.qtype)
		if !a.Absent() || a.Rcode != tc.rcode || len(a.Records) != 0 || a.TTL != 0 {
			t.Errorf("%s: absent %v rcode %d records %v TTL %v", tc.name, a.Absent(), a.Rcode, a.Records, a.TTL)
		}
		if a.SOA == nil || a.NegativeTTL != tc.negTTL {
			t.Errorf("%s: SOA %v NegativeTTL %v, want %v", tc.name, a.SOA, a.NegativeTTL, tc.negTTL)
		}
		if want := dns.RcodeToString[tc.rcode]; evs[0].Outcome != want || evs[0].TTL != tc.negTTL {
			t.Errorf("%s: event %+v, want outcome %s TTL %v", tc.name, evs[0], want, tc.negTTL)
		}
	}
}

func TestQueryWithDOBitReturnsRRSIGsOfASignedZone(t *testing.T) {
	s := dnstest.StartT(t, dnstest.Config{Zones: []dnstest.Zone{
		{Origin: "signed.test.", File: dnstest.ZonePath("signed.test.zone"), Sign: true},
	}})
	c := dnstest.ClientT(t, 0, s.Addr())
	a, _ := dcQuery(t, c, "_oci-discovery.signed.test", dns.TypeTXT)
	if len(a.Records) != 1 || len(a.Sigs) != 1 || a.Sigs[0].TypeCovered != dns.TypeTXT || a.Sigs[0].SignerName != "signed.test." {
		t.Errorf("records %v sigs %v", a.Records, a.Sigs)
	}
	for _, rr := range a.Records {
		if rr.Header().Rrtype == dns.TypeRRSIG {
			t.Errorf("RRSIG among Records: %v", rr)
		}
	}
	// A negative answer keeps the signed SOA and the NSEC proofs' RRSIGs.
	a, _ = dcQuery(t, c, "nothing.signed.test", dns.TypeTXT)
	covered := map[uint16]bool{}
	for _, s := range a.AuthoritySigs {
		covered[s.TypeCovered] = true
	}
	if a.SOA == nil || !covered[dns.TypeSOA] || !covered[dns.TypeNSEC] {
		t.Errorf("SOA %v, authority sigs cover %v; want SOA and NSEC", a.SOA, covered)
	}
	// A CNAME's signature is kept apart from the data's.
	a, _ = dcQuery(t, c, "www.signed.test", dns.TypeA)
	if len(a.CNAMEs) != 1 || len(a.CNAMESigs) != 1 || a.CNAMESigs[0].TypeCovered != dns.TypeCNAME || len(a.Sigs) != 1 || a.Sigs[0].TypeCovered != dns.TypeA {
		t.Errorf("CNAMEs %v CNAMESigs %v Sigs %v", a.CNAMEs, a.CNAMESigs, a.Sigs)
	}
}

func TestQueryADBitIsKeptAndTraced(t *testing.T) {
	s := dnstest.StartT(t, dnstest.Config{AD: true, Zones: []dnstest.Zone{
		{Origin: "signed.test.", File: dnstest.ZonePath("signed.test.zone"), Sign: true},
		{Origin: "client.test.", File: dnstest.ZonePath("client.test.zone")},
	}})
	c := dnstest.ClientT(t, 0, s.Addr())
	a, evs := dcQuery(t, c, "_oci-discovery.signed.test", dns.TypeTXT)
	if !a.AD || evs[0].DNSSEC != "ad" {
		t.Errorf("AD %v event %+v", a.AD, evs[0])
	}
	a, evs = dcQuery(t, c, "multi.client.test", dns.TypeTXT)
	if a.AD || evs[0].DNSSEC != "" {
		t.Errorf("unsigned: AD %v event %+v", a.AD, evs[0])
	}
}

func TestQueryRejectsAnInvalidName(t *testing.T) {
	c := dnstest.ClientT(t, 0, "127.0.0.1:1")
	_, err := c.Query(context.Background(), "a..b", dns.TypeTXT)
	var de *dnsclient.Error
	if !errors.As(err, &de) || !errors.Is(err, dnsclient.ErrUnknown) || de.Server != "" {
		t.Errorf("err %v, want a *dnsclient.Error before any server is asked", err)
	}
}

func BenchmarkQueryTXT(b *testing.B) {
	s := dcStart(b, dnstest.Config{})
	c := dnstest.ClientT(b, 0, s.Addr())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Query(ctx, "multi.client.test.", dns.TypeTXT); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQueryTXTTraced(b *testing.B) {
	s := dcStart(b, dnstest.Config{})
	c := dnstest.ClientT(b, 0, s.Addr())
	b.ReportAllocs()
	for b.Loop() {
		ctx := trace.NewContext(context.Background(), trace.New(nil))
		if _, err := c.Query(ctx, "multi.client.test.", dns.TypeTXT); err != nil {
			b.Fatal(err)
		}
	}
}
