package registrytest

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
)

// Target is a registry to push test content to: this package's Registry or
// any other (a real registry in end-to-end runs).
type Target struct {
	// URL is http(s)://host[:port]. With http:// the push is plain HTTP.
	URL string
	// Transport carries the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Username and Password authenticate (Basic, or at the token endpoint);
	// empty means anonymous.
	Username, Password string
}

// ImageOption adjusts a pushed image.
type ImageOption func(*imageSpec)

type imageSpec struct {
	platform  string
	seed      string
	layerSize int
	docker    bool
}

// WithPlatform sets the image config's os, architecture and variant from
// "os/arch[/variant]". Default "linux/amd64".
func WithPlatform(p string) ImageOption { return func(s *imageSpec) { s.platform = p } }

// WithSeed makes images with otherwise equal options differ (and equal seeds
// reproduce a digest exactly).
func WithSeed(seed string) ImageOption { return func(s *imageSpec) { s.seed = seed } }

// WithLayerSize sets the size of the single layer's file content, default 64
// bytes.
func WithLayerSize(n int) ImageOption { return func(s *imageSpec) { s.layerSize = n } }

// WithDockerMediaTypes uses Docker schema2 media types (manifest, config,
// layer; a manifest list for an index) instead of OCI ones.
func WithDockerMediaTypes() ImageOption { return func(s *imageSpec) { s.docker = true } }

func newSpec(opts []ImageOption) imageSpec {
	s := imageSpec{platform: "linux/amd64", layerSize: 64}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// parsePlatform reads "os/arch[/variant]".
func parsePlatform(p string) (v1.Platform, error) {
	parts := strings.Split(p, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("registrytest: platform %q is not os/arch[/variant]", p)
	}
	pl := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		pl.Variant = parts[2]
	}
	return pl, nil
}

// Image builds the image PushImage would push, without pushing it. The
// result depends only on the options: one layer holding one file whose
// content is derived from the seed and platform, no timestamps.
func Image(opts ...ImageOption) (v1.Image, error) {
	return buildImage(newSpec(opts))
}

func buildImage(s imageSpec) (v1.Image, error) {
	pl, err := parsePlatform(s.platform)
	if err != nil {
		return nil, err
	}
	content := bytes.Repeat([]byte("registrytest "+s.seed+" "+s.platform+"\n"), s.layerSize/16+1)[:s.layerSize]
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	if err := tw.WriteHeader(&tar.Header{Name: "registrytest.txt", Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(content); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}

	layerType, manifestType, configType := types.OCIUncompressedLayer, types.OCIManifestSchema1, types.OCIConfigJSON
	if s.docker {
		layerType, manifestType, configType = types.DockerUncompressedLayer, types.DockerManifestSchema2, types.DockerConfigJSON
	}
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer(tb.Bytes(), layerType))
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = pl.OS, pl.Architecture, pl.Variant
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, manifestType)
	return mutate.ConfigMediaType(img, configType), nil
}

// Index builds the index PushIndex would push: one image per platform (seeded
// with the platform and the options' seed), the platform in each descriptor.
func Index(platforms []string, opts ...ImageOption) (v1.ImageIndex, map[string]v1.Image, error) {
	s := newSpec(opts)
	indexType := types.OCIImageIndex
	if s.docker {
		indexType = types.DockerManifestList
	}
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, indexType)
	images := map[string]v1.Image{}
	for _, p := range platforms {
		pl, err := parsePlatform(p)
		if err != nil {
			return nil, nil, err
		}
		cs := s
		cs.platform = p
		img, err := buildImage(cs)
		if err != nil {
			return nil, nil, err
		}
		mt, err := img.MediaType()
		if err != nil {
			return nil, nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{MediaType: mt, Platform: &pl},
		})
		images[p] = img
	}
	return idx, images, nil
}

func (t Target) options(ctx context.Context) []remote.Option {
	tr := t.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	var auth authn.Authenticator = authn.Anonymous
	if t.Username != "" || t.Password != "" {
		auth = authn.FromConfig(authn.AuthConfig{Username: t.Username, Password: t.Password})
	}
	return []remote.Option{remote.WithContext(ctx), remote.WithTransport(tr), remote.WithAuth(auth),
		remote.WithUserAgent(pushUserAgent), remote.WithJobs(1)}
}

// nameOptions returns the target's host[:port] and the options image names
// at it are parsed with.
func (t Target) nameOptions() (string, []name.Option, error) {
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", nil, fmt.Errorf("%w: %q", errNoRegistry, t.URL)
	}
	nopts := []name.Option{name.StrictValidation}
	if u.Scheme == "http" {
		nopts = append(nopts, name.Insecure)
	}
	return u.Host, nopts, nil
}

func hashDigest(h v1.Hash) digest.Digest { return digest.Digest(h.String()) }

// PushImage pushes a deterministic single-platform image as repo:tag and
// returns its manifest digest.
func (t Target) PushImage(ctx context.Context, repo, tag string, opts ...ImageOption) (digest.Digest, error) {
	img, err := Image(opts...)
	if err != nil {
		return "", err
	}
	ref, err := t.Ref(repo, tag)
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img, t.options(ctx)...); err != nil {
		return "", fmt.Errorf("registrytest: push %s: %w", ref, err)
	}
	h, err := img.Digest()
	if err != nil {
		return "", err
	}
	return hashDigest(h), nil
}

// PushIndex pushes an image per platform ("os/arch[/variant]") and an index
// (OCI, or a Docker manifest list with WithDockerMediaTypes) over them as
// repo:tag. It returns the index digest and each platform's manifest digest,
// keyed by the platform string as given.
func (t Target) PushIndex(ctx context.Context, repo, tag string, platforms []string, opts ...ImageOption) (digest.Digest, map[string]digest.Digest, error) {
	idx, images, err := Index(platforms, opts...)
	if err != nil {
		return "", nil, err
	}
	ref, err := t.Ref(repo, tag)
	if err != nil {
		return "", nil, err
	}
	if err := remote.WriteIndex(ref, idx, t.options(ctx)...); err != nil {
		return "", nil, fmt.Errorf("registrytest: push index %s: %w", ref, err)
	}
	children := make(map[string]digest.Digest, len(images))
	for p, img := range images {
		h, err := img.Digest()
		if err != nil {
			return "", nil, err
		}
		children[p] = hashDigest(h)
	}
	h, err := idx.Digest()
	if err != nil {
		return "", nil, err
	}
	return hashDigest(h), children, nil
}

// rawManifest is a manifest given as bytes.
type rawManifest struct {
	body      []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.body, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// PushRaw puts body as the manifest repo:tag with the given media type,
// without pushing anything it references (for oversized or odd manifests,
// and referrers); tag may also be the body's digest.
func (t Target) PushRaw(ctx context.Context, repo, tag, mediaType string, body []byte) (digest.Digest, error) {
	ref, err := t.Ref(repo, tag)
	if err != nil {
		return "", err
	}
	if err := remote.Put(ref, rawManifest{body: body, mediaType: types.MediaType(mediaType)}, t.options(ctx)...); err != nil {
		return "", fmt.Errorf("registrytest: put %s: %w", ref, err)
	}
	return digest.FromBytes(body), nil
}

// PushBlob uploads a blob to repo and returns its digest (for configs of raw
// manifests).
func (t Target) PushBlob(ctx context.Context, repo string, body []byte) (digest.Digest, error) {
	ref, err := t.Ref(repo, "latest")
	if err != nil {
		return "", err
	}
	layer := static.NewLayer(body, types.OCIUncompressedLayer)
	if err := remote.WriteLayer(ref.Context(), layer, t.options(ctx)...); err != nil {
		return "", fmt.Errorf("registrytest: upload blob to %s: %w", ref.Context(), err)
	}
	return digest.FromBytes(body), nil
}

// PushImage pushes a deterministic image to this registry; see
// Target.PushImage.
func (r *Registry) PushImage(repo, tag string, opts ...ImageOption) (digest.Digest, error) {
	return r.Target().PushImage(context.Background(), repo, tag, opts...)
}

// PushIndex pushes a multi-platform index to this registry; see
// Target.PushIndex.
func (r *Registry) PushIndex(repo, tag string, platforms []string, opts ...ImageOption) (digest.Digest, map[string]digest.Digest, error) {
	return r.Target().PushIndex(context.Background(), repo, tag, platforms, opts...)
}

// PushRaw puts raw manifest bytes to this registry; see Target.PushRaw.
func (r *Registry) PushRaw(repo, tag, mediaType string, body []byte) (digest.Digest, error) {
	return r.Target().PushRaw(context.Background(), repo, tag, mediaType, body)
}

// PushBlob uploads a blob to this registry; see Target.PushBlob.
func (r *Registry) PushBlob(repo string, body []byte) (digest.Digest, error) {
	return r.Target().PushBlob(context.Background(), repo, body)
}
