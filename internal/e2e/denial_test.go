package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// Names absent from the lab's zones, as BIND's dnssec-signzone proves it:
// with NSEC3 (salt 5ca1ab1e, 5 iterations) in acme.lab.test, with NSEC in
// lab.test. The in-process validator, asking BIND directly, finds each
// denial secure, and bogus once its proof is stripped; unbound, validating
// the same denial, sets the AD bit.
func TestAbsentNamesAreSecureDenials(t *testing.T) {
	l := needLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dc := dnstest.ClientT(t, 0, l.bind)
	v := dnssec.NewValidator(dc, append(dnssec.RootAnchors(), labAnchors(t, l)...), nil)
	uc := dnstest.ClientT(t, 0, l.unbound)
	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
		proof uint16
	}{
		{"nothing.acme.lab.test.", dns.TypeTXT, dns.RcodeNameError, dns.TypeNSEC3},
		{"_oci-discovery.nothing.acme.lab.test.", dns.TypeTXT, dns.RcodeNameError, dns.TypeNSEC3},
		{"_oci-discovery.acme.lab.test.", dns.TypeSRV, dns.RcodeSuccess, dns.TypeNSEC3},
		{"unsigned.lab.test.", dns.TypeDS, dns.RcodeSuccess, dns.TypeNSEC},
		{"nothing.lab.test.", dns.TypeTXT, dns.RcodeNameError, dns.TypeNSEC},
	} {
		t.Run(dns.Type(tc.qtype).String()+" "+tc.name, func(t *testing.T) {
			a, err := dc.Query(ctx, tc.name, tc.qtype)
			if err != nil || a.Rcode != tc.rcode || len(a.Records) != 0 {
				t.Fatalf("BIND: %+v (%v), want %s without records", a, err, dns.RcodeToString[tc.rcode])
			}
			proofs := 0
			for _, rr := range a.Denial {
				if rr.Header().Rrtype != tc.proof {
					t.Errorf("proof record %v, want %s", rr, dns.Type(tc.proof))
				}
				if n, ok := rr.(*dns.NSEC3); ok && (n.Iterations != 5 || !strings.EqualFold(n.Salt, "5ca1ab1e")) {
					t.Errorf("NSEC3 parameters %v, want salt 5ca1ab1e and 5 iterations (.ci/e2e-up.sh)", n)
				}
				proofs++
			}
			if proofs == 0 {
				t.Fatalf("BIND sent no %s proof: %v", dns.Type(tc.proof), a.Msg)
			}
			sec, err := v.Validate(ctx, a)
			if sec != dnssec.Secure || err != nil {
				t.Errorf("in-process: %v %v, want a secure denial", sec, err)
			}
			stripped := *a
			stripped.Denial = nil
			if sec, err := v.Validate(ctx, &stripped); sec != dnssec.Bogus || !errors.Is(err, dnssec.ErrDenialNotProven) {
				t.Errorf("proof stripped: %v %v, want bogus, denial not proven", sec, err)
			}

			ua, err := uc.Query(ctx, tc.name, tc.qtype)
			if err != nil || ua.Rcode != tc.rcode || !ua.AD {
				t.Errorf("unbound: %+v (%v), want %s with AD", ua, err, dns.RcodeToString[tc.rcode])
			}
		})
	}
}
