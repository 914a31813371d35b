package dnstest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/miekg/dns"
)

// zoneKey is one DNSSEC key of a zone and its private half.
type zoneKey struct {
	pub  *dns.DNSKEY
	priv crypto.Signer
	ksk  bool // signs the DNSKEY RRset (SEP flag); a CSK is both
	zsk  bool // signs everything else
}

// keyBits is the key size each supported algorithm needs.
var keyBits = map[uint8]int{
	dns.RSASHA256:       2048,
	dns.ECDSAP256SHA256: 256,
	dns.ECDSAP384SHA384: 384,
	dns.ED25519:         256,
}

// generateKeys makes the zone's keys: a KSK (flags 257) and a ZSK (flags
// 256), or one CSK (257) when cfg.CSK.
func (z *zone) generateKeys() error {
	alg := z.cfg.Algorithm
	if alg == 0 {
		alg = dns.ECDSAP256SHA256
	}
	bits, ok := keyBits[alg]
	if !ok {
		return fmt.Errorf("dnstest: zone %s: algorithm %d (%s) not supported; use 8, 13, 14 or 15", z.origin, alg, dns.AlgorithmToString[alg])
	}
	roles := [][2]bool{{true, false}, {false, true}} // KSK, ZSK
	if z.cfg.CSK {
		roles = [][2]bool{{true, true}}
	}
	for _, role := range roles {
		k := &dns.DNSKEY{
			Hdr:       dns.RR_Header{Name: z.origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: z.soa.Hdr.Ttl},
			Flags:     dns.ZONE,
			Protocol:  3,
			Algorithm: alg,
		}
		if role[0] {
			k.Flags |= dns.SEP
		}
		priv, err := k.Generate(bits)
		if err != nil {
			return fmt.Errorf("dnstest: zone %s: generating a %s key: %w", z.origin, dns.AlgorithmToString[alg], err)
		}
		z.keys = append(z.keys, &zoneKey{pub: k, priv: priv.(crypto.Signer), ksk: role[0], zsk: role[1]})
		if role[0] {
			z.ds = append(z.ds, k.ToDS(dns.SHA256))
		}
	}
	return nil
}

// signZone adds the DNSKEY RRset and the NSEC chain, then signs every
// authoritative RRset with a validity window of [inception, expiration].
// A StripSigs zone keeps its keys (so its parent can publish the DS) but
// is served as if unsigned: the "stripped" attack.
func (z *zone) signZone(inception, expiration time.Time) error {
	if z.cfg.StripSigs {
		return nil
	}
	apex := z.nodes[z.origin]
	for _, k := range z.keys {
		apex.rrsets[dns.TypeDNSKEY] = append(apex.rrsets[dns.TypeDNSKEY], k.pub)
	}
	if z.cfg.CollidingKeys > 0 {
		extra, err := z.collidingKeys(z.cfg.CollidingKeys)
		if err != nil {
			return err
		}
		apex.rrsets[dns.TypeDNSKEY] = append(apex.rrsets[dns.TypeDNSKEY], extra...)
	}
	// A signature covers one TTL (RRSIG original TTL): make each RRset's
	// TTLs agree, on the smallest, as a signer would.
	for _, n := range z.nodes {
		for t, rrs := range n.rrsets {
			ttl := rrs[0].Header().Ttl
			for _, rr := range rrs {
				ttl = min(ttl, rr.Header().Ttl)
			}
			for _, rr := range rrs {
				rr.Header().Ttl = ttl
			}
			n.rrsets[t] = rrs
		}
	}
	if z.cfg.NSEC3 {
		z.buildNSEC3()
	} else {
		z.buildNSEC()
	}
	z.signedBy = true
	return z.resign(inception, expiration)
}

// resign (re)computes every RRSIG of the zone.
func (z *zone) resign(inception, expiration time.Time) error {
	for name, n := range z.nodes {
		if z.belowCut(name) {
			continue // glue and occluded data are not signed
		}
		isCut := name != z.origin && len(n.rrsets[dns.TypeNS]) > 0
		sigs := map[uint16][]dns.RR{}
		for t, rrs := range n.rrsets {
			if isCut && t != dns.TypeDS && t != dns.TypeNSEC {
				continue // the child signs its NS; the parent only DS and NSEC
			}
			for _, k := range z.keys {
				if (t == dns.TypeDNSKEY && !k.ksk) || (t != dns.TypeDNSKEY && !k.zsk) {
					continue
				}
				sig, err := z.sign(k, rrs, inception, expiration)
				if err != nil {
					return err
				}
				if z.cfg.BogusSigs > 0 && bogusSigned(t) {
					bogus, err := bogusCopies(sig, z.cfg.BogusSigs)
					if err != nil {
						return fmt.Errorf("dnstest: zone %s: %w", z.origin, err)
					}
					sigs[t] = append(sigs[t], bogus...)
				}
				sigs[t] = append(sigs[t], sig)
			}
		}
		n.sigs = sigs
	}
	for _, rec := range z.nsec3 {
		rec.sigs = nil
		for _, k := range z.keys {
			if !k.zsk {
				continue
			}
			sig, err := z.sign(k, []dns.RR{rec.rr}, inception, expiration)
			if err != nil {
				return err
			}
			rec.sigs = append(rec.sigs, sig)
		}
	}
	return nil
}

func (z *zone) sign(k *zoneKey, rrs []dns.RR, inception, expiration time.Time) (*dns.RRSIG, error) {
	sig := &dns.RRSIG{
		Hdr:        dns.RR_Header{Ttl: rrs[0].Header().Ttl},
		Algorithm:  k.pub.Algorithm,
		KeyTag:     k.pub.KeyTag(),
		SignerName: z.origin,
		Inception:  uint32(inception.Unix()),
		Expiration: uint32(expiration.Unix()),
	}
	if err := sig.Sign(k.priv, rrs); err != nil {
		return nil, fmt.Errorf("dnstest: zone %s: signing %s %s: %w", z.origin, rrs[0].Header().Name, dns.Type(rrs[0].Header().Rrtype), err)
	}
	return sig, nil
}

// bogusSigned reports whether RRsets of type t get Zone.BogusSigs.
func bogusSigned(t uint16) bool {
	switch t {
	case dns.TypeSOA, dns.TypeNS, dns.TypeDNSKEY, dns.TypeDS, dns.TypeNSEC, dns.TypeNSEC3PARAM:
		return false
	}
	return true
}

// bogusCopies returns n copies of sig with random signature bytes.
func bogusCopies(sig *dns.RRSIG, n int) ([]dns.RR, error) {
	raw, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil {
		return nil, fmt.Errorf("RRSIG with an undecodable signature: %w", err)
	}
	out := make([]dns.RR, n)
	for i := range out {
		c := dns.Copy(sig).(*dns.RRSIG)
		b := make([]byte, len(raw))
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		c.Signature = base64.StdEncoding.EncodeToString(b)
		out[i] = c
	}
	return out, nil
}

// collidingKeys makes n public keys of the zone's algorithm whose key tag
// is the ZSK's (the CSK's). A key tag is a 16-bit one's-complement-like
// sum over the DNSKEY RDATA (RFC 4034 Appendix B), to which the flags
// field adds itself: for a fresh key, flags that keep the zone bit, clear
// the revoke bit and set only reserved bits besides (which validators
// ignore, RFC 4034 §2.1.1) reach the wanted tag for about one key in four.
func (z *zone) collidingKeys(n int) ([]dns.RR, error) {
	var zsk *dns.DNSKEY
	for _, k := range z.keys {
		if k.zsk {
			zsk = k.pub
		}
	}
	if zsk == nil || (zsk.Algorithm != dns.ECDSAP256SHA256 && zsk.Algorithm != dns.ECDSAP384SHA384 && zsk.Algorithm != dns.ED25519) {
		return nil, fmt.Errorf("dnstest: zone %s: CollidingKeys needs algorithm 13, 14 or 15 (RSA keys are too slow to make by the hundred)", z.origin)
	}
	want := zsk.KeyTag()
	out := make([]dns.RR, 0, n)
	for tries := 0; len(out) < n; tries++ {
		if tries > 100*n {
			return nil, fmt.Errorf("dnstest: zone %s: no key with tag %d after %d tries", z.origin, want, tries)
		}
		k := &dns.DNSKEY{Hdr: zsk.Hdr, Protocol: 3, Algorithm: zsk.Algorithm}
		if _, err := k.Generate(keyBits[k.Algorithm]); err != nil {
			return nil, fmt.Errorf("dnstest: zone %s: generating a colliding key: %w", z.origin, err)
		}
		flags, ok := flagsForTag(k, want)
		if !ok {
			continue
		}
		k.Flags = flags
		if k.KeyTag() != want {
			return nil, fmt.Errorf("dnstest: zone %s: colliding key has tag %d, want %d", z.origin, k.KeyTag(), want)
		}
		out = append(out, k)
	}
	return out, nil
}

// flagsForTag finds DNSKEY flags for k (zone bit set, revoke bit clear)
// that give it key tag want, if any.
func flagsForTag(k *dns.DNSKEY, want uint16) (uint16, bool) {
	pub, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil {
		return 0, false
	}
	// The sum without the flags: protocol and algorithm, then the key.
	rest := append([]byte{k.Protocol, k.Algorithm}, pub...)
	sum := 0
	for i, b := range rest {
		if (i+2)&1 != 0 {
			sum += int(b)
		} else {
			sum += int(b) << 8
		}
	}
	// tag = (x + x>>16) & 0xFFFF with x = sum + flags; x>>16 is sum>>16
	// or one more.
	for hi := sum >> 16; hi <= sum>>16+1; hi++ {
		x := hi<<16 | (int(want)-hi)&0xFFFF
		f := x - sum
		if f < 0 || f > 0xFFFF || f&dns.ZONE == 0 || f&dns.REVOKE != 0 {
			continue
		}
		return uint16(f), true
	}
	return 0, false
}

// buildNSEC replaces the zone's NSEC chain (RFC 4034 §4) over its
// authoritative names and delegation points.
func (z *zone) buildNSEC() {
	var names []string
	for name, n := range z.nodes {
		delete(n.rrsets, dns.TypeNSEC)
		if len(n.rrsets) > 0 && !z.belowCut(name) {
			names = append(names, name)
		}
	}
	sortCanonical(names)
	ttl := min(z.soa.Hdr.Ttl, z.soa.Minttl) // RFC 9077
	for i, name := range names {
		n := z.nodes[name]
		isCut := name != z.origin && len(n.rrsets[dns.TypeNS]) > 0
		types := []uint16{dns.TypeNSEC, dns.TypeRRSIG}
		for t := range n.rrsets {
			if !isCut || t == dns.TypeNS || t == dns.TypeDS {
				types = append(types, t)
			}
		}
		sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
		n.rrsets[dns.TypeNSEC] = []dns.RR{&dns.NSEC{
			Hdr:        dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
			NextDomain: names[(i+1)%len(names)],
			TypeBitMap: types,
		}}
	}
}

// denyName returns the NSEC (or NSEC3) records and their RRSIGs proving
// that name does not exist: the one covering name and the one covering the
// wildcard at its closest encloser (RFC 4035 §3.1.3.2; RFC 5155 §7.2.2).
func (z *zone) denyName(name string) []dns.RR {
	if z.cfg.NSEC3 {
		return z.denyName3(name)
	}
	var p proof
	p.addNSEC(z.nsecCovering(name))
	ce := name
	for ce != z.origin {
		i, _ := dns.NextLabel(ce, 0)
		ce = ce[i:]
		if _, ok := z.nodes[ce]; ok {
			break
		}
	}
	p.addNSEC(z.nsecCovering("*." + ce))
	return p.out
}

// denyType returns the NSEC (or NSEC3) record and RRSIG proving that name
// has no RRset of the type asked: the NSEC at name, or for an empty
// non-terminal the one covering it (RFC 4035 §3.1.3.1; RFC 5155 §7.2.3).
func (z *zone) denyType(name string) []dns.RR {
	if z.cfg.NSEC3 {
		return z.denyType3(name)
	}
	n := z.nodes[name]
	if n == nil || len(n.rrsets[dns.TypeNSEC]) == 0 {
		n = z.nsecCovering(name)
	}
	var p proof
	p.addNSEC(n)
	return p.out
}

// nsecCovering returns the node whose NSEC owner is the canonical
// predecessor of name (or name itself), nil when the zone has no NSEC.
func (z *zone) nsecCovering(name string) *node {
	var best *node
	for owner, n := range z.nodes {
		if len(n.rrsets[dns.TypeNSEC]) == 0 || canonicalCompare(owner, name) > 0 {
			continue
		}
		if best == nil || canonicalCompare(owner, best.name) > 0 {
			best = n
		}
	}
	if best == nil { // name sorts before the apex's successor: the last NSEC wraps around
		for owner, n := range z.nodes {
			if len(n.rrsets[dns.TypeNSEC]) > 0 && (best == nil || canonicalCompare(owner, best.name) > 0) {
				best = n
			}
		}
	}
	return best
}

// sortCanonical sorts names in DNSSEC canonical order (RFC 4034 §6.1).
func sortCanonical(names []string) {
	sort.Slice(names, func(i, j int) bool { return canonicalCompare(names[i], names[j]) < 0 })
}

// canonicalCompare orders names by their labels from the root down, each
// label compared as lowercase octets (escapes decoded).
func canonicalCompare(a, b string) int {
	la, lb := wireLabels(a), wireLabels(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := bytes.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

func wireLabels(name string) [][]byte {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.CanonicalName(name), buf, 0, nil, false)
	if err != nil {
		return [][]byte{[]byte(name)}
	}
	var labels [][]byte
	for off := 0; off < n && buf[off] != 0; off += int(buf[off]) + 1 {
		labels = append(labels, bytes.ToLower(buf[off+1:off+1+int(buf[off])]))
	}
	return labels
}

// tamper returns a copy of rr with different data, so that signatures
// over the original no longer verify.
func tamper(rr dns.RR) (dns.RR, error) {
	rr = dns.Copy(rr)
	switch rr := rr.(type) {
	case *dns.TXT:
		rr.Txt = append(rr.Txt[:len(rr.Txt):len(rr.Txt)], " tampered")
	case *dns.A:
		rr.A = flipIP(rr.A)
	case *dns.AAAA:
		rr.AAAA = flipIP(rr.AAAA)
	case *dns.SRV:
		rr.Port ^= 1
	case *dns.CNAME:
		rr.Target = "tampered." + rr.Target
	case *dns.NS:
		rr.Ns = "tampered." + rr.Ns
	case *dns.MX:
		rr.Preference ^= 1
	case *dns.PTR:
		rr.Ptr = "tampered." + rr.Ptr
	case *dns.SOA:
		rr.Serial++
	case *dns.DS:
		rr.KeyTag ^= 1
	case *dns.DNSKEY:
		b, err := base64.StdEncoding.DecodeString(rr.PublicKey)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("DNSKEY with an undecodable public key")
		}
		b[len(b)-1] ^= 1
		rr.PublicKey = base64.StdEncoding.EncodeToString(b)
	default:
		return nil, fmt.Errorf("no tampering defined for %s records; use TamperFunc", dns.Type(rr.Header().Rrtype))
	}
	return rr, nil
}

func flipIP(ip net.IP) net.IP {
	c := append(net.IP(nil), ip...)
	c[len(c)-1] ^= 1
	return c
}
