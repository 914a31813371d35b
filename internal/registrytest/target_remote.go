package registrytest

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RemoteOptions returns the go-containerregistry options the push helpers
// use with t (its transport and credentials, and the user agent that keeps
// their requests out of the registry's counters and faults), for helpers in
// other packages that push content of their own.
func (t Target) RemoteOptions(ctx context.Context) []remote.Option { return t.options(ctx) }

// Ref names repo:tag, or repo@digest when ref is a digest, at the target.
func (t Target) Ref(repo, ref string) (name.Reference, error) {
	if !strings.Contains(ref, ":") {
		return t.tag(repo, ref)
	}
	host, nopts, err := t.nameOptions()
	if err != nil {
		return nil, err
	}
	d, err := name.NewDigest(host+"/"+repo+"@"+ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("registrytest: %s/%s@%s: %w", host, repo, ref, err)
	}
	return d, nil
}

// Host returns the target's host[:port], as image names at it begin.
func (t Target) Host() string { return hostOf(t.URL) }
