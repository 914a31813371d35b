package dnsclient_test

import (
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
