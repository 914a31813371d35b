package dnssec

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base32"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
)

// Authenticated denial of existence. A negative answer from a signed zone
// is proven by the NSEC (RFC 4035 §5.4) or NSEC3 (RFC 5155 §8) records of
// its authority section, signed by that zone: a signed SOA alone proves
// nothing about the name asked, since any negative answer of the zone
// carries the same one. The same records prove that a wildcard answer had
// no closer match (RFC 4035 §5.3.4, RFC 5155 §8.8), and that a delegation
// has no DS (RFC 4035 §5.2, RFC 5155 §8.6), which is what makes a child
// zone insecure rather than stripped.

// maxDenialRecords bounds the NSEC and NSEC3 records of one zone that one
// proof looks at, each verified: a proof needs at most three (RFC 5155
// §7.2.2); more is padding.
const maxDenialRecords = 8

// b32 is the encoding of NSEC3 hashes (RFC 4648 base32hex, RFC 5155 §3.3).
var b32 = base32.HexEncoding.WithPadding(base32.NoPadding)

// nsec3Rec is one usable NSEC3 record: its hash and next hash decoded.
type nsec3Rec struct {
	rr          *dns.NSEC3
	owner, next [sha1.Size]byte
	salt        string // decoded
}

// optOut reports the opt-out flag (RFC 5155 §3.1.2.1).
func (n *nsec3Rec) optOut() bool { return n.rr.Flags&1 != 0 }

// covers reports whether h falls strictly inside the record's span, the
// last record of the chain wrapping around to the first.
func (n *nsec3Rec) covers(h [sha1.Size]byte) bool {
	o, x := bytes.Compare(n.owner[:], h[:]), bytes.Compare(h[:], n.next[:])
	if bytes.Compare(n.owner[:], n.next[:]) < 0 {
		return o < 0 && x < 0
	}
	return o < 0 || x < 0
}

// parseNSEC3 decodes an NSEC3 record owned by zone's child; false for one a
// validator must ignore: another hash algorithm than SHA-1, flags other
// than opt-out (RFC 5155 §8.1-8.2), or an owner or next name that is no
// SHA-1 hash.
func parseNSEC3(rr *dns.NSEC3, zone string) (nsec3Rec, bool) {
	rec := nsec3Rec{rr: rr}
	if rr.Hash != dns.SHA1 || rr.Flags&^1 != 0 || rr.Hdr.Class != dns.ClassINET {
		return rec, false
	}
	i, end := dns.NextLabel(rr.Hdr.Name, 0)
	if end || !dnsclient.NameEqual(dns.Fqdn(rr.Hdr.Name[i:]), zone) {
		return rec, false
	}
	if !decodeHash(rec.owner[:], rr.Hdr.Name[:i-1]) || !decodeHash(rec.next[:], rr.NextDomain) {
		return rec, false
	}
	if rr.Salt != "" && rr.Salt != "-" {
		salt, err := hex.DecodeString(rr.Salt)
		if err != nil {
			return rec, false
		}
		rec.salt = string(salt)
	}
	return rec, true
}

func decodeHash(dst []byte, s string) bool {
	b, err := b32.DecodeString(strings.ToUpper(s))
	return err == nil && len(b) == len(dst) && copy(dst, b) == len(dst)
}

// denialRecords are the NSEC and NSEC3 records of an answer that verified
// with the keys of zone, the zone whose signed SOA the answer carries.
type denialRecords struct {
	zone  string
	nsec  []*dns.NSEC
	nsec3 []nsec3Rec
	// beyond is a verified NSEC3 record hashing with more iterations than
	// a validator checks (RFC 9276 §3.2): the zone's denials are insecure.
	beyond *dns.NSEC3
	// failed is why the first record that did not verify did not.
	failed *BogusError
}

// denial is the outcome of a proof.
type denial struct {
	sec Security // Secure, Insecure or Bogus
	err *BogusError
	// cut: the name is a delegation point without DS (its NSEC or NSEC3
	// has NS and neither DS nor SOA), or lies in an opt-out span.
	cut bool
	why string
}

// gatherDenial verifies the NSEC and NSEC3 records of a owned in zk's zone
// (at most maxDenialRecords); a record that does not verify is left out.
// The error is for what ends a validation: the work bounds, the context.
func (r *validation) gatherDenial(ctx context.Context, a *dnsclient.Answer, zk *zoneKeys) (*denialRecords, *BogusError) {
	d := &denialRecords{zone: zk.zone}
	n := 0
	for _, rr := range a.Denial {
		if n == maxDenialRecords {
			break
		}
		h := rr.Header()
		if h.Class != dns.ClassINET || !isSubDomain(zk.zone, h.Name) {
			continue
		}
		var rec nsec3Rec
		if n3, ok := rr.(*dns.NSEC3); ok {
			if rec, ok = parseNSEC3(n3, zk.zone); !ok {
				continue
			}
		} else if _, ok := rr.(*dns.NSEC); !ok {
			continue
		}
		n++
		what := rrsetName{h.Rrtype, h.Name}
		vd, e := r.verify(ctx, []dns.RR{rr}, rrsigsCovering(a.AuthoritySigs, h.Name, h.Rrtype), dns.CanonicalName(h.Name), zk, what)
		if e != nil && (e.Kind == ErrBudgetExceeded || e.Kind == ErrChainUnavailable) {
			return nil, e
		}
		if vd.sec != Secure {
			if d.failed == nil {
				if e == nil {
					e = &BogusError{RRset: what.String(), Signer: zk.zone, KeyTag: -1, Kind: ErrSignaturesStripped, Reason: "no RRSIG by the zone's keys"}
				}
				d.failed = e
			}
			continue
		}
		switch rr := rr.(type) {
		case *dns.NSEC:
			d.nsec = append(d.nsec, rr)
		case *dns.NSEC3:
			if nsec3Insecure(rr) {
				d.beyond = rr
				continue
			}
			d.nsec3 = append(d.nsec3, rec)
		}
	}
	return d, nil
}

// proveDenial checks that a proves its negative answer about name: with
// nx that name does not exist (NXDOMAIN), else that it has no RRset of
// qtype (NODATA), by records signed with zk's keys.
func (r *validation) proveDenial(ctx context.Context, a *dnsclient.Answer, name string, qtype uint16, nx bool, zk *zoneKeys) denial {
	d, e := r.gatherDenial(ctx, a, zk)
	if e != nil {
		return denial{sec: Bogus, err: e}
	}
	name = dns.CanonicalName(name)
	what := rrsetName{qtype, name}
	switch {
	case len(d.nsec) > 0:
		return d.proveNSEC(what, nx)
	case d.beyond != nil:
		return denial{sec: Insecure, why: "NSEC3 of " + d.zone + " hashes with " + strconv.Itoa(int(d.beyond.Iterations)) +
			" iterations, more than " + strconv.Itoa(maxNSEC3Iterations) + ": its denials are not checked (RFC 9276 §3.2)"}
	case len(d.nsec3) > 0:
		return r.proveNSEC3(d, what, nx)
	}
	return d.bogus(what, "no NSEC or NSEC3 record of the zone proves the "+answerKind(nx)+", and the zone is signed")
}

func answerKind(nx bool) string {
	if nx {
		return "NXDOMAIN"
	}
	return "NODATA"
}

// bogus is a failed proof of what; the first record that did not verify is
// its cause, when there is one.
func (d *denialRecords) bogus(what rrsetName, reason string) denial {
	e := &BogusError{RRset: what.String(), Signer: d.zone, KeyTag: -1, Kind: ErrDenialNotProven, Reason: reason}
	if d.failed != nil {
		e.Err = d.failed
	}
	return denial{sec: Bogus, err: e}
}

// wildcardAt is the wildcard name at the closest encloser ce.
func wildcardAt(ce string) string {
	if ce == "." {
		return "*."
	}
	return "*." + ce
}

func hasType(types []uint16, t uint16) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// ---- NSEC (RFC 4035 §5.4, RFC 6840 §4.1-4.3) ----

func (d *denialRecords) nsecAt(name string) *dns.NSEC {
	for _, n := range d.nsec {
		if canonicalCompare(n.Hdr.Name, name) == 0 {
			return n
		}
	}
	return nil
}

func (d *denialRecords) nsecCovering(name string) *dns.NSEC {
	for _, n := range d.nsec {
		if nsecCovers(n, name) {
			return n
		}
	}
	return nil
}

// nsecCovers reports whether name falls strictly between the NSEC's owner
// and its next name; the last NSEC of a zone, whose next name is the
// apex, covers every name after it.
func nsecCovers(n *dns.NSEC, name string) bool {
	if canonicalCompare(n.Hdr.Name, name) >= 0 {
		return false
	}
	return canonicalCompare(name, n.NextDomain) < 0 || canonicalCompare(n.NextDomain, n.Hdr.Name) <= 0
}

// nsecEncloser is the closest encloser of name that an NSEC covering it
// shows: the longer of the names name shares with the NSEC's owner and
// with its next name.
func nsecEncloser(n *dns.NSEC, name string) string {
	a, b := commonAncestor(name, n.Hdr.Name), commonAncestor(name, n.NextDomain)
	if dns.CountLabel(b) > dns.CountLabel(a) {
		return dns.CanonicalName(b)
	}
	return dns.CanonicalName(a)
}

// above says whether an NSEC owned by a proper ancestor of name cannot
// speak for it (RFC 6840 §4.1): the owner is a delegation (NS without
// SOA: name is in the child) or a DNAME. A delegation without DS makes
// name insecure rather than bogus: the child is unsigned.
func (d *denialRecords) above(n *dns.NSEC, what rrsetName) (denial, bool) {
	owner := dns.CanonicalName(n.Hdr.Name)
	if owner == what.owner || !isSubDomain(owner, what.owner) {
		return denial{}, false
	}
	switch {
	case hasType(n.TypeBitMap, dns.TypeDNAME):
		return d.bogus(what, "the NSEC at "+owner+" is a DNAME's: names below it are not in the zone"), true
	case hasType(n.TypeBitMap, dns.TypeNS) && !hasType(n.TypeBitMap, dns.TypeSOA):
		if hasType(n.TypeBitMap, dns.TypeDS) {
			return d.bogus(what, "the NSEC at "+owner+" is a signed delegation's: names below it are in the child zone"), true
		}
		return denial{sec: Insecure, why: what.owner + " is below the unsigned delegation " + owner + " (NSEC)"}, true
	}
	return denial{}, false
}

func (d *denialRecords) proveNSEC(what rrsetName, nx bool) denial {
	name, qtype := what.owner, what.rrtype
	if n := d.nsecAt(name); n != nil {
		if nx {
			return d.bogus(what, "NXDOMAIN, but the zone's NSEC at "+name+" shows that the name exists")
		}
		return d.nodataAt(what, n.TypeBitMap, "NSEC")
	}
	c := d.nsecCovering(name)
	if c == nil {
		return d.bogus(what, "no NSEC of the zone covers "+name)
	}
	if out, ok := d.above(c, what); ok {
		return out
	}
	if isSubDomain(name, c.NextDomain) {
		// An empty non-terminal: names exist below it (RFC 4035 §3.1.3.1).
		if nx {
			return d.bogus(what, "NXDOMAIN, but the zone's NSEC at "+c.Hdr.Name+" shows names below "+name)
		}
		return denial{sec: Secure, why: "NODATA proven by the NSEC at " + c.Hdr.Name + ": " + name + " is an empty non-terminal"}
	}
	ce := nsecEncloser(c, name)
	if !isSubDomain(d.zone, ce) {
		return d.bogus(what, "the NSEC covering "+name+" shows no closest encloser in the zone")
	}
	wc := wildcardAt(ce)
	if w := d.nsecAt(wc); w != nil {
		if nx {
			return d.bogus(what, "NXDOMAIN, but the wildcard "+wc+" exists (NSEC)")
		}
		// A wildcard NODATA (RFC 4035 §3.1.3.4).
		if out := d.nodataAt(what, w.TypeBitMap, "NSEC"); out.sec != Secure {
			return out
		}
		return denial{sec: Secure, why: "NODATA proven by NSEC: " + name + " does not exist and the wildcard " + wc + " has no " + dns.Type(qtype).String()}
	}
	if !nx {
		return d.bogus(what, "no NSEC of the zone at "+name+", and none shows an empty non-terminal or a wildcard there")
	}
	if d.nsecCovering(wc) == nil {
		return d.bogus(what, "no NSEC denies the wildcard "+wc+" at the closest encloser")
	}
	return denial{sec: Secure, why: "NXDOMAIN proven by NSEC: " + c.Hdr.Name + " covers " + name + " and " + wc + " is denied"}
}

// nodataAt checks the type bitmap of the record at the name asked, or of
// the wildcard that matches it, for a NODATA (RFC 4035 §5.4, RFC 5155
// §8.5-8.7, RFC 6840 §4.1-4.3).
func (d *denialRecords) nodataAt(what rrsetName, types []uint16, kind string) denial {
	qtype := what.rrtype
	cut := hasType(types, dns.TypeNS) && !hasType(types, dns.TypeSOA)
	switch {
	case qtype == dns.TypeDS && hasType(types, dns.TypeSOA) && what.owner != ".":
		return d.bogus(what, "the "+kind+" denying DS is the child zone's (it has SOA), not the parent's")
	case qtype != dns.TypeDS && cut:
		if hasType(types, dns.TypeDS) {
			return d.bogus(what, "the "+kind+" at "+what.owner+" is a signed delegation's: its data is in the child zone")
		}
		return denial{sec: Insecure, why: what.owner + " is an unsigned delegation (" + kind + ")"}
	case hasType(types, qtype):
		return d.bogus(what, "NODATA, but the zone's "+kind+" at "+what.owner+" lists "+dns.Type(qtype).String())
	case hasType(types, dns.TypeCNAME):
		return d.bogus(what, "NODATA, but the zone's "+kind+" at "+what.owner+" lists CNAME")
	}
	return denial{sec: Secure, cut: cut, why: "NODATA proven by the " + kind + " at " + what.owner}
}

// ---- NSEC3 (RFC 5155 §8) ----

// hashed is one NSEC3 hash computed in a validation.
type hashed struct {
	name, salt string
	iterations uint16
	h          [sha1.Size]byte
}

// hash3 returns the NSEC3 hash of name with rec's parameters (RFC 5155
// §5), computed once per validation and within its hashing budget.
func (r *validation) hash3(name string, rec *nsec3Rec) ([sha1.Size]byte, *BogusError) {
	for _, c := range r.hashed {
		if c.iterations == rec.rr.Iterations && c.salt == rec.salt && c.name == name {
			return c.h, nil
		}
	}
	if e := r.hashes.spend(rrsetString(dns.TypeNSEC3, rec.rr.Hdr.Name), rec.rr.Iterations); e != nil {
		return [sha1.Size]byte{}, e
	}
	var wire [256 + 255]byte // a name, then at most 255 bytes of salt
	n, err := dns.PackDomainName(name, wire[:], 0, nil, false)
	if err != nil {
		n = copy(wire[:], name)
	}
	lowerWire(wire[:n])
	h := sha1.Sum(append(wire[:n], rec.salt...))
	buf := wire[:0]
	for i := 0; i < int(rec.rr.Iterations); i++ {
		buf = append(append(buf[:0], h[:]...), rec.salt...)
		h = sha1.Sum(buf)
	}
	r.hashed = append(r.hashed, hashed{name: name, salt: rec.salt, iterations: rec.rr.Iterations, h: h})
	return h, nil
}

// lowerWire lowercases the ASCII letters of a name in wire form (its
// canonical form, RFC 4034 §6.2), leaving the length octets alone.
func lowerWire(w []byte) {
	for off := 0; off < len(w) && w[off] != 0; {
		l := int(w[off])
		for i := off + 1; i <= off+l && i < len(w); i++ {
			w[i] = lower(w[i])
		}
		off += l + 1
	}
}

// match3 returns the record whose owner is name's hash, or nil.
func (r *validation) match3(d *denialRecords, name string) (*nsec3Rec, *BogusError) {
	for i := range d.nsec3 {
		rec := &d.nsec3[i]
		h, e := r.hash3(name, rec)
		if e != nil {
			return nil, e
		}
		if h == rec.owner {
			return rec, nil
		}
	}
	return nil, nil
}

// cover3 returns a record whose span covers name's hash, or nil.
func (r *validation) cover3(d *denialRecords, name string) (*nsec3Rec, *BogusError) {
	for i := range d.nsec3 {
		rec := &d.nsec3[i]
		h, e := r.hash3(name, rec)
		if e != nil {
			return nil, e
		}
		if rec.covers(h) {
			return rec, nil
		}
	}
	return nil, nil
}

// encloser3 is a closest encloser proof (RFC 5155 §8.3): the deepest
// ancestor of name with a matching record, and the record covering the
// next closer name below it.
type encloser3 struct {
	ce   string
	next *nsec3Rec // covers the next closer name; nil when name itself matches
}

// closestEncloser3 proves the closest encloser of name. A failed proof,
// or one that leaves name below an unsigned delegation (insecure), comes
// as the denial to return; out.sec is then not Secure.
func (r *validation) closestEncloser3(d *denialRecords, what rrsetName) (enc encloser3, out denial) {
	name := what.owner
	next := ""
	var ceRec *nsec3Rec
	for n := name; ; n = parentZone(n) {
		if n == "" || !isSubDomain(d.zone, n) {
			return enc, d.bogus(what, "no NSEC3 of the zone matches an ancestor of "+name+" (no closest encloser)")
		}
		rec, e := r.match3(d, n)
		if e != nil {
			return enc, denial{sec: Bogus, err: e}
		}
		if rec != nil {
			enc.ce, ceRec = n, rec
			break
		}
		next = n
	}
	out.sec = Secure
	if next == "" {
		return enc, out
	}
	nc, e := r.cover3(d, next)
	if e != nil {
		return enc, denial{sec: Bogus, err: e}
	}
	if nc == nil {
		return enc, d.bogus(what, "no NSEC3 of the zone covers the next closer name "+next)
	}
	enc.next = nc
	types := ceRec.rr.TypeBitMap
	switch {
	case hasType(types, dns.TypeDNAME):
		return enc, d.bogus(what, "the closest encloser "+enc.ce+" is a DNAME (NSEC3)")
	case hasType(types, dns.TypeNS) && !hasType(types, dns.TypeSOA):
		if hasType(types, dns.TypeDS) {
			return enc, d.bogus(what, "the closest encloser "+enc.ce+" is a signed delegation: "+name+" is in the child zone")
		}
		return enc, denial{sec: Insecure, cut: true, why: name + " is below the unsigned delegation " + enc.ce + " (NSEC3)"}
	}
	return enc, out
}

func (r *validation) proveNSEC3(d *denialRecords, what rrsetName, nx bool) denial {
	name, qtype := what.owner, what.rrtype
	m, e := r.match3(d, name)
	if e != nil {
		return denial{sec: Bogus, err: e}
	}
	if m != nil {
		if nx {
			return d.bogus(what, "NXDOMAIN, but the zone's NSEC3 "+m.rr.Hdr.Name+" matches "+name+": the name exists")
		}
		return d.nodataAt(what, m.rr.TypeBitMap, "NSEC3")
	}
	enc, out := r.closestEncloser3(d, what)
	if out.sec != Secure {
		return out
	}
	wc := wildcardAt(enc.ce)
	w, e := r.match3(d, wc)
	if e != nil {
		return denial{sec: Bogus, err: e}
	}
	optOut := enc.next != nil && enc.next.optOut()
	if nx {
		if w != nil {
			return d.bogus(what, "NXDOMAIN, but the wildcard "+wc+" exists (NSEC3)")
		}
		// In an opt-out span an unsigned delegation may hold the name:
		// not provably absent, so insecure (RFC 5155 §9.2, as unbound).
		if optOut {
			return denial{sec: Insecure, why: name + " is in an opt-out span of " + d.zone + " (NSEC3)"}
		}
		wcover, e := r.cover3(d, wc)
		if e != nil {
			return denial{sec: Bogus, err: e}
		}
		if wcover == nil {
			return d.bogus(what, "no NSEC3 denies the wildcard "+wc+" at the closest encloser")
		}
		return denial{sec: Secure, why: "NXDOMAIN proven by NSEC3: closest encloser " + enc.ce + ", next closer name and wildcard covered"}
	}
	if w != nil {
		// A wildcard NODATA (RFC 5155 §8.7).
		if out := d.nodataAt(rrsetName{qtype, wc}, w.rr.TypeBitMap, "NSEC3"); out.sec != Secure {
			return out
		}
		if optOut {
			return denial{sec: Insecure, why: name + " is in an opt-out span of " + d.zone + " (NSEC3)"}
		}
		return denial{sec: Secure, why: "NODATA proven by NSEC3: " + name + " does not exist and the wildcard " + wc + " has no " + dns.Type(qtype).String()}
	}
	// No record of its own: an unsigned delegation (or a name below one)
	// that an opt-out span leaves out (RFC 5155 §8.6).
	if optOut {
		return denial{sec: Insecure, cut: true, why: name + " is in an opt-out span of " + d.zone + " (NSEC3): an unsigned delegation may hold it"}
	}
	return d.bogus(what, "no NSEC3 of the zone matches "+name+", and the span covering it is not opt-out")
}

// ---- wildcard answers (RFC 4035 §5.3.4, RFC 5155 §8.8) ----

// proveNoCloserMatch checks that owner, whose RRset verified with an RRSIG
// of labels labels (a wildcard expansion), had no closer match: the next
// closer name below the wildcard's parent does not exist.
func (r *validation) proveNoCloserMatch(ctx context.Context, a *dnsclient.Answer, owner string, rrtype uint16, labels int, zk *zoneKeys) denial {
	d, e := r.gatherDenial(ctx, a, zk)
	if e != nil {
		return denial{sec: Bogus, err: e}
	}
	owner = dns.CanonicalName(owner)
	what := rrsetName{rrtype, owner}
	ce := lastLabels(owner, labels)
	switch {
	case len(d.nsec) > 0:
		c := d.nsecCovering(owner)
		if c == nil {
			break
		}
		if out, ok := d.above(c, what); ok {
			return out
		}
		if nsecEncloser(c, owner) == ce {
			return denial{sec: Secure, why: "wildcard expansion from " + wildcardAt(ce) + ": no closer match (NSEC " + c.Hdr.Name + ")"}
		}
	case d.beyond != nil:
		return denial{sec: Insecure, why: "wildcard expansion in " + d.zone + ", whose NSEC3 has more than " + strconv.Itoa(maxNSEC3Iterations) + " iterations (RFC 9276 §3.2)"}
	case len(d.nsec3) > 0:
		nc := lastLabels(owner, labels+1)
		c, e := r.cover3(d, nc)
		if e != nil {
			return denial{sec: Bogus, err: e}
		}
		if c != nil {
			return denial{sec: Secure, why: "wildcard expansion from " + wildcardAt(ce) + ": next closer name " + nc + " covered (NSEC3)"}
		}
	}
	return d.bogus(what, "synthesized from the wildcard "+wildcardAt(ce)+" without the NSEC or NSEC3 proving that no closer name exists")
}
