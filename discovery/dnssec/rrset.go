package dnssec

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
)

// validityKind says what is wrong with s's validity period at now:
// ErrSignatureExpired, ErrSignatureNotYetValid, or nil. It formats
// nothing; validityProblem words it.
func validityKind(s *dns.RRSIG, now time.Time) error {
	switch {
	case now.After(sigTime(s.Expiration, now)):
		return ErrSignatureExpired
	case now.Before(sigTime(s.Inception, now)):
		return ErrSignatureNotYetValid
	}
	return nil
}

// validityProblem words what validityKind found wrong with s's validity
// period at now ("" when nothing is).
func validityProblem(s *dns.RRSIG, now time.Time) string {
	at := " (now " + now.UTC().Format(time.RFC3339) + ")"
	switch validityKind(s, now) {
	case ErrSignatureExpired:
		return "signature expired at " + sigTime(s.Expiration, now).UTC().Format(time.RFC3339) + at
	case ErrSignatureNotYetValid:
		return "signature not yet valid until " + sigTime(s.Inception, now).UTC().Format(time.RFC3339) + at
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

// negTTL is how long an absent answer's conclusion is kept (RFC 2308).
func negTTL(a *dnsclient.Answer) time.Duration {
	if a.NegativeTTL > 0 {
		return capTTL(a.NegativeTTL)
	}
	if a.SOA != nil {
		return capTTL(time.Duration(min(a.SOA.Hdr.Ttl, a.SOA.Minttl)) * time.Second)
	}
	return 0
}

func capTTL(d time.Duration) time.Duration { return min(d, maxCacheTTL) }

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

// splitRRsets splits rrs into RRsets (same owner, type and class), in order
// of first appearance.
func splitRRsets(rrs []dns.RR) [][]dns.RR {
	var sets [][]dns.RR
outer:
	for _, rr := range rrs {
		h := rr.Header()
		for i, set := range sets {
			h0 := set[0].Header()
			if h0.Rrtype == h.Rrtype && h0.Class == h.Class && dnsclient.NameEqual(h0.Name, h.Name) {
				sets[i] = append(set, rr)
				continue outer
			}
		}
		sets = append(sets, []dns.RR{rr})
	}
	return sets
}

// eachRRset calls f with each RRset of rrs, in order of first appearance,
// until f returns false, and reports whether it never did. The common
// case, rrs one RRset, is passed as is.
func eachRRset(rrs []dns.RR, f func([]dns.RR) bool) bool {
	if len(rrs) == 0 {
		return true
	}
	if oneRRset(rrs) {
		return f(rrs)
	}
	for _, set := range splitRRsets(rrs) {
		if !f(set) {
			return false
		}
	}
	return true
}

func oneRRset(rrs []dns.RR) bool {
	h0 := rrs[0].Header()
	for _, rr := range rrs[1:] {
		h := rr.Header()
		if h.Rrtype != h0.Rrtype || h.Class != h0.Class || !dnsclient.NameEqual(h.Name, h0.Name) {
			return false
		}
	}
	return true
}

// rrsigsCovering returns the RRSIGs in sigs that cover type covered at
// owner: sigs itself when all do, the common case.
func rrsigsCovering(sigs []*dns.RRSIG, owner string, covered uint16) []*dns.RRSIG {
	all := true
	for _, s := range sigs {
		all = all && dnsclient.Covers(s, owner, covered)
	}
	if all {
		return sigs
	}
	var out []*dns.RRSIG
	for _, s := range sigs {
		if dnsclient.Covers(s, owner, covered) {
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

// isSubDomain reports whether child is parent or below it, as
// dns.IsSubDomain does (ASCII case-insensitively), without allocating: it runs for every RRSIG validated. Names with
// escapes ("a\.b") go to dns.IsSubDomain, which parses labels.
func isSubDomain(parent, child string) bool {
	if strings.IndexByte(parent, '\\') >= 0 || strings.IndexByte(child, '\\') >= 0 {
		return dns.IsSubDomain(parent, child)
	}
	switch {
	case parent == ".":
		return true
	case len(child) < len(parent):
		return false
	case len(child) > len(parent) && child[len(child)-len(parent)-1] != '.':
		return false
	}
	return dnsclient.NameEqual(child[len(child)-len(parent):], parent)
}

// parentZone returns the name one label up; "." has none ("").
func parentZone(n string) string {
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

func algName(a uint8) string {
	if s, ok := dns.AlgorithmToString[a]; ok {
		return s
	}
	return "algorithm " + strconv.Itoa(int(a))
}

func digestName(t uint8) string {
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
		parts = append(parts, fmt.Sprintf("DS %d/%s/%s", d.KeyTag, algName(d.Algorithm), digestName(d.DigestType)))
	}
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("DNSKEY %d/%s", k.KeyTag(), algName(k.Algorithm)))
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
		parts[i] = fmt.Sprintf("key %d/%s", s.KeyTag, algName(s.Algorithm))
	}
	return strings.Join(parts, ", ")
}
