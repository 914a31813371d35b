package dnstest

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// maxAttackRecords bounds Zone.CollidingKeys and Zone.BogusSigs: an
// answer must still fit a TCP message (64 KiB).
const maxAttackRecords = 400

// zone is one loaded zone. Stored RRs are never mutated once a response may
// point at them: Tamper and re-signing replace them (copy on write), so a
// response can be packed after the server's lock is released.
type zone struct {
	cfg    Zone
	origin string // canonical: lowercase, fully qualified
	soa    *dns.SOA
	nodes  map[string]*node // by canonical owner; empty non-terminals too
	parent *zone            // closest enclosing zone served by the same server

	keys       []*zoneKey  // empty unless cfg.Sign
	nsec3      []*nsec3Rec // the NSEC3 chain in hash order, when cfg.NSEC3
	ds         []dns.RR    // DS of the KSK (SHA-256), unless unsigned
	signedBy   bool        // served with DNSKEY, RRSIG and NSEC
	dsInParent bool        // the parent publishes ds
	expired    bool        // signatures outside their validity window
	tampered   map[question]bool
}

// node is one owner name: its RRsets by type and the RRSIGs over them by
// covered type. A node without RRsets is an empty non-terminal.
type node struct {
	name   string
	rrsets map[uint16][]dns.RR
	sigs   map[uint16][]dns.RR
}

// loadZone parses one zone's file or text.
func loadZone(zc Zone) (*zone, error) {
	if zc.Origin == "" {
		return nil, fmt.Errorf("dnstest: zone without Origin")
	}
	origin := dns.CanonicalName(zc.Origin)
	if _, ok := dns.IsDomainName(origin); !ok {
		return nil, fmt.Errorf("dnstest: zone origin %q is not a domain name", zc.Origin)
	}
	if err := zc.checkOptions(origin); err != nil {
		return nil, err
	}
	var (
		r    io.Reader
		file string
	)
	switch {
	case zc.File != "" && zc.Text != "":
		return nil, fmt.Errorf("dnstest: zone %s: set File or Text, not both", origin)
	case zc.File != "":
		f, err := os.Open(zc.File)
		if err != nil {
			return nil, fmt.Errorf("dnstest: zone %s: %w", origin, err)
		}
		defer f.Close()
		r, file = f, zc.File
	default:
		r, file = strings.NewReader(zc.Text), "zone "+origin+" (inline text)"
	}
	z := &zone{cfg: zc, origin: origin, nodes: map[string]*node{}}
	zp := dns.NewZoneParser(r, origin, file)
	// $INCLUDE would let a test zone read any file; nothing needs it.
	zp.SetIncludeAllowed(false)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if err := z.add(rr, file); err != nil {
			return nil, err
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("dnstest: %w", err)
	}
	if z.soa == nil {
		return nil, fmt.Errorf("dnstest: %s: zone %s has no SOA record at its apex", file, origin)
	}
	if err := z.checkRecords(file); err != nil {
		return nil, err
	}
	return z, nil
}

// checkOptions refuses options that contradict each other.
func (zc Zone) checkOptions(origin string) error {
	if !zc.Sign && !zc.StripSigs && (zc.NoDS || zc.Expired || zc.CSK || zc.Algorithm != 0) {
		return fmt.Errorf("dnstest: zone %s: NoDS, Expired, CSK and Algorithm need Sign", origin)
	}
	if (zc.CollidingKeys != 0 || zc.BogusSigs != 0) && (!zc.Sign || zc.StripSigs) {
		return fmt.Errorf("dnstest: zone %s: CollidingKeys and BogusSigs need Sign", origin)
	}
	if (zc.NSEC3 || zc.NSEC3OptOut || zc.NSEC3Iterations != 0 || zc.NSEC3Salt != "") && (!zc.Sign || zc.StripSigs) {
		return fmt.Errorf("dnstest: zone %s: NSEC3 and its parameters need Sign", origin)
	}
	if !zc.NSEC3 && (zc.NSEC3OptOut || zc.NSEC3Iterations != 0 || zc.NSEC3Salt != "") {
		return fmt.Errorf("dnstest: zone %s: NSEC3OptOut, NSEC3Iterations and NSEC3Salt need NSEC3", origin)
	}
	if salt, err := hex.DecodeString(zc.NSEC3Salt); err != nil || len(salt) > 255 {
		return fmt.Errorf("dnstest: zone %s: NSEC3Salt %q: want at most 255 bytes in hex", origin, zc.NSEC3Salt)
	}
	if zc.CollidingKeys < 0 || zc.CollidingKeys > maxAttackRecords || zc.BogusSigs < 0 || zc.BogusSigs > maxAttackRecords {
		return fmt.Errorf("dnstest: zone %s: CollidingKeys and BogusSigs must be from 0 to %d (answers must fit 64 KiB)", origin, maxAttackRecords)
	}
	return nil
}

// checkRecords refuses what the zone file may not hold: a CNAME beside
// other data, and, in a zone the server signs, signatures and DNSSEC
// records of its own.
func (z *zone) checkRecords(file string) error {
	for name, n := range z.nodes {
		if cn := n.rrsets[dns.TypeCNAME]; len(cn) > 0 {
			if len(cn) > 1 {
				return fmt.Errorf("dnstest: %s: %s has %d CNAME records; at most one is allowed", file, name, len(cn))
			}
			for t := range n.rrsets {
				if t != dns.TypeCNAME && t != dns.TypeRRSIG && t != dns.TypeNSEC {
					return fmt.Errorf("dnstest: %s: %s has a CNAME and %s records; a CNAME must be alone (RFC 1034 §3.6.2)", file, name, dns.Type(t))
				}
			}
		}
	}
	if !z.cfg.Sign {
		return nil
	}
	for name, n := range z.nodes {
		for t := range n.sigs {
			return fmt.Errorf("dnstest: %s: %s has an RRSIG over %s but the zone is to be signed by the server: remove the signatures or set Sign to false", file, name, dns.Type(t))
		}
		for _, t := range []uint16{dns.TypeDNSKEY, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM} {
			if len(n.rrsets[t]) > 0 && !(t == dns.TypeDNSKEY && name != z.origin) {
				return fmt.Errorf("dnstest: %s: %s has %s records but the zone is to be signed by the server: remove them or set Sign to false", file, name, dns.Type(t))
			}
		}
	}
	return nil
}

// add stores one parsed RR.
func (z *zone) add(rr dns.RR, file string) error {
	h := rr.Header()
	if h.Class != dns.ClassINET {
		return fmt.Errorf("dnstest: %s: %s: class %s; only IN is served", file, rr, dns.Class(h.Class))
	}
	owner := dns.CanonicalName(h.Name)
	if !dns.IsSubDomain(z.origin, owner) {
		return fmt.Errorf("dnstest: %s: %s is outside the zone %s", file, rr, z.origin)
	}
	switch rr := rr.(type) {
	case *dns.SOA:
		if owner != z.origin {
			return fmt.Errorf("dnstest: %s: SOA at %s; it belongs at the apex %s", file, h.Name, z.origin)
		}
		if z.soa != nil {
			return fmt.Errorf("dnstest: %s: a second SOA record in zone %s", file, z.origin)
		}
		z.soa = rr
	case *dns.RRSIG:
		n := z.node(owner)
		if n.sigs == nil {
			n.sigs = map[uint16][]dns.RR{}
		}
		n.sigs[rr.TypeCovered] = append(n.sigs[rr.TypeCovered], rr)
		return nil
	}
	n := z.node(owner)
	for _, old := range n.rrsets[h.Rrtype] {
		if dns.IsDuplicate(old, rr) {
			return nil // RFC 2181 §5: an RRset is a set
		}
	}
	n.rrsets[h.Rrtype] = append(n.rrsets[h.Rrtype], rr)
	return nil
}

// node returns the node of a canonical owner name, creating it and the
// empty non-terminals between it and the apex (which exist for NXDOMAIN
// purposes: a name with descendants answers NODATA, not NXDOMAIN).
func (z *zone) node(owner string) *node {
	n := z.nodes[owner]
	if n == nil {
		n = &node{name: owner, rrsets: map[uint16][]dns.RR{}}
		z.nodes[owner] = n
		if owner != z.origin {
			if i, end := dns.NextLabel(owner, 0); !end {
				z.node(owner[i:])
			}
		}
	}
	return n
}

// cut returns the delegation point (a non-apex node with NS records) at or
// above name, or nil when the zone is authoritative for name. A DS query
// at the cut itself is answered by this zone (RFC 4035 §3.1.4.1).
func (z *zone) cut(name string, qtype uint16) *node {
	var found *node
	for n := name; n != z.origin; {
		if nd := z.nodes[n]; nd != nil && len(nd.rrsets[dns.TypeNS]) > 0 && !(n == name && qtype == dns.TypeDS) {
			found = nd // keep going: the highest cut wins
		}
		i, end := dns.NextLabel(n, 0)
		if end {
			break
		}
		n = n[i:]
	}
	return found
}

// belowCut reports whether name is occluded by a delegation (glue).
func (z *zone) belowCut(name string) bool {
	for n := name; n != z.origin; {
		i, end := dns.NextLabel(n, 0)
		if end {
			return false
		}
		n = n[i:]
		if n == z.origin {
			return false
		}
		if nd := z.nodes[n]; nd != nil && len(nd.rrsets[dns.TypeNS]) > 0 {
			return true
		}
	}
	return false
}

// maxChase bounds CNAME chasing inside one zone when building an answer.
const maxChase = 8

// resolve fills resp with the answer to qname/qtype from this zone, which
// encloses qname. do asks for DNSSEC records.
func (z *zone) resolve(resp *dns.Msg, qname string, qtype uint16, do bool) {
	name := dns.CanonicalName(qname)
	owner := qname // answers carry the name as asked, like most servers
	sign := do && z.signedBy
	visited := map[string]bool{}
	for chase := 0; ; chase++ {
		visited[name] = true
		if c := z.cut(name, qtype); c != nil {
			if chase == 0 {
				z.referral(resp, c, sign)
			}
			return
		}
		m := match{node: z.nodes[name], name: name, owner: owner, sign: sign}
		if m.node == nil {
			if m.node, m.ce = z.wildcard(name); m.node == nil {
				z.nxdomain(resp, name, sign)
				return
			}
			m.wild = true
		}
		if z.answerData(resp, m, qtype) {
			return
		}
		if cn := m.node.rrsets[dns.TypeCNAME]; len(cn) > 0 && qtype != dns.TypeCNAME {
			z.answerRRset(resp, m, dns.TypeCNAME)
			target := dns.CanonicalName(cn[0].(*dns.CNAME).Target)
			// Only the zone's own data is chased; a resolver asks again
			// for a target elsewhere, as it must with any authoritative
			// server.
			if chase+1 >= maxChase || visited[target] || !dns.IsSubDomain(z.origin, target) {
				return
			}
			name, owner = target, cn[0].(*dns.CNAME).Target
			continue
		}
		z.nodata(resp, m)
		return
	}
}

// match is the node a name resolved to: its own, or the wildcard (wild)
// below the closest encloser ce that synthesizes it.
type match struct {
	node        *node
	name, owner string // canonical, and as asked
	ce          string
	wild, sign  bool
}

// answerData adds the RRset of qtype at m (every RRset for ANY), and
// reports whether there was one.
func (z *zone) answerData(resp *dns.Msg, m match, qtype uint16) bool {
	if qtype == dns.TypeANY {
		if len(m.node.rrsets) == 0 {
			return false
		}
		for _, t := range sortedTypes(m.node.rrsets) {
			resp.Answer = append(resp.Answer, z.rrset(m.node, t, m.owner, m.wild, m.sign)...)
		}
		z.proveWild(resp, m)
		return true
	}
	if len(m.node.rrsets[qtype]) == 0 {
		return false
	}
	z.answerRRset(resp, m, qtype)
	return true
}

// answerRRset adds the RRset of t at m.
func (z *zone) answerRRset(resp *dns.Msg, m match, t uint16) {
	resp.Answer = append(resp.Answer, z.rrset(m.node, t, m.owner, m.wild, m.sign)...)
	z.proveWild(resp, m)
}

// proveWild adds to an answer synthesized from a wildcard the proof that
// no closer name exists.
func (z *zone) proveWild(resp *dns.Msg, m match) {
	if m.wild && m.sign {
		resp.Ns = append(resp.Ns, z.proveWildcard(m.name, m.ce)...)
	}
}

// nxdomain answers that name does not exist.
func (z *zone) nxdomain(resp *dns.Msg, name string, sign bool) {
	resp.Rcode = dns.RcodeNameError
	resp.Ns = append(resp.Ns, z.negativeSOA(sign)...)
	if sign {
		resp.Ns = append(resp.Ns, z.denyName(name)...)
	}
}

// nodata answers that m has no RRset of the type asked.
func (z *zone) nodata(resp *dns.Msg, m match) {
	resp.Ns = append(resp.Ns, z.negativeSOA(m.sign)...)
	switch {
	case m.sign && m.wild:
		resp.Ns = append(resp.Ns, z.denyWildcardType(m.name, m.ce)...)
	case m.sign:
		resp.Ns = append(resp.Ns, z.denyType(m.name)...)
	}
}

// rrset returns the RRset of type t at n (renamed to owner when
// synthesized from a wildcard) and, when sign, its RRSIGs.
func (z *zone) rrset(n *node, t uint16, owner string, wild, sign bool) []dns.RR {
	out := make([]dns.RR, 0, len(n.rrsets[t])+2)
	out = append(out, n.rrsets[t]...)
	if sign {
		out = append(out, n.sigs[t]...)
	}
	if wild {
		for i, rr := range out {
			rr = dns.Copy(rr)
			rr.Header().Name = owner
			out[i] = rr
		}
	}
	return out
}

// wildcard returns the wildcard node that synthesizes name (RFC 4592):
// "*." + the closest encloser ce, when that exists and name does not.
func (z *zone) wildcard(name string) (wild *node, ce string) {
	for n := name; n != z.origin; {
		i, end := dns.NextLabel(n, 0)
		if end {
			return nil, ""
		}
		n = n[i:]
		if _, ok := z.nodes[n]; ok {
			if w := z.nodes["*."+n]; w != nil {
				return w, n
			}
			return nil, ""
		}
	}
	return nil, ""
}

// negativeSOA is the SOA for the authority section of a negative answer,
// with the TTL RFC 2308 §3 asks for: min(SOA TTL, MINIMUM).
func (z *zone) negativeSOA(sign bool) []dns.RR {
	soa := dns.Copy(z.soa).(*dns.SOA)
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	out := []dns.RR{soa}
	if sign {
		out = append(out, z.nodes[z.origin].sigs[dns.TypeSOA]...)
	}
	return out
}

// referral answers for a name under the delegation c: NS in authority,
// the DS (or the NSEC proving there is none) when signed, glue in
// additional, and no AA bit — this server is not authoritative there.
func (z *zone) referral(resp *dns.Msg, c *node, sign bool) {
	resp.Authoritative = false
	resp.Ns = append(resp.Ns, c.rrsets[dns.TypeNS]...)
	if sign {
		if ds := c.rrsets[dns.TypeDS]; len(ds) > 0 {
			resp.Ns = append(resp.Ns, ds...)
			resp.Ns = append(resp.Ns, c.sigs[dns.TypeDS]...)
		} else {
			resp.Ns = append(resp.Ns, z.denyType(c.name)...)
		}
	}
	for _, rr := range c.rrsets[dns.TypeNS] {
		host := dns.CanonicalName(rr.(*dns.NS).Ns)
		if g := z.nodes[host]; g != nil && dns.IsSubDomain(z.origin, host) {
			resp.Extra = append(resp.Extra, g.rrsets[dns.TypeA]...)
			resp.Extra = append(resp.Extra, g.rrsets[dns.TypeAAAA]...)
		}
	}
}

func sortedTypes(m map[uint16][]dns.RR) []uint16 {
	ts := make([]uint16, 0, len(m))
	for t := range m {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}
