package discovery

import (
	"strconv"
	"time"

	"github.com/ocidns/ocidns/discovery/dnssec"
)

// HopReport is what one hop consulted and concluded: for each source in
// the order it was consulted (docs/protocol.md §7), its answer and what
// became of each published mapping. Result.Hops and Error.Hops hold one a
// hop; the trace's discovery events are rendered from them.
type HopReport struct {
	Host string
	Path string
	// Sources consulted, in precedence order; a source that does not
	// apply (no DNS for a host with a port, --no-well-known, no local
	// configuration for the host) or that was not reached is absent.
	Sources []SourceReport
}

// Decided returns the report of the source that decided the hop, or nil.
func (h *HopReport) Decided() *SourceReport {
	for i := range h.Sources {
		if h.Sources[i].Outcome == OutcomeDecided {
			return &h.Sources[i]
		}
	}
	return nil
}

// Source returns the report of src at this hop, or nil when it was not
// consulted.
func (h *HopReport) Source(src Source) *SourceReport {
	for i := range h.Sources {
		if h.Sources[i].Source == src {
			return &h.Sources[i]
		}
	}
	return nil
}

// SourceReport is one source consulted at one hop.
type SourceReport struct {
	Source Source
	// Query is what was asked: "TXT _oci-discovery.example.com.", "SRV
	// _oci-registry._tcp.example.com.", "GET https://example.com/.well-known/oci-discovery";
	// "" for the local configuration and the direct fallback.
	Query string
	// Cache says whether the answer came from the cache.
	Cache CacheStatus
	// Outcome is what the source concluded for the path.
	Outcome Outcome
	// Err is why, when Outcome is OutcomeUnknown or OutcomeFailed.
	Err error
	// Auth is how the source's mappings are authenticated (docs/protocol.md §8.1).
	Auth Auth
	// DNSSEC is how a TXT or SRV answer was judged; zero for other sources.
	DNSSEC Authentication
	// Rcode of a DNS answer (dns.RcodeSuccess or dns.RcodeNameError).
	Rcode int
	// TTL is how long the answer may be cached.
	TTL time.Duration
	// Used are the mappings that decided the hop: a delegation, or the
	// registry mirrors tried (at most MaxEndpoints, in the order matched);
	// SRV targets as registry mappings with the record as Record; the
	// direct fallback as one mapping to the host.
	Used []Mapping
	// Skipped are the records and mappings of the source not used, each
	// with why.
	Skipped []Skipped
	// Keys are the signing keys the source published (v=ocisig1 records,
	// the document's signers) that its authentication lets a client use
	// (docs/protocol.md §15.2); those it does not are in Skipped.
	Keys []PublishedKey
}

// Outcome is what one source concluded at one hop.
type Outcome uint8

// Source outcomes (docs/protocol.md §9).
const (
	// OutcomeAbsent: NXDOMAIN, NODATA, 404, 410, no server: the next
	// source decides.
	OutcomeAbsent Outcome = iota + 1
	// OutcomeNoMatch: an answer, but no mapping a client uses for the
	// path (Skipped says why each was not): the next source decides.
	OutcomeNoMatch
	// OutcomeNoRegistry: the SRV target "." — no registry at this host;
	// the next source decides, and direct is refused.
	OutcomeNoRegistry
	// OutcomeDecided: the source decided the hop with Used.
	OutcomeDecided
	// OutcomeUnknown: the answer is unknown (SERVFAIL, timeout, bogus, an
	// invalid document, an RRset over the limits): discovery fails here,
	// never falls through.
	OutcomeUnknown
	// OutcomeFailed: the answer is known but fails the name: conflicting
	// mappings, a malformed SRV RRset, a registry URL that cannot serve
	// the path, "no registry" with nothing else to go to.
	OutcomeFailed
)

var outcomeNames = [...]string{
	OutcomeAbsent:     "absent",
	OutcomeNoMatch:    "no-match",
	OutcomeNoRegistry: "no-registry",
	OutcomeDecided:    "decided",
	OutcomeUnknown:    "unknown",
	OutcomeFailed:     "failed",
}

// String returns the outcome's stable name, such as "no-match".
func (o Outcome) String() string { return enumName(outcomeNames[:], int(o), "outcome") }

// CacheStatus says where a source's answer came from.
type CacheStatus uint8

// Cache statuses. CacheNone is the zero value, for the sources that look
// nothing up (local configuration, direct).
const (
	CacheNone CacheStatus = iota
	// CacheMiss: asked upstream (and cached, when there is a cache).
	CacheMiss
	// CacheHit: a fresh cached answer.
	CacheHit
	// CacheStale: the refresh failed and an expired answer was served
	// (docs/protocol.md §10).
	CacheStale
)

var cacheNames = [...]string{CacheNone: "none", CacheMiss: "miss", CacheHit: "hit", CacheStale: "stale"}

// String returns "none", "miss", "hit" or "stale".
func (c CacheStatus) String() string { return enumName(cacheNames[:], int(c), "cache") }

// SkipReason says why a published record or mapping was not used.
type SkipReason uint8

// Why a record or mapping was skipped. The zero value is not a reason.
const (
	// SkipNotOCI: a TXT record of another protocol or version (v=spf1,
	// v=oci2), ignored as docs/protocol.md §3.2 says.
	SkipNotOCI SkipReason = iota + 1
	// SkipMalformed: a v=oci1 record that breaks the grammar (§3.2);
	// Skipped.Err is the *RecordError.
	SkipMalformed
	// SkipNoPrefixMatch: the mapping's prefix does not match the path (§6).
	SkipNoPrefixMatch
	// SkipShorterPrefix: the prefix matches, but a longer one does too and
	// wins (§6).
	SkipShorterPrefix
	// SkipUnauthenticatedCrossHost: the mapping sends names to another
	// host and its source is not authenticated, under --dnssec on (§8.3).
	SkipUnauthenticatedCrossHost
	// SkipCapped: a mirror or SRV target beyond the MaxEndpoints a client
	// tries (§11).
	SkipCapped
	// SkipUnauthenticatedKey: a signing key (with its sign=) from a source
	// that is not authenticated, never used (§15.2).
	SkipUnauthenticatedKey
)

var skipReasonNames = [...]string{
	SkipNotOCI:                   "not-oci",
	SkipMalformed:                "malformed",
	SkipNoPrefixMatch:            "no-prefix-match",
	SkipShorterPrefix:            "shorter-prefix",
	SkipUnauthenticatedCrossHost: "unauthenticated-cross-host",
	SkipCapped:                   "capped",
	SkipUnauthenticatedKey:       "unauthenticated-key",
}

// String returns the reason's stable name, such as "unauthenticated-cross-host".
func (r SkipReason) String() string { return enumName(skipReasonNames[:], int(r), "skip") }

// Skipped is one published record or mapping that a source did not use,
// and why.
type Skipped struct {
	Reason SkipReason
	// Record is the record or document entry as published.
	Record string
	// Mapping is the parsed mapping; zero for records that are not one
	// (SkipNotOCI, SkipMalformed).
	Mapping Mapping
	// Err is the parse error of a SkipMalformed record.
	Err error
}

// Authentication is how a TXT or SRV answer was judged under a
// Discoverer's policy (docs/protocol.md §8.2).
type Authentication struct {
	// Auth is AuthDNSSEC when the answer is proven, else AuthNone.
	Auth Auth
	// Validated reports that the in-process validator judged the answer;
	// Security is then its verdict: Secure, Insecure, or Indeterminate
	// (the chain of trust could not be fetched; Cause says why). A bogus
	// answer is an error, never an Authentication.
	Validated bool
	Security  dnssec.Security
	Cause     error
	// AD reports that the AD bit of a trusted resolver authenticated the
	// answer.
	AD bool
}

// traceState is the trace's DNSSEC field for the answer: "secure",
// "insecure" (an indeterminate answer is used as one), "ad", or "" when
// nothing was attempted.
func (a Authentication) traceState() string {
	switch {
	case a.AD:
		return "ad"
	case !a.Validated:
		return ""
	case a.Security == dnssec.Secure:
		return dnssec.Secure.String()
	}
	return dnssec.Insecure.String()
}

func enumName(names []string, i int, kind string) string {
	if i >= 0 && i < len(names) && names[i] != "" {
		return names[i]
	}
	return kind + "(" + strconv.Itoa(i) + ")"
}
