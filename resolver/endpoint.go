package resolver

import (
	"net/url"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/reference"
)

// This file holds the engine-facing description of where a name is served
// and what it names: the endpoints discovery produced, and the OCI
// descriptor and pinned reference of a resolution.

// Endpoint is one registry that serves a name, as discovery produced it:
// URL, repository, priority, weight, capabilities, source, authentication
// and, for an unauthenticated SRV target, the TLS server name its
// certificate must prove. Capabilities repeats Caps as names ("resolve",
// "pull") for JSON readers; it is shared by every Endpoint with the same
// capabilities: do not modify.
type Endpoint struct {
	discovery.Endpoint
	Capabilities []string `json:"capabilities"`
}

// endpoints converts discovery's endpoints, in order.
func endpoints(eps []discovery.Endpoint) []Endpoint {
	out := make([]Endpoint, len(eps))
	for i, ep := range eps {
		out[i] = endpointOf(ep)
	}
	return out
}

// endpointOf converts one of discovery's endpoints, without allocating.
func endpointOf(ep discovery.Endpoint) Endpoint {
	return Endpoint{Endpoint: ep, Capabilities: capabilityNames(ep.Caps)}
}

// capabilityNames returns c.Strings(), shared by every endpoint with the
// same capabilities: do not modify.
func capabilityNames(c discovery.Caps) []string {
	if int(c) < len(capabilityNamesOf) {
		return capabilityNamesOf[c]
	}
	return c.Strings()
}

var capabilityNamesOf = func() (names [4][]string) {
	for c := range names {
		names[c] = discovery.Caps(c).Strings()
	}
	return names
}()

// Host returns the endpoint's host[:port], as in its URL; "" when the URL
// does not parse.
func (ep Endpoint) Host() string {
	u, err := url.Parse(ep.URL)
	if err != nil {
		return ""
	}
	return u.Host
}

// pinned is the pullable reference host[:port]/repository@digest of d at ep.
func pinned(ep discovery.Endpoint, d string) string {
	u, err := url.Parse(ep.URL)
	if err != nil || u.Host == "" || d == "" {
		return ""
	}
	return u.Host + "/" + ep.Repository + "@" + d
}

// ociPlatformOf converts a platform for an OCI descriptor; nil for none.
func ociPlatformOf(p *reference.Platform) *ocispec.Platform {
	if p == nil || p.OS == "" {
		return nil
	}
	return &ocispec.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
}
