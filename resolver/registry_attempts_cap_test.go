package resolver

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/reference"
)

// protocol.md §11: one resolution asks at most maxRegistryAttempts
// endpoints, whatever discovery returned, and the trace and the error say
// how many were left untried. Here 40 endpoints (one registry, 40
// repository prefixes, none holding the image) would otherwise cost 40
// requests.
func TestRegistryAttemptsPerResolutionAreCapped(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true})
	r, err := New(WithDNSServers("127.0.0.1:9"), WithRootCAs(reg.Transport().TLSClientConfig.RootCAs),
		WithDockerConfig(emptyDockerConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const n = 40
	eps := make([]discovery.Endpoint, 0, n+1)
	eps = append(eps, discovery.Endpoint{URL: "https://pull-only.example", Repository: "app", Caps: discovery.CapPull})
	for i := range n {
		eps = append(eps, discovery.Endpoint{URL: reg.URL(), Repository: fmt.Sprintf("p%d/app", i), Caps: discovery.CapAll})
	}
	ref, err := reference.Parse("example.test/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New(nil)
	_, err = r.active().askRegistries(trace.NewContext(context.Background(), tr), ref.String(), ref, eps, nil, Result{})
	e := wantKind(t, err, ErrNotFound)

	if got := reg.Requests().Manifests(); got != maxRegistryAttempts {
		t.Errorf("%d manifest requests for %d endpoints, want %d", got, n, maxRegistryAttempts)
	}
	dropped := fmt.Sprintf("%d more endpoints not tried", n-maxRegistryAttempts)
	if !strings.Contains(e.Error(), dropped) {
		t.Errorf("error %q does not say %q", e, dropped)
	}
	var traced bool
	for _, ev := range tr.Events() {
		if strings.Contains(ev.Decision, dropped) && strings.Contains(ev.Decision, "/p16/app") {
			traced = true
		}
	}
	if !traced {
		t.Errorf("no trace event of %d says %q and names the first endpoint dropped", len(tr.Events()), dropped)
	}
}
