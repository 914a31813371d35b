package dnssec_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// trapLab serves trap.example., signed and its own trust anchor, with
// keys extra DNSKEYs sharing the ZSK's key tag and sigs bogus RRSIGs ahead
// of the genuine one over every data RRset (dnstest.Zone.CollidingKeys,
// BogusSigs): the KeyTrap attack, CVE-2023-50387.
func trapLab(t testing.TB, keys, sigs int) *lab {
	t.Helper()
	return startLab(t, []dnstest.Zone{{Origin: "trap.example.", Text: childZone("trap.example."), Sign: true,
		CollidingKeys: keys, BogusSigs: sigs}})
}

// A validator tries a bounded number of signatures per RRset and per
// validation, and a bounded number of keys per key tag, whatever the zone
// serves (docs/protocol.md §11): past a bound the answer is bogus, with
// ErrBudgetExceeded and a message that names the bound. Unbounded, 60
// keys × 100 RRSIGs are 6,000 signature verifications for one name (300
// × 300, 90,000, took 4.7 s of CPU).
func TestKeyTrapIsBogusWithinTheSignatureBudget(t *testing.T) {
	for _, tc := range []struct {
		name       string
		keys, sigs int
		onlyBogus  bool // drop the genuine RRSIG from the answer
		says       string
	}{
		{"60 keys share the ZSK's tag, 100 bogus RRSIGs", 60, 100, false, "more than 8 signature verifications for one RRset"},
		{"20 bogus RRSIGs before the genuine one", 0, 20, false, "more than 8 signature verifications for one RRset"},
		{"one bogus RRSIG, its tag shared by 11 keys", 10, 1, true, "11 keys share key tag"},
		{"80 keys in the DNSKEY RRset", 78, 0, false, "DNSKEY RRset of 80 keys, more than 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := trapLab(t, tc.keys, tc.sigs)
			a := l.ask(t, "_oci-discovery.trap.example.", dns.TypeTXT)
			if tc.onlyBogus {
				a.Sigs = a.Sigs[:len(a.Sigs)-1]
			}
			sec, err := l.v.Validate(context.Background(), a)
			be := wantBogus(t, tc.name, sec, err, tc.says)
			if !errors.Is(err, dnssec.ErrBudgetExceeded) || be.Kind != dnssec.ErrBudgetExceeded {
				t.Errorf("Kind %v, want ErrBudgetExceeded: %v", be.Kind, err)
			}
			if v := dnssec.Verdict(sec, err); v != dnssec.Bogus {
				t.Errorf("Verdict %v, want bogus: an attack is not an unreachable chain", v)
			}
		})
	}
}

// Key tags collide by chance too (a 16-bit checksum): a few keys of one
// tag, with the signing key among the first tried, still validate.
func TestFewKeysSharingATagStillValidate(t *testing.T) {
	l := trapLab(t, 3, 0)
	sec, err := l.validate(t, "_oci-discovery.trap.example.", dns.TypeTXT)
	wantSecurity(t, "3 colliding keys after the ZSK", sec, err, dnssec.Secure)
}

// A validation whose caller has gone stops before its next signature
// verification: abandoned requests must not go on burning CPU. Here the
// zone's keys are cached, so nothing but signatures is left to check, and
// the context is already cancelled.
func TestValidateStopsVerifyingWhenItsContextEnds(t *testing.T) {
	l := trapLab(t, 60, 100)
	a := l.ask(t, "_oci-discovery.trap.example.", dns.TypeTXT)
	warm(t, l.v, a)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sec, err := l.v.Validate(ctx, a)
	wantBogus(t, "cancelled validation", sec, err, "context canceled")
	if !errors.Is(err, context.Canceled) || !errors.Is(err, dnssec.ErrChainUnavailable) {
		t.Errorf("error %v: want context.Canceled and ErrChainUnavailable (not checked, rather than forged)", err)
	}
	if errors.Is(err, dnssec.ErrBadSignature) || errors.Is(err, dnssec.ErrBudgetExceeded) {
		t.Errorf("error %v: no signature may be checked after the context ended", err)
	}
}

// BenchmarkValidateKeyTrap is the CPU one name costs on a warm validator
// (the zone's keys cached): a genuine answer, beside KeyTrap answers: 300
// keys sharing the ZSK's tag and 300 bogus RRSIGs (the zone of the issue),
// and 60 keys (under the DNSKEY RRset bound, so that the signature bounds
// do the work) with 300 bogus RRSIGs. The ratio to the genuine answer is
// the attack's amplification.
//
//	go test -run '^$' -bench BenchmarkValidateKeyTrap -benchtime 20x ./discovery/dnssec/
func BenchmarkValidateKeyTrap(b *testing.B) {
	for _, tc := range []struct {
		name       string
		keys, sigs int
	}{
		{"genuine answer", 0, 0},
		{"300 colliding keys x 300 bogus RRSIGs", 300, 300},
		{"60 colliding keys x 300 bogus RRSIGs", 60, 300},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := trapLab(b, tc.keys, tc.sigs)
			a := l.ask(b, "_oci-discovery.trap.example.", dns.TypeTXT)
			warm(b, l.v, a)
			b.ReportAllocs()
			for b.Loop() {
				l.v.Validate(context.Background(), a)
			}
		})
	}
}

// warm validates a once, whatever the verdict, so that its zone's keys
// are cached.
func warm(tb testing.TB, v *dnssec.Validator, a *dnsclient.Answer) {
	tb.Helper()
	if _, err := v.Validate(context.Background(), a); errors.Is(err, dnssec.ErrChainUnavailable) {
		tb.Fatalf("warming up: %v", err)
	}
}

// A DS RRset is bounded too: each DS record is digested against the
// child's keys of its tag.
func TestDSRRsetOverTheBoundIsBogus(t *testing.T) {
	parent := parentZone + "many NS ns.corp\n"
	for i := range 17 {
		parent += fmt.Sprintf("many DS %d 13 2 %064x\n", 1000+i, i)
	}
	l := startLab(t, []dnstest.Zone{
		{Origin: "example.", Text: parent, Sign: true},
		{Origin: "many.example.", Text: childZone("many.example."), Sign: true, NoDS: true},
	})
	sec, err := l.validate(t, "_oci-discovery.many.example.", dns.TypeTXT)
	wantBogus(t, "17 DS records", sec, err, "DS RRset of 17 records, more than 16")
	if !errors.Is(err, dnssec.ErrBudgetExceeded) {
		t.Errorf("error %v does not wrap ErrBudgetExceeded", err)
	}
}
