package resolver

import (
	"context"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/internal/registrytest"
)

var threePlatforms = []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7"}

// docs/protocol.md §12: with a platform and an index (here linux/amd64,
// linux/arm64/v8 and linux/arm/v7), the matching child's digest is
// returned too.
func TestIndexResolvesEachPlatformsChild(t *testing.T) {
	for _, docker := range []bool{false, true} {
		reg := registrytest.StartT(t, registrytest.Options{TLS: true})
		var opts []registrytest.ImageOption
		wantType := mediaTypeOCIIndex
		if docker {
			opts = append(opts, registrytest.WithDockerMediaTypes())
			wantType = mediaTypeDockerList
		}
		index, children, err := reg.PushIndex("org/multi", "v1", threePlatforms, opts...)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := testClient(t, reg, nil)
		for _, tc := range []struct{ ask, child, got string }{
			{"linux/arm64", "linux/arm64/v8", "linux/arm64/v8"}, // no variant → v8
			{"linux/arm64/v8", "linux/arm64/v8", "linux/arm64/v8"},
			{"linux/arm/v7", "linux/arm/v7", "linux/arm/v7"},
			{"linux/arm", "linux/arm/v7", "linux/arm/v7"}, // no variant → v7
			{"linux/amd64", "linux/amd64", "linux/amd64"},
			{"linux/x86_64", "linux/amd64", "linux/amd64"},
		} {
			t.Run(tc.ask, func(t *testing.T) {
				res := resolveTag(t, c, reg, "org/multi", "v1", platform(t, tc.ask))
				if res.Digest != index || res.MediaType != wantType {
					t.Errorf("docker=%v %s: top %s %s, want index %s", docker, tc.ask, res.Digest, res.MediaType, index)
				}
				if res.Platform == nil || res.Platform.Digest != children[tc.child] || res.Platform.Platform.String() != tc.got || res.Platform.Size <= 0 {
					t.Errorf("docker=%v %s: child %+v, want %s (%s)", docker, tc.ask, res.Platform, children[tc.child], tc.got)
				}
			})
		}
		// Selecting needs the body: GETs only, and no child fetch.
		if n := reg.Requests(); n.ManifestHEAD != 0 || n.ManifestGET != 6 || n.BlobGET != 0 {
			t.Errorf("requests %+v", n)
		}
	}
}

func TestIndexWithoutThePlatformIsNotFound(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	if _, _, err := reg.PushIndex("org/multi", "v1", threePlatforms); err != nil {
		t.Fatal(err)
	}
	c, _ := testClient(t, reg, nil)
	tr := trace.New(nil)
	_, err := c.resolve(context.Background(), endpointFor(reg, "org/multi"), "r", "v1", "", platform(t, "linux/s390x"), false, tr)
	e := wantKind(t, err, ErrNotFound)
	for _, s := range []string{"no manifest for platform linux/s390x", "linux/amd64, linux/arm64/v8, linux/arm/v7"} {
		if !strings.Contains(e.Error(), s) {
			t.Errorf("error %q lacks %q", e, s)
		}
	}
	ev := tr.Events()
	if last := ev[len(ev)-1]; last.Outcome != "no match" {
		t.Errorf("trace %+v", ev)
	}
}

// Brief: on a single-platform image "fetch config blob (bounded, 1 MiB)
// and check os/arch".
func TestSingleImageIsCheckedAgainstItsConfig(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken}})
	want := reg.MustPushImage(t, "org/app", "arm", registrytest.WithPlatform("linux/arm/v7"))
	c, _ := testClient(t, reg, nil)

	res := resolveTag(t, c, reg, "org/app", "arm", platform(t, "linux/arm"))
	if res.Digest != want || res.Platform == nil || res.Platform.Digest != want || res.Platform.Platform.String() != "linux/arm/v7" {
		t.Fatalf("got %+v / %+v", res, res.Platform)
	}
	if n := reg.Requests().BlobGET; n != 1 {
		t.Fatalf("config fetched %d times", n)
	}
	_, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "arm", "", platform(t, "linux/amd64"), false, nil)
	e := wantKind(t, err, ErrNotFound)
	if !strings.Contains(e.Error(), "single-platform image for linux/arm/v7") {
		t.Fatalf("error %q", e)
	}
}

func TestPlatformWithoutArchitectureIsRejected(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	c, _ := testClient(t, reg, nil)
	p := platform(t, "linux/amd64")
	p.Architecture = ""
	_, err := c.resolve(context.Background(), endpointFor(reg, "org/app"), "r", "v1", "", p, false, nil)
	wantKind(t, err, ErrInvalidReference)
}
