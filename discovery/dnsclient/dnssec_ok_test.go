package dnsclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// The DO bit (RFC 3225) asks for RRSIGs and NSEC records. A client
// configured with DNSSEC off (--dnssec off) clears it, so that signatures
// and denial proofs are neither downloaded nor decoded; by default it is set.
func TestDNSSECOffAsksWithoutTheDOBit(t *testing.T) {
	s := dnstest.StartT(t, dnstest.Config{Zones: []dnstest.Zone{
		{Origin: "signed.test.", File: dnstest.ZonePath("signed.test.zone"), Sign: true},
	}})
	for _, tc := range []struct {
		name    string
		off     bool
		without bool // through WithoutDNSSEC
		nsecs   bool
	}{
		{"DNSSEC on (default): DO set", false, false, true},
		{"DNSSEC off: DO clear", true, false, false},
		{"WithoutDNSSEC: DO clear", false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dnsclient.New(dnsclient.Config{Servers: []string{s.Addr()}, Attempts: 1, NoDNSSEC: tc.off})
			if err != nil {
				t.Fatal(err)
			}
			if tc.without {
				c = c.WithoutDNSSEC()
			}
			a, _ := dcQuery(t, c, "_oci-discovery.signed.test", dns.TypeTXT)
			if len(a.Records) == 0 || (len(a.Sigs) > 0) != tc.nsecs {
				t.Errorf("TXT: %d records, %d RRSIGs; want RRSIGs %v", len(a.Records), len(a.Sigs), tc.nsecs)
			}
			neg, _ := dcQuery(t, c, "nothing-here.signed.test", dns.TypeTXT)
			nsec := 0
			for _, rr := range neg.Msg.Ns {
				if rr.Header().Rrtype == dns.TypeNSEC {
					nsec++
				}
			}
			if (nsec > 0) != tc.nsecs || (len(neg.AuthoritySigs) > 0) != tc.nsecs {
				t.Errorf("denial: %d NSEC, %d RRSIGs; want them %v", nsec, len(neg.AuthoritySigs), tc.nsecs)
			}
			// The answer carries the proof for a validator.
			if len(neg.Denial) != nsec {
				t.Errorf("Denial holds %d records, the authority section %d NSEC", len(neg.Denial), nsec)
			}
			if opt := neg.Msg.IsEdns0(); opt == nil || opt.Do() != tc.nsecs {
				t.Errorf("answer's OPT %v: want EDNS0 with DO %v echoed", opt, tc.nsecs)
			}
		})
	}
}

// A resolver or middlebox that cannot handle DNSSEC queries answers
// SERVFAIL to the DO bit: the question is asked again without it, and the
// answer says so (it carries no signatures). A server that fails the
// question either way still fails it.
func TestServFailWithTheDOBitIsAskedAgainWithout(t *testing.T) {
	s := dnstest.StartT(t, dnstest.Config{Zones: []dnstest.Zone{
		{Origin: "signed.test.", File: dnstest.ZonePath("signed.test.zone"), Sign: true},
	}})
	c := dnstest.ClientT(t, 0, s.Addr())
	s.SetServerFault(dnstest.FaultServFailDO)
	a, evs := dcQuery(t, c, "_oci-discovery.signed.test", dns.TypeTXT)
	if !a.WithoutDO || len(a.Records) != 1 || len(a.Sigs) != 0 {
		t.Errorf("WithoutDO %v, %d records, %d RRSIGs; want the TXT, asked without DO", a.WithoutDO, len(a.Records), len(a.Sigs))
	}
	said := false
	for _, e := range evs {
		said = said || strings.Contains(e.Decision, "asking again without it")
	}
	if !said {
		t.Errorf("no trace event says why it asked again: %+v", evs)
	}

	s.SetServerFault(dnstest.FaultNone)
	if a, _ := dcQuery(t, c, "_oci-discovery.signed.test", dns.TypeTXT); a.WithoutDO || len(a.Sigs) == 0 {
		t.Errorf("a healthy server: WithoutDO %v, %d RRSIGs", a.WithoutDO, len(a.Sigs))
	}
	s.SetServerFault(dnstest.FaultServFail)
	s.ResetCounts()
	if _, err := c.Query(context.Background(), "_oci-discovery.signed.test", dns.TypeTXT); !errors.Is(err, dnsclient.ErrUnknown) {
		t.Errorf("SERVFAIL either way: %v, want an unknown answer", err)
	}
	if n, do := s.TotalQueries(), s.QueriesWithDO(); n != 2 || do != 1 {
		t.Errorf("%d queries (%d with DO), want one with DO and one without", n, do)
	}
}
