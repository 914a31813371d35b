package dnssec

import (
	"context"
	"errors"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/trace"
)

// Resolvers that cannot serve DNSSEC data (docs/protocol.md §8.2). A
// validator asks through a recursive resolver; many cannot give it what
// validation needs: captive and filtering resolvers answer NXDOMAIN for
// the root's DNSKEY RRset, forwarders drop RRSIGs, middleboxes fail
// queries with the DO bit. Validated strictly, every answer under the
// root would then be bogus, and every name would fail. The resolver check
// asks once whether the resolver passes DNSSEC data, and if it does not,
// answers under the root trust anchors are insecure — not authenticated,
// which can only make a client skip a mapping to another host — unless
// validation is required. Answers under a deeper trust anchor (a private
// zone's, --trust-anchor) are still validated against it.

// ResolverDNSSEC is what the resolver check found out about the resolver.
type ResolverDNSSEC int

// The outcomes of the resolver check.
const (
	// ResolverUnchecked: not checked yet, or the check got no answer at
	// all (the resolver is down or unreachable); it is tried again 30 s
	// later, and until then answers are validated strictly.
	ResolverUnchecked ResolverDNSSEC = iota
	// ResolverServesDNSSEC: the root zone's DNSKEY RRset came with its
	// RRSIG: a missing or broken signature is bogus.
	ResolverServesDNSSEC
	// ResolverWithoutDNSSEC: the resolver cannot serve DNSSEC data.
	ResolverWithoutDNSSEC
)

// String returns "unchecked", "available" or "unavailable", as results
// and metrics say it.
func (s ResolverDNSSEC) String() string {
	switch s {
	case ResolverServesDNSSEC:
		return "available"
	case ResolverWithoutDNSSEC:
		return "unavailable"
	}
	return "unchecked"
}

// resolverRecheck is how long an inconclusive check waits before the
// next.
const resolverRecheck = 30 * time.Second

// ResolverCheck configures the resolver check of a Validator.
type ResolverCheck struct {
	// Plain asks the same resolver without the DO bit
	// ((*dnsclient.Client).WithoutDNSSEC): when the root's DNSKEY query
	// fails with the bit, it tells a resolver that fails DNSSEC queries
	// from one that is down. Nil leaves such a check inconclusive.
	Plain Querier
	// Require makes an answer the resolver leaves unvalidated bogus, with
	// ErrDNSSECUnavailable, instead of insecure (--dnssec require).
	Require bool
	// Notify, when set, is called once, by the validation that finds the
	// resolver without DNSSEC, with why; it must not block.
	Notify func(why string)
}

// resolverState is the check's state, guarded by Validator.mu.
type resolverState struct {
	cfg      *ResolverCheck // nil: no check, every answer validated strictly
	state    ResolverDNSSEC
	why      string
	retry    time.Time // an inconclusive check is not repeated before
	notified bool
}

// CheckResolver turns on the resolver check: before a validation first
// relies on a root trust anchor, v asks its resolver for the root zone's
// DNSKEY RRset with the DO bit, once for the Validator's life. The
// resolver serves DNSSEC when the RRset comes with an RRSIG; it does not
// when it answers NXDOMAIN, NODATA or the keys without RRSIG, refuses the
// question, or fails it with the DO bit while answering it without (see
// ResolverCheck.Plain). Then every answer whose closest trust anchor is
// the root is Insecure, its trace saying why, or with c.Require Bogus
// with ErrDNSSECUnavailable; answers under a deeper anchor are validated
// as before. Call it before v is used.
func (v *Validator) CheckResolver(c ResolverCheck) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.resolver.cfg = &c
}

// Resolver returns what the resolver check found, and why the resolver
// cannot serve DNSSEC data when it cannot. ResolverUnchecked when the
// check is off or has not concluded.
func (v *Validator) Resolver() (ResolverDNSSEC, string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.resolver.state, v.resolver.why
}

// withoutDNSSEC reports, v.mu held, whether answers under the root
// anchor are not to be validated.
func (v *Validator) withoutDNSSEC() bool {
	return v.resolver.cfg != nil && v.resolver.state == ResolverWithoutDNSSEC
}

// unvalidated returns the verdict for what, an RRset under anchor, when
// the resolver check says the resolver cannot serve DNSSEC data for it
// (the anchor is the root); ok is false when it is to be validated.
func (r *validation) unvalidated(ctx context.Context, anchor string, what rrsetName) (vd verdict, ok bool) {
	if anchor != "." {
		return verdict{}, false
	}
	state, why, require := r.resolverState(ctx)
	if state != ResolverWithoutDNSSEC {
		return verdict{}, false
	}
	if require {
		return bogusVerdict(&BogusError{RRset: what.String(), KeyTag: -1, Kind: ErrDNSSECUnavailable,
			Reason: "the DNS resolver cannot serve DNSSEC data (" + why + "), and validation is required"}), true
	}
	vd = verdict{sec: Insecure}
	if r.tr != nil {
		vd.why = what.String() + " not validated: the DNS resolver cannot serve DNSSEC data (" + why + ")"
	}
	return vd, true
}

// resolverState runs the resolver check when it is due (one validation
// at a time; the others wait for it) and returns its outcome.
func (r *validation) resolverState(ctx context.Context) (ResolverDNSSEC, string, bool) {
	v := r.v
	v.mu.Lock()
	rs := v.resolver
	v.mu.Unlock()
	if rs.cfg == nil {
		return ResolverServesDNSSEC, "", false
	}
	if rs.state != ResolverUnchecked || v.now().Before(rs.retry) {
		return rs.state, rs.why, rs.cfg.Require
	}
	// The entry is never stored (no expiry): do only makes concurrent
	// validations share one check.
	_, _ = r.do(ctx, cacheKey{kindProbe, "."}, (*validation).checkResolver)
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.resolver.state, v.resolver.why, rs.cfg.Require
}

// checkResolver runs the resolver check and records its outcome, for
// resolverState.
func (r *validation) checkResolver(ctx context.Context, _ cacheKey) (cacheEntry, error) {
	v := r.v
	v.mu.Lock()
	cfg, due := v.resolver.cfg, v.resolver.state == ResolverUnchecked && !v.now().Before(v.resolver.retry)
	v.mu.Unlock()
	if !due {
		// Another validation's check concluded between this one's look
		// at the state and its turn here.
		return cacheEntry{}, nil
	}
	state, why := r.probeResolver(ctx, cfg.Plain)
	v.mu.Lock()
	notify := false
	if v.resolver.state == ResolverUnchecked {
		v.resolver.state = state
		if state == ResolverWithoutDNSSEC {
			v.resolver.why = why
		}
		if state == ResolverUnchecked && ctx.Err() == nil {
			v.resolver.retry = v.now().Add(resolverRecheck)
		}
		notify = state == ResolverWithoutDNSSEC && !v.resolver.notified
		v.resolver.notified = v.resolver.notified || notify
	}
	v.mu.Unlock()
	ev := trace.Event{Source: "dns", Query: rrsetString(dns.TypeDNSKEY, "."), DNSSEC: state.String()}
	switch state {
	case ResolverServesDNSSEC:
		ev.Decision = "resolver check: the DNS resolver serves DNSSEC data"
	case ResolverWithoutDNSSEC:
		ev.Decision = "resolver check: the DNS resolver cannot serve DNSSEC data (" + why + "): answers under the root trust anchor are not validated"
		if cfg.Require {
			ev.Decision = "resolver check: the DNS resolver cannot serve DNSSEC data (" + why + "), and validation is required"
		}
	default:
		ev.Decision = "resolver check inconclusive (" + why + "): validating strictly, asking again in " + resolverRecheck.String()
	}
	r.tr.Add(ev)
	if notify && cfg.Notify != nil {
		cfg.Notify(why)
	}
	return cacheEntry{}, nil
}

// probeResolver asks the resolver for the root zone's DNSKEY RRset (with
// the DO bit, as every validation query; a prefetched answer serves), and
// when that fails, without the bit through plain.
func (r *validation) probeResolver(ctx context.Context, plain Querier) (ResolverDNSSEC, string) {
	a, err := r.query(ctx, ".", dns.TypeDNSKEY)
	if err == nil && a.WithoutDO {
		return ResolverWithoutDNSSEC, "it fails queries with the DNSSEC OK bit (SERVFAIL) but answers them without"
	}
	if err == nil {
		keys := 0
		if len(a.CNAMEs) == 0 {
			for _, rr := range a.Records {
				if k, ok := rr.(*dns.DNSKEY); ok && k.Hdr.Name == "." {
					keys++
				}
			}
		}
		switch {
		case keys > 0 && len(rrsigsCovering(a.Sigs, ".", dns.TypeDNSKEY)) > 0:
			r.v.hold(queryKey{".", dns.TypeDNSKEY}, a) // for the chain of trust
			return ResolverServesDNSSEC, ""
		case keys > 0:
			return ResolverWithoutDNSSEC, "it answers the root zone's DNSKEY query without the RRSIG: it drops DNSSEC signatures"
		case a.Rcode == dns.RcodeNameError:
			return ResolverWithoutDNSSEC, "it answers NXDOMAIN for the root zone's DNSKEY RRset, as filtering and captive resolvers do"
		}
		return ResolverWithoutDNSSEC, "it answers the root zone's DNSKEY query with no DNSKEY record"
	}
	if ctx.Err() != nil {
		return ResolverUnchecked, "the check was abandoned: " + err.Error()
	}
	var de *dnsclient.Error
	if errors.As(err, &de) && de.Rcode == dns.RcodeRefused {
		return ResolverWithoutDNSSEC, "it refuses the root zone's DNSKEY query"
	}
	if errors.As(err, &de) && de.AskedWithoutDO {
		// The client has asked again without the bit, and that failed too.
		return ResolverWithoutDNSSEC, "it cannot answer the root zone's DNSKEY query, with the DNSSEC OK bit or without (" + err.Error() + ")"
	}
	if plain == nil {
		return ResolverUnchecked, err.Error()
	}
	_, perr := plain.Query(ctx, ".", dns.TypeDNSKEY)
	switch {
	case perr == nil:
		return ResolverWithoutDNSSEC, "it fails the root zone's DNSKEY query with the DNSSEC OK bit (" + err.Error() + ") but answers it without"
	case errors.As(perr, &de) && de.Rcode >= 0:
		return ResolverWithoutDNSSEC, "it cannot answer the root zone's DNSKEY query, with the DNSSEC OK bit or without (" + perr.Error() + ")"
	}
	// No answer at all, with the bit or without: down or unreachable,
	// which says nothing about DNSSEC.
	return ResolverUnchecked, err.Error()
}
