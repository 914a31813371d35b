package resolver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
)

// This file fetches content by digest for engines and the registry front
// door: from the endpoints that may serve it, in order, moving on when one
// cannot, and never handing out a byte that is not what the digest names
// (protocol.md §14).

// Manifest is a manifest's exact bytes as a registry served them, checked
// against the digest they were asked by.
type Manifest struct {
	// Descriptor describes the body: its media type (the manifest's own
	// mediaType field, else the Content-Type, else its shape), digest and
	// size.
	Descriptor ocispec.Descriptor
	// ContentType is the registry's Content-Type header as sent; serve it
	// with Body unchanged.
	ContentType string
	// Body is the manifest, byte for byte.
	Body []byte
	// Endpoint is the registry that served it.
	Endpoint Endpoint
}

// FetchManifest fetches the manifest dgst of the repository at eps (from a
// Result or a Location), asking the endpoints with the pull capability in
// order, at most 16 of them (protocol.md §11). The body is read whole
// (at most 4 MiB) and hashed before FetchManifest returns: a Manifest is
// always what dgst names. An endpoint that answers 404, 5xx or a body of the
// wrong digest, or cannot be reached, is passed over for the next; one that
// refuses ocidns's credentials (401 or 403 after authenticating) ends the
// fetch, as does ctx. Errors are *Error wrapping ErrNotFound (no endpoint
// has it), ErrUnauthorized, ErrDigestMismatch, ErrTooLarge, ErrTimeout,
// ErrUpstream, or ErrInvalidReference (dgst is not a valid digest).
func (r *Resolver) FetchManifest(ctx context.Context, eps []Endpoint, dgst digest.Digest) (Manifest, error) {
	var out Manifest
	err := r.cur.Load().eachEndpoint(ctx, eps, dgst, discovery.CapPull, "GET manifest", func(ctx context.Context, c *registryClient, t *target, tr *trace.Trace) error {
		m, err := c.getManifest(ctx, t, dgst.String(), dgst, tr)
		if err != nil {
			return err
		}
		out = Manifest{
			Descriptor:  ocispec.Descriptor{MediaType: m.mediaType, Digest: m.digest, Size: int64(len(m.body))},
			ContentType: m.contentType,
			Body:        m.body,
			Endpoint:    endpointOf(t.ep),
		}
		return nil
	})
	return out, err
}

// nextEndpoint reports whether a failure at one registry leaves the next a
// chance: it may not have the content, or be down, slow or corrupt. A
// refusal of credentials, an invalid request or the caller's own deadline
// would be the same everywhere.
func nextEndpoint(err error) bool {
	switch {
	case errors.Is(err, ErrUnauthorized), errors.Is(err, ErrInvalidReference):
		return false
	}
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrUpstream) || errors.Is(err, ErrTimeout) ||
		errors.Is(err, ErrDigestMismatch) || errors.Is(err, ErrTooLarge)
}

// eachEndpoint calls fn for the endpoints of eps that have caps, in order,
// until one succeeds, a failure says the others would fail alike, ctx ends,
// or maxRegistryAttempts were asked. refName names the content in errors.
func (r *engine) eachEndpoint(ctx context.Context, eps []Endpoint, dgst digest.Digest, caps discovery.Caps, step string,
	fn func(ctx context.Context, c *registryClient, t *target, tr *trace.Trace) error) error {
	if dgst != "" {
		if err := dgst.Validate(); err != nil {
			return newError(dgst.String(), "", step, ErrInvalidReference, fmt.Errorf("digest %q: %w", dgst, err))
		}
	}
	tr := trace.FromContext(ctx)
	var errs []error
	attempts, skipped := 0, 0
	for i, ep := range eps {
		if !ep.Caps.Has(caps) {
			skipped++
			continue
		}
		if attempts == maxRegistryAttempts {
			var untried []discovery.Endpoint
			for _, e := range eps[i:] {
				if e.Caps.Has(caps) {
					untried = append(untried, e.Endpoint)
				}
			}
			return attemptsExhausted(tr, step, "request", errs, untried)
		}
		attempts++
		name := ep.Repository
		if dgst != "" {
			name += "@" + dgst.String()
		}
		c := r.registryFor(ep.Endpoint)
		t, err := c.target(ep.Endpoint, name)
		if err == nil {
			err = fn(ctx, c, t, tr)
		}
		if err == nil {
			return nil
		}
		errs = append(errs, err)
		if !nextEndpoint(err) || ctx.Err() != nil {
			return err
		}
		tr.Add(trace.Event{Source: "registry", Server: ep.URL, Query: step, Decision: "trying the next endpoint: " + err.Error()})
	}
	if len(errs) == 0 {
		what := strings.Join(caps.Strings(), ",")
		if skipped == 0 {
			return newError(dgst.String(), "", step, ErrNotFound, errors.New("no registry serves this name"))
		}
		return newError(dgst.String(), "", step, ErrNotFound, fmt.Errorf("none of the %d endpoints has the %s capability", skipped, what))
	}
	return mostTelling(errs)
}
