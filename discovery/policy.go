package discovery

import (
	"net/url"
	"slices"
	"strings"
)

// The policy of the delegation algorithm, stated once for Discoverer and
// for the tools that must judge records exactly as clients do (`ocidns
// check`, `ocidns records`).

// sourceOrder is the precedence of docs/protocol.md §7: the operator's
// configuration, then TXT, SRV, the well-known document, and the host
// itself.
var sourceOrder = [...]Source{SourceConfig, SourceTXT, SourceSRV, SourceWellKnown, SourceDirect}

// SourceOrder returns the sources in the order they are consulted at each
// hop; the first that decides wins (docs/protocol.md §7). The slice is the
// caller's.
func SourceOrder() []Source { return slices.Clone(sourceOrder[:]) }

// Precedes reports whether source a is consulted before source b.
func Precedes(a, b Source) bool {
	i, j := slices.Index(sourceOrder[:], a), slices.Index(sourceOrder[:], b)
	return i >= 0 && j >= 0 && i < j
}

// MappingHost is the host a mapping sends names to: the delegate, or the
// registry URL's host, lowercase, without port, brackets or trailing dot;
// "" when the URL does not parse.
func MappingHost(m Mapping) string {
	if m.Delegate != "" {
		return strings.ToLower(strings.TrimSuffix(m.Delegate, "."))
	}
	u, err := url.Parse(m.Registry)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// SameHost reports whether target (a host without port, as MappingHost
// gives it) is host[:port]'s host: ports are ignored (docs/protocol.md
// §8.3), and so are case, a trailing dot and an IPv6 literal's brackets.
func SameHost(target, host string) bool {
	if a, err := parseAuthority(host); err == nil {
		host = a.bareHost()
	}
	target = strings.TrimSuffix(strings.TrimPrefix(target, "["), "]")
	return strings.EqualFold(strings.TrimSuffix(target, "."), strings.TrimSuffix(host, "."))
}

// CrossHost reports whether m, published for host, sends its names to
// another host (docs/protocol.md §8.3). A mapping whose target cannot be
// read is not cross-host: it fails when used, never by going elsewhere.
func CrossHost(m Mapping, host string) bool {
	target := MappingHost(m)
	return target != "" && !SameHost(target, host)
}

// Follows reports whether a client follows m, published for host by a
// source authenticated as auth (docs/protocol.md §8.3): with --dnssec off
// (dnssecOff) every mapping, otherwise an authenticated one or one that
// stays on host.
func Follows(m Mapping, host string, auth Auth, dnssecOff bool) bool {
	return dnssecOff || auth != AuthNone || !CrossHost(m, host)
}

// weaker returns the weaker of two authentications: none is weaker than
// dnssec and https, which are weaker than the operator's own config. The
// empty Auth means "nothing yet".
func weaker(a, b Auth) Auth {
	rank := func(x Auth) int {
		switch x {
		case AuthNone:
			return 0
		case AuthDNSSEC, AuthHTTPS:
			return 1
		case AuthConfig:
			return 2
		}
		return 3
	}
	if rank(b) < rank(a) {
		return b
	}
	return a
}
