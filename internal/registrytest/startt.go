package registrytest

import (
	"testing"

	"github.com/opencontainers/go-digest"
)

// StartT starts a registry for the test and closes it in t.Cleanup; a start
// failure fails the test.
func StartT(t testing.TB, opts Options) *Registry {
	t.Helper()
	r, err := Start(opts)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

// MustPushImage is PushImage failing the test on error.
func (r *Registry) MustPushImage(t testing.TB, repo, tag string, opts ...ImageOption) digest.Digest {
	t.Helper()
	d, err := r.PushImage(repo, tag, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
