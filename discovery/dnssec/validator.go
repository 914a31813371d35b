// Package dnssec validates DNS answers in-process against trust anchors
// (RFC 4033-4035, RFC 6840; docs/protocol.md §8.2), and reads trust
// anchors: the IANA root keys built in, files of DS or DNSKEY records.
//
// The validator proves an RRset by walking signer names up to a trust
// anchor: the RRSIG over the RRset must verify with a key of the signer
// zone's DNSKEY RRset; that DNSKEY RRset must be signed by one of its keys
// which matches either a trust anchor or a DS RRset of the parent zone; the
// DS RRset is itself an RRset signed by the parent zone, and so on up to the
// anchor. A negative answer from a signed zone is proven by the zone's NSEC
// or NSEC3 records (authenticated denial, RFC 4035 §5.4, RFC 5155 §8;
// denial.go), as is a wildcard answer's claim that no closer name exists
// and a delegation's lack of DS, which is what makes a child zone insecure.
// An unsigned answer from a zone the chain says is signed ("stripped"
// signatures) is bogus.
//
// The work of a validation is bounded whatever the zones serve (budget.go:
// the KeyTrap class of attacks), and Prefetch asks a name's whole chain of
// trust at once, so that a cold validation waits one round trip for it
// rather than one per link (prefetch.go).
//
// Results are typed: a Security state, and for a bogus answer a
// *BogusError whose Kind is one of the Err* sentinels. The package asks
// its questions through a Querier (*dnsclient.Client) and records its
// verdicts as trace events.
package dnssec

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/flight"
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
	// Indeterminate: the chain of trust could not be fetched, and no
	// signature was found bad: not proven either way. Validate reports such
	// an answer as Bogus, with an error that says so; Verdict tells the two
	// apart for callers that accept an unproven answer as unauthenticated.
	Indeterminate
)

// String returns "insecure", "secure", "bogus" or "indeterminate", as in
// traces and JSON.
func (s Security) String() string {
	switch s {
	case Insecure:
		return "insecure"
	case Secure:
		return "secure"
	case Bogus:
		return "bogus"
	case Indeterminate:
		return "indeterminate"
	}
	return "security(" + strconv.Itoa(int(s)) + ")"
}

// Querier answers DNS questions; *dnsclient.Client satisfies it. The
// validator reads Records, Sigs, CNAMEs, CNAMESigs, SOA, Denial,
// AuthoritySigs and NegativeTTL of each Answer, so the Querier must ask
// with the DO bit set.
type Querier interface {
	Query(ctx context.Context, name string, qtype uint16) (*dnsclient.Answer, error)
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

	mu      sync.Mutex
	cache   map[cacheKey]cacheEntry
	flights flight.Group[cacheKey, computed] // entries being computed
	// Prefetched answers (prefetch.go), and the prefetch queries in flight.
	prefetch         map[queryKey]*prefetched
	prefetchInFlight int
	// What the resolver check found (resolvercheck.go).
	resolver resolverState
}

// anchorSet holds the trust anchors of one zone.
type anchorSet struct {
	ds   []*dns.DS
	keys []*dns.DNSKEY
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
		flights:  flight.Group[cacheKey, computed]{Timeout: chainTimeout},
		q:        q,
		now:      now,
		anchors:  make(map[string]*anchorSet),
		cache:    make(map[cacheKey]cacheEntry),
		prefetch: make(map[queryKey]*prefetched),
	}
	v.flights.Lookup = func(k cacheKey) (computed, bool) {
		e, ok := v.cached(k)
		return computed{e: e}, ok
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

// closestAnchor returns the deepest anchored zone at or above name, or "".
func (v *Validator) closestAnchor(name string) string {
	for n := dns.CanonicalName(name); ; n = parentZone(n) {
		if _, ok := v.anchors[n]; ok {
			return n
		}
		if n == "." || n == "" {
			return ""
		}
	}
}

// Validate returns the DNSSEC status of a: Secure when every RRset in it
// (each CNAME of the chain, then Records; for a negative answer, the SOA of
// the authority section) verifies up to a trust anchor; Insecure when it is
// unsigned and no signature is required; Bogus, with a *BogusError wrapping
// ErrBogus and the Kind of failure, otherwise. The error is non-nil exactly
// when the status is Bogus; it also wraps the lookup error
// (dnsclient.ErrUnknown) or context error when a query of the chain
// failed, so that a caller may treat that as "unknown" rather than
// "forged" (Verdict). A negative answer (NXDOMAIN/NODATA) is Secure when
// its SOA verifies and the NSEC or NSEC3 records of that zone prove the
// denial; Insecure when the zone is unsigned, the name lies in an NSEC3
// opt-out span, or the zone's NSEC3 hashes with more than 100 iterations
// (RFC 9276); Bogus with ErrDenialNotProven when the proof is missing or
// proves something else. An RRset synthesized from a wildcard is Secure
// only with the proof that no closer name exists.
//
// Cost: on a warm validator, one signature verification per RRset and no
// query (a denial: one per NSEC or NSEC3 record, at most three, and for
// NSEC3 one hash per name proven); a cold chain costs about two queries (DS, DNSKEY) per zone below
// the anchor, and an unsigned answer one DNSKEY query to find its zone. The
// work is bounded whatever the zones serve (budget.go, docs/protocol.md
// §11): an answer that needs more is Bogus with ErrBudgetExceeded, and a
// validation whose ctx ends stops before its next signature verification.
// Adds an event to trace.FromContext(ctx) for the verdict, a step whose
// parts are the events of every zone validated and every query asked.
func (v *Validator) Validate(ctx context.Context, a *dnsclient.Answer) (Security, error) {
	if a == nil {
		return Insecure, nil
	}
	ctx, step := trace.Begin(ctx)
	r := &validation{v: v, tr: trace.FromContext(ctx)}
	// The verdicts are worded for the trace only, and only when there is
	// one: a validation without a trace formats nothing unless it fails.
	m := verdicts{worst: verdict{sec: Secure}, word: r.tr != nil}
	ok := eachRRset(a.CNAMEs, func(set []dns.RR) bool {
		owner := set[0].Header().Name
		vd := r.rrset(ctx, set, rrsigsCovering(a.CNAMESigs, owner, dns.TypeCNAME), owner, "")
		return m.add(r.noCloserMatch(ctx, a, owner, dns.TypeCNAME, vd))
	})
	if ok {
		r.finalRRsets(ctx, a, &m)
	}
	if r.tr != nil {
		ev := trace.Event{Source: "dns", Query: rrsetString(a.Qtype, a.Name), Server: a.Server, DNSSEC: m.worst.sec.String(), Decision: m.why.String()}
		if m.worst.sec == Bogus {
			ev.Decision = "rejected: " + m.worst.err.Error()
		}
		step.End(ev)
	}
	if m.worst.sec == Bogus {
		return Bogus, m.worst.err
	}
	return m.worst.sec, nil
}

// verdicts merges the verdicts of an answer's RRsets: the worst wins,
// and, when word is set, the reasons of the others are kept for a trace.
type verdicts struct {
	worst verdict
	why   strings.Builder
	word  bool
}

// add merges vd and reports whether the validation goes on (vd is not
// Bogus).
func (m *verdicts) add(vd verdict) bool {
	if m.word && vd.sec != Bogus {
		if m.why.Len() > 0 {
			m.why.WriteString("; ")
		}
		vd.word(&m.why)
	}
	switch vd.sec {
	case Bogus:
		m.worst = vd
		return false
	case Insecure:
		m.worst.sec = Insecure
	}
	return true
}

// finalRRsets validates what follows a's CNAME chain: its records, or for
// a negative answer the SOA of its authority section and the denial.
func (r *validation) finalRRsets(ctx context.Context, a *dnsclient.Answer, m *verdicts) {
	final := a.Final
	if final == "" {
		final = a.Name
	}
	switch {
	case len(a.Records) > 0:
		eachRRset(a.Records, func(set []dns.RR) bool {
			h := set[0].Header()
			vd := r.rrset(ctx, set, rrsigsCovering(a.Sigs, h.Name, h.Rrtype), h.Name, "")
			return m.add(r.noCloserMatch(ctx, a, h.Name, h.Rrtype, vd))
		})
	case a.SOA != nil && isSubDomain(a.SOA.Hdr.Name, final):
		// The signed SOA says which zone denies; the NSEC or NSEC3 records
		// of that zone prove the denial itself.
		soa := a.SOA.Hdr.Name
		vd := r.rrset(ctx, []dns.RR{a.SOA}, rrsigsCovering(a.AuthoritySigs, soa, dns.TypeSOA), soa, soa)
		if vd.sec == Secure {
			vd = r.denialVerdict(ctx, a, final, a.Qtype, a.Rcode == dns.RcodeNameError, vd.proof.zone)
		}
		m.add(vd)
	default:
		// Absent without an SOA of its zone: nothing signed to check, but
		// the zone it came from may say signatures were required.
		m.add(r.unsigned(ctx, final, "", rrsetName{a.Qtype, a.Name}))
	}
}

// noCloserMatch passes vd on, unless it is a Secure RRset owned by owner
// that a wildcard synthesized: then the answer must also prove that no
// closer name exists (RFC 4035 §5.3.4, RFC 5155 §8.8).
func (r *validation) noCloserMatch(ctx context.Context, a *dnsclient.Answer, owner string, rrtype uint16, vd verdict) verdict {
	if vd.sec != Secure || !vd.wild {
		return vd
	}
	zk, err := r.zoneKeys(ctx, vd.proof.zone)
	if err != nil {
		return bogusVerdict(&BogusError{RRset: rrsetString(rrtype, owner), Signer: vd.proof.zone, KeyTag: -1, Kind: kindOf(err), Reason: "signer's keys not validated", Err: err})
	}
	dn := r.proveNoCloserMatch(ctx, a, owner, rrtype, vd.labels, zk)
	switch dn.sec {
	case Bogus:
		return bogusVerdict(dn.err)
	case Insecure:
		return verdict{sec: Insecure, why: dn.why}
	}
	if r.tr != nil {
		var b strings.Builder
		vd.word(&b)
		vd.why = b.String() + "; " + dn.why
		vd.proof = proof{}
	}
	return vd
}

// denialVerdict proves the negative answer a about name/qtype with the
// records of zone, whose signed SOA it carries (denial.go).
func (r *validation) denialVerdict(ctx context.Context, a *dnsclient.Answer, name string, qtype uint16, nx bool, zone string) verdict {
	zk, err := r.zoneKeys(ctx, zone)
	if err != nil {
		return bogusVerdict(&BogusError{RRset: rrsetString(qtype, name), Signer: zone, KeyTag: -1, Kind: kindOf(err), Reason: "signer's keys not validated", Err: err})
	}
	dn := r.proveDenial(ctx, a, name, qtype, nx, zk)
	if dn.sec == Bogus {
		return bogusVerdict(dn.err)
	}
	return verdict{sec: dn.sec, why: dn.why}
}

// validation is the state of one Validate call.
type validation struct {
	v        *Validator
	tr       *trace.Trace
	queries  int
	verifies int        // signature verifications spent (budget.go)
	hashes   hashBudget // NSEC3 hashing spent
	hashed   []hashed   // the NSEC3 hashes computed (denial.go)
}

// verdict is the outcome for one RRset.
type verdict struct {
	sec     Security
	err     error // *BogusError iff sec == Bogus
	why     string
	proof   proof     // Secure only: the key that verified it
	expires time.Time // Secure only: when the proof stops holding
	// wild: the RRSIG that verified a Secure RRset has fewer labels than
	// its owner (labels), a wildcard expansion (RFC 4035 §5.3.4), which
	// needs a proof that no closer name exists.
	wild   bool
	labels int
}

// proof is which key verified an RRset, kept as data: worded only for a
// trace.
type proof struct {
	what   rrsetName
	zone   string
	keyTag uint16
	alg    uint8
}

// word writes why the verdict is what it is, for a trace.
func (vd verdict) word(b *strings.Builder) {
	if vd.sec != Secure || vd.proof.zone == "" {
		b.WriteString(vd.why)
		return
	}
	p := vd.proof
	b.WriteString(dns.Type(p.what.rrtype).String())
	b.WriteByte(' ')
	b.WriteString(dns.Fqdn(p.what.owner))
	b.WriteString(" verified with ")
	b.WriteString(p.zone)
	b.WriteString(" key ")
	b.WriteString(strconv.Itoa(int(p.keyTag)))
	b.WriteString(" (")
	b.WriteString(algName(p.alg))
	b.WriteByte(')')
}

// rrsetName names an RRset for messages ("TXT owner."); it is worded
// only when a message is written.
type rrsetName struct {
	rrtype uint16
	owner  string
}

func (n rrsetName) String() string { return rrsetString(n.rrtype, n.owner) }

func bogusVerdict(e *BogusError) verdict { return verdict{sec: Bogus, err: e} }

var (
	errNoAnswer = errors.New("querier returned no answer")
	errLabels   = errors.New("RRSIG labels field larger than its owner's label count")
)

// query asks q within the per-validation budget, or takes the answer that
// Prefetch asked for.
func (r *validation) query(ctx context.Context, name string, qtype uint16) (*dnsclient.Answer, error) {
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
	if a, ok := r.v.prefetchedAnswer(ctx, r.tr, name, qtype); ok {
		return a, nil
	}
	a, err := r.v.q.Query(ctx, name, qtype)
	if err == nil && a == nil {
		err = errNoAnswer
	}
	return a, err
}

// rrset validates one RRset (same owner, type and class) with the RRSIGs
// over it. Without any RRSIG, the zone of unsignedName (or soaZone, when the
// answer carried that zone's SOA) decides between Insecure and stripped.
func (r *validation) rrset(ctx context.Context, rrs []dns.RR, sigs []*dns.RRSIG, unsignedName, soaZone string) verdict {
	h := rrs[0].Header()
	owner := dns.CanonicalName(h.Name)
	what := rrsetName{h.Rrtype, h.Name}
	anchor := r.v.closestAnchor(owner)
	if anchor == "" {
		return verdict{sec: Insecure, why: what.String() + " is outside every trust anchor"}
	}
	if vd, ok := r.unvalidated(ctx, anchor, what); ok {
		return vd
	}

	var signerBuf [2]string
	signers, unsupported := usableSigners(sigs, owner, h.Rrtype, signerBuf[:0])
	if len(signers) == 0 {
		// Unsigned, or signed only with algorithms we do not implement:
		// what the zone holding the RRset requires decides (RFC 4035 §5.2;
		// RFC 6840 §5.11: a secure zone signs with every algorithm of its
		// DS set, so it must have left a signature we can check).
		vd := r.unsigned(ctx, unsignedName, soaZone, what)
		if vd.sec == Insecure && unsupported != nil {
			vd.why = what.String() + " is signed only with unsupported algorithms (" + algName(unsupported.Algorithm) + "); " + vd.why
		}
		return vd
	}
	return r.bySigners(ctx, rrs, sigs, signers, anchor, unsignedName, soaZone, what)
}

// usableSigners appends to buf the signers of the usable signatures among
// sigs over the RRset owner/rrtype, in order of appearance, and returns
// the first RRSIG left out for its algorithm only. A signer must be the
// zone holding the RRset, so an ancestor of its owner; for DS, which
// lives on the parent side of a cut, a proper ancestor (RFC 4035 §5.3.1).
// Nearly always one signer.
func usableSigners(sigs []*dns.RRSIG, owner string, rrtype uint16, buf []string) (signers []string, unsupported *dns.RRSIG) {
	signers = buf
	for _, s := range sigs {
		signer, ok := usableSigner(s, owner, rrtype)
		if !ok {
			continue
		}
		if !supportedAlgorithm(s.Algorithm) {
			if unsupported == nil {
				unsupported = s
			}
			continue
		}
		if !slices.Contains(signers, signer) {
			signers = append(signers, signer)
		}
	}
	return signers, unsupported
}

// bySigners validates the RRset rrs with the keys of each of its signers
// in turn, below anchor: the first that verifies it decides. Signed only
// by zones without a chain of trust, it is judged as if unsigned.
func (r *validation) bySigners(ctx context.Context, rrs []dns.RR, sigs []*dns.RRSIG, signers []string, anchor, unsignedName, soaZone string, what rrsetName) verdict {
	owner := dns.CanonicalName(what.owner)
	var best *BogusError
	insecureWhy := ""
	for _, signer := range signers {
		if !isSubDomain(anchor, signer) {
			return bogusVerdict(&BogusError{RRset: what.String(), Signer: signer, KeyTag: -1, Kind: ErrSignerAboveAnchor,
				Reason: "signer is above the trust anchor " + anchor})
		}
		zk, err := r.zoneKeys(ctx, signer)
		if err != nil {
			best = worseBogus(best, &BogusError{RRset: what.String(), Signer: signer, KeyTag: -1, Kind: kindOf(err), Reason: "signer's keys not validated", Err: err})
			continue
		}
		if zk.sec == Insecure {
			insecureWhy = what.String() + " signed by " + signer + ", which is insecure: " + zk.how
			continue
		}
		vd, e := r.verify(ctx, rrs, sigs, owner, zk, what)
		if e == nil {
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

// usableSigner returns the canonical signer of s when it may sign an
// RRset of type rrtype owned by owner (see rrset).
func usableSigner(s *dns.RRSIG, owner string, rrtype uint16) (string, bool) {
	signer := dns.CanonicalName(s.SignerName)
	if !isSubDomain(signer, owner) || (rrtype == dns.TypeDS && signer == owner) {
		return "", false
	}
	return signer, true
}

// verify checks sigs over rrs with the keys of a secure zone; the first
// signature that verifies makes the RRset secure (RFC 6840 §5.11), within
// the bounds of budget.go: at most maxKeysPerTag keys tried per RRSIG, and
// the verifications a sigCounter allows.
func (r *validation) verify(ctx context.Context, rrs []dns.RR, sigs []*dns.RRSIG, owner string, zk *zoneKeys, what rrsetName) (verdict, *BogusError) {
	now := r.v.now()
	count := sigCounter{r: r, what: what}
	var worst sigFailure
	labels := dns.CountLabel(owner)
	if strings.HasPrefix(owner, "*.") {
		labels-- // the wildcard label is not counted (RFC 4034 §3.1.3)
	}
	for _, s := range sigs {
		if signer, ok := usableSigner(s, owner, what.rrtype); !ok || signer != zk.zone || !supportedAlgorithm(s.Algorithm) {
			continue // another signer's
		}
		if kind := validityKind(s, now); kind != nil {
			worst = worst.or(sigFailure{sig: s, kind: kind})
			continue
		}
		if int(s.Labels) > labels {
			// RFC 4035 §5.3.1: never more labels than the owner has.
			worst = worst.or(sigFailure{sig: s, kind: ErrBadSignature, err: errLabels})
			continue
		}
		f := sigFailure{sig: s, kind: ErrNoDNSKEY}
		for i, k := range zk.keys {
			if zk.tags[i] != s.KeyTag || k.Algorithm != s.Algorithm {
				continue
			}
			if f.tried++; f.tried > maxKeysPerTag {
				f.kind = ErrBudgetExceeded
				continue // counted for the message, not tried
			}
			if e := count.next(ctx, zk.zone); e != nil {
				return verdict{}, e
			}
			if err := s.Verify(k, rrs); err != nil {
				f.kind, f.err = ErrBadSignature, err
				continue
			}
			exp := earliest(sigTime(s.Expiration, now), now.Add(rrsetTTL(rrs, s)), zk.expires)
			vd := verdict{sec: Secure, expires: exp, proof: proof{what: what, zone: zk.zone, keyTag: s.KeyTag, alg: s.Algorithm}}
			if int(s.Labels) < labels {
				vd.wild, vd.labels = true, int(s.Labels)
			}
			return vd, nil
		}
		worst = worst.or(f)
	}
	return verdict{}, worst.bogus(what.String(), zk.zone, now)
}

// sigFailure is why one RRSIG did not prove its RRset. It stays unworded
// until the whole RRset is found bogus: a failure followed by a
// signature that verifies costs no message.
type sigFailure struct {
	sig   *dns.RRSIG // nil: no failure yet
	kind  error      // ErrSignatureExpired, ErrBadSignature, ErrNoDNSKEY, ...
	err   error      // the verification error, for ErrBadSignature
	tried int        // keys of the RRSIG's tag and algorithm (ErrBudgetExceeded: more than maxKeysPerTag)
}

// or returns the more telling of two failures (see rank).
func (f sigFailure) or(g sigFailure) sigFailure {
	if f.sig == nil || rank(g.kind, nil) > rank(f.kind, nil) {
		return g
	}
	return f
}

// bogus words the failure as the RRset's *BogusError; nil without one.
func (f sigFailure) bogus(what, signer string, now time.Time) *BogusError {
	if f.sig == nil {
		return nil
	}
	e := &BogusError{RRset: what, Signer: signer, KeyTag: int(f.sig.KeyTag), Kind: f.kind}
	switch f.kind {
	case ErrSignatureExpired, ErrSignatureNotYetValid:
		e.Reason = validityProblem(f.sig, now)
	case ErrBadSignature:
		e.Reason = verifyFailure(f.err)
	case ErrBudgetExceeded:
		e.Reason = fmt.Sprintf("%d keys share key tag %d and algorithm %s; only the first %d are tried (KeyTrap bound, docs/protocol.md §11)",
			f.tried, f.sig.KeyTag, algName(f.sig.Algorithm), maxKeysPerTag)
	default:
		e.Reason = fmt.Sprintf("no DNSKEY with key tag %d and algorithm %s in the validated DNSKEY RRset", f.sig.KeyTag, algName(f.sig.Algorithm))
	}
	return e
}

// verifyFailure words a signature verification error.
func verifyFailure(err error) string {
	if errors.Is(err, dns.ErrSig) {
		return "bad signature"
	}
	return "bad signature (" + strings.TrimPrefix(err.Error(), "dns: ") + ")"
}

// unsigned decides an RRset that carries no RRSIG, owned by name (or found
// in soaZone): Bogus when the zone it comes from is secure — its DS in the
// parent, or a trust anchor, says it is signed, so signatures were stripped
// — else Insecure.
func (r *validation) unsigned(ctx context.Context, name, soaZone string, what rrsetName) verdict {
	name = dns.CanonicalName(name)
	anchor := r.v.closestAnchor(name)
	if anchor == "" {
		return verdict{sec: Insecure, why: what.String() + " is outside every trust anchor"}
	}
	if vd, ok := r.unvalidated(ctx, anchor, what); ok {
		return vd
	}
	zone := dns.CanonicalName(soaZone)
	if soaZone == "" || !isSubDomain(zone, name) {
		z, err := r.zoneOf(ctx, name)
		if err != nil {
			return bogusVerdict(&BogusError{RRset: what.String(), KeyTag: -1, Kind: ErrChainUnavailable, Reason: "unsigned, and finding its zone failed", Err: err})
		}
		zone = z
	}
	if !isSubDomain(anchor, zone) {
		// The trust anchor says its zone is signed; an answer below it
		// cannot come from a zone above it.
		zone = anchor
	}
	zk, err := r.zoneKeys(ctx, zone)
	if err != nil {
		return bogusVerdict(&BogusError{RRset: what.String(), Signer: zone, KeyTag: -1, Kind: kindOf(err), Reason: "unsigned, and its zone's keys fail validation", Err: err})
	}
	if zk.sec == Secure {
		return bogusVerdict(&BogusError{RRset: what.String(), Signer: zone, KeyTag: -1, Kind: ErrSignaturesStripped,
			Reason: "no RRSIG by the zone's keys, but the zone is signed (" + zk.how + "): signatures stripped"})
	}
	return verdict{sec: Insecure, why: what.String() + " is unsigned in " + zone + ", " + zk.how}
}

// zoneOf finds the zone name belongs to: the owner of the DNSKEY RRset
// in the answer to DNSKEY name (at the apex of a signed zone), or of the
// SOA in its authority section (at the apex of an unsigned zone, and below
// any apex), or the owner of the NS records of a referral (a zone cut
// below the server's zone); walking up when a name has none in sight (a
// CNAME owner). The DNSKEY question is the one the chain of trust asks
// too, so a prefetched answer serves both. Names whose first label begins
// with an underscore (RFC 8552 attribute leaves) are taken to be in the
// zone above: were one a zone of its own, an unsigned answer in it would
// be judged by the zone above, which can only make the verdict stricter.
// Never above name's closest trust anchor.
func (r *validation) zoneOf(ctx context.Context, name string) (string, error) {
	e, err := r.do(ctx, cacheKey{kindZone, name}, (*validation).findZone)
	return e.zone, err
}

// findZone walks up from k.name asking DNSKEY questions until an answer
// shows the zone (zoneOf), for the validator's cache.
func (r *validation) findZone(ctx context.Context, k cacheKey) (cacheEntry, error) {
	anchor := r.v.closestAnchor(k.name)
	for n := k.name; ; n = parentZone(n) {
		if n == anchor || n == "." {
			return cacheEntry{zone: n}, nil
		}
		if n[0] == '_' {
			continue
		}
		a, err := r.query(ctx, n, dns.TypeDNSKEY)
		if err != nil {
			return cacheEntry{}, err
		}
		if e, ok := r.zoneInAnswer(a, n, anchor); ok {
			return e, nil
		}
	}
}

// zoneInAnswer reads, from the answer to DNSKEY n, the zone n belongs to,
// if the answer shows it.
func (r *validation) zoneInAnswer(a *dnsclient.Answer, n, anchor string) (cacheEntry, bool) {
	if len(a.CNAMEs) > 0 {
		return cacheEntry{}, false
	}
	for _, rr := range a.Records {
		if k, ok := rr.(*dns.DNSKEY); ok && dns.CanonicalName(k.Hdr.Name) == n {
			return cacheEntry{zone: n, expires: r.v.now().Add(capTTL(time.Duration(k.Hdr.Ttl) * time.Second))}, true
		}
	}
	if a.SOA != nil && isSubDomain(a.SOA.Hdr.Name, n) {
		return cacheEntry{zone: dns.CanonicalName(a.SOA.Hdr.Name), expires: r.v.now().Add(negTTL(a))}, true
	}
	// A referral from a server authoritative only for the parent: the NS
	// owner is the zone cut, and n lies below it.
	if a.Msg != nil {
		for _, rr := range a.Msg.Ns {
			if ns, ok := rr.(*dns.NS); ok && isSubDomain(ns.Hdr.Name, n) && isSubDomain(anchor, ns.Hdr.Name) {
				return cacheEntry{zone: dns.CanonicalName(ns.Hdr.Name), expires: r.v.now().Add(capTTL(time.Duration(ns.Hdr.Ttl) * time.Second))}, true
			}
		}
	}
	return cacheEntry{}, false
}
