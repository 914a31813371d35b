package dnssec

import (
	"context"
	"strconv"

	"github.com/miekg/dns"
)

// Work bounds of one validation (docs/protocol.md §11). RFC 4035 §5.3.1
// and RFC 6840 §5.11 would have a validator try every RRSIG with every
// DNSKEY of the key tag it names; key tags are a 16-bit checksum that
// anyone can make collide, so a zone of many keys sharing one tag and many
// bogus RRSIGs made that cost seconds of CPU per answer (KeyTrap,
// CVE-2023-50387). Validators cap the work since (unbound 1.19.1: 8
// RRSIG checks per RRset, 4 DS match failures; BIND 9.18.24: 16
// validations and 1 failure per fetch); a legitimate zone needs one
// verification per RRset, two during a rollover. Past a bound the answer
// is bogus with ErrBudgetExceeded.
const (
	// maxVerifiesPerRRset bounds the signature verifications spent on one
	// RRset, successful or not (unbound's MAX_VALIDATE_RRSIGS).
	maxVerifiesPerRRset = 8
	// maxVerifiesPerValidation bounds them over one Validate: its CNAMEs,
	// records, and every DS and DNSKEY RRset of the chains it fetches. A
	// cold chain from the root to a name four zones deep takes about 9.
	maxVerifiesPerValidation = 32
	// maxKeysPerTag bounds the keys tried for one RRSIG: the keys of its
	// signer that share its key tag and algorithm, in the order served.
	maxKeysPerTag = 4
	// maxDNSKEYs bounds a DNSKEY RRset (a rollover of two KSKs and two
	// ZSKs of two algorithms is 8 keys): each key is digested against
	// the DS RRset, and the whole RRset canonicalized per verification.
	maxDNSKEYs = 64
	// maxDS bounds the DS records of a zone checked against its keys.
	maxDS = 16
	// maxNSEC3Iterations: an NSEC3 denial with more additional
	// iterations is insecure, not checked (RFC 9276 §3.2, as BIND and
	// unbound do since 2021; RFC 9276 asks signers for 0).
	maxNSEC3Iterations = 100
	// maxNSEC3Hashes bounds the SHA-1 computations of NSEC3 hashing in one
	// validation: 8 names hashed at the largest accepted iteration count
	// (unbound: 8 NSEC3 hash calculations per validation run,
	// CVE-2023-50868).
	maxNSEC3Hashes = 8 * (maxNSEC3Iterations + 1)
)

// sigCounter counts the signature verifications of one RRset against the
// per-RRset and per-validation bounds.
type sigCounter struct {
	r    *validation
	n    int
	what rrsetName
}

// next reports whether one more verification may be made, checking the
// caller's context first: an abandoned validation stops between two
// verifications instead of burning the CPU of the rest. The error is a
// *BogusError: ErrChainUnavailable wrapping the context's error, or
// ErrBudgetExceeded naming the bound.
func (c *sigCounter) next(ctx context.Context, signer string) *BogusError {
	if err := ctx.Err(); err != nil {
		return &BogusError{RRset: c.what.String(), Signer: signer, KeyTag: -1, Kind: ErrChainUnavailable, Reason: "validation abandoned", Err: err}
	}
	switch {
	case c.n >= maxVerifiesPerRRset:
		return budgetError(c.what.String(), signer, "more than "+strconv.Itoa(maxVerifiesPerRRset)+" signature verifications for one RRset")
	case c.r.verifies >= maxVerifiesPerValidation:
		return budgetError(c.what.String(), signer, "more than "+strconv.Itoa(maxVerifiesPerValidation)+" signature verifications in one validation")
	}
	c.n++
	c.r.verifies++
	return nil
}

func budgetError(what, signer, reason string) *BogusError {
	return &BogusError{RRset: what, Signer: signer, KeyTag: -1, Kind: ErrBudgetExceeded,
		Reason: reason + " (KeyTrap bound, docs/protocol.md §11)"}
}

// hashBudget bounds the NSEC3 hashing of one validation (CVE-2023-50868):
// each name hashed costs 1 + iterations SHA-1 computations, and a
// validation may spend maxNSEC3Hashes in all.
type hashBudget struct{ spent int }

// spend takes the cost of hashing one name with the given additional
// iterations, or says that the budget ran out (nothing is taken then).
// Callers first treat iterations above maxNSEC3Iterations as insecure
// (nsec3Insecure) rather than hash them.
func (b *hashBudget) spend(what string, iterations uint16) *BogusError {
	cost := 1 + int(iterations)
	if b.spent+cost > maxNSEC3Hashes {
		return budgetError(what, "", "more than "+strconv.Itoa(maxNSEC3Hashes)+" NSEC3 hash computations in one validation")
	}
	b.spent += cost
	return nil
}

// nsec3Insecure reports whether an NSEC3 record hashes with more
// iterations than a validator checks: such a denial is insecure (RFC 9276
// §3.2), and costs no hashing.
func nsec3Insecure(n *dns.NSEC3) bool { return n.Iterations > maxNSEC3Iterations }
