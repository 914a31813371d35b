package signature

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/bytesize"
)

// Fetcher reads the objects signatures are stored as, from the repository
// that holds the image being verified (cosign stores signatures beside the
// image). The resolver implements it with its authenticated registry
// client; this package does no HTTP itself.
//
// Every method reads at most limit bytes of body: a body over limit is an
// error wrapping ErrTooLarge, read no further than limit+1 bytes. Verify
// checks sizes and digests again, so a Fetcher need not.
type Fetcher interface {
	// Manifest returns the manifest at ref, a tag ("sha256-<hex>.sig") or
	// a digest ("sha256:<hex>"), as GET /v2/<name>/manifests/<ref> with an
	// Accept header listing the OCI and Docker manifest and index media
	// types, and its media type (the Content-Type, without parameters). A
	// manifest that does not exist (404) is an error wrapping ErrNotFound.
	Manifest(ctx context.Context, ref string, limit int64) (body []byte, mediaType string, err error)
	// Blob returns the blob d, as GET /v2/<name>/blobs/<d>. A blob that
	// does not exist is an error wrapping ErrNotFound.
	Blob(ctx context.Context, d digest.Digest, limit int64) ([]byte, error)
	// Referrers returns the image index listing the manifests whose
	// subject is d, as GET /v2/<name>/referrers/<d>?artifactType=<t>
	// (OCI distribution spec v1.1, "Listing Referrers"). A registry without
	// the API (it answers 404) is an error wrapping ErrReferrersUnsupported;
	// Verify then reads the referrers tag schema's index instead.
	Referrers(ctx context.Context, d digest.Digest, artifactType string, limit int64) ([]byte, error)
}

// Errors a Fetcher reports, tested with errors.Is.
var (
	// ErrNotFound: the registry says the manifest or blob does not exist.
	ErrNotFound = errors.New("not found")
	// ErrReferrersUnsupported: the registry has no referrers API.
	ErrReferrersUnsupported = errors.New("referrers API not supported")
	// ErrTooLarge: a body over the limit the caller gave.
	ErrTooLarge = errors.New("too large")
)

// Bounds on what Verify reads, per verification. Every object is checked
// against its size and digest before it is parsed; every loop over what a
// registry sent is bounded. At most 1 + MaxSignatureLayers + 2 +
// MaxBundles×2 requests are made (the referrers list and, without the
// referrers API, the fallback index), and at most about 14 MiB read.
const (
	// MaxSignatureManifestBytes bounds the tag-format manifest
	// (sha256-<hex>.sig), and MaxIndexBytes the referrers list or the
	// referrers tag schema's index: the distribution spec's 4 MiB, the
	// most a registry must accept for a manifest.
	MaxSignatureManifestBytes = 4 << 20
	MaxIndexBytes             = 4 << 20
	// MaxReferrerManifestBytes bounds each referrer manifest; cosign's is
	// under 1 KiB.
	MaxReferrerManifestBytes = 256 << 10
	// MaxPayloadBytes bounds a simple-signing payload (cosign's is about
	// 250 bytes plus its -a annotations); a larger layer is rejected
	// before it is fetched.
	MaxPayloadBytes = 64 << 10
	// MaxBundleBytes bounds a sigstore bundle (a key-signed one is about
	// 1 KiB; one carrying a certificate chain and log entries, 10 KiB).
	MaxBundleBytes = 256 << 10
	// MaxSignatureLayers is how many simple-signing layers of the .sig
	// manifest are tried; cosign appends one per signing.
	MaxSignatureLayers = 32
	// MaxBundles is how many referrer manifests are fetched.
	MaxBundles = 8
	// MaxEnvelopeSignatures is how many signatures of one DSSE envelope
	// are tried; cosign writes one.
	MaxEnvelopeSignatures = 4
	// MaxKeys is how many usable keys one verification tries; a request
	// with more uses the first MaxKeys.
	MaxKeys = 16
	// maxRawSignatureBytes bounds a decoded signature (ECDSA P-256 DER
	// is at most 72 bytes, Ed25519 64).
	maxRawSignatureBytes = 512
)

// Media types and tags of cosign's formats.
const (
	// SimpleSigningMediaType is the media type of a tag-format signature
	// layer: a simple-signing payload.
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// SignatureAnnotation is the layer annotation holding the standard
	// base64 of the signature over the payload.
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// BundleMediaType is the media type (and referrer artifactType) of a
	// sigstore bundle v0.3.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// BundlePredicateAnnotation is the referrer manifest annotation naming
	// the bundle's in-toto predicate type.
	BundlePredicateAnnotation = "dev.sigstore.bundle.predicateType"
	// CosignSignPredicateType is the predicate type of cosign's image
	// signature statement (as opposed to attestations).
	CosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"
	// InTotoPayloadType is the DSSE payload type of an in-toto statement.
	InTotoPayloadType = "application/vnd.in-toto+json"
	// InTotoStatementType is the _type of an in-toto statement v1.
	InTotoStatementType = "https://in-toto.io/Statement/v1"

	emptyConfigMediaType = "application/vnd.oci.empty.v1+json"
	ociManifestType      = "application/vnd.oci.image.manifest.v1+json"
	dockerManifestType   = "application/vnd.docker.distribution.manifest.v2+json"
	ociIndexType         = "application/vnd.oci.image.index.v1+json"
)

// SignatureTag returns the tag cosign stores tag-format signatures of d
// under: "sha256-<hex>.sig".
func SignatureTag(d digest.Digest) string {
	return d.Algorithm().String() + "-" + d.Encoded() + ".sig"
}

// FallbackTag returns the referrers tag schema's tag for d (OCI distribution
// spec v1.1): "<alg>-<ref>", the algorithm truncated to 32 characters and the
// encoded digest to 64.
func FallbackTag(d digest.Digest) string {
	alg, enc := d.Algorithm().String(), d.Encoded()
	return alg[:min(len(alg), 32)] + "-" + enc[:min(len(enc), 64)]
}

// blobCheck checks body against the descriptor it was fetched for.
func blobCheck(body []byte, d digest.Digest, size int64) error {
	if int64(len(body)) != size {
		return fmt.Errorf("%w: %s is %d bytes, its descriptor says %d", errDigestMismatch, d, len(body), size)
	}
	if got := d.Algorithm().FromBytes(body); got != d {
		return fmt.Errorf("%w: content has digest %s, its descriptor says %s", errDigestMismatch, got, d)
	}
	return nil
}

var errDigestMismatch = errors.New("digest mismatch")

// checkDescriptor checks a descriptor's digest and size before anything is
// fetched for it.
func checkDescriptor(d digest.Digest, size, limit int64) (Reason, error) {
	if err := d.Validate(); err != nil {
		return ReasonMalformed, fmt.Errorf("descriptor digest %q: %v", d, err)
	}
	if size < 0 {
		return ReasonMalformed, fmt.Errorf("descriptor size %d", size)
	}
	if size > limit {
		return ReasonTooLarge, fmt.Errorf("%w: %s is %d bytes, over the %s limit", ErrTooLarge, d, size, bytesize.Limit(limit))
	}
	return "", nil
}
