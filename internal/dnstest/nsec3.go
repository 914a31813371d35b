package dnstest

import (
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// nsec3Rec is one record of a zone's NSEC3 chain and its RRSIGs.
type nsec3Rec struct {
	hash string // the owner's hash, base32hex upper case (as dns.HashName)
	rr   *dns.NSEC3
	sigs []dns.RR
}

// nsec3Hash hashes name with the zone's NSEC3 parameters (RFC 5155 §5).
func (z *zone) nsec3Hash(name string) string {
	return dns.HashName(name, dns.SHA1, z.cfg.NSEC3Iterations, z.cfg.NSEC3Salt)
}

// optedOut reports whether the node at name is an unsigned delegation that
// an opt-out chain leaves out (RFC 5155 §6).
func (z *zone) optedOut(name string, n *node) bool {
	return z.cfg.NSEC3OptOut && name != z.origin && len(n.rrsets[dns.TypeNS]) > 0 && len(n.rrsets[dns.TypeDS]) == 0
}

// nsec3Names returns the names that get an NSEC3 record: every name with
// data above the zone's cuts, unless opted out, and its ancestors (empty
// non-terminals have a record too).
func (z *zone) nsec3Names() map[string]bool {
	in := map[string]bool{}
	for name, n := range z.nodes {
		if len(n.rrsets) == 0 || z.belowCut(name) || z.optedOut(name, n) {
			continue
		}
		for m := name; !in[m]; {
			in[m] = true
			if m == z.origin {
				break
			}
			i, _ := dns.NextLabel(m, 0)
			m = m[i:]
		}
	}
	return in
}

// nsec3Types returns the type bitmap of name's NSEC3 record, sorted: at a
// zone cut only NS and DS, and RRSIG when something there is signed.
func (z *zone) nsec3Types(name string) []uint16 {
	n := z.nodes[name]
	isCut := name != z.origin && len(n.rrsets[dns.TypeNS]) > 0
	var types []uint16
	signed := false
	for t := range n.rrsets {
		if isCut && t != dns.TypeNS && t != dns.TypeDS {
			continue
		}
		types = append(types, t)
		signed = signed || !isCut || t == dns.TypeDS
	}
	if signed {
		types = append(types, dns.TypeRRSIG)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	return types
}

// buildNSEC3 adds NSEC3PARAM at the apex and replaces the zone's NSEC3
// chain (RFC 5155 §7.1): one record for every authoritative name, every
// delegation point (less the unsigned ones under opt-out) and every empty
// non-terminal above them, ordered by hash.
func (z *zone) buildNSEC3() {
	ttl := min(z.soa.Hdr.Ttl, z.soa.Minttl) // RFC 9077
	apex := z.nodes[z.origin]
	apex.rrsets[dns.TypeNSEC3PARAM] = []dns.RR{&dns.NSEC3PARAM{
		Hdr:  dns.RR_Header{Name: z.origin, Rrtype: dns.TypeNSEC3PARAM, Class: dns.ClassINET, Ttl: 0},
		Hash: dns.SHA1, Iterations: z.cfg.NSEC3Iterations,
		SaltLength: uint8(len(z.cfg.NSEC3Salt) / 2), Salt: z.cfg.NSEC3Salt,
	}}
	in := z.nsec3Names()
	var flags uint8
	if z.cfg.NSEC3OptOut {
		flags = 1
	}
	z.nsec3 = z.nsec3[:0]
	for name := range in {
		types := z.nsec3Types(name)
		h := z.nsec3Hash(name)
		z.nsec3 = append(z.nsec3, &nsec3Rec{hash: h, rr: &dns.NSEC3{
			Hdr:        dns.RR_Header{Name: strings.ToLower(h) + "." + z.origin, Rrtype: dns.TypeNSEC3, Class: dns.ClassINET, Ttl: ttl},
			Hash:       dns.SHA1,
			Flags:      flags,
			Iterations: z.cfg.NSEC3Iterations,
			SaltLength: uint8(len(z.cfg.NSEC3Salt) / 2),
			Salt:       z.cfg.NSEC3Salt,
			HashLength: 20,
			TypeBitMap: types,
		}})
	}
	sort.Slice(z.nsec3, func(i, j int) bool { return z.nsec3[i].hash < z.nsec3[j].hash })
	for i, rec := range z.nsec3 {
		rec.rr.NextDomain = z.nsec3[(i+1)%len(z.nsec3)].hash
	}
}

// nsec3Match returns the NSEC3 record whose owner is name's hash, or nil.
func (z *zone) nsec3Match(name string) *nsec3Rec {
	h := z.nsec3Hash(name)
	i := sort.Search(len(z.nsec3), func(i int) bool { return z.nsec3[i].hash >= h })
	if i < len(z.nsec3) && z.nsec3[i].hash == h {
		return z.nsec3[i]
	}
	return nil
}

// nsec3Cover returns the NSEC3 record whose span covers name's hash: the
// one with the greatest hash below it, or the last (it wraps around).
func (z *zone) nsec3Cover(name string) *nsec3Rec {
	if len(z.nsec3) == 0 {
		return nil
	}
	h := z.nsec3Hash(name)
	i := sort.Search(len(z.nsec3), func(i int) bool { return z.nsec3[i].hash >= h })
	if i == 0 {
		return z.nsec3[len(z.nsec3)-1]
	}
	return z.nsec3[i-1]
}

// closestEncloser returns the closest provable encloser of name (its
// deepest ancestor with an NSEC3 record) and the next closer name below it
// (RFC 5155 §7.2.1); next is "" when name itself has a record.
func (z *zone) closestEncloser(name string) (ce, next string) {
	for n := name; ; {
		if z.nsec3Match(n) != nil || n == z.origin {
			return n, next
		}
		next = n
		i, _ := dns.NextLabel(n, 0)
		n = n[i:]
	}
}

// proof gathers the records of a denial, each record once.
type proof struct {
	out  []dns.RR
	seen map[dns.RR]bool
}

func (p *proof) add(rrs, sigs []dns.RR) {
	if len(rrs) == 0 || p.seen[rrs[0]] {
		return
	}
	if p.seen == nil {
		p.seen = map[dns.RR]bool{}
	}
	p.seen[rrs[0]] = true
	p.out = append(p.out, rrs...)
	p.out = append(p.out, sigs...)
}

func (p *proof) addNSEC(n *node) {
	if n != nil {
		p.add(n.rrsets[dns.TypeNSEC], n.sigs[dns.TypeNSEC])
	}
}

func (p *proof) addNSEC3(rec *nsec3Rec) {
	if rec != nil {
		p.add([]dns.RR{rec.rr}, rec.sigs)
	}
}

// denyName3 proves with NSEC3 that name does not exist (RFC 5155 §7.2.2):
// the closest encloser's record, the one covering the next closer name and
// the one covering the wildcard at the closest encloser.
func (z *zone) denyName3(name string) []dns.RR {
	var p proof
	ce, next := z.closestEncloser(name)
	p.addNSEC3(z.nsec3Match(ce))
	if next != "" {
		p.addNSEC3(z.nsec3Cover(next))
	}
	p.addNSEC3(z.nsec3Cover("*." + ce))
	return p.out
}

// denyType3 proves with NSEC3 that name has no RRset of the type asked
// (RFC 5155 §7.2.3-4): its own record, or for a name without one (an
// unsigned delegation in an opt-out span) the closest encloser proof
// whose next closer name is covered by an opt-out record.
func (z *zone) denyType3(name string) []dns.RR {
	var p proof
	if rec := z.nsec3Match(name); rec != nil {
		p.addNSEC3(rec)
		return p.out
	}
	ce, next := z.closestEncloser(name)
	p.addNSEC3(z.nsec3Match(ce))
	p.addNSEC3(z.nsec3Cover(next))
	return p.out
}

// denyWildcardType proves that name, which does not exist, has no RRset of
// the type asked at the wildcard *.ce that matches it (RFC 4035 §3.1.3.4,
// RFC 5155 §7.2.5).
func (z *zone) denyWildcardType(name, ce string) []dns.RR {
	var p proof
	if z.cfg.NSEC3 {
		_, next := z.closestEncloser(name)
		p.addNSEC3(z.nsec3Match(ce))
		p.addNSEC3(z.nsec3Cover(next))
		p.addNSEC3(z.nsec3Match("*." + ce))
		return p.out
	}
	p.addNSEC(z.nsecCovering(name))
	p.addNSEC(z.nodes["*."+ce])
	return p.out
}

// proveWildcard proves that no name closer than the wildcard *.ce exists
// for name, an answer synthesized from it (RFC 4035 §3.1.3.3, RFC 5155
// §7.2.6): the record covering name, or with NSEC3 the next closer name.
func (z *zone) proveWildcard(name, ce string) []dns.RR {
	var p proof
	if z.cfg.NSEC3 {
		next := name
		for {
			i, _ := dns.NextLabel(next, 0)
			if next[i:] == ce {
				break
			}
			next = next[i:]
		}
		p.addNSEC3(z.nsec3Cover(next))
		return p.out
	}
	p.addNSEC(z.nsecCovering(name))
	return p.out
}
