package dnstest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func signedZones(alg uint8, csk bool) []Zone {
	return []Zone{
		{Origin: "signed.test.", File: ZonePath("signed.test.zone"), Sign: true, Algorithm: alg, CSK: csk},
		{Origin: "sub.signed.test.", File: ZonePath("sub.signed.test.zone"), Sign: true, Algorithm: alg, CSK: csk},
	}
}

// rrsetAndSigs splits an answer section into the RRset of qtype and the
// RRSIGs over it.
func rrsetAndSigs(rrs []dns.RR, qtype uint16) (set []dns.RR, sigs []*dns.RRSIG) {
	for _, rr := range rrs {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == qtype {
			sigs = append(sigs, s)
		} else if rr.Header().Rrtype == qtype {
			set = append(set, rr)
		}
	}
	return set, sigs
}

// verify checks that one of sigs verifies set with one of keys and is
// valid at now.
func verify(set []dns.RR, sigs []*dns.RRSIG, keys []dns.RR, now time.Time) error {
	if len(sigs) == 0 {
		return fmt.Errorf("no RRSIG")
	}
	var errs []string
	for _, sig := range sigs {
		for _, k := range keys {
			k := k.(*dns.DNSKEY)
			if k.KeyTag() != sig.KeyTag {
				continue
			}
			if err := sig.Verify(k, set); err != nil {
				errs = append(errs, err.Error())
				continue
			}
			if !sig.ValidityPeriod(now) {
				errs = append(errs, "outside validity period")
				continue
			}
			return nil
		}
	}
	return fmt.Errorf("no signature verifies: %v", errs)
}

func dnskeys(t *testing.T, s *Server, zone string) []dns.RR {
	t.Helper()
	r := ask(t, s, "tcp", zone, dns.TypeDNSKEY, true, true)
	keys, sigs := rrsetAndSigs(r.Answer, dns.TypeDNSKEY)
	if err := verify(keys, sigs, keys, time.Now()); err != nil {
		t.Fatalf("DNSKEY %s: %v", zone, err)
	}
	return keys
}

func TestSignedZonesChainFromTheTrustAnchor(t *testing.T) {
	for _, alg := range []uint8{dns.RSASHA256, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519} {
		for _, csk := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/csk=%v", dns.AlgorithmToString[alg], csk), func(t *testing.T) {
				s := StartT(t, Config{Zones: signedZones(alg, csk)})
				anchors := s.TrustAnchors()
				if len(anchors) != 1 || anchors[0].Header().Name != "signed.test." {
					t.Fatalf("TrustAnchors = %v, want the DS of signed.test. only", anchors)
				}
				if ak := s.TrustAnchorKeys(); len(ak) != 1 || ak[0].(*dns.DNSKEY).Flags != 257 {
					t.Fatalf("TrustAnchorKeys = %v, want one KSK", ak)
				}
				parentKeys := dnskeys(t, s, "signed.test.")
				wantKeys := 2
				if csk {
					wantKeys = 1
				}
				if len(parentKeys) != wantKeys {
					t.Fatalf("%d DNSKEYs, want %d", len(parentKeys), wantKeys)
				}
				// The anchor matches a key of the DNSKEY RRset.
				ds := anchors[0].(*dns.DS)
				matched := false
				for _, k := range parentKeys {
					if d := k.(*dns.DNSKEY).ToDS(ds.DigestType); d != nil && strings.EqualFold(d.Digest, ds.Digest) {
						matched = true
					}
				}
				if !matched {
					t.Fatalf("trust anchor %v matches no DNSKEY", ds)
				}
				// The child's DS is served by the parent, signed by it, and
				// matches the child's KSK.
				r := ask(t, s, "udp", "sub.signed.test", dns.TypeDS, true, true)
				set, sigs := rrsetAndSigs(r.Answer, dns.TypeDS)
				if err := verify(set, sigs, parentKeys, time.Now()); err != nil {
					t.Fatalf("DS sub.signed.test: %v", err)
				}
				if sigs[0].SignerName != "signed.test." {
					t.Errorf("DS signed by %s, want the parent", sigs[0].SignerName)
				}
				childKeys := dnskeys(t, s, "sub.signed.test.")
				childDS := set[0].(*dns.DS)
				found := false
				for _, k := range childKeys {
					if d := k.(*dns.DNSKEY).ToDS(childDS.DigestType); d != nil && strings.EqualFold(d.Digest, childDS.Digest) {
						found = true
					}
				}
				if !found {
					t.Errorf("child DS %v matches no child DNSKEY", childDS)
				}
				// Data in both zones verifies.
				for zone, keys := range map[string][]dns.RR{"signed.test.": parentKeys, "sub.signed.test.": childKeys} {
					r := ask(t, s, "udp", "_oci-discovery."+zone, dns.TypeTXT, true, true)
					set, sigs := rrsetAndSigs(r.Answer, dns.TypeTXT)
					if err := verify(set, sigs, keys, time.Now()); err != nil {
						t.Errorf("TXT in %s: %v", zone, err)
					}
				}
			})
		}
	}
}

func TestRRSIGsOnlyWithTheDOBit(t *testing.T) {
	s := StartT(t, Config{Zones: signedZones(0, false)})
	if r := ask(t, s, "udp", "_oci-discovery.signed.test", dns.TypeTXT, true, false); len(r.Answer) != 1 {
		t.Errorf("without DO: %v, want the TXT alone", r.Answer)
	}
	if r := ask(t, s, "udp", "_oci-discovery.signed.test", dns.TypeTXT, false, false); len(r.Answer) != 1 {
		t.Errorf("without EDNS: %v, want the TXT alone", r.Answer)
	}
	if r := ask(t, s, "udp", "_oci-discovery.signed.test", dns.TypeTXT, true, true); len(r.Answer) != 2 {
		t.Errorf("with DO: %v, want TXT and RRSIG", r.Answer)
	}
}

func TestSignedNegativeAnswersProveDenialWithNSEC(t *testing.T) {
	s := StartT(t, Config{Zones: signedZones(0, false)})
	keys := dnskeys(t, s, "signed.test.")
	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{"nothing.signed.test", dns.TypeTXT, dns.RcodeNameError},
		{"registry.signed.test", dns.TypeTXT, dns.RcodeSuccess},
		{"wild.signed.test", dns.TypeTXT, dns.RcodeSuccess}, // empty non-terminal
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ask(t, s, "udp", tc.name, tc.qtype, true, true)
			if r.Rcode != tc.rcode {
				t.Errorf("%s: rcode %s", tc.name, dns.RcodeToString[r.Rcode])
			}
			soa, soaSigs := rrsetAndSigs(r.Ns, dns.TypeSOA)
			for _, rr := range soa { // the negative TTL is lower than the signed one
				rr.Header().Ttl = soaSigs[0].OrigTtl
			}
			if err := verify(soa, soaSigs, keys, time.Now()); err != nil {
				t.Errorf("%s: SOA: %v", tc.name, err)
			}
			nsecs, nsecSigs := rrsetAndSigs(r.Ns, dns.TypeNSEC)
			if len(nsecs) == 0 {
				t.Errorf("%s: no NSEC in %v", tc.name, r.Ns)
				return
			}
			for _, n := range nsecs {
				var mine []*dns.RRSIG
				for _, sig := range nsecSigs {
					if sig.Hdr.Name == n.Header().Name {
						mine = append(mine, sig)
					}
				}
				if err := verify([]dns.RR{n}, mine, keys, time.Now()); err != nil {
					t.Errorf("%s: %v: %v", tc.name, n, err)
				}
			}
			switch tc.rcode {
			case dns.RcodeNameError:
				if !covers(nsecs[0].(*dns.NSEC), tc.name+".") {
					t.Errorf("%s: %v does not cover the name", tc.name, nsecs[0])
				}
			default:
				n := nsecs[0].(*dns.NSEC)
				if n.Hdr.Name == tc.name+"." {
					for _, typ := range n.TypeBitMap {
						if typ == tc.qtype {
							t.Errorf("%s: NSEC bitmap has the type denied: %v", tc.name, n)
						}
					}
				} else if !covers(n, tc.name+".") {
					t.Errorf("%s: NSEC %v neither matches nor covers the name", tc.name, n)
				}
			}
		})
	}
}

func TestSignedWildcardAnswerCarriesTheWildcardSignature(t *testing.T) {
	s := StartT(t, Config{Zones: signedZones(0, false)})
	keys := dnskeys(t, s, "signed.test.")
	r := ask(t, s, "udp", "x.wild.signed.test", dns.TypeTXT, true, true)
	set, sigs := rrsetAndSigs(r.Answer, dns.TypeTXT)
	if len(sigs) != 1 || sigs[0].Labels != 3 {
		t.Fatalf("sigs %v, want one with 3 labels (*.wild.signed.test)", sigs)
	}
	// RFC 4035 §5.3.2: the verifier rebuilds the wildcard owner from Labels.
	if err := verify(set, sigs, keys, time.Now()); err != nil {
		t.Error(err)
	}
}

func TestChildWithoutDSIsNoTrustAnchorAndHasNoDSInParent(t *testing.T) {
	zones := signedZones(0, false)
	zones[1].NoDS = true
	s := StartT(t, Config{Zones: zones})
	if a := s.TrustAnchors(); len(a) != 1 || a[0].Header().Name != "signed.test." {
		t.Errorf("TrustAnchors = %v", a)
	}
	r := ask(t, s, "udp", "sub.signed.test", dns.TypeDS, true, true)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("DS of a NoDS child: %v, want NODATA", r)
	}
	if _, sigs := rrsetAndSigs(r.Ns, dns.TypeNSEC); len(sigs) == 0 {
		t.Errorf("NODATA for DS without a signed NSEC: %v", r.Ns)
	}
	// The child itself is still signed.
	dnskeys(t, s, "sub.signed.test.")
}

func TestUnsignedChildUnderSignedParentHasNoDS(t *testing.T) {
	zones := signedZones(0, false)
	zones[1].Sign = false
	s := StartT(t, Config{Zones: zones})
	if r := ask(t, s, "udp", "sub.signed.test", dns.TypeDS, true, true); len(r.Answer) != 0 {
		t.Errorf("DS of an unsigned child: %v", r.Answer)
	}
	if r := ask(t, s, "udp", "_oci-discovery.sub.signed.test", dns.TypeTXT, true, true); len(r.Answer) != 1 {
		t.Errorf("unsigned child with DO: %v, want the TXT without RRSIG", r.Answer)
	}
	if _, err := s.DS("sub.signed.test"); err == nil {
		t.Error("DS of an unsigned zone: no error")
	}
}

func TestStrippedChildIsServedUnsignedWhileTheParentHasItsDS(t *testing.T) {
	zones := signedZones(0, false)
	zones[1].StripSigs = true
	s := StartT(t, Config{Zones: zones})
	if r := ask(t, s, "udp", "sub.signed.test", dns.TypeDS, true, true); len(r.Answer) != 2 {
		t.Errorf("DS of a stripped child: %v, want DS and RRSIG", r.Answer)
	}
	if r := ask(t, s, "udp", "sub.signed.test", dns.TypeDNSKEY, true, true); len(r.Answer) != 0 {
		t.Errorf("DNSKEY of a stripped child: %v, want none", r.Answer)
	}
	if r := ask(t, s, "udp", "_oci-discovery.sub.signed.test", dns.TypeTXT, true, true); len(r.Answer) != 1 {
		t.Errorf("TXT of a stripped child: %v, want no RRSIG", r.Answer)
	}
}

func TestTamperedRRsetNoLongerVerifies(t *testing.T) {
	s := StartT(t, Config{Zones: signedZones(0, false)})
	keys := dnskeys(t, s, "signed.test.")
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"_oci-discovery.signed.test", dns.TypeTXT},
		{"registry.signed.test", dns.TypeA},
		{"sub.signed.test", dns.TypeDS},
	} {
		t.Run(dns.Type(q.qtype).String()+" "+q.name, func(t *testing.T) {
			if err := s.Tamper(q.name, q.qtype); err != nil {
				t.Fatal(err)
			}
			r := ask(t, s, "udp", q.name, q.qtype, true, true)
			set, sigs := rrsetAndSigs(r.Answer, q.qtype)
			if err := verify(set, sigs, keys, time.Now()); err == nil {
				t.Errorf("%s %s verifies after Tamper", dns.Type(q.qtype), q.name)
			}
		})
	}
	if err := s.Tamper("nothing.signed.test", dns.TypeTXT); err == nil || !strings.Contains(err.Error(), "nothing.signed.test") {
		t.Errorf("Tamper of a missing RRset: %v", err)
	}
}

func TestExpiredSignatures(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	zones := signedZones(0, false)
	zones[1].Expired = true
	s := StartT(t, Config{Zones: zones, Now: func() time.Time { return now }})
	check := func(zone string, wantValid bool) {
		t.Helper()
		r := ask(t, s, "udp", "_oci-discovery."+zone, dns.TypeTXT, true, true)
		_, sigs := rrsetAndSigs(r.Answer, dns.TypeTXT)
		if len(sigs) == 0 || sigs[0].ValidityPeriod(now) != wantValid {
			t.Errorf("%s: sigs %v, want valid=%v at %v", zone, sigs, wantValid, now)
		}
	}
	check("signed.test.", true)
	check("sub.signed.test.", false)
	if err := s.ResignExpired("signed.test"); err != nil {
		t.Fatal(err)
	}
	check("signed.test.", false)
	if err := s.ResignExpired("nowhere.test"); err == nil {
		t.Error("ResignExpired of an unknown zone: no error")
	}
}

func TestADBitOnlyForSecureData(t *testing.T) {
	zones := signedZones(0, false)
	zones[1].StripSigs = true
	zones = append(zones, Zone{Origin: "client.test.", File: ZonePath("client.test.zone")})
	s := StartT(t, Config{Zones: zones, AD: true})
	if err := s.Tamper("registry.signed.test", dns.TypeA); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		qtype uint16
		ad    bool
	}{
		{"_oci-discovery.signed.test", dns.TypeTXT, true},
		{"nothing.signed.test", dns.TypeTXT, true},
		{"registry.signed.test", dns.TypeA, false},             // tampered
		{"_oci-discovery.sub.signed.test", dns.TypeTXT, false}, // stripped
		{"multi.client.test", dns.TypeTXT, false},              // unsigned
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := ask(t, s, "udp", tc.name, tc.qtype, true, true); r.AuthenticatedData != tc.ad {
				t.Errorf("%s %s: AD %v, want %v", dns.Type(tc.qtype), tc.name, r.AuthenticatedData, tc.ad)
			}
		})
	}
}

// covers reports whether name falls strictly between the NSEC's owner and
// its next name in canonical order (the last NSEC wraps to the apex).
func covers(n *dns.NSEC, name string) bool {
	after := canonicalCompare(n.Hdr.Name, name) < 0
	if canonicalCompare(n.NextDomain, n.Hdr.Name) <= 0 {
		return after
	}
	return after && canonicalCompare(name, n.NextDomain) < 0
}

func TestTamperChangesEveryKindOfRecordItKnows(t *testing.T) {
	for _, text := range []string{
		`a.test. 60 IN TXT "x"`,
		`a.test. 60 IN A 192.0.2.1`,
		`a.test. 60 IN AAAA 2001:db8::1`,
		`a.test. 60 IN SRV 1 2 443 r.test.`,
		`a.test. 60 IN CNAME b.test.`,
		`a.test. 60 IN NS ns.test.`,
		`a.test. 60 IN MX 10 mx.test.`,
		`a.test. 60 IN PTR p.test.`,
		`a.test. 60 IN SOA ns h 1 2 3 4 5`,
		`a.test. 60 IN DS 1 13 2 ABCD`,
		`a.test. 60 IN DNSKEY 257 3 13 AAAA`,
	} {
		rr, err := dns.NewRR(text)
		if err != nil {
			t.Fatal(err)
		}
		orig := rr.String()
		got, err := tamper(rr)
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		if rr.String() != orig {
			t.Errorf("%s: the original was modified", text)
		}
		if got.String() == orig {
			t.Errorf("%s: unchanged", text)
		}
	}
	rr, _ := dns.NewRR(`a.test. 60 IN HINFO "cpu" "os"`)
	if _, err := tamper(rr); err == nil || !strings.Contains(err.Error(), "TamperFunc") {
		t.Errorf("HINFO: %v", err)
	}
}

func TestTamperFuncAndKeysOfAZone(t *testing.T) {
	s := StartT(t, Config{Zones: signedZones(0, false)})
	keys, err := s.DNSKEYs("sub.signed.test")
	if err != nil || len(keys) != 2 || keys[0].(*dns.DNSKEY).Flags != 257 || keys[1].(*dns.DNSKEY).Flags != 256 {
		t.Fatalf("DNSKEYs: %v %v, want KSK then ZSK", keys, err)
	}
	ds, err := s.DS("sub.signed.test.")
	if err != nil || len(ds) != 1 || ds[0].(*dns.DS).KeyTag != keys[0].(*dns.DNSKEY).KeyTag() {
		t.Fatalf("DS: %v %v", ds, err)
	}
	if _, err := s.DNSKEYs("nowhere.test"); err == nil {
		t.Error("DNSKEYs of an unknown zone: no error")
	}
	err = s.TamperFunc("_oci-discovery.sub.signed.test", dns.TypeTXT, func(rr dns.RR) (dns.RR, error) {
		rr.(*dns.TXT).Txt = []string{"v=oci1; registry=https://evil.example"}
		return rr, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := ask(t, s, "udp", "_oci-discovery.sub.signed.test", dns.TypeTXT, true, true)
	set, sigs := rrsetAndSigs(r.Answer, dns.TypeTXT)
	if len(set) != 1 || set[0].(*dns.TXT).Txt[0] != "v=oci1; registry=https://evil.example" {
		t.Fatalf("answer %v", r.Answer)
	}
	if verify(set, sigs, keys, time.Now()) == nil {
		t.Error("forged TXT verifies")
	}
}
