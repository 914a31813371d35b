package dnstest

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The KeyTrap zone of CVE-2023-50387: extra DNSKEYs that share the ZSK's
// key tag (and still chain: the KSK signs the whole DNSKEY RRset), and
// bogus RRSIGs over data ahead of the genuine one.
func TestKeyTrapZoneHasCollidingKeysAndBogusSignatures(t *testing.T) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			zones := signedZones(alg, false)[:1]
			zones[0].CollidingKeys, zones[0].BogusSigs = 5, 3
			s := StartT(t, Config{Zones: zones})
			keys := dnskeys(t, s, "signed.test.") // verifies the RRset with the KSK
			if len(keys) != 2+5 {
				t.Fatalf("%d DNSKEYs, want KSK, ZSK and 5 colliding", len(keys))
			}
			zsk := keys[1].(*dns.DNSKEY)
			if zsk.Flags != dns.ZONE {
				t.Fatalf("second key has flags %d, want the ZSK", zsk.Flags)
			}
			for _, rr := range keys[2:] {
				k := rr.(*dns.DNSKEY)
				if k.KeyTag() != zsk.KeyTag() || k.Algorithm != alg || k.Flags&dns.ZONE == 0 || k.Flags&dns.REVOKE != 0 || k.PublicKey == zsk.PublicKey {
					t.Errorf("colliding key %v: tag %d (ZSK %d), flags %d", k, k.KeyTag(), zsk.KeyTag(), k.Flags)
				}
			}

			r := ask(t, s, "tcp", "_oci-discovery.signed.test", dns.TypeTXT, true, true)
			set, sigs := rrsetAndSigs(r.Answer, dns.TypeTXT)
			if len(sigs) != 3+1 {
				t.Fatalf("%d RRSIGs, want 3 bogus and the genuine one", len(sigs))
			}
			for i, sig := range sigs {
				err := verify(set, []*dns.RRSIG{sig}, keys, time.Now())
				if genuine := i == len(sigs)-1; genuine != (err == nil) {
					t.Errorf("RRSIG %d of %d: verify error %v", i+1, len(sigs), err)
				}
				if sig.KeyTag != zsk.KeyTag() {
					t.Errorf("RRSIG %d claims key %d, want the ZSK's %d", i+1, sig.KeyTag, zsk.KeyTag())
				}
			}
			// Negative answers stay small: their SOA carries one RRSIG.
			r = ask(t, s, "tcp", "nothing.signed.test", dns.TypeTXT, true, true)
			if _, soaSigs := rrsetAndSigs(r.Ns, dns.TypeSOA); len(soaSigs) != 1 {
				t.Errorf("SOA of a denial with %d RRSIGs, want 1", len(soaSigs))
			}
		})
	}
}

func TestKeyTrapOptionsNeedASignedZone(t *testing.T) {
	for _, z := range []Zone{
		{Origin: "signed.test.", File: ZonePath("signed.test.zone"), CollidingKeys: 1},
		{Origin: "signed.test.", File: ZonePath("signed.test.zone"), Sign: true, BogusSigs: -1},
		{Origin: "signed.test.", File: ZonePath("signed.test.zone"), Sign: true, CollidingKeys: maxAttackRecords + 1},
		{Origin: "signed.test.", File: ZonePath("signed.test.zone"), Sign: true, Algorithm: dns.RSASHA256, CollidingKeys: 1},
	} {
		t.Run(z.Origin, func(t *testing.T) {
			if s, err := Start(Config{Zones: []Zone{z}}); err == nil {
				s.Close()
				t.Errorf("zone %+v accepted", z)
			} else if !strings.Contains(err.Error(), "signed.test.") {
				t.Errorf("error %q does not name the zone", err)
			}
		})
	}
}
