package discovery

// In-process DNSSEC validation of the answers discovery uses (DESIGN §2
// "Authentication", RFC 4033-4035, RFC 6840).
//
// The validator proves an RRset by walking signer names up to a trust
// anchor: the RRSIG over the RRset must verify with a key of the signer
// zone's DNSKEY RRset; that DNSKEY RRset must be signed by one of its keys
// which matches either a trust anchor or a DS RRset of the parent zone; the
// DS RRset is itself an RRset signed by the parent zone, and so on up to the
// anchor. Authenticated denial (NSEC/NSEC3) is deliberately not checked: a
// denial that cannot be proven only ever makes discovery fall back towards
// the name's own host, which is safe (issue 4), while checking it would
// double the code that must be right. What is checked instead is whether an
// unsigned answer comes from a zone the chain says is signed ("stripped"
// signatures), which is bogus.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/trace"
)

// Security is the DNSSEC status of an answer (RFC 4033 §5).
type Security int

// DNSSEC states. The zero value, Insecure, is what an unauthenticated answer
// is: usable, but proving nothing.
const (
	// Insecure: no signatures, and none required: the name is outside every
	// trust anchor, or below an unsigned delegation (no DS), or signed only
	// with algorithms this validator does not implement (RFC 4035 §5.2).
	Insecure Security = iota
	// Secure: every RRset of the answer verified along a chain of trust.
	Secure
	// Bogus: a signature failed, or signatures are missing where the chain
	// of trust says the zone is signed. Validate returns an error with it.
	Bogus
)

// String returns "insecure", "secure" or "bogus", as in traces and JSON.
func (s Security) String() string {
	switch s {
	case Insecure:
		return "insecure"
	case Secure:
		return "secure"
	case Bogus:
		return "bogus"
	}
	return "security(" + strconv.Itoa(int(s)) + ")"
}

// Querier answers DNS questions; *dnsclient.Client satisfies it. The validator
// reads Records, Sigs, CNAMEs, CNAMESigs, SOA, AuthoritySigs and
// NegativeTTL of each dnsclient.Answer, so the Querier must ask with the DO bit set.
type Querier interface {
	Query(ctx context.Context, name string, qtype uint16) (*dnsclient.Answer, error)
}

// ErrBogus is wrapped by every error Validate returns (always a
// *BogusError).
var ErrBogus = errors.New("DNSSEC bogus")

// BogusError says why an answer is bogus: which RRset, which signer zone and
// key, and the reason (expired signature, bad signature, no matching DNSKEY,
// DS mismatch, missing signatures where a DS exists, ...). It wraps ErrBogus
// and, when validation could not complete because a lookup failed or the
// context ended, that cause too: errors.Is(err, dnsclient.ErrUnknown) or
// errors.Is(err, context.DeadlineExceeded) then tell "could not check" from
// "forged".
type BogusError struct {
	// RRset is "TYPE owner", e.g. "TXT _oci-discovery.example.com.".
	RRset string
	// Signer is the zone whose keys signed, or should have signed, RRset.
	Signer string
	// KeyTag of the key concerned, -1 when no single key is.
	KeyTag int
	// Reason is what is wrong, for a person.
	Reason string
	// Err is the cause: a nested *BogusError for a broken link further up
	// the chain, a lookup error, or a verification error; may be nil.
	Err error
}

// Error returns "DNSSEC bogus: " and the chain of failures, outermost first.
func (e *BogusError) Error() string {
	var b strings.Builder
	b.WriteString(ErrBogus.Error())
	b.WriteString(": ")
	e.detail(&b)
	return b.String()
}

// detail writes e and its chain of nested BogusErrors without repeating the
// "DNSSEC bogus" prefix.
func (e *BogusError) detail(b *strings.Builder) {
	b.WriteString(e.RRset)
	if e.Signer != "" {
		b.WriteString(" (signer ")
		b.WriteString(e.Signer)
		if e.KeyTag >= 0 {
			b.WriteString(" key ")
			b.WriteString(strconv.Itoa(e.KeyTag))
		}
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Err == nil {
		return
	}
	b.WriteString(": ")
	var nested *BogusError
	if errors.As(e.Err, &nested) && nested == e.Err {
		nested.detail(b)
		return
	}
	b.WriteString(e.Err.Error())
}

// Unwrap returns ErrBogus and the cause, for errors.Is and errors.As.
func (e *BogusError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrBogus}
	}
	return []error{ErrBogus, e.Err}
}

// Limits of one validation and of the validator's cache.
const (
	// maxChainQueries bounds the DS, DNSKEY and SOA queries one Validate
	// may send: a chain from the root to a name four zones deep costs about
	// 10; a longer chain is an attack or a misconfiguration.
	maxChainQueries = 48
	// maxCacheEntries bounds the validated DNSKEY/DS state kept between
	// validations.
	maxCacheEntries = 4096
	// maxCacheTTL caps how long validated keys are trusted without asking
	// again, whatever the TTLs say (a day, like common validators).
	maxCacheTTL = 24 * time.Hour
)

// Validator validates answers in-process against trust anchors. It caches
// the validated DNSKEY and DS state of every zone it walks through (bounded,
// for the records' TTLs and never past a signature's expiration), so
// validating many answers of one zone costs one DNSKEY query. Safe for
// concurrent use; concurrent validations that need the same zone share one
// set of queries.
type Validator struct {
	q       Querier
	now     func() time.Time
	anchors map[string]*anchorSet // by canonical zone name

	mu       sync.Mutex
	cache    map[valKey]valEntry
	inflight map[valKey]*valFlight
}

// anchorSet holds the trust anchors of one zone.
type anchorSet struct {
	ds   []*dns.DS
	keys []*dns.DNSKEY
}

type valKind uint8

const (
	valKindKeys valKind = iota // validated keys of a zone
	valKindZone                // the zone a name belongs to, from SOA
)

type valKey struct {
	kind valKind
	name string
}

type valEntry struct {
	keys    *zoneKeys // valKindKeys
	zone    string    // valKindZone
	expires time.Time
}

type valFlight struct {
	done chan struct{}
	e    valEntry
	err  error
}

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

// NewValidator returns a validator that asks q and trusts anchors (DS or
// DNSKEY records; other types, and DS/DNSKEY records of unsupported
// algorithms, are ignored). A nil anchors means RootAnchors(); pass
// append(RootAnchors(), more...) to keep the root when adding private
// anchors, and an empty non-nil slice to trust nothing (every answer is then
// insecure). now is the clock for signature validity and cache expiry; nil
// means time.Now.
func NewValidator(q Querier, anchors []dns.RR, now func() time.Time) *Validator {
	if anchors == nil {
		anchors = RootAnchors()
	}
	if now == nil {
		now = time.Now
	}
	v := &Validator{
		q:        q,
		now:      now,
		anchors:  make(map[string]*anchorSet),
		cache:    make(map[valKey]valEntry),
		inflight: make(map[valKey]*valFlight),
	}
	for _, rr := range anchors {
		if rr == nil || rr.Header().Class != dns.ClassINET {
			continue
		}
		zone := dns.CanonicalName(rr.Header().Name)
		set := v.anchors[zone]
		if set == nil {
			set = new(anchorSet)
		}
		switch rr := rr.(type) {
		case *dns.DS:
			set.ds = append(set.ds, rr)
		case *dns.DNSKEY:
			set.keys = append(set.keys, rr)
		default:
			continue
		}
		v.anchors[zone] = set
	}
	return v
}

// Validate returns the DNSSEC status of a: Secure when every RRset in it
// (each CNAME of the chain, then Records; for a negative answer, the SOA of
// the authority section) verifies up to a trust anchor; Insecure when it is
// unsigned and no signature is required; Bogus, with a *BogusError wrapping
// ErrBogus, otherwise. The error is non-nil exactly when the status is Bogus;
// it also wraps the lookup error (dnsclient.ErrUnknown) or context error when a
// query of the chain failed, so that a caller may treat that as "unknown"
// rather than "forged". For a negative answer (NXDOMAIN/NODATA) Secure
// means its SOA is authenticated: the denial itself is not proven, because
// NSEC/NSEC3 are not checked.
//
// Cost: on a warm validator, one signature verification per RRset and no
// query; a cold chain costs about two queries (DS, DNSKEY) per zone below
// the anchor, and an unsigned answer one SOA query to find its zone. Adds
// an event to trace.FromContext(ctx) for the verdict and for every zone validated.
func (v *Validator) Validate(ctx context.Context, a *dnsclient.Answer) (Security, error) {
	r := &valRun{v: v, tr: trace.FromContext(ctx)}
	if a == nil {
		return Insecure, nil
	}
	what := rrsetString(a.Qtype, a.Name)
	final := a.Final
	if final == "" {
		final = a.Name
	}
	worst := valVerdict{sec: Secure}
	var why []string
	merge := func(vd valVerdict) bool {
		if vd.why != "" {
			why = append(why, vd.why)
		}
		if vd.sec == Bogus {
			worst = vd
			return false
		}
		if vd.sec == Insecure {
			worst.sec = Insecure
		}
		return true
	}
	ok := true
	for _, set := range splitRRsets(a.CNAMEs) {
		owner := set[0].Header().Name
		if ok = merge(r.rrset(ctx, set, rrsigsCovering(a.CNAMESigs, owner, dns.TypeCNAME), owner, "")); !ok {
			break
		}
	}
	if ok {
		switch {
		case len(a.Records) > 0:
			for _, set := range splitRRsets(a.Records) {
				owner := set[0].Header().Name
				if ok = merge(r.rrset(ctx, set, rrsigsCovering(a.Sigs, owner, set[0].Header().Rrtype), owner, "")); !ok {
					break
				}
			}
		case a.SOA != nil && dns.IsSubDomain(a.SOA.Hdr.Name, final):
			soa := a.SOA.Hdr.Name
			merge(r.rrset(ctx, []dns.RR{a.SOA}, rrsigsCovering(a.AuthoritySigs, soa, dns.TypeSOA), soa, soa))
		default:
			// Absent without an SOA of its zone: nothing signed to check,
			// but the zone it came from may say signatures were required.
			merge(r.unsigned(ctx, final, "", what))
		}
	}
	ev := trace.Event{Source: "dns", Query: what, Server: a.Server, DNSSEC: worst.sec.String()}
	if worst.sec == Bogus {
		ev.Decision = "rejected: " + worst.err.Error()
		r.tr.Add(ev)
		return Bogus, worst.err
	}
	ev.Decision = strings.Join(why, "; ")
	r.tr.Add(ev)
	return worst.sec, nil
}

// valRun is the state of one Validate call.
type valRun struct {
	v       *Validator
	tr      *trace.Trace
	queries int
}

// valVerdict is the outcome for one RRset.
type valVerdict struct {
	sec     Security
	err     error // *BogusError iff sec == Bogus
	why     string
	expires time.Time // Secure only: when the proof stops holding
}

func bogusVerdict(e *BogusError) valVerdict { return valVerdict{sec: Bogus, err: e} }

// query asks q within the per-validation budget.
func (r *valRun) query(ctx context.Context, name string, qtype uint16) (*dnsclient.Answer, error) {
	if r.queries >= maxChainQueries {
		return nil, fmt.Errorf("chain needs more than %d queries", maxChainQueries)
	}
	r.queries++
	if r.v.q == nil {
		return nil, errors.New("validator has no DNS querier")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a, err := r.v.q.Query(ctx, name, qtype)
	if err == nil && a == nil {
		err = errors.New("querier returned no answer")
	}
	return a, err
}

// rrset validates one RRset (same owner, type and class) with the RRSIGs
// over it. Without any RRSIG, the zone of unsignedName (or soaZone, when the
// answer carried that zone's SOA) decides between Insecure and stripped.
func (r *valRun) rrset(ctx context.Context, rrs []dns.RR, sigs []*dns.RRSIG, unsignedName, soaZone string) valVerdict {
	h := rrs[0].Header()
	owner := dns.CanonicalName(h.Name)
	what := rrsetString(h.Rrtype, h.Name)
	if r.v.closestAnchor(owner) == "" {
		return valVerdict{sec: Insecure, why: what + " is outside every trust anchor"}
	}

	// Group the usable signatures by signer. A signer must be the zone
	// holding the RRset, so an ancestor of its owner; for DS, which lives
	// on the parent side of a cut, a proper ancestor (RFC 4035 §5.3.1).
	type bySigner struct {
		zone string
		sigs []*dns.RRSIG
	}
	var signers []bySigner
	var unsupported []*dns.RRSIG
	for _, s := range sigs {
		signer := dns.CanonicalName(s.SignerName)
		if !dns.IsSubDomain(signer, owner) || (h.Rrtype == dns.TypeDS && signer == owner) {
			continue
		}
		if !supportedAlgorithm(s.Algorithm) {
			unsupported = append(unsupported, s)
			continue
		}
		i := 0
		for i < len(signers) && signers[i].zone != signer {
			i++
		}
		if i == len(signers) {
			signers = append(signers, bySigner{zone: signer})
		}
		signers[i].sigs = append(signers[i].sigs, s)
	}
	if len(signers) == 0 {
		// Unsigned, or signed only with algorithms we do not implement:
		// what the zone holding the RRset requires decides (RFC 4035 §5.2;
		// RFC 6840 §5.11: a secure zone signs with every algorithm of its
		// DS set, so it must have left a signature we can check).
		vd := r.unsigned(ctx, unsignedName, soaZone, what)
		if vd.sec == Insecure && len(unsupported) > 0 {
			vd.why = what + " is signed only with unsupported algorithms (" + dnssecAlgName(unsupported[0].Algorithm) + "); " + vd.why
		}
		return vd
	}

	anchor := r.v.closestAnchor(owner)
	var best *BogusError
	insecureWhy := ""
	for _, sg := range signers {
		if !dns.IsSubDomain(anchor, sg.zone) {
			return bogusVerdict(&BogusError{RRset: what, Signer: sg.zone, KeyTag: -1,
				Reason: "signer is above the trust anchor " + anchor})
		}
		zk, err := r.zoneKeys(ctx, sg.zone)
		if err != nil {
			best = worseBogus(best, &BogusError{RRset: what, Signer: sg.zone, KeyTag: -1, Reason: "signer's keys not validated", Err: err})
			continue
		}
		if zk.sec == Insecure {
			insecureWhy = what + " signed by " + sg.zone + ", which is insecure: " + zk.how
			continue
		}
		vd, e := r.verify(rrs, sg.sigs, zk, what)
		if e == nil {
			vd.why = what + " " + vd.why
			return vd
		}
		best = worseBogus(best, e)
	}
	if best != nil {
		return bogusVerdict(best)
	}
	// Signed only by zones without a chain of trust. Such a signature
	// proves nothing, so it must not hide that the zone really holding the
	// RRset is secure (a forged RRSIG naming a made-up signer).
	vd := r.unsigned(ctx, unsignedName, soaZone, what)
	if vd.sec == Insecure {
		vd.why = insecureWhy
	}
	return vd
}

// verify checks sigs over rrs with the keys of a secure zone; the first
// signature that verifies makes the RRset secure (RFC 6840 §5.11).
func (r *valRun) verify(rrs []dns.RR, sigs []*dns.RRSIG, zk *zoneKeys, what string) (valVerdict, *BogusError) {
	now := r.v.now()
	var best *BogusError
	for _, s := range sigs {
		e := &BogusError{RRset: what, Signer: zk.zone, KeyTag: int(s.KeyTag)}
		if reason := validityProblem(s, now); reason != "" {
			e.Reason = reason
			best = worseBogus(best, e)
			continue
		}
		matched := false
		for i, k := range zk.keys {
			if zk.tags[i] != s.KeyTag || k.Algorithm != s.Algorithm {
				continue
			}
			matched = true
			if err := s.Verify(k, rrs); err != nil {
				e.Reason = verifyFailure(err)
				continue
			}
			exp := earliest(sigTime(s.Expiration, now), now.Add(rrsetTTL(rrs, s)), zk.expires)
			return valVerdict{sec: Secure, expires: exp,
				why: fmt.Sprintf("verified with %s key %d (%s)", zk.zone, s.KeyTag, dnssecAlgName(s.Algorithm))}, nil
		}
		if !matched {
			e.Reason = fmt.Sprintf("no DNSKEY with key tag %d and algorithm %s in the validated DNSKEY RRset", s.KeyTag, dnssecAlgName(s.Algorithm))
		}
		best = worseBogus(best, e)
	}
	return valVerdict{}, best
}

// verifyFailure words a signature verification error.
func verifyFailure(err error) string {
	if errors.Is(err, dns.ErrSig) {
		return "bad signature"
	}
	return "bad signature (" + strings.TrimPrefix(err.Error(), "dns: ") + ")"
}

// worseBogus returns the more telling of two failures: a validity-period problem
// (the operator forgot to re-sign) over a bad signature (tampering) over a
// missing key (a stale or foreign signature).
func worseBogus(a, b *BogusError) *BogusError {
	if a == nil {
		return b
	}
	rank := func(e *BogusError) int {
		switch {
		case strings.HasPrefix(e.Reason, "signature expired"), strings.HasPrefix(e.Reason, "signature not yet valid"):
			return 3
		case strings.HasPrefix(e.Reason, "bad signature"):
			return 2
		case strings.HasPrefix(e.Reason, "no DNSKEY"):
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// unsigned decides an RRset that carries no RRSIG, owned by name (or found
// in soaZone): Bogus when the zone it comes from is secure — its DS in the
// parent, or a trust anchor, says it is signed, so signatures were stripped
// — else Insecure.
func (r *valRun) unsigned(ctx context.Context, name, soaZone, what string) valVerdict {
	name = dns.CanonicalName(name)
	anchor := r.v.closestAnchor(name)
	if anchor == "" {
		return valVerdict{sec: Insecure, why: what + " is outside every trust anchor"}
	}
	zone := dns.CanonicalName(soaZone)
	if soaZone == "" || !dns.IsSubDomain(zone, name) {
		z, err := r.zoneOf(ctx, name, anchor)
		if err != nil {
			return bogusVerdict(&BogusError{RRset: what, KeyTag: -1, Reason: "unsigned, and finding its zone failed", Err: err})
		}
		zone = z
	}
	if !dns.IsSubDomain(anchor, zone) {
		// The trust anchor says its zone is signed; an answer below it
		// cannot come from a zone above it.
		zone = anchor
	}
	zk, err := r.zoneKeys(ctx, zone)
	if err != nil {
		return bogusVerdict(&BogusError{RRset: what, Signer: zone, KeyTag: -1, Reason: "unsigned, and its zone's keys fail validation", Err: err})
	}
	if zk.sec == Secure {
		return bogusVerdict(&BogusError{RRset: what, Signer: zone, KeyTag: -1,
			Reason: "no RRSIG by the zone's keys, but the zone is signed (" + zk.how + "): signatures stripped"})
	}
	return valVerdict{sec: Insecure, why: what + " is unsigned in " + zone + ", " + zk.how}
}

// hasBadSignature reports whether any BogusError in err's chain is about a
// signature that failed, as opposed to a lookup that failed.
func hasBadSignature(err error) bool {
	for err != nil {
		var b *BogusError
		if !errors.As(err, &b) {
			return false
		}
		if strings.HasPrefix(b.Reason, "bad signature") || strings.HasPrefix(b.Reason, "signature expired") ||
			strings.HasPrefix(b.Reason, "signature not yet valid") || strings.Contains(b.Reason, "stripped") {
			return true
		}
		err = b.Err
	}
	return false
}

// zoneOf finds the zone name belongs to: the owner of the SOA in the answer
// to SOA name (at the apex) or in its authority section (below it), or the
// owner of the NS records of a referral (a zone cut below the server's
// zone); walking up when a name has none in sight (a CNAME owner). Never
// above anchor.
func (r *valRun) zoneOf(ctx context.Context, name, anchor string) (string, error) {
	e, err := r.do(ctx, valKey{valKindZone, name}, func() (valEntry, error) {
		for n := name; ; n = parentZoneName(n) {
			if n == anchor || n == "." {
				return valEntry{zone: n}, nil
			}
			a, err := r.query(ctx, n, dns.TypeSOA)
			if err != nil {
				return valEntry{}, err
			}
			if len(a.CNAMEs) > 0 {
				continue
			}
			for _, rr := range a.Records {
				if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == n {
					return valEntry{zone: n, expires: r.v.now().Add(dnssecCapTTL(time.Duration(soa.Hdr.Ttl) * time.Second))}, nil
				}
			}
			if a.SOA != nil && dns.IsSubDomain(a.SOA.Hdr.Name, n) {
				return valEntry{zone: dns.CanonicalName(a.SOA.Hdr.Name), expires: r.v.now().Add(dnssecNegTTL(a))}, nil
			}
			// A referral from a server authoritative only for the parent:
			// the NS owner is the zone cut, and n lies below it.
			if a.Msg != nil {
				for _, rr := range a.Msg.Ns {
					if ns, ok := rr.(*dns.NS); ok && dns.IsSubDomain(ns.Hdr.Name, n) && dns.IsSubDomain(anchor, ns.Hdr.Name) {
						return valEntry{zone: dns.CanonicalName(ns.Hdr.Name), expires: r.v.now().Add(dnssecCapTTL(time.Duration(ns.Hdr.Ttl) * time.Second))}, nil
					}
				}
			}
		}
	})
	return e.zone, err
}

// zoneKeys returns the validated state of zone: Secure with its usable keys
// when a trust anchor or a validated DS vouches for its DNSKEY RRset,
// Insecure when nothing says it is signed, or an error (*BogusError) when
// something says it is signed and the proof fails.
func (r *valRun) zoneKeys(ctx context.Context, zone string) (*zoneKeys, error) {
	zone = dns.CanonicalName(zone)
	anchor := r.v.closestAnchor(zone)
	if anchor == "" {
		return &zoneKeys{zone: zone, sec: Insecure, how: "outside every trust anchor"}, nil
	}
	e, err := r.do(ctx, valKey{valKindKeys, zone}, func() (valEntry, error) {
		var zk *zoneKeys
		var err error
		if zone == anchor {
			zk, err = r.keysFromAnchor(ctx, zone, r.v.anchors[zone])
		} else {
			zk, err = r.keysFromParent(ctx, zone)
		}
		if err != nil {
			r.tr.Add(trace.Event{Source: "dns", Query: rrsetString(dns.TypeDNSKEY, zone), DNSSEC: Bogus.String(),
				Decision: "zone keys not validated: " + err.Error()})
			return valEntry{}, err
		}
		ev := trace.Event{Source: "dns", Query: rrsetString(dns.TypeDNSKEY, zone), DNSSEC: zk.sec.String(),
			Decision: "zone " + zone + " is " + zk.sec.String() + ": " + zk.how}
		if d := zk.expires.Sub(r.v.now()); d > 0 {
			ev.TTL = d.Truncate(time.Second)
		}
		r.tr.Add(ev)
		return valEntry{keys: zk, expires: zk.expires}, nil
	})
	if err != nil {
		return nil, err
	}
	return e.keys, nil
}

// keysFromParent validates zone's DS RRset in its parent zone, then its
// DNSKEY RRset against that DS RRset.
func (r *valRun) keysFromParent(ctx context.Context, zone string) (*zoneKeys, error) {
	what := rrsetString(dns.TypeDS, zone)
	now := r.v.now()
	a, err := r.query(ctx, zone, dns.TypeDS)
	if err != nil {
		return nil, &BogusError{RRset: what, KeyTag: -1, Reason: "DS lookup failed", Err: err}
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
	parent := parentZoneName(zone)
	if len(ds) == 0 {
		// No DS: an unsigned delegation, or no delegation at all. Without
		// NSEC the denial is not proven, but its SOA must still not be
		// forged or stripped when the parent side is signed.
		var vd valVerdict
		if a.SOA != nil && dns.IsSubDomain(a.SOA.Hdr.Name, zone) && dns.CanonicalName(a.SOA.Hdr.Name) != zone {
			soa := a.SOA.Hdr.Name
			vd = r.rrset(ctx, []dns.RR{a.SOA}, rrsigsCovering(a.AuthoritySigs, soa, dns.TypeSOA), soa, soa)
		} else {
			vd = r.unsigned(ctx, parent, "", what)
		}
		if vd.sec == Bogus {
			return nil, &BogusError{RRset: what, KeyTag: -1, Reason: "denial of DS not trustworthy", Err: vd.err}
		}
		return &zoneKeys{zone: zone, sec: Insecure, how: "no DS for " + zone + " (unsigned delegation; denial not proven, NSEC not checked)",
			expires: now.Add(dnssecNegTTL(a))}, nil
	}
	vd := r.rrset(ctx, dsRRs, rrsigsCovering(a.Sigs, zone, dns.TypeDS), parent, "")
	switch vd.sec {
	case Bogus:
		return nil, vd.err
	case Insecure:
		return &zoneKeys{zone: zone, sec: Insecure, how: "DS for " + zone + " not provable: " + vd.why,
			expires: now.Add(dnssecCapTTL(rrsetTTL(dsRRs, nil)))}, nil
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
	zk.how += "; " + vd.why
	return zk, nil
}

// keysFromAnchor validates an anchored zone's DNSKEY RRset against its
// trust anchors.
func (r *valRun) keysFromAnchor(ctx context.Context, zone string, set *anchorSet) (*zoneKeys, error) {
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
func (r *valRun) keysFromTrust(ctx context.Context, zone string, ds []*dns.DS, anchorKeys []*dns.DNSKEY, source string, anchored bool) (*zoneKeys, error) {
	what := rrsetString(dns.TypeDNSKEY, zone)
	now := r.v.now()
	a, err := r.query(ctx, zone, dns.TypeDNSKEY)
	if err != nil {
		return nil, &BogusError{RRset: what, Signer: zone, KeyTag: -1, Reason: "DNSKEY lookup failed", Err: err}
	}
	var rrs []dns.RR
	var all []*dns.DNSKEY
	if len(a.CNAMEs) == 0 {
		for _, rr := range a.Records {
			if k, ok := rr.(*dns.DNSKEY); ok && dns.CanonicalName(k.Hdr.Name) == zone {
				rrs = append(rrs, k)
				all = append(all, k)
			}
		}
	}
	if len(all) == 0 {
		return nil, &BogusError{RRset: what, Signer: zone, KeyTag: -1,
			Reason: "no DNSKEY RRset, but " + source + " says the zone is signed (unsigned or stripped zone)"}
	}
	var sigs []*dns.RRSIG
	for _, s := range rrsigsCovering(a.Sigs, zone, dns.TypeDNSKEY) {
		if dns.CanonicalName(s.SignerName) == zone {
			sigs = append(sigs, s)
		}
	}
	if len(sigs) == 0 {
		return nil, &BogusError{RRset: what, Signer: zone, KeyTag: -1,
			Reason: "DNSKEY RRset has no RRSIG, but " + source + " says the zone is signed (signatures stripped)"}
	}

	zk := &zoneKeys{zone: zone, sec: Secure}
	type candidate struct {
		key *dns.DNSKEY
		tag uint16
		by  string
	}
	var cands []candidate
	for _, k := range all {
		if !usableDNSKEY(k) {
			continue
		}
		tag := k.KeyTag()
		zk.keys = append(zk.keys, k)
		zk.tags = append(zk.tags, tag)
		if by := trustedBy(k, tag, ds, anchorKeys); by != "" {
			cands = append(cands, candidate{k, tag, by})
		}
	}
	if len(cands) == 0 {
		return nil, &BogusError{RRset: what, Signer: zone, KeyTag: -1,
			Reason: "DS mismatch: no DNSKEY matches " + source + " (" + describeTrust(ds, anchorKeys) + "; DNSKEY tags " + describeKeyTags(zk.tags) + ")"}
	}
	var best *BogusError
	for _, c := range cands {
		for _, s := range sigs {
			if s.KeyTag != c.tag || s.Algorithm != c.key.Algorithm {
				continue
			}
			e := &BogusError{RRset: what, Signer: zone, KeyTag: int(c.tag)}
			if reason := validityProblem(s, now); reason != "" {
				e.Reason = reason
				best = worseBogus(best, e)
				continue
			}
			if err := s.Verify(c.key, rrs); err != nil {
				e.Reason = verifyFailure(err)
				best = worseBogus(best, e)
				continue
			}
			zk.expires = earliest(sigTime(s.Expiration, now), now.Add(dnssecCapTTL(rrsetTTL(rrs, s))))
			zk.how = fmt.Sprintf("DNSKEY signed by key %d (%s), %s", c.tag, dnssecAlgName(c.key.Algorithm), c.by)
			if anchored {
				zk.how += " (trust anchor)"
			}
			return zk, nil
		}
	}
	if best == nil {
		best = &BogusError{RRset: what, Signer: zone, KeyTag: int(cands[0].tag),
			Reason: "no RRSIG by a key that matches " + source + " (DNSKEY RRset signed by " + describeSigTags(sigs) + ")"}
	}
	return nil, best
}

// trustedBy says how k is vouched for by ds or anchorKeys, or "" if not.
func trustedBy(k *dns.DNSKEY, tag uint16, ds []*dns.DS, anchorKeys []*dns.DNSKEY) string {
	for _, d := range ds {
		if d.KeyTag != tag || d.Algorithm != k.Algorithm {
			continue
		}
		if got := k.ToDS(d.DigestType); got != nil && strings.EqualFold(got.Digest, d.Digest) {
			return fmt.Sprintf("matching DS %d/%s", d.KeyTag, dsDigestName(d.DigestType))
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

// validityProblem says what is wrong with s's validity period at now, or "".
func validityProblem(s *dns.RRSIG, now time.Time) string {
	inc, exp := sigTime(s.Inception, now), sigTime(s.Expiration, now)
	switch {
	case now.After(exp):
		return "signature expired at " + exp.UTC().Format(time.RFC3339) + " (now " + now.UTC().Format(time.RFC3339) + ")"
	case now.Before(inc):
		return "signature not yet valid until " + inc.UTC().Format(time.RFC3339) + " (now " + now.UTC().Format(time.RFC3339) + ")"
	}
	return ""
}

// sigTime maps a 32-bit RRSIG timestamp to the instant nearest to now with
// the same value modulo 2^32 (RFC 4034 §3.1.5: serial number arithmetic).
func sigTime(t uint32, now time.Time) time.Time {
	u := now.Unix()
	return time.Unix(u+int64(int32(t-uint32(u))), 0)
}

// rrsetTTL is the TTL the RRset may be trusted for: its smallest TTL, and no
// more than the RRSIG's original TTL (RFC 4035 §5.3.3).
func rrsetTTL(rrs []dns.RR, s *dns.RRSIG) time.Duration {
	ttl := uint32(1<<31 - 1)
	for _, rr := range rrs {
		ttl = min(ttl, rr.Header().Ttl)
	}
	if s != nil {
		ttl = min(ttl, s.OrigTtl)
	}
	return time.Duration(ttl) * time.Second
}

// dnssecNegTTL is how long an absent answer's conclusion is kept (RFC 2308).
func dnssecNegTTL(a *dnsclient.Answer) time.Duration {
	if a.NegativeTTL > 0 {
		return dnssecCapTTL(a.NegativeTTL)
	}
	if a.SOA != nil {
		return dnssecCapTTL(time.Duration(min(a.SOA.Hdr.Ttl, a.SOA.Minttl)) * time.Second)
	}
	return 0
}

func dnssecCapTTL(d time.Duration) time.Duration { return min(d, maxCacheTTL) }

func earliest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.IsZero() {
			continue
		}
		if m.IsZero() || t.Before(m) {
			m = t
		}
	}
	return m
}

// closestAnchor returns the deepest anchored zone at or above name, or "".
func (v *Validator) closestAnchor(name string) string {
	for n := dns.CanonicalName(name); ; n = parentZoneName(n) {
		if _, ok := v.anchors[n]; ok {
			return n
		}
		if n == "." || n == "" {
			return ""
		}
	}
}

// do returns the cached entry for k, or computes it once for every
// concurrent caller and caches it until it expires.
func (r *valRun) do(ctx context.Context, k valKey, fn func() (valEntry, error)) (valEntry, error) {
	v := r.v
	for {
		v.mu.Lock()
		if e, ok := v.cache[k]; ok {
			if v.now().Before(e.expires) {
				v.mu.Unlock()
				return e, nil
			}
			delete(v.cache, k)
		}
		if f, ok := v.inflight[k]; ok {
			v.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return valEntry{}, ctx.Err()
			}
			// The computing caller's context ended, not ours: try again.
			if f.err != nil && isContextErr(f.err) && ctx.Err() == nil {
				continue
			}
			return f.e, f.err
		}
		f := &valFlight{done: make(chan struct{})}
		v.inflight[k] = f
		v.mu.Unlock()

		func() {
			defer func() {
				v.mu.Lock()
				delete(v.inflight, k)
				if f.err == nil && v.now().Before(f.e.expires) {
					v.store(k, f.e)
				}
				v.mu.Unlock()
				close(f.done)
			}()
			f.e, f.err = fn()
		}()
		return f.e, f.err
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// store adds e under k, making room first: expired entries go, then, if the
// cache is still full, arbitrary ones (map order), which only costs queries.
// Called with v.mu held.
func (v *Validator) store(k valKey, e valEntry) {
	if len(v.cache) >= maxCacheEntries {
		now := v.now()
		for key, old := range v.cache {
			if !now.Before(old.expires) {
				delete(v.cache, key)
			}
		}
		for key := range v.cache {
			if len(v.cache) < maxCacheEntries*7/8 {
				break
			}
			delete(v.cache, key)
		}
	}
	v.cache[k] = e
}

// splitRRsets splits rrs into RRsets (same owner, type and class), in order
// of first appearance.
func splitRRsets(rrs []dns.RR) [][]dns.RR {
	var sets [][]dns.RR
outer:
	for _, rr := range rrs {
		h := rr.Header()
		for i, set := range sets {
			h0 := set[0].Header()
			if h0.Rrtype == h.Rrtype && h0.Class == h.Class && strings.EqualFold(h0.Name, h.Name) {
				sets[i] = append(set, rr)
				continue outer
			}
		}
		sets = append(sets, []dns.RR{rr})
	}
	return sets
}

// rrsigsCovering returns the RRSIGs in sigs that cover type covered at owner.
func rrsigsCovering(sigs []*dns.RRSIG, owner string, covered uint16) []*dns.RRSIG {
	var out []*dns.RRSIG
	for _, s := range sigs {
		if s != nil && s.TypeCovered == covered && strings.EqualFold(s.Hdr.Name, owner) {
			out = append(out, s)
		}
	}
	return out
}

// signerName names the zone that signed an RRset, for messages.
func signerName(sigs []*dns.RRSIG, fallback string) string {
	for _, s := range sigs {
		return dns.CanonicalName(s.SignerName)
	}
	return fallback
}

// parentZoneName returns the name one label up; "." has none ("").
func parentZoneName(n string) string {
	if n == "." || n == "" {
		return ""
	}
	i, end := dns.NextLabel(n, 0)
	if end {
		return "."
	}
	return n[i:]
}

func rrsetString(t uint16, name string) string { return dns.Type(t).String() + " " + dns.Fqdn(name) }

func dnssecAlgName(a uint8) string {
	if s, ok := dns.AlgorithmToString[a]; ok {
		return s
	}
	return "algorithm " + strconv.Itoa(int(a))
}

func dsDigestName(t uint8) string {
	switch t {
	case dns.SHA1:
		return "SHA-1"
	case dns.SHA256:
		return "SHA-256"
	case dns.SHA384:
		return "SHA-384"
	}
	return "digest " + strconv.Itoa(int(t))
}

func describeTrust(ds []*dns.DS, keys []*dns.DNSKEY) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("DS %d/%s/%s", d.KeyTag, dnssecAlgName(d.Algorithm), dsDigestName(d.DigestType)))
	}
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("DNSKEY %d/%s", k.KeyTag(), dnssecAlgName(k.Algorithm)))
	}
	return strings.Join(parts, ", ")
}

func describeKeyTags(tags []uint16) string {
	if len(tags) == 0 {
		return "none usable"
	}
	parts := make([]string, len(tags))
	for i, t := range tags {
		parts[i] = strconv.Itoa(int(t))
	}
	return strings.Join(parts, ", ")
}

func describeSigTags(sigs []*dns.RRSIG) string {
	parts := make([]string, len(sigs))
	for i, s := range sigs {
		parts[i] = fmt.Sprintf("key %d/%s", s.KeyTag, dnssecAlgName(s.Algorithm))
	}
	return strings.Join(parts, ", ")
}
