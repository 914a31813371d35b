package resolver

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// docs/protocol.md §12: HEAD /v2/<repository>/manifests/<tag> with the full
// Accept list, and Docker-Content-Digest used when it is a valid digest of a
// complete response.
func TestTagResolvesFromHEADWithoutFetchingTheManifest(t *testing.T) {
	for _, tlsOn := range []bool{true, false} {
		t.Run(fmt.Sprint("tls=", tlsOn), func(t *testing.T) {
			reg := registrytest.StartT(t, registrytest.Options{TLS: tlsOn})
			want := reg.MustPushImage(t, "org/app", "v1")
			c, _ := testClient(t, reg, nil)
			tr := trace.New(nil)
			res, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "example.com/org/app:v1", "v1", "", nil, false, tr)
			if err != nil {
				t.Fatal(err)
			}
			if res.Digest != want || res.MediaType != mediaTypeOCIManifest || res.Size <= 0 || res.Platform != nil {
				t.Fatalf("tls=%v: got %+v, want digest %s", tlsOn, res, want)
			}
			if res.Endpoint.URL != reg.URL() {
				t.Fatalf("endpoint %+v", res.Endpoint)
			}
			if n := reg.Requests(); n.ManifestHEAD != 1 || n.ManifestGET != 0 {
				t.Fatalf("tls=%v: requests %+v, want one HEAD", tlsOn, n)
			}
			ev := tr.Events()
			if len(ev) != 1 || ev[0].Source != "registry" || ev[0].Query != "HEAD "+reg.URL()+"/v2/org/app/manifests/v1" ||
				ev[0].Server != reg.Host() || ev[0].Outcome != "200" || !strings.Contains(ev[0].Decision, want.String()) {
				t.Fatalf("trace %+v", ev)
			}
		})
	}
}

func TestHEADAcceptListsEveryManifestType(t *testing.T) {
	// The Accept header is what makes registries such as distribution 2.8
	// serve OCI manifests at all; it must name all four types.
	for _, mt := range []string{mediaTypeOCIIndex, mediaTypeOCIManifest, mediaTypeDockerList, mediaTypeDockerManifest} {
		t.Run(mt, func(t *testing.T) {
			if !strings.Contains(acceptManifests, mt) {
				t.Errorf("Accept lacks %s", mt)
			}
		})
	}
}

func TestDockerSchema2ManifestResolves(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	want := reg.MustPushImage(t, "org/app", "docker", registrytest.WithDockerMediaTypes())
	c, _ := testClient(t, reg, nil)
	res := resolveTag(t, c, reg, "org/app", "docker", nil)
	if res.Digest != want || res.MediaType != mediaTypeDockerManifest {
		t.Fatalf("got %+v want %s", res, want)
	}
}

func TestPlainHTTPRefusedUnlessInsecure(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	reg.MustPushImage(t, "org/app", "v1")
	c, _ := testClient(t, reg, func(c *registryConfig) { c.Insecure = nil })
	_, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", nil, false, nil)
	e := wantKind(t, err, ErrUpstream)
	if !strings.Contains(e.Error(), "not marked insecure") {
		t.Fatalf("error %q does not say why", e)
	}
	if n := reg.Requests().Manifests(); n != 0 {
		t.Fatalf("%d requests sent over plain HTTP", n)
	}
}

func TestInvalidRepositoryOrTagNeverReachesTheRegistry(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	c, _ := testClient(t, reg, nil)
	for _, tc := range []struct{ repo, tag string }{
		{"org/../admin", "v1"}, {"Org/app", "v1"}, {"org/app?x=1", "v1"}, {"", "v1"}, {"org//app", "v1"},
		{"org/app", "v1/../../x"}, {"org/app", ".hidden"}, {"org/app", strings.Repeat("a", 129)},
	} {
		t.Run(tc.repo, func(t *testing.T) {
			_, err := c.resolve(context.Background(), endpointFor(reg, tc.repo), "r", tc.tag, "", nil, false, nil)
			wantKind(t, err, ErrInvalidReference)
		})
	}
	if n := reg.Requests().Manifests(); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}
