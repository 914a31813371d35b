package dnssec

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/trace"
)

// zoneKeys is the validated state of one zone.
type zoneKeys struct {
	zone string
	sec  Security // Secure or Insecure
	// keys are the usable keys of a Secure zone: the validated DNSKEY
	// RRset less keys without the zone flag, revoked keys and keys of
	// unsupported algorithms.
	keys []*dns.DNSKEY
	tags []uint16
	// how says why the zone is secure or insecure, for traces.
	how     string
	expires time.Time
}

// zoneKeys returns the validated state of zone: Secure with its usable keys
// when a trust anchor or a validated DS vouches for its DNSKEY RRset,
// Insecure when nothing says it is signed, or an error (*BogusError) when
// something says it is signed and the proof fails.
func (r *validation) zoneKeys(ctx context.Context, zone string) (*zoneKeys, error) {
	zone = dns.CanonicalName(zone)
	if r.v.closestAnchor(zone) == "" {
		return &zoneKeys{zone: zone, sec: Insecure, how: "outside every trust anchor"}, nil
	}
	e, err := r.do(ctx, cacheKey{kindKeys, zone}, (*validation).validateKeys)
	if err != nil {
		return nil, err
	}
	return e.keys, nil
}

// validateKeys validates the keys of the zone k.name, below a trust
// anchor, for the validator's cache (zoneKeys).
func (r *validation) validateKeys(ctx context.Context, k cacheKey) (cacheEntry, error) {
	zone := k.name
	var zk *zoneKeys
	var err error
	if anchor := r.v.closestAnchor(zone); zone == anchor {
		zk, err = r.keysFromAnchor(ctx, zone, r.v.anchors[zone])
	} else {
		zk, err = r.keysFromParent(ctx, zone)
	}
	if err != nil {
		r.tr.Add(trace.Event{Source: "dns", Query: rrsetString(dns.TypeDNSKEY, zone), DNSSEC: Bogus.String(),
			Decision: "zone keys not validated: " + err.Error()})
		return cacheEntry{}, err
	}
	ev := trace.Event{Source: "dns", Query: rrsetString(dns.TypeDNSKEY, zone), DNSSEC: zk.sec.String(),
		Decision: "zone " + zone + " is " + zk.sec.String() + ": " + zk.how}
	if d := zk.expires.Sub(r.v.now()); d > 0 {
		ev.TTL = d.Truncate(time.Second)
	}
	r.tr.Add(ev)
	return cacheEntry{keys: zk, expires: zk.expires}, nil
}

// keysFromParent validates zone's DS RRset in its parent zone, then its
// DNSKEY RRset against that DS RRset.
func (r *validation) keysFromParent(ctx context.Context, zone string) (*zoneKeys, error) {
	what := rrsetString(dns.TypeDS, zone)
	now := r.v.now()
	a, err := r.query(ctx, zone, dns.TypeDS)
	if err != nil {
		return nil, &BogusError{RRset: what, KeyTag: -1, Kind: ErrChainUnavailable, Reason: "DS lookup failed", Err: err}
	}
	var ds []*dns.DS
	var dsRRs []dns.RR
	if len(a.CNAMEs) == 0 {
		for _, rr := range a.Records {
			if d, ok := rr.(*dns.DS); ok && dns.CanonicalName(d.Hdr.Name) == zone {
				ds = append(ds, d)
				dsRRs = append(dsRRs, d)
			}
		}
	}
	parent := parentZone(zone)
	if len(ds) > maxDS {
		return nil, budgetError(what, parent, fmt.Sprintf("DS RRset of %d records, more than %d", len(ds), maxDS))
	}
	if len(ds) == 0 {
		how, err := r.noDS(ctx, zone, a)
		if err != nil {
			return nil, err
		}
		return &zoneKeys{zone: zone, sec: Insecure, how: "no DS for " + zone + ": " + how,
			expires: now.Add(negTTL(a))}, nil
	}
	vd := r.rrset(ctx, dsRRs, rrsigsCovering(a.Sigs, zone, dns.TypeDS), parent, "")
	switch vd.sec {
	case Bogus:
		return nil, vd.err
	case Insecure:
		return &zoneKeys{zone: zone, sec: Insecure, how: "DS for " + zone + " not provable: " + vd.why,
			expires: now.Add(capTTL(rrsetTTL(dsRRs, nil)))}, nil
	}
	usable := usableDS(ds)
	if len(usable) == 0 {
		return &zoneKeys{zone: zone, sec: Insecure, how: "DS for " + zone + " uses only unsupported algorithms or digest types (RFC 4035 §5.2)",
			expires: vd.expires}, nil
	}
	zk, err := r.keysFromTrust(ctx, zone, usable, nil, "the DS RRset in "+signerName(a.Sigs, parent), false)
	if err != nil {
		return nil, err
	}
	zk.expires = earliest(zk.expires, vd.expires)
	var how strings.Builder
	how.WriteString(zk.how)
	how.WriteString("; ")
	vd.word(&how)
	zk.how = how.String()
	return zk, nil
}

// noDS judges a, the answer to DS zone without any DS record: an unsigned
// delegation, or no delegation at all. When the parent side is signed, its
// NSEC or NSEC3 records must prove that zone is a delegation point without
// DS (or lies in an opt-out span): otherwise an attacker could strip the
// DS of a signed child, or make up a zone cut below a signed zone, and
// have its data taken as insecure (RFC 4035 §5.2, RFC 5155 §8.6). It
// returns why the zone is insecure, or the *BogusError.
func (r *validation) noDS(ctx context.Context, zone string, a *dnsclient.Answer) (string, error) {
	what := rrsetString(dns.TypeDS, zone)
	if a.SOA == nil || !isSubDomain(a.SOA.Hdr.Name, zone) || dns.CanonicalName(a.SOA.Hdr.Name) == zone {
		if vd := r.unsigned(ctx, parentZone(zone), "", rrsetName{dns.TypeDS, zone}); vd.sec == Bogus {
			return "", &BogusError{RRset: what, KeyTag: -1, Kind: kindOf(vd.err), Reason: "denial of DS not trustworthy", Err: vd.err}
		}
		return "the parent side is unsigned", nil
	}
	soa := a.SOA.Hdr.Name
	vd := r.rrset(ctx, []dns.RR{a.SOA}, rrsigsCovering(a.AuthoritySigs, soa, dns.TypeSOA), soa, soa)
	if vd.sec == Bogus {
		return "", &BogusError{RRset: what, KeyTag: -1, Kind: kindOf(vd.err), Reason: "denial of DS not trustworthy", Err: vd.err}
	}
	if vd.sec != Secure {
		return "the parent side is unsigned", nil
	}
	zk, err := r.zoneKeys(ctx, vd.proof.zone)
	if err != nil {
		return "", &BogusError{RRset: what, Signer: vd.proof.zone, KeyTag: -1, Kind: kindOf(err), Reason: "denial of DS not trustworthy", Err: err}
	}
	nx := a.Rcode == dns.RcodeNameError
	dn := r.proveDenial(ctx, a, zone, dns.TypeDS, nx, zk)
	switch {
	case dn.sec == Bogus:
		return "", &BogusError{RRset: what, Signer: zk.zone, KeyTag: -1, Kind: kindOf(dn.err), Reason: "denial of DS not proven", Err: dn.err}
	case dn.sec == Secure && (nx || !dn.cut):
		// Proven, but not a delegation point: no zone here.
		return "", &BogusError{RRset: what, Signer: zk.zone, KeyTag: -1, Kind: ErrDenialNotProven,
			Reason: zone + " is no zone cut in " + zk.zone + " (" + dn.why + "), yet an answer was taken to come from it"}
	}
	return dn.why, nil
}

// keysFromAnchor validates an anchored zone's DNSKEY RRset against its
// trust anchors.
func (r *validation) keysFromAnchor(ctx context.Context, zone string, set *anchorSet) (*zoneKeys, error) {
	ds := usableDS(set.ds)
	var keys []*dns.DNSKEY
	for _, k := range set.keys {
		if usableDNSKEY(k) {
			keys = append(keys, k)
		}
	}
	if len(ds) == 0 && len(keys) == 0 {
		return &zoneKeys{zone: zone, sec: Insecure, how: "its trust anchors use only unsupported algorithms or digest types",
			expires: r.v.now().Add(maxCacheTTL)}, nil
	}
	return r.keysFromTrust(ctx, zone, ds, keys, "the trust anchor", true)
}

// keysFromTrust fetches zone's DNSKEY RRset and requires it to be signed by
// one of its keys that matches ds or equals one of anchorKeys.
func (r *validation) keysFromTrust(ctx context.Context, zone string, ds []*dns.DS, anchorKeys []*dns.DNSKEY, source string, anchored bool) (*zoneKeys, error) {
	set, err := r.dnskeyRRset(ctx, zone, source)
	if err != nil {
		return nil, err
	}
	zk := &zoneKeys{zone: zone, sec: Secure}
	trusted := zk.addUsable(set.keys, ds, anchorKeys)
	if len(trusted) == 0 {
		return nil, &BogusError{RRset: rrsetString(dns.TypeDNSKEY, zone), Signer: zone, KeyTag: -1, Kind: ErrDSMismatch,
			Reason: "DS mismatch: no DNSKEY matches " + source + " (" + describeTrust(ds, anchorKeys) + "; DNSKEY tags " + describeKeyTags(zk.tags) + ")"}
	}
	now := r.v.now()
	k, s, err := r.verifyDNSKEYs(ctx, zone, set, trusted, source, now)
	if err != nil {
		return nil, err
	}
	zk.expires = earliest(sigTime(s.Expiration, now), now.Add(capTTL(rrsetTTL(set.rrs, s))))
	zk.how = fmt.Sprintf("DNSKEY signed by key %d (%s), %s", k.tag, algName(k.key.Algorithm), k.by)
	if anchored {
		zk.how += " (trust anchor)"
	}
	return zk, nil
}

// dnskeySet is a zone's DNSKEY RRset as served, and the zone's RRSIGs
// over it.
type dnskeySet struct {
	rrs  []dns.RR
	keys []*dns.DNSKEY
	sigs []*dns.RRSIG
}

// trustedKey is a key of a zone that its trust (a DS record or a trust
// anchor, named by by) vouches for.
type trustedKey struct {
	key *dns.DNSKEY
	tag uint16
	by  string
}

// dnskeyRRset asks zone's DNSKEY RRset, which source says is signed: it
// must be there, within maxDNSKEYs, with RRSIGs by the zone itself.
func (r *validation) dnskeyRRset(ctx context.Context, zone, source string) (dnskeySet, error) {
	what := rrsetString(dns.TypeDNSKEY, zone)
	a, err := r.query(ctx, zone, dns.TypeDNSKEY)
	if err != nil {
		return dnskeySet{}, &BogusError{RRset: what, Signer: zone, KeyTag: -1, Kind: ErrChainUnavailable, Reason: "DNSKEY lookup failed", Err: err}
	}
	var set dnskeySet
	if len(a.CNAMEs) == 0 {
		for _, rr := range a.Records {
			if k, ok := rr.(*dns.DNSKEY); ok && dns.CanonicalName(k.Hdr.Name) == zone {
				set.rrs = append(set.rrs, k)
				set.keys = append(set.keys, k)
			}
		}
	}
	if len(set.keys) == 0 {
		return dnskeySet{}, &BogusError{RRset: what, Signer: zone, KeyTag: -1, Kind: ErrSignaturesStripped,
			Reason: "no DNSKEY RRset, but " + source + " says the zone is signed (unsigned or stripped zone)"}
	}
	if len(set.keys) > maxDNSKEYs {
		return dnskeySet{}, budgetError(what, zone, fmt.Sprintf("DNSKEY RRset of %d keys, more than %d", len(set.keys), maxDNSKEYs))
	}
	for _, s := range rrsigsCovering(a.Sigs, zone, dns.TypeDNSKEY) {
		if dns.CanonicalName(s.SignerName) == zone {
			set.sigs = append(set.sigs, s)
		}
	}
	if len(set.sigs) == 0 {
		return dnskeySet{}, &BogusError{RRset: what, Signer: zone, KeyTag: -1, Kind: ErrSignaturesStripped,
			Reason: "DNSKEY RRset has no RRSIG, but " + source + " says the zone is signed (signatures stripped)"}
	}
	return set, nil
}

// addUsable keeps the usable keys among keys in zk and returns those that
// the DS records or anchor keys vouch for.
func (zk *zoneKeys) addUsable(keys []*dns.DNSKEY, ds []*dns.DS, anchorKeys []*dns.DNSKEY) []trustedKey {
	var trusted []trustedKey
	for _, k := range keys {
		if !usableDNSKEY(k) {
			continue
		}
		tag := k.KeyTag()
		zk.keys = append(zk.keys, k)
		zk.tags = append(zk.tags, tag)
		if by := trustedBy(k, tag, ds, anchorKeys); by != "" {
			trusted = append(trusted, trustedKey{k, tag, by})
		}
	}
	return trusted
}

// verifyDNSKEYs finds an RRSIG of set that a trusted key verifies: each
// RRSIG by the zone is tried with the trusted keys that carry its tag and
// algorithm (at most maxKeysPerTag), within the verification budget. It
// returns the key and the RRSIG, or the most telling failure.
func (r *validation) verifyDNSKEYs(ctx context.Context, zone string, set dnskeySet, trusted []trustedKey, source string, now time.Time) (trustedKey, *dns.RRSIG, error) {
	what := rrsetString(dns.TypeDNSKEY, zone)
	count := sigCounter{r: r, what: rrsetName{dns.TypeDNSKEY, zone}}
	var worst sigFailure
	for _, s := range set.sigs {
		f := sigFailure{sig: s, kind: ErrNoDNSKEY}
		for _, k := range trusted {
			if s.KeyTag != k.tag || s.Algorithm != k.key.Algorithm {
				continue
			}
			if kind := validityKind(s, now); kind != nil {
				f.kind = kind
				break
			}
			if f.tried++; f.tried > maxKeysPerTag {
				f.kind = ErrBudgetExceeded
				continue
			}
			if e := count.next(ctx, zone); e != nil {
				return trustedKey{}, nil, e
			}
			if err := s.Verify(k.key, set.rrs); err != nil {
				f.kind, f.err = ErrBadSignature, err
				continue
			}
			return k, s, nil
		}
		if f.kind != ErrNoDNSKEY {
			worst = worst.or(f)
		}
	}
	if best := worst.bogus(what, zone, now); best != nil {
		return trustedKey{}, nil, best
	}
	return trustedKey{}, nil, &BogusError{RRset: what, Signer: zone, KeyTag: int(trusted[0].tag), Kind: ErrSignaturesStripped,
		Reason: "no RRSIG by a key that matches " + source + " (DNSKEY RRset signed by " + describeSigTags(set.sigs) + ")"}
}

// trustedBy says how k is vouched for by ds or anchorKeys, or "" if not.
func trustedBy(k *dns.DNSKEY, tag uint16, ds []*dns.DS, anchorKeys []*dns.DNSKEY) string {
	for _, d := range ds {
		if d.KeyTag != tag || d.Algorithm != k.Algorithm {
			continue
		}
		if got := k.ToDS(d.DigestType); got != nil && strings.EqualFold(got.Digest, d.Digest) {
			return fmt.Sprintf("matching DS %d/%s", d.KeyTag, digestName(d.DigestType))
		}
	}
	for _, ak := range anchorKeys {
		if sameDNSKEY(k, ak) {
			return "equal to the DNSKEY trust anchor"
		}
	}
	return ""
}

// sameDNSKEY compares keys as trust anchors are compared: flags (but SEP, a
// hint only), protocol, algorithm and public key.
func sameDNSKEY(a, b *dns.DNSKEY) bool {
	return a.Flags&^dns.SEP == b.Flags&^dns.SEP && a.Protocol == b.Protocol && a.Algorithm == b.Algorithm &&
		strings.ReplaceAll(a.PublicKey, " ", "") == strings.ReplaceAll(b.PublicKey, " ", "")
}

// usableDNSKEY: a zone key (RFC 4034 §2.1.1), not revoked (RFC 5011 §3), of an
// algorithm we implement.
func usableDNSKEY(k *dns.DNSKEY) bool {
	return k.Flags&dns.ZONE != 0 && k.Flags&dns.REVOKE == 0 && k.Protocol == 3 && supportedAlgorithm(k.Algorithm)
}

// usableDS keeps the DS records we can check, ignoring SHA-1 digests of a
// key that also has a stronger one (RFC 4509 §3).
func usableDS(ds []*dns.DS) []*dns.DS {
	var out []*dns.DS
	for _, d := range ds {
		if !supportedAlgorithm(d.Algorithm) || !supportedDigest(d.DigestType) {
			continue
		}
		if d.DigestType == dns.SHA1 && hasStrongerDS(ds, d) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func hasStrongerDS(ds []*dns.DS, d *dns.DS) bool {
	for _, o := range ds {
		if o.KeyTag == d.KeyTag && o.Algorithm == d.Algorithm && (o.DigestType == dns.SHA256 || o.DigestType == dns.SHA384) {
			return true
		}
	}
	return false
}

// supportedAlgorithm: the algorithms RFC 8624 says a validator must
// implement, less the SHA-1 ones (5, 7), whose signatures are forgeable and
// which are treated as unsupported, so insecure.
func supportedAlgorithm(alg uint8) bool {
	switch alg {
	case dns.RSASHA256, dns.RSASHA512, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

// supportedDigest: DS digest types 1 (SHA-1, still accepted for DS), 2
// (SHA-256) and 4 (SHA-384).
func supportedDigest(t uint8) bool {
	return t == dns.SHA1 || t == dns.SHA256 || t == dns.SHA384
}
