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

// Ref names repo:ref at the target, or repo@ref when ref is a digest
// ("sha256:...").
func (t Target) Ref(repo, ref string) (name.Reference, error) {
	host, nopts, err := t.nameOptions()
	if err != nil {
		return nil, err
	}
	var r name.Reference
	if strings.Contains(ref, ":") {
		r, err = name.NewDigest(host+"/"+repo+"@"+ref, nopts...)
	} else {
		r, err = name.NewTag(host+"/"+repo+":"+ref, nopts...)
	}
	if err != nil {
		return nil, fmt.Errorf("registrytest: %s/%s, %s: %w", host, repo, ref, err)
	}
	return r, nil
}

// Host returns the target's host[:port], as image names at it begin.
func (t Target) Host() string { return hostOf(t.URL) }
