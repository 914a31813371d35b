package dnssec_test

import (
	"context"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
)

// On a warm validator, validating a secure answer allocates nothing beyond
// the signature verification itself (miekg/dns's RRSIG.Verify): no
// message is worded and no error value made when nobody reads them (no
// trace), even when a failing signature comes before the good one (a key
// rollover: an expired RRSIG, then a fresh one).
func TestWarmSecureValidationAllocatesOnlyInVerify(t *testing.T) {
	l := startLab(t, testZones(0))
	a := l.ask(t, "_oci-discovery.corp.example.", dns.TypeTXT)
	keys, err := l.srv.DNSKEYs("corp.example.")
	if err != nil {
		t.Fatal(err)
	}
	var zsk *dns.DNSKEY
	for _, k := range keys {
		if k := k.(*dns.DNSKEY); k.KeyTag() == a.Sigs[0].KeyTag {
			zsk = k
		}
	}
	verify := testing.AllocsPerRun(100, func() {
		if err := a.Sigs[0].Verify(zsk, a.Records); err != nil {
			t.Fatal(err)
		}
	})

	expired := dns.Copy(a.Sigs[0]).(*dns.RRSIG)
	expired.Expiration = expired.Inception + 1
	rollover := *a
	rollover.Sigs = []*dns.RRSIG{expired, a.Sigs[0]}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		a    func() *dnsclient.Answer
	}{
		{"one good RRSIG", func() *dnsclient.Answer { return a }},
		{"an expired RRSIG before the good one", func() *dnsclient.Answer { return &rollover }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans := tc.a()
			if sec, err := l.v.Validate(ctx, ans); sec != dnssec.Secure {
				t.Fatalf("%v %v", sec, err)
			}
			got := testing.AllocsPerRun(100, func() { l.v.Validate(ctx, ans) })
			if got > verify {
				t.Errorf("Validate allocates %v times, RRSIG.Verify alone %v: the validator's own code allocates on success", got, verify)
			}
		})
	}
}
