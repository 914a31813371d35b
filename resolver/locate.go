package resolver

import (
	"context"
	"fmt"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/reference"
)

// Location is where a repository is served: the registries discovery
// produced for it, in the order to try them.
type Location struct {
	// Name is the repository asked about, host/path.
	Name string `json:"name"`
	// Endpoints are the registries, in order (priority, then weighted
	// random within a priority, as discovery ordered them).
	Endpoints []Endpoint `json:"endpoints"`
	// Chain is the delegation chain discovery followed.
	Chain []discovery.Step `json:"chain"`
	// DNSSECOff is set when the resolver ran with --dnssec off.
	DNSSECOff bool `json:"dnssecOff,omitempty"`
	// Signers is what the owners published about signatures of the
	// repository's images (protocol.md §15.2); nil when nothing.
	Signers *discovery.SignerPolicy `json:"signers,omitempty"`
	// Endpoints, Chain and Signers are shared by cached copies: do not
	// modify.
}

// SignatureRequired reports whether images of loc must carry a verified
// signature under the Resolver's current options: the owner published
// sign=required (here or in a parent of the chain), or the Resolver was
// told WithRequireSignature. The front door refuses a manifest by digest
// that Resolve does not verify when it is.
func (r *Resolver) SignatureRequired(loc Location) bool {
	return (loc.Signers != nil && loc.Signers.Sign == discovery.SignRequired) || r.cur.Load().opts.requireSignature
}

// Published reports whether the host asked about published a mapping (TXT,
// SRV, well-known document, or the operator's own): false when discovery
// found nothing and fell back to the host being its own registry.
func (l Location) Published() bool {
	return len(l.Chain) > 1 || (len(l.Chain) == 1 && l.Chain[0].Source != discovery.SourceDirect)
}

// Locate discovers who serves the repository name (host/path, without tag
// or digest; docker form; never qualified by search domains) and returns
// its endpoints. No registry is contacted. A location is cached for the
// TTL of the discovery answers it rests on (as those answers are), so a
// located name costs no network I/O and no allocation the second time.
// Errors are *Error: ErrInvalidReference for a name that does not parse or
// has no host, ErrDiscovery (and ErrTimeout) as for Resolve.
func (r *Resolver) Locate(ctx context.Context, name string) (Location, error) {
	if loc, _, ok := r.locations.Get(name); ok {
		return loc, nil
	}
	loc, _, err := r.locations.Fetch(ctx, name, func(ctx context.Context) (Location, time.Duration, error) {
		return r.locate(ctx, name)
	})
	return loc, err
}

func (r *Resolver) locate(ctx context.Context, name string) (Location, time.Duration, error) {
	ref, err := reference.Parse(name)
	if err != nil {
		return Location{}, 0, newError(name, "", "parse", ErrInvalidReference, err)
	}
	switch {
	case ref.Form() != reference.FormDocker:
		return Location{}, 0, newError(name, "", "parse", ErrInvalidReference, fmt.Errorf("a repository name is host/path in docker form"))
	case ref.Tag() != "" || ref.Digest() != "":
		return Location{}, 0, newError(name, "", "parse", ErrInvalidReference, fmt.Errorf("a repository name has no tag or digest"))
	case ref.IsShort():
		return Location{}, 0, newError(name, "", "parse", ErrInvalidReference, fmt.Errorf("repository name %q has no host", name))
	}
	e := r.cur.Load()
	ctx, cancel := context.WithTimeout(ctx, e.opts.timeout)
	defer cancel()
	disc, err := e.disc.Discover(ctx, ref.Domain(), ref.Path())
	if err != nil {
		return Location{}, 0, newError(name, ref.Domain(), "discovery", kindOf(err), err)
	}
	return Location{Name: ref.Domain() + "/" + ref.Path(), Endpoints: endpoints(disc.Endpoints), Chain: disc.Chain, DNSSECOff: disc.DNSSECOff, Signers: disc.Signers}, disc.TTL, nil
}
