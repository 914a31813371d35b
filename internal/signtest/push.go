package signtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// Signer pushes signatures to one registry.
type Signer struct {
	Target registrytest.Target
	// Now is the clock for the referrer manifest's creation annotation;
	// nil uses a fixed time, so manifests are reproducible.
	Now func() time.Time
}

// Options shape a signature away from what cosign would write, for the
// bad cases. The zero value signs exactly as cosign does.
type Options struct {
	// Identity is the payload's docker-reference; "" writes cosign's
	// <registry host>/<repository>.
	Identity string
	// Claims is the digest the payload or statement names; "" names the
	// digest being signed.
	Claims digest.Digest
	// Optional is the payload's "optional" (cosign sign -a key=value); nil
	// writes null, as cosign does without annotations.
	Optional map[string]any
	// Pad adds a member of Pad bytes to the payload's optional or the
	// statement's predicate (a signature larger than any real one).
	Pad int
	// Tamper changes the signed payload (simple-signing payload, or DSSE
	// payload) after it was signed.
	Tamper func([]byte) []byte
	// PredicateType replaces cosign's https://sigstore.dev/cosign/sign/v1.
	PredicateType string
	// Hint replaces the bundle's public-key hint; "-" leaves it out.
	Hint string
	// EditBundle rewrites the bundle's JSON before it is pushed (a keyless
	// or message-signature bundle, a malformed one).
	EditBundle func([]byte) []byte
}

func (o Options) claims(d digest.Digest) digest.Digest {
	if o.Claims != "" {
		return o.Claims
	}
	return d
}

func (o Options) pad(m map[string]any) map[string]any {
	if o.Pad <= 0 {
		return m
	}
	out := map[string]any{"pad": strings.Repeat("x", o.Pad)}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// SignTag signs d in repo with k in cosign's tag format: it appends a
// simple-signing layer to the manifest at tag sha256-<hex>.sig (creating
// it, as an OCI manifest with an OCI config, when absent), as cosign's
// `sign` does, and pushes it. It returns the payload signed.
func (s Signer) SignTag(ctx context.Context, repo string, d digest.Digest, k *Key, o Options) ([]byte, error) {
	identity := o.Identity
	if identity == "" {
		identity = s.Target.Host() + "/" + repo
	}
	payload := Payload(identity, o.claims(d), o.pad(o.Optional))
	sig, err := k.Sign(payload)
	if err != nil {
		return nil, err
	}
	if o.Tamper != nil {
		payload = o.Tamper(payload)
	}
	ref, err := s.Target.Ref(repo, signature.SignatureTag(d))
	if err != nil {
		return nil, err
	}
	ropts := s.Target.RemoteOptions(ctx)
	base, err := remote.Image(ref, ropts...)
	var terr *transport.Error
	switch {
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		base = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	case err != nil:
		return nil, fmt.Errorf("signtest: read %s: %w", ref, err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:       static.NewLayer(payload, signature.SimpleSigningMediaType),
		Annotations: map[string]string{signature.SignatureAnnotation: base64.StdEncoding.EncodeToString(sig)},
	})
	if err != nil {
		return nil, err
	}
	if err := remote.Write(ref, img, ropts...); err != nil {
		return nil, fmt.Errorf("signtest: push %s: %w", ref, err)
	}
	return payload, nil
}

// referrerManifest is an image manifest with the top-level artifactType
// that go-containerregistry's v1.Manifest lacks, as cosign writes it.
type referrerManifest struct {
	v1.Manifest
	ArtifactType string `json:"artifactType,omitempty"`
}

// SignBundle signs d in repo with k in cosign's bundle format, as `cosign
// sign --new-bundle-format` does: an in-toto statement about d in a DSSE
// envelope in a sigstore bundle v0.3, uploaded as the layer of an OCI
// manifest whose subject is d (config the empty descriptor, artifactType
// the bundle media type, annotations naming the content and predicate
// type), put by digest. go-containerregistry, as under cosign, adds it to
// the referrers tag schema's index when the registry has no referrers API.
// It returns the referrer manifest's digest.
func (s Signer) SignBundle(ctx context.Context, repo string, d digest.Digest, k *Key, o Options) (digest.Digest, error) {
	pt := o.PredicateType
	if pt == "" {
		pt = signature.CosignSignPredicateType
	}
	bundle, err := o.bundle(d, k, pt)
	if err != nil {
		return "", err
	}
	subjectRef, err := s.Target.Ref(repo, d.String())
	if err != nil {
		return "", err
	}
	subject, err := remote.Head(subjectRef, s.Target.RemoteOptions(ctx)...)
	if err != nil {
		return "", fmt.Errorf("signtest: HEAD %s: %w", subjectRef, err)
	}
	for _, blob := range [][]byte{emptyJSON, bundle} {
		if _, err := s.Target.PushBlob(ctx, repo, blob); err != nil {
			return "", err
		}
	}
	raw, err := json.Marshal(s.referrer(subject, bundle, pt))
	if err != nil {
		return "", err
	}
	return s.Target.PushRaw(ctx, repo, digest.FromBytes(raw).String(), string(types.OCIManifestSchema1), raw)
}

// emptyJSON is the referrer's config: the OCI empty descriptor's content.
var emptyJSON = []byte("{}")

// bundle signs the in-toto statement over d with predicate type pt and
// returns the sigstore bundle's JSON, shaped by o.
func (o Options) bundle(d digest.Digest, k *Key, pt string) ([]byte, error) {
	var pred map[string]any
	if o.Pad > 0 {
		pred = o.pad(nil)
	}
	stmt := Statement(o.claims(d), pt, pred)
	sig, err := k.Sign(PAE(signature.InTotoPayloadType, stmt))
	if err != nil {
		return nil, err
	}
	if o.Tamper != nil {
		stmt = o.Tamper(stmt)
	}
	hint := k.Hint()
	switch o.Hint {
	case "":
	case "-":
		hint = ""
	default:
		hint = o.Hint
	}
	bundle := BundleJSON(hint, stmt, sig)
	if o.EditBundle != nil {
		bundle = o.EditBundle(bundle)
	}
	return bundle, nil
}

// referrer is the manifest cosign pushes for a bundle: an empty config
// carrying the artifact type, the bundle as its one layer, and subject
// the signed image.
func (s Signer) referrer(subject *v1.Descriptor, bundle []byte, pt string) referrerManifest {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if s.Now != nil {
		now = s.Now()
	}
	config := blobDescriptor("application/vnd.oci.empty.v1+json", emptyJSON)
	config.ArtifactType = signature.BundleMediaType
	return referrerManifest{Manifest: v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        config,
		Layers:        []v1.Descriptor{blobDescriptor(signature.BundleMediaType, bundle)},
		Subject:       &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: map[string]string{
			"org.opencontainers.image.created":  now.UTC().Format(time.RFC3339),
			"dev.sigstore.bundle.content":       "dsse-envelope",
			signature.BundlePredicateAnnotation: pt,
		},
	}, ArtifactType: signature.BundleMediaType}
}

// blobDescriptor describes b, as a blob of media type mt.
func blobDescriptor(mt types.MediaType, b []byte) v1.Descriptor {
	h, n, _ := v1.SHA256(bytes.NewReader(b)) // a bytes.Reader does not fail
	return v1.Descriptor{MediaType: mt, Digest: h, Size: n}
}
