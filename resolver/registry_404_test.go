package resolver

import (
	"context"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// docs/protocol.md §12: 404, the next endpoint, then "not found" — the client's part is
// a typed ErrNotFound the resolver can act on.
func TestUnknownTagIsNotFound(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	reg.MustPushImage(t, "org/app", "v1")
	c, _ := testClient(t, reg, nil)
	for _, tc := range []struct {
		repo, tag string
		verify    bool
	}{
		{"org/app", "v2", false},   // HEAD 404
		{"org/app", "v2", true},    // GET 404 with an OCI error body
		{"org/other", "v1", false}, // unknown repository
	} {
		t.Run(tc.repo, func(t *testing.T) {
			_, err := c.resolve(context.Background(), endpointFor(reg, tc.repo), "example.com/"+tc.repo+":"+tc.tag, tc.tag, "", nil, tc.verify, nil)
			e := wantKind(t, err, ErrNotFound)
			if e.Ref != "example.com/"+tc.repo+":"+tc.tag || e.Host != reg.Host() || !strings.Contains(e.Error(), tc.repo+":"+tc.tag) {
				t.Errorf("%+v: error %q lacks ref, host or manifest", tc, e)
			}
			if tc.verify && !strings.Contains(e.Error(), "MANIFEST_UNKNOWN") {
				t.Errorf("GET 404 error %q should carry the registry's error code", e)
			}
			if CodeOf(err) != CodeNotFound {
				t.Errorf("code %s", CodeOf(err))
			}
		})
	}
}

func TestNotFoundFaultIsNotFound(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	reg.MustPushImage(t, "org/app", "v1")
	reg.SetFaults(registrytest.Faults{NotFound: true})
	c, _ := testClient(t, reg, nil)
	_, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, nil)
	wantKind(t, err, ErrNotFound)
}
