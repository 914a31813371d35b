// Command pushimages pushes the end-to-end lab's test images into the lab's
// docker-registry instances and records, for each, the digest the registry
// itself reports (its Docker-Content-Digest header on HEAD), so the e2e tests
// compare ocidns's answers with the registry's word rather than with a digest
// computed on this side.
//
// Every image is one small random layer on an empty OCI base, so two runs
// never share digests and a stale cache cannot make a test pass. acme/multi
// is an OCI index of linux/amd64 and linux/arm64; its children's digests are
// recorded too.
//
// Output: one line per digest, KEY=VALUE, appended to -env:
//
//	OCIDNS_E2E_DIGEST_LAB_APP=sha256:...
//	OCIDNS_E2E_DIGEST_ACME_MULTI=sha256:...            (the index)
//	OCIDNS_E2E_DIGEST_ACME_MULTI_LINUX_ARM64=sha256:... (its arm64 child)
//
// Usage:
//
//	pushimages -plain 127.0.0.1:15000 -token 127.0.0.1:15001 -user pusher -password secret -env lab.env
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// image is one repository:tag to push. Key names its env variables.
type image struct {
	Key   string
	Token bool // push to the token-auth registry instead of the plain one
	Repo  string
	Index bool // an index of platforms rather than a single image
}

// images is the lab's content; the zones in testdata/e2e point at these
// repositories (internal/e2e/doc.go lists which name reaches which).
var images = []image{
	{Key: "LAB_APP", Repo: "lab/app"},
	{Key: "ACME_APP", Repo: "acme/app"},
	{Key: "ACME_MULTI", Repo: "acme/multi", Index: true},
	{Key: "DIRECT_APP", Repo: "direct/app"},
	{Key: "EVIL_APP", Repo: "evil/app"},
	{Key: "EVIL_DIRECT_APP", Repo: "evil/direct/app"},
	{Key: "SECURE_APP", Repo: "secure/app", Token: true},
	// Under acme.lab.test/signed, whose owner publishes a cosign key with
	// sign=required; e2e-up.sh signs them with the real cosign CLI.
	{Key: "SIGNED_APP", Repo: "acme/signed/app"},
	{Key: "SIGNED_BUNDLE", Repo: "acme/signed/bundle"},
	{Key: "SIGNED_MULTI", Repo: "acme/signed/multi", Index: true},
	{Key: "SIGNED_UNSIGNED", Repo: "acme/signed/unsigned"},
	{Key: "SIGNED_REPLAYED", Repo: "acme/signed/replayed"},
	{Key: "SIGNED_ROGUE", Repo: "acme/signed/rogue"},
}

// platforms of the index image, in index order.
var platforms = []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}

const tag = "v1"

func main() {
	plain := flag.String("plain", "127.0.0.1:15000", "host:port of the registry without auth")
	token := flag.String("token", "127.0.0.1:15001", "host:port of the token-auth registry")
	user := flag.String("user", "", "user the token service grants push to")
	password := flag.String("password", "", "password of -user")
	envFile := flag.String("env", "", "append KEY=VALUE lines here (default: stdout only)")
	seed := flag.Uint64("seed", 0, "seed of the random layers (0: a fresh random seed)")
	timeout := flag.Duration("timeout", 2*time.Minute, "deadline for all pushes")
	flag.Parse()

	s := *seed
	if s == 0 {
		s = rand.Uint64()
	}
	p := &pusher{
		rnd:   rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15)),
		plain: *plain, token: *token,
		tokenAuth: &authn.Basic{Username: *user, Password: *password},
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	var lines []string
	for _, img := range images {
		got, err := p.push(ctx, img)
		if err != nil {
			log.Fatalf("pushimages: %s: %v", img.Repo, err)
		}
		lines = append(lines, got...)
	}
	out := strings.Join(lines, "\n") + "\n"
	fmt.Print(out)
	if *envFile != "" {
		f, err := os.OpenFile(*envFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			log.Fatalf("pushimages: %v", err)
		}
		if _, err := io.WriteString(f, out); err != nil {
			log.Fatalf("pushimages: writing %s: %v", *envFile, err)
		}
		if err := f.Close(); err != nil {
			log.Fatalf("pushimages: writing %s: %v", *envFile, err)
		}
	}
}

type pusher struct {
	rnd          *rand.Rand
	plain, token string
	tokenAuth    authn.Authenticator
}

// push writes one image or index and returns its env lines, each holding
// the digest the registry reports for it.
func (p *pusher) push(ctx context.Context, img image) ([]string, error) {
	host, auth := p.plain, authn.Anonymous
	if img.Token {
		host, auth = p.token, p.tokenAuth
	}
	ref, err := name.NewTag(host+"/"+img.Repo+":"+tag, name.Insecure)
	if err != nil {
		return nil, err
	}
	opts := []remote.Option{remote.WithAuth(auth), remote.WithContext(ctx)}
	key := "OCIDNS_E2E_DIGEST_" + img.Key

	if !img.Index {
		im, err := p.image(img.Repo, v1.Platform{OS: "linux", Architecture: "amd64"})
		if err != nil {
			return nil, err
		}
		if err := remote.Write(ref, im, opts...); err != nil {
			return nil, fmt.Errorf("push %s: %w", ref, err)
		}
		d, err := registryDigest(ref, im, opts)
		if err != nil {
			return nil, err
		}
		return []string{key + "=" + d}, nil
	}

	return p.pushIndex(ref, img, key, opts)
}

// pushIndex pushes img as an index of every platform's image to ref, and
// returns its digest and each child's, as the registry lists them in the
// index it stored, each confirmed by its own HEAD.
func (p *pusher) pushIndex(ref name.Tag, img image, key string, opts []remote.Option) ([]string, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, pl := range platforms {
		im, err := p.image(img.Repo, pl)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        im,
			Descriptor: v1.Descriptor{Platform: &pl},
		})
	}
	if err := remote.WriteIndex(ref, idx, opts...); err != nil {
		return nil, fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := registryDigest(ref, idx, opts)
	if err != nil {
		return nil, err
	}
	lines := []string{key + "=" + d}
	got, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", ref, err)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(got.Manifest))
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", ref, err)
	}
	for _, m := range im.Manifests {
		if m.Platform == nil {
			return nil, fmt.Errorf("index %s: child %s has no platform", ref, m.Digest)
		}
		child := ref.Context().Digest(m.Digest.String())
		desc, err := remote.Head(child, opts...)
		if err != nil {
			return nil, fmt.Errorf("HEAD %s: %w", child, err)
		}
		pk := strings.ToUpper(m.Platform.OS + "_" + m.Platform.Architecture)
		lines = append(lines, key+"_"+pk+"="+desc.Digest.String())
	}
	return lines, nil
}

// digester is what an image and an index share for this purpose.
type digester interface {
	Digest() (v1.Hash, error)
}

// registryDigest returns the registry's Docker-Content-Digest for ref and
// checks it against what was pushed: a registry that rewrote the manifest
// would make every later assertion meaningless.
func registryDigest(ref name.Reference, pushed digester, opts []remote.Option) (string, error) {
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return "", fmt.Errorf("HEAD %s: %w", ref, err)
	}
	want, err := pushed.Digest()
	if err != nil {
		return "", err
	}
	if desc.Digest != want {
		return "", fmt.Errorf("HEAD %s: registry reports %s, pushed %s", ref, desc.Digest, want)
	}
	return desc.Digest.String(), nil
}

// image builds an OCI image for one platform: an empty base plus a layer
// holding one small file of random bytes.
func (p *pusher) image(repo string, pl v1.Platform) (v1.Image, error) {
	noise := make([]byte, 32)
	for i := range noise {
		noise[i] = byte(p.rnd.UintN(256))
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte(fmt.Sprintf("ocidns e2e image %s %s/%s %s\n", repo, pl.OS, pl.Architecture, hex.EncodeToString(noise)))
	if err := tw.WriteHeader(&tar.Header{Name: "ocidns-e2e.txt", Mode: 0o644, Size: int64(len(body)),
		ModTime: time.Unix(0, 0)}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(body); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	tarBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}

	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		OS: pl.OS, Architecture: pl.Architecture, Variant: pl.Variant,
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	base = mutate.MediaType(base, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	return mutate.AppendLayers(base, layer)
}
