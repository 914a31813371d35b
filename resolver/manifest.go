package resolver

import (
	"bytes"
	_ "crypto/sha256" // go-digest needs the hash linked in, or every sha256 digest is "unsupported"
	_ "crypto/sha512" // likewise for sha384 and sha512
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/bytesize"
)

// This file knows the manifest formats: which media types exist, how to
// tell an index from an image, and how to read one within bounds.

// Manifest media types a resolver asks for (docs/protocol.md §12).
const (
	mediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
)

// acceptManifests is the Accept header of manifest requests: indexes first,
// so a registry that can serve either returns the multi-platform form.
const acceptManifests = mediaTypeOCIIndex + ", " + mediaTypeOCIManifest + ", " + mediaTypeDockerList + ", " + mediaTypeDockerManifest

// Size limits (docs/protocol.md §11; the OCI distribution spec asks registries to
// accept manifests of at least 4 MiB, so nothing valid is larger).
const (
	defaultMaxManifestBytes = 4 << 20
	defaultMaxConfigBytes   = 1 << 20
	maxTokenBytes           = 1 << 20
	maxErrorBodyBytes       = 64 << 10
)

func isIndexType(mt string) bool { return mt == mediaTypeOCIIndex || mt == mediaTypeDockerList }

func isImageType(mt string) bool { return mt == mediaTypeOCIManifest || mt == mediaTypeDockerManifest }

// descriptor is an OCI content descriptor as found in indexes and manifests.
type descriptor struct {
	MediaType string        `json:"mediaType"`
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	Platform  *ociPlatform  `json:"platform,omitempty"`
}

// manifestDoc holds the fields of an index or image manifest that
// resolution needs; unknown fields are ignored.
type manifestDoc struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
	Config        *descriptor  `json:"config"`
}

// imageConfig is the part of an image configuration that names its
// platform.
type imageConfig struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant"`
}

// contentMediaType returns the media type of a Content-Type header value,
// without parameters; "" when absent or unparsable.
func contentMediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

// manifestMediaType decides what a fetched manifest is: its own mediaType
// field wins (it is covered by the digest; the header is not), then the
// Content-Type, then its shape.
func manifestMediaType(doc *manifestDoc, contentType string) string {
	if doc.MediaType != "" {
		return doc.MediaType
	}
	if mt := contentMediaType(contentType); mt != "" && mt != "application/json" && mt != "application/octet-stream" {
		return mt
	}
	switch {
	case doc.Manifests != nil:
		return mediaTypeOCIIndex
	case doc.Config != nil:
		return mediaTypeOCIManifest
	}
	return contentMediaType(contentType)
}

// errTooLarge is the cause of ErrTooLarge errors.
type errTooLarge struct {
	what  string
	limit int64
	size  int64 // -1 when unknown (streamed past the limit)
}

func (e *errTooLarge) Error() string {
	if e.size >= 0 {
		return fmt.Sprintf("%s is %d bytes, over the %s limit", e.what, e.size, bytesize.Limit(e.limit))
	}
	return fmt.Sprintf("%s exceeds the %s limit", e.what, bytesize.Limit(e.limit))
}

// readBounded reads r to the end into memory, failing with *errTooLarge
// past limit bytes without reading more than limit+1, or without reading
// at all when hint says so, while feeding every byte to the digesters.
// hint (a Content-Length, or -1) sizes the buffer when it is within the
// limit.
func readBounded(r io.Reader, limit, hint int64, what string, digesters ...digest.Digester) ([]byte, error) {
	if hint > limit {
		return nil, &errTooLarge{what: what, limit: limit, size: hint}
	}
	var buf bytes.Buffer
	if hint > 0 {
		buf.Grow(int(hint) + bytes.MinRead) // room for the final Read that sees EOF
	}
	// ReadFrom fills the buffer directly; io.Copy through a MultiWriter
	// would allocate a 32 KiB scratch buffer per response.
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, &errTooLarge{what: what, limit: limit, size: -1}
	}
	for _, d := range digesters {
		d.Hash().Write(buf.Bytes())
	}
	return buf.Bytes(), nil
}

// parseDigestHeader reads a Docker-Content-Digest value. ok is false when
// the header is absent; err is set when present but not a valid digest of
// an available algorithm (unsupported names err wrapping
// digest.ErrDigestUnsupported).
func parseDigestHeader(v string) (d digest.Digest, ok bool, err error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", false, nil
	}
	d = digest.Digest(v)
	if err := d.Validate(); err != nil {
		return "", true, fmt.Errorf("Docker-Content-Digest %q: %w", v, err)
	}
	return d, true, nil
}
