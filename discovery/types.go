package discovery

import (
	"strings"
	"time"
)

// Auth says how a mapping was authenticated.
type Auth string

// How a mapping or endpoint was authenticated (docs/protocol.md §8.1).
const (
	AuthNone   Auth = "none"   // plain DNS, nothing proven
	AuthDNSSEC Auth = "dnssec" // DNSSEC-validated RRset (in-process or trusted AD bit)
	AuthHTTPS  Auth = "https"  // well-known document of the name's host over verified TLS
	AuthConfig Auth = "config" // the operator's own local configuration
)

// Source names where a mapping or endpoint came from.
type Source string

// Discovery sources, in precedence order (docs/protocol.md §7; SourceOrder).
const (
	SourceTXT       Source = "dns-txt"
	SourceSRV       Source = "dns-srv"
	SourceWellKnown Source = "well-known"
	SourceDirect    Source = "direct"
	SourceConfig    Source = "config"
)

// Caps is the set of capabilities of an endpoint.
type Caps uint8

// Endpoint capabilities: only CapResolve endpoints may turn a tag into a digest.
const (
	CapResolve Caps = 1 << iota
	CapPull

	CapAll = CapResolve | CapPull
)

// Has reports whether every capability in c2 is in c.
func (c Caps) Has(c2 Caps) bool { return c&c2 == c2 }

// Strings returns the capability names in canonical order ("resolve", "pull").
func (c Caps) Strings() []string {
	var s []string
	if c.Has(CapResolve) {
		s = append(s, "resolve")
	}
	if c.Has(CapPull) {
		s = append(s, "pull")
	}
	return s
}

// String returns the capabilities as in a record: "resolve,pull".
func (c Caps) String() string { return strings.Join(c.Strings(), ",") }

// Mapping is one namespace mapping as published in a `v=oci1` TXT record or
// in one entry of a well-known document. Exactly one of Registry and
// Delegate is set.
type Mapping struct {
	// Prefix is the path prefix the mapping applies to, matched on whole
	// components; "" applies to the whole host.
	Prefix string
	// Registry is the registry base URL, scheme://host[:port][/repo-prefix].
	Registry string
	// Delegate is the DNS name discovery continues at (mount semantics).
	Delegate string
	// Priority and Weight order mirrors (RFC 2782: lower priority first,
	// weighted random within a priority).
	Priority int
	Weight   int
	// Caps defaults to CapAll when the record omits caps=.
	Caps Caps
	// Record is the published text (TXT strings concatenated, or the JSON
	// entry re-encoded) for traces and error messages.
	Record string
}

// Endpoint is one registry that serves a discovered name.
type Endpoint struct {
	// URL is scheme://host[:port] of the registry, without a path.
	URL string `json:"url"`
	// Repository is the full repository path at that registry.
	Repository string `json:"repository"`
	Priority   int    `json:"priority"`
	Weight     int    `json:"weight"`
	Caps       Caps   `json:"-"`
	// Source is where the final mapping came from.
	Source Source `json:"source"`
	// Authenticated is the weakest authentication along the chain that led here.
	Authenticated Auth `json:"authenticated"`
	// TLSServerName, when set, is the name the registry's certificate must
	// be valid for instead of the URL's host: an unauthenticated SRV record
	// may move the connection, never the identity (docs/protocol.md §4).
	TLSServerName string `json:"tlsServerName,omitempty"`
}

// Step is one hop of a delegation chain: which host was asked about which
// path, and the record that decided where to go next.
type Step struct {
	Host          string        `json:"host"`
	Path          string        `json:"path"`
	Source        Source        `json:"source"`
	Record        string        `json:"record,omitempty"`
	TTL           time.Duration `json:"-"`
	Authenticated Auth          `json:"authenticated"`
}

// Result is the outcome of one discovery.
type Result struct {
	// Name is the qualified name that was discovered, host/path.
	Name      string     `json:"name"`
	Endpoints []Endpoint `json:"endpoints"`
	Chain     []Step     `json:"chain"`
	// TTL is the minimum TTL over every answer the result depends on.
	TTL time.Duration `json:"-"`
	// DNSSECOff is set when discovery ran with --dnssec off and followed
	// unauthenticated mappings; every result says so.
	DNSSECOff bool `json:"dnssecOff,omitempty"`
	// DNSSEC is "unavailable" when the DNS resolver was found unable to
	// serve DNSSEC data (dnssec.ResolverCheck): answers under the root
	// trust anchor were taken as unauthenticated. Empty otherwise.
	DNSSEC string `json:"dnssec,omitempty"`
	// Stale is set when any part of the result was served stale from cache.
	Stale bool `json:"stale,omitempty"`
	// Hops says, for each hop of Chain, what each source answered and
	// what became of each mapping it published.
	Hops []HopReport `json:"-"`
	// Signers is what the owners published about signatures of the name
	// (protocol.md §15.2); nil when no host of the chain published a key
	// from an authenticated source.
	Signers *SignerPolicy `json:"signers,omitempty"`
}
