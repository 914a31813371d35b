package dnssec

import (
	"crypto/sha1"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// The canonical order of RFC 4034 §6.1, on its own example.
func TestCanonicalOrderOfRFC4034(t *testing.T) {
	names := []string{"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
		"z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`}
	for i := range names {
		for j := range names {
			got := canonicalCompare(names[i], names[j])
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got != want {
				t.Errorf("canonicalCompare(%q, %q) = %d, want %d", names[i], names[j], got, want)
			}
		}
	}
	if canonicalCompare("Example.", "example") != 0 {
		t.Error("case or the trailing dot matters")
	}
}

// hash3 agrees with RFC 5155 Appendix A and with miekg/dns's HashName,
// salted or not, iterated or not, whatever the case of the name.
func TestNSEC3HashAgreesWithRFC5155AndMiekg(t *testing.T) {
	rec := func(salt string, iterations uint16) *nsec3Rec {
		n := &dns.NSEC3{Hdr: dns.RR_Header{Name: strings.Repeat("0", 32) + ".example.", Rrtype: dns.TypeNSEC3, Class: dns.ClassINET},
			Hash: dns.SHA1, Iterations: iterations, Salt: salt, NextDomain: strings.Repeat("0", 32)}
		r, ok := parseNSEC3(n, "example.")
		if !ok {
			t.Fatalf("parseNSEC3(%v) refused it", n)
		}
		return &r
	}
	r := &validation{}
	// RFC 5155 Appendix A: salt aabbccdd, 12 iterations.
	h, e := r.hash3("example.", rec("aabbccdd", 12))
	if e != nil || strings.ToLower(b32.EncodeToString(h[:])) != "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" {
		t.Errorf("H(example) = %s (%v), want 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom", b32.EncodeToString(h[:]), e)
	}
	for _, name := range []string{"a.example.", "*.w.example.", "x.y.w.example.", "_oci-discovery.HOST.example.", `a\.b.example.`} {
		for _, p := range []struct {
			salt       string
			iterations uint16
		}{{"", 0}, {"-", 0}, {"0badcafe", 5}, {"aabbccdd", 100}} {
			r := &validation{}
			h, e := r.hash3(dns.CanonicalName(name), rec(p.salt, p.iterations))
			salt := p.salt
			if salt == "-" {
				salt = ""
			}
			if want := dns.HashName(name, dns.SHA1, p.iterations, salt); e != nil || b32.EncodeToString(h[:]) != want {
				t.Errorf("hash3(%s, %q, %d) = %s (%v), miekg says %s", name, p.salt, p.iterations, b32.EncodeToString(h[:]), e, want)
			}
		}
	}
}

// Hashes are computed once per validation, and charged to its budget
// only then.
func TestNSEC3HashesAreComputedOnce(t *testing.T) {
	n := &dns.NSEC3{Hdr: dns.RR_Header{Name: strings.Repeat("0", 32) + ".example.", Class: dns.ClassINET},
		Hash: dns.SHA1, Iterations: 10, NextDomain: strings.Repeat("0", 32)}
	rec, _ := parseNSEC3(n, "example.")
	r := &validation{}
	for range 3 {
		if _, e := r.hash3("a.example.", &rec); e != nil {
			t.Fatal(e)
		}
	}
	if r.hashes.spent != 11 {
		t.Errorf("3 hashes of one name cost %d SHA-1 computations, want 11", r.hashes.spent)
	}
}

// Records a validator must ignore (RFC 5155 §8.1-8.2) are left out, never
// trusted: another hash algorithm, unknown flags, an owner that is no
// hash or not in the zone.
func TestUnusableNSEC3RecordsAreIgnored(t *testing.T) {
	good := dns.NSEC3{Hdr: dns.RR_Header{Name: strings.Repeat("a", 32) + ".example.", Rrtype: dns.TypeNSEC3, Class: dns.ClassINET},
		Hash: dns.SHA1, NextDomain: strings.Repeat("b", 32)}
	if _, ok := parseNSEC3(&good, "example."); !ok {
		t.Fatal("a good record refused")
	}
	for what, f := range map[string]func(*dns.NSEC3){
		"hash algorithm 2":   func(n *dns.NSEC3) { n.Hash = 2 },
		"flags 2":            func(n *dns.NSEC3) { n.Flags = 2 },
		"owner not a hash":   func(n *dns.NSEC3) { n.Hdr.Name = "www.example." },
		"owner too short":    func(n *dns.NSEC3) { n.Hdr.Name = "aaaa.example." },
		"owner in a subzone": func(n *dns.NSEC3) { n.Hdr.Name = strings.Repeat("a", 32) + ".sub.example." },
		"next not a hash":    func(n *dns.NSEC3) { n.NextDomain = "zzzz" },
		"salt not hex":       func(n *dns.NSEC3) { n.Salt = "xyz" },
		"class CH":           func(n *dns.NSEC3) { n.Hdr.Class = dns.ClassCHAOS },
	} {
		n := good
		f(&n)
		if _, ok := parseNSEC3(&n, "example."); ok {
			t.Errorf("%s: accepted", what)
		}
	}
	// Spans, the last wrapping around.
	lo, mid, hi := [sha1.Size]byte{1}, [sha1.Size]byte{5}, [sha1.Size]byte{9}
	for _, tc := range []struct {
		owner, next, h [sha1.Size]byte
		want           bool
	}{
		{lo, hi, mid, true}, {lo, hi, lo, false}, {lo, hi, hi, false},
		{hi, lo, mid, false}, {hi, lo, [sha1.Size]byte{10}, true}, {hi, lo, [sha1.Size]byte{0}, true},
		{mid, mid, lo, true}, {mid, mid, mid, false}, // one record: every other hash
	} {
		r := nsec3Rec{owner: tc.owner, next: tc.next}
		if got := r.covers(tc.h); got != tc.want {
			t.Errorf("span %x..%x covers %x: %v, want %v", tc.owner[0], tc.next[0], tc.h[0], got, tc.want)
		}
	}
}
