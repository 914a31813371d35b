package frontdoor

import (
	"bytes"
	"io"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// pulled is everything an image pull reads: the manifest, the config and
// each layer, as bytes.
type pulled struct {
	manifest []byte
	config   []byte
	layers   [][]byte
}

func pullImage(t *testing.T, img v1.Image) pulled {
	t.Helper()
	var p pulled
	var err error
	if p.manifest, err = img.RawManifest(); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if p.config, err = img.RawConfigFile(); err != nil {
		t.Fatalf("config: %v", err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatalf("layers: %v", err)
	}
	for _, l := range layers {
		rc, err := l.Compressed() // go-containerregistry checks the digest as it reads
		if err != nil {
			t.Fatalf("layer: %v", err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("reading layer: %v", err)
		}
		p.layers = append(p.layers, b)
	}
	return p
}

func samePull(t *testing.T, what string, got, want pulled) {
	t.Helper()
	if !bytes.Equal(got.manifest, want.manifest) || !bytes.Equal(got.config, want.config) || len(got.layers) != len(want.layers) {
		t.Fatalf("%s: manifest, config or layer count differ from a direct pull", what)
	}
	for i := range got.layers {
		if !bytes.Equal(got.layers[i], want.layers[i]) {
			t.Fatalf("%s: layer %d differs from a direct pull", what, i)
		}
	}
}

// go-containerregistry's client pulls a single-platform image and a
// two-platform index through the front door, by tag and by digest, in the
// path form (FRONTDOOR/HOST/REPO, as Docker and containers/image mirrors
// send) and the ns form (?ns=HOST, as containerd sends), and gets exactly
// the bytes a direct pull from the registry gets.
func TestPullThroughBothURLFormsIsByteIdentical(t *testing.T) {
	l := startLab(t, labConfig{regs: 1, zones: []dnstest.Zone{
		zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme"`+"\n", true),
	}})
	reg := l.regs[0]
	imgDigest := reg.MustPushImage(t, "acme/org/app", "v1", registrytest.WithSeed("app"), registrytest.WithLayerSize(300<<10))
	idxDigest, children, err := reg.PushIndex("acme/org/multi", "v2", []string{"linux/amd64", "linux/arm64"}, registrytest.WithSeed("multi"))
	if err != nil {
		t.Fatal(err)
	}
	direct := func(ref string) name.Reference {
		r, err := name.ParseReference(reg.Host()+"/acme/"+ref, name.StrictValidation)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	directOpts := []remote.Option{remote.WithTransport(reg.Transport())}
	nsOpts, nsTr := l.nsOptions()

	type form struct {
		name string
		ref  func(ref string) name.Reference
		opts []remote.Option
	}
	forms := []form{
		{"path form", func(ref string) name.Reference { return l.pathRef(t, "example.test/"+ref) }, nil},
		{"ns form", func(ref string) name.Reference {
			r, err := name.ParseReference("example.test/"+ref, name.StrictValidation)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, nsOpts},
	}
	for _, f := range forms {
		for _, ref := range []string{"org/app:v1", "org/app@" + imgDigest.String()} {
			t.Run(f.name+"/"+ref, func(t *testing.T) {
				want, err := remote.Image(direct(ref), directOpts...)
				if err != nil {
					t.Fatal(err)
				}
				got, err := remote.Image(f.ref(ref), f.opts...)
				if err != nil {
					t.Fatalf("pull through the front door: %v", err)
				}
				if d, _ := got.Digest(); d.String() != imgDigest.String() {
					t.Fatalf("digest %s, want %s", d, imgDigest)
				}
				samePull(t, ref, pullImage(t, got), pullImage(t, want))
			})
		}
		for _, ref := range []string{"org/multi:v2", "org/multi@" + idxDigest.String()} {
			t.Run(f.name+"/"+ref, func(t *testing.T) {
				idx, err := remote.Index(f.ref(ref), f.opts...)
				if err != nil {
					t.Fatalf("index through the front door: %v", err)
				}
				raw, _ := idx.RawManifest()
				wantIdx, err := remote.Index(direct(ref), directOpts...)
				if err != nil {
					t.Fatal(err)
				}
				wantRaw, _ := wantIdx.RawManifest()
				if !bytes.Equal(raw, wantRaw) {
					t.Fatal("index bytes differ from a direct pull")
				}
				for p, d := range children {
					h, _ := v1.NewHash(d.String())
					img, err := idx.Image(h)
					if err != nil {
						t.Fatalf("%s child: %v", p, err)
					}
					want, _ := wantIdx.Image(h)
					samePull(t, p, pullImage(t, img), pullImage(t, want))
				}
			})
		}
	}
	nsTr.mu.Lock()
	defer nsTr.mu.Unlock()
	if len(nsTr.seen) == 0 {
		t.Fatal("the ns form sent no request")
	}
}
