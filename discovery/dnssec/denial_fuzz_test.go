package dnssec

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzDenialProofs feeds the proof logic records as a peer may send them —
// any owner, next name, type bitmap, hash parameters — already past
// signature verification, with any name asked: it must come to a verdict
// within its bounds, never panic or loop.
func FuzzDenialProofs(f *testing.F) {
	for _, seed := range []struct{ rr, name string }{
		{"a.example. 300 IN NSEC c.example. TXT RRSIG NSEC", "b.example."},
		{"example. 300 IN NSEC example. SOA NS RRSIG NSEC DNSKEY", "x.y.example."},
		{"island.example. 300 IN NSEC z.example. NS RRSIG NSEC", "a.island.example."},
		{"*.w.example. 300 IN NSEC x.w.example. TXT RRSIG NSEC", "q.w.example."},
		{"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. 300 IN NSEC3 1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr NS SOA", "a.example."},
		{"2t7b4g4vsa5smi47k61mv5bv1a22bojr.example. 300 IN NSEC3 1 0 0 - 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom A RRSIG", "*.example."},
		{". 300 IN NSEC a. NS SOA RRSIG NSEC DNSKEY", "x."},
	} {
		f.Add(seed.rr, seed.name, uint16(dns.TypeTXT), true)
		f.Add(seed.rr, seed.name, uint16(dns.TypeDS), false)
	}
	f.Fuzz(func(t *testing.T, text, name string, qtype uint16, nx bool) {
		if strings.Contains(text, "$") {
			return // zone file directives ($GENERATE) are the parser's business
		}
		rr, err := dns.NewRR(text)
		if err != nil || rr == nil {
			return
		}
		if _, ok := dns.IsDomainName(name); !ok || len(name) > 253 {
			return
		}
		name = dns.CanonicalName(name)
		for _, zone := range []string{"example.", "."} {
			if !isSubDomain(zone, name) {
				continue
			}
			d := &denialRecords{zone: zone}
			switch rr := rr.(type) {
			case *dns.NSEC:
				d.nsec = append(d.nsec, rr, rr)
			case *dns.NSEC3:
				rec, ok := parseNSEC3(rr, zone)
				if !ok {
					continue
				}
				if nsec3Insecure(rr) {
					d.beyond = rr
				} else {
					d.nsec3 = append(d.nsec3, rec, rec)
				}
			default:
				return
			}
			r := &validation{}
			what := rrsetName{qtype, name}
			var out denial
			switch {
			case len(d.nsec) > 0:
				out = d.proveNSEC(what, nx)
			case len(d.nsec3) > 0:
				out = r.proveNSEC3(d, what, nx)
			default:
				continue
			}
			if (out.sec == Bogus) != (out.err != nil) {
				t.Fatalf("%v for %s: sec %v with error %v", rr, name, out.sec, out.err)
			}
			if r.hashes.spent > maxNSEC3Hashes {
				t.Fatalf("%d hash computations, more than %d", r.hashes.spent, maxNSEC3Hashes)
			}
		}
	})
}
