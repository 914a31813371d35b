package dnssec

import (
	"errors"
	"strconv"
	"strings"

	"github.com/ocidns/ocidns/discovery/dnsclient"
)

// ErrBogus is wrapped by every error Validate returns (always a
// *BogusError).
var ErrBogus = errors.New("DNSSEC bogus")

// Why an answer is bogus. Every *BogusError wraps exactly one of these as
// its Kind, so errors.Is(err, ErrSignatureExpired) and the like tell the
// failures apart without reading the message. A BogusError for a broken
// link further up the chain has the Kind of that link.
var (
	// ErrBadSignature: an RRSIG does not verify with the key it names
	// (the data or the signature was altered).
	ErrBadSignature = errors.New("bad signature")
	// ErrSignatureExpired: the only RRSIGs that could prove the RRset are
	// past their expiration (the zone was not re-signed in time).
	ErrSignatureExpired = errors.New("signature expired")
	// ErrSignatureNotYetValid: the RRSIGs are before their inception (a
	// clock, here or at the signer, is wrong).
	ErrSignatureNotYetValid = errors.New("signature not yet valid")
	// ErrNoDNSKEY: the key an RRSIG names (tag and algorithm) is not in the
	// signer's validated DNSKEY RRset.
	ErrNoDNSKEY = errors.New("no DNSKEY")
	// ErrDSMismatch: no key of the zone's DNSKEY RRset matches its DS
	// RRset in the parent, or the trust anchor.
	ErrDSMismatch = errors.New("DS mismatch")
	// ErrSignaturesStripped: an RRset lacks the RRSIG its zone's chain of
	// trust requires: unsigned data in a signed zone, a zone whose DS says
	// it is signed serving no DNSKEY RRset, or a DNSKEY RRset not signed by
	// a key its DS or trust anchor vouches for.
	ErrSignaturesStripped = errors.New("signatures stripped")
	// ErrSignerAboveAnchor: an RRSIG names a signer above the closest trust
	// anchor, where no chain of trust can start.
	ErrSignerAboveAnchor = errors.New("signer above the trust anchor")
	// ErrChainUnavailable: a DS, DNSKEY or SOA lookup the chain of trust
	// needed failed (the lookup error is wrapped too), or the validation's
	// query budget or context ran out. See Verdict.
	ErrChainUnavailable = errors.New("chain of trust unavailable")
	// ErrDenialNotProven: a negative answer (NXDOMAIN, NODATA, or no DS at
	// a delegation) from a signed zone lacks the NSEC or NSEC3 records that
	// prove it, or they prove something else; or a wildcard answer lacks
	// the proof that no closer name exists (RFC 4035 §5.4, RFC 5155 §8).
	ErrDenialNotProven = errors.New("denial not proven")
	// ErrDNSSECUnavailable: the DNS resolver cannot serve DNSSEC data (the
	// resolver check, ResolverCheck), and validation is required
	// (ResolverCheck.Require, --dnssec require).
	ErrDNSSECUnavailable = errors.New("DNSSEC unavailable from the DNS resolver")
	// ErrBudgetExceeded: proving the answer would take more work than a
	// validation may spend (signature verifications per RRset or per
	// validation, keys sharing one key tag, DNSKEY or DS RRset size,
	// NSEC3 hashing): the KeyTrap class of attacks (CVE-2023-50387,
	// CVE-2023-50868). The reason names the bound (docs/protocol.md §11).
	ErrBudgetExceeded = errors.New("validation budget exceeded")
)

// BogusError says why an answer is bogus: which RRset, which signer zone and
// key, and the reason (expired signature, bad signature, no matching DNSKEY,
// DS mismatch, missing signatures where a DS exists, ...). It wraps ErrBogus,
// its Kind and, when validation could not complete because a lookup failed
// or the context ended, that cause too: errors.Is(err, dnsclient.ErrUnknown)
// or errors.Is(err, context.DeadlineExceeded) then tell "could not check"
// from "forged" (Verdict does).
type BogusError struct {
	// RRset is "TYPE owner", e.g. "TXT _oci-discovery.example.com.".
	RRset string
	// Signer is the zone whose keys signed, or should have signed, RRset.
	Signer string
	// KeyTag of the key concerned, -1 when no single key is.
	KeyTag int
	// Kind is why, as one of the sentinels above (ErrBadSignature, ...).
	Kind error
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

// Unwrap returns ErrBogus, the Kind and the cause, for errors.Is and
// errors.As.
func (e *BogusError) Unwrap() []error {
	errs := []error{ErrBogus}
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Verdict returns the security state of an answer that Validate judged sec
// with err: sec, except that a bogus answer whose chain of trust could not
// be fetched — a lookup of the chain got no answer (dnsclient.ErrUnknown:
// a resolver that cannot reach the zones above, a private server refusing
// them) and no signature was found bad, expired, not yet valid or
// stripped — is Indeterminate: not proven either way, rather than forged.
// A caller may then treat the answer as unauthenticated instead of failing
// (docs/protocol.md §8.2).
func Verdict(sec Security, err error) Security {
	if sec != Bogus || err == nil {
		return sec
	}
	if errors.Is(err, ErrChainUnavailable) && errors.Is(err, dnsclient.ErrUnknown) && !signatureFailed(err) {
		return Indeterminate
	}
	return Bogus
}

// signatureFailed reports whether a signature in err's chain failed, as
// opposed to a lookup.
func signatureFailed(err error) bool {
	return errors.Is(err, ErrBadSignature) || errors.Is(err, ErrSignatureExpired) ||
		errors.Is(err, ErrSignatureNotYetValid) || errors.Is(err, ErrSignaturesStripped)
}

// kindOf is the Kind of a failure further up the chain: that link's, or
// ErrChainUnavailable when err is a lookup or context error.
func kindOf(err error) error {
	var be *BogusError
	if errors.As(err, &be) && be.Kind != nil {
		return be.Kind
	}
	return ErrChainUnavailable
}

// worseBogus returns the more telling of two failures (see rank).
func worseBogus(a, b *BogusError) *BogusError {
	if a == nil {
		return b
	}
	if rank(b.Kind, b.Err) > rank(a.Kind, a.Err) {
		return b
	}
	return a
}

// rank orders failures by how much they tell: a bound exceeded (an
// attack, or a zone no validator will check) over a validity-period
// problem (the operator forgot to re-sign) over a bad signature
// (tampering) over a missing key (a stale or foreign signature). A broken
// link further up the chain (a wrapped cause) says nothing about this
// RRset's own signatures and ranks lowest.
func rank(kind, cause error) int {
	if cause != nil {
		return 0
	}
	switch kind {
	case ErrBudgetExceeded:
		return 4
	case ErrSignatureExpired, ErrSignatureNotYetValid:
		return 3
	case ErrBadSignature:
		return 2
	case ErrNoDNSKEY:
		return 1
	}
	return 0
}
