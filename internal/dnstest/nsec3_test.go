package dnstest

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// nsec3Zones are signed.test with NSEC3 (salt and iterations), its child
// sub.signed.test (secure) and an unsigned delegation island.signed.test.
func nsec3Zones(optOut bool) []Zone {
	text := `$ORIGIN signed.test.
$TTL 3600
@		SOA	ns.signed.test. hostmaster.signed.test. 1 7200 900 1209600 300
		NS	ns
ns		A	127.0.0.1
_oci-discovery	TXT	"v=oci1; registry=https://registry.signed.test"
*.wild		TXT	"synthesized from a wildcard"
a.b.deep	TXT	"below two empty non-terminals"
sub		NS	ns.sub
ns.sub		A	127.0.0.1
island		NS	ns.sub
`
	return []Zone{
		{Origin: "signed.test.", Text: text, Sign: true, NSEC3: true, NSEC3Iterations: 7, NSEC3Salt: "cafe", NSEC3OptOut: optOut},
		{Origin: "sub.signed.test.", File: ZonePath("sub.signed.test.zone"), Sign: true},
	}
}

// nsec3s returns the NSEC3 records of a section, each checked to be signed
// by keys, with the zone's parameters.
func nsec3s(t *testing.T, what string, rrs []dns.RR, keys []dns.RR, optOut bool) []*dns.NSEC3 {
	t.Helper()
	set, sigs := rrsetAndSigs(rrs, dns.TypeNSEC3)
	var out []*dns.NSEC3
	for _, rr := range set {
		n := rr.(*dns.NSEC3)
		var mine []*dns.RRSIG
		for _, s := range sigs {
			if s.Hdr.Name == n.Hdr.Name {
				mine = append(mine, s)
			}
		}
		if err := verify([]dns.RR{n}, mine, keys, time.Now()); err != nil {
			t.Errorf("%s: %v: %v", what, n, err)
		}
		if n.Hash != dns.SHA1 || n.Iterations != 7 || n.Salt != "CAFE" && n.Salt != "cafe" || (n.Flags == 1) != optOut {
			t.Errorf("%s: parameters of %v", what, n)
		}
		out = append(out, n)
	}
	return out
}

func matching(ns []*dns.NSEC3, name string) *dns.NSEC3 {
	for _, n := range ns {
		if n.Match(name) {
			return n
		}
	}
	return nil
}

func covering(ns []*dns.NSEC3, name string) *dns.NSEC3 {
	for _, n := range ns {
		if n.Cover(name) {
			return n
		}
	}
	return nil
}

func hasType(types []uint16, t uint16) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// The NSEC3 proofs dnstest serves are checked with miekg/dns's own NSEC3
// matching, an implementation independent of both dnstest's chain and
// the validator's.
func TestSignedNegativeAnswersProveDenialWithNSEC3(t *testing.T) {
	s := StartT(t, Config{Zones: nsec3Zones(false)})
	keys := dnskeys(t, s, "signed.test.")
	if r := ask(t, s, "udp", "signed.test", dns.TypeNSEC3PARAM, true, true); len(r.Answer) != 2 {
		t.Errorf("NSEC3PARAM: %v, want it and its RRSIG", r.Answer)
	}

	// NXDOMAIN: the closest encloser matched, the next closer name and
	// the wildcard at the closest encloser covered.
	r := ask(t, s, "udp", "x.nothing.signed.test", dns.TypeTXT, true, true)
	ns := nsec3s(t, "NXDOMAIN", r.Ns, keys, false)
	// (Two when one record covers both names.)
	if r.Rcode != dns.RcodeNameError || len(ns) < 2 || len(ns) > 3 {
		t.Fatalf("NXDOMAIN: rcode %s, %d NSEC3: %v", dns.RcodeToString[r.Rcode], len(ns), r.Ns)
	}
	if matching(ns, "signed.test.") == nil || covering(ns, "nothing.signed.test.") == nil || covering(ns, "*.signed.test.") == nil {
		t.Errorf("NXDOMAIN proof incomplete: %v", ns)
	}

	// NODATA at a name, at an empty non-terminal, and for DS at a secure
	// and at an unsigned delegation: the name's own record.
	for _, tc := range []struct {
		name   string
		qtype  uint16
		has    []uint16
		hasNot []uint16
	}{
		{"_oci-discovery.signed.test.", dns.TypeSRV, []uint16{dns.TypeTXT, dns.TypeRRSIG}, []uint16{dns.TypeSRV}},
		{"b.deep.signed.test.", dns.TypeTXT, nil, []uint16{dns.TypeTXT, dns.TypeRRSIG}},
		{"island.signed.test.", dns.TypeDS, []uint16{dns.TypeNS}, []uint16{dns.TypeDS, dns.TypeRRSIG, dns.TypeSOA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ask(t, s, "udp", tc.name, tc.qtype, true, true)
			ns := nsec3s(t, tc.name, r.Ns, keys, false)
			m := matching(ns, tc.name)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || m == nil {
				t.Errorf("%s %s: rcode %s, answer %v, NSEC3 %v", tc.name, dns.Type(tc.qtype), dns.RcodeToString[r.Rcode], r.Answer, ns)
				return
			}
			for _, typ := range tc.has {
				if !hasType(m.TypeBitMap, typ) {
					t.Errorf("%s: bitmap %v lacks %s", tc.name, m.TypeBitMap, dns.Type(typ))
				}
			}
			for _, typ := range tc.hasNot {
				if hasType(m.TypeBitMap, typ) {
					t.Errorf("%s: bitmap %v has %s", tc.name, m.TypeBitMap, dns.Type(typ))
				}
			}
		})
	}
	if r := ask(t, s, "udp", "sub.signed.test", dns.TypeDS, true, true); len(r.Answer) != 2 {
		t.Errorf("DS of the secure child: %v", r.Answer)
	}

	// Wildcards: an answer proves the next closer name does not exist; a
	// NODATA proves that, and that the wildcard lacks the type.
	r = ask(t, s, "udp", "x.y.wild.signed.test", dns.TypeTXT, true, true)
	ns = nsec3s(t, "wildcard answer", r.Ns, keys, false)
	if len(r.Answer) != 2 || len(ns) != 1 || covering(ns, "y.wild.signed.test.") == nil {
		t.Errorf("wildcard answer: %v, proof %v", r.Answer, ns)
	}
	r = ask(t, s, "udp", "y.wild.signed.test", dns.TypeSRV, true, true)
	ns = nsec3s(t, "wildcard NODATA", r.Ns, keys, false)
	w := matching(ns, "*.wild.signed.test.")
	if len(r.Answer) != 0 || matching(ns, "wild.signed.test.") == nil || covering(ns, "y.wild.signed.test.") == nil || w == nil || hasType(w.TypeBitMap, dns.TypeSRV) {
		t.Errorf("wildcard NODATA: %v, proof %v", r.Answer, ns)
	}
}

// Under opt-out, the unsigned delegation has no record: its DS denial is
// the closest encloser's record and an opt-out record covering it, as it
// is in a referral.
func TestNSEC3OptOutLeavesUnsignedDelegationsOut(t *testing.T) {
	s := StartT(t, Config{Zones: nsec3Zones(true)})
	keys := dnskeys(t, s, "signed.test.")
	r := ask(t, s, "udp", "island.signed.test", dns.TypeDS, true, true)
	ns := nsec3s(t, "opt-out DS", r.Ns, keys, true)
	c := covering(ns, "island.signed.test.")
	if matching(ns, "island.signed.test.") != nil || matching(ns, "signed.test.") == nil || c == nil || c.Flags&1 == 0 {
		t.Errorf("DS of the unsigned delegation under opt-out: %v", ns)
	}
	r = ask(t, s, "udp", "www.island.signed.test", dns.TypeA, true, true)
	ns = nsec3s(t, "referral", r.Ns, keys, true)
	if r.Authoritative || covering(ns, "island.signed.test.") == nil {
		t.Errorf("referral to the unsigned child: %v", r.Ns)
	}
	// The secure delegation still has its record.
	r = ask(t, s, "udp", "sub.signed.test", dns.TypeDS, true, true)
	if len(r.Answer) != 2 {
		t.Errorf("DS of the secure child: %v", r.Answer)
	}
}

// With NSEC too, a wildcard answer carries the NSEC covering the name,
// and a wildcard NODATA that one and the wildcard's own.
func TestWildcardAnswersCarryTheirNSECProof(t *testing.T) {
	s := StartT(t, Config{Zones: signedZones(0, false)})
	r := ask(t, s, "udp", "x.wild.signed.test", dns.TypeTXT, true, true)
	nsecs, sigs := rrsetAndSigs(r.Ns, dns.TypeNSEC)
	if len(nsecs) != 1 || len(sigs) != 1 || !covers(nsecs[0].(*dns.NSEC), "x.wild.signed.test.") {
		t.Errorf("wildcard answer's proof: %v", r.Ns)
	}
	r = ask(t, s, "udp", "x.wild.signed.test", dns.TypeSRV, true, true)
	nsecs, _ = rrsetAndSigs(r.Ns, dns.TypeNSEC)
	// Here one NSEC does both: "*" sorts before "x".
	var owners []string
	cover, wild := false, false
	for _, n := range nsecs {
		owners = append(owners, n.Header().Name)
		cover = cover || covers(n.(*dns.NSEC), "x.wild.signed.test.")
		wild = wild || n.Header().Name == "*.wild.signed.test."
	}
	if !cover || !wild {
		t.Errorf("wildcard NODATA's proof: NSEC at %s", strings.Join(owners, ", "))
	}
}

func TestNSEC3NeedsSign(t *testing.T) {
	for name, z := range map[string]Zone{
		"unsigned":            {Origin: "x.test.", Text: "@ 300 SOA ns hm 1 1 1 1 1", NSEC3: true},
		"parameter alone":     {Origin: "x.test.", Text: "@ 300 SOA ns hm 1 1 1 1 1", Sign: true, NSEC3OptOut: true},
		"salt not hex":        {Origin: "x.test.", Text: "@ 300 SOA ns hm 1 1 1 1 1", Sign: true, NSEC3: true, NSEC3Salt: "xyz"},
		"iterations, no NSEC": {Origin: "x.test.", Text: "@ 300 SOA ns hm 1 1 1 1 1", Sign: true, NSEC3Iterations: 3},
	} {
		if _, err := Start(Config{Zones: []Zone{z}}); err == nil || !strings.Contains(err.Error(), "NSEC3") {
			t.Errorf("%s: Start error %v, want one naming NSEC3", name, err)
		}
	}
}
