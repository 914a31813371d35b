package resolver

import (
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// docs/protocol.md §12: 405 on HEAD, use GET.
func TestHEAD405FallsBackToGET(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Faults: registrytest.Faults{HeadNotAllowed: true}})
	want := reg.MustPushImage(t, "org/app", "v1")
	c, _ := testClient(t, reg, nil)
	res := resolveTag(t, c, reg, "org/app", "v1", nil)
	if res.Digest != want {
		t.Fatalf("got %s want %s", res.Digest, want)
	}
	if n := reg.Requests(); n.ManifestHEAD != 1 || n.ManifestGET != 1 {
		t.Fatalf("requests %+v", n)
	}
}
