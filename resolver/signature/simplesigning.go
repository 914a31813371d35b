package signature

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/reference"
)

// This file verifies cosign's tag format: the manifest at tag
// sha256-<hex>.sig of the image's repository, each layer of media type
// SimpleSigningMediaType a payload (containers' "simple signing" JSON,
// atomic-signature(5)) and its SignatureAnnotation the standard base64 of
// the signature over the exact payload bytes.

// cosignSignatureType is critical.type of cosign's payloads.
const cosignSignatureType = "cosign container image signature"

// tagFormat tries the tag format; it reports whether a signature verified.
func (v *verifier) tagFormat() bool {
	tag := SignatureTag(v.req.Digest)
	where := "tag " + tag
	m, reason, err := v.fetchManifest(tag, MaxSignatureManifestBytes, nil)
	if err != nil {
		v.fail(FormatSimpleSigning, where, "", reason, err)
		return false
	}
	tried := 0
	for i, l := range m.Layers {
		if l.MediaType != SimpleSigningMediaType {
			continue
		}
		lwhere := fmt.Sprintf("%s layer %d", where, i)
		if tried == MaxSignatureLayers {
			v.fail(FormatSimpleSigning, lwhere, "", ReasonTooMany, fmt.Errorf("only the first %d signature layers are tried", MaxSignatureLayers))
			return false
		}
		tried++
		if v.simpleLayer(lwhere, l) {
			return true
		}
		if v.ctx.Err() != nil {
			return false
		}
	}
	if tried == 0 {
		v.fail(FormatSimpleSigning, where, "", ReasonMalformed, fmt.Errorf("no layer of media type %s", SimpleSigningMediaType))
	}
	return false
}

// simpleLayer verifies one signature layer.
func (v *verifier) simpleLayer(where string, l descriptor) bool {
	fail := func(reason Reason, err error) bool {
		v.fail(FormatSimpleSigning, where, l.Digest, reason, err)
		return false
	}
	b64, ok := l.Annotations[SignatureAnnotation]
	if !ok {
		return fail(ReasonMalformed, fmt.Errorf("no %s annotation", SignatureAnnotation))
	}
	if len(b64) > base64.StdEncoding.EncodedLen(maxRawSignatureBytes) {
		return fail(ReasonMalformed, fmt.Errorf("%s annotation is %d bytes: no signature of a known algorithm is that long", SignatureAnnotation, len(b64)))
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return fail(ReasonMalformed, fmt.Errorf("%s annotation is not standard base64: %v", SignatureAnnotation, err))
	}
	payload, reason, err := v.fetchBlob(l.Digest, l.Size, MaxPayloadBytes)
	if err != nil {
		return fail(reason, err)
	}
	// The payload is parsed only once a key has authenticated it
	// (atomic-signature(5), "The cryptographic signature").
	k := v.keyFor(&digests{msg: payload}, sig, "")
	if k == nil {
		err := errors.New("no trusted key verifies the signature over the payload")
		if _, keyless := l.Annotations["dev.sigstore.cosign/certificate"]; keyless {
			err = errors.New("no trusted key verifies the signature; the layer carries a certificate (keyless signing is not verified here)")
		}
		return fail(ReasonBadSignature, err)
	}
	p, err := parseSimpleSigning(payload)
	if err != nil {
		return fail(ReasonMalformed, fmt.Errorf("payload signed by %s: %w", k.ID(), err))
	}
	if p.digest != v.req.Digest {
		return fail(ReasonWrongDigest, fmt.Errorf("payload signed by %s is for %s", k.ID(), p.digest))
	}
	if reason, err := matchIdentity(p.dockerReference, v.req); err != nil {
		return fail(reason, fmt.Errorf("payload signed by %s: %w", k.ID(), err))
	}
	v.succeed(FormatSimpleSigning, where, l.Digest, k)
	return true
}

// simplePayload is the critical part of a simple-signing payload.
type simplePayload struct {
	dockerReference string
	digest          digest.Digest
}

// parseSimpleSigning parses a payload as atomic-signature(5) asks, with
// cosign's type:
//
//	{"critical": {"identity": {"docker-reference": "<name>[:<tag>]"},
//	              "image": {"docker-manifest-digest": "<digest>"},
//	              "type": "cosign container image signature"},
//	 "optional": <object or null>}
//
// The top level has exactly these two members; critical and its objects
// exactly theirs, so a member a later format adds there (which might
// narrow what the signature means) is refused, not ignored; optional's
// content is not read. cosign writes "optional": null when it has no
// annotations, which the containers format does not allow; it is accepted.
func parseSimpleSigning(b []byte) (simplePayload, error) {
	var p simplePayload
	v, err := parseJSON(b)
	if err != nil {
		return p, err
	}
	if err := objectMembers(v, "", true, []string{"critical", "optional"}); err != nil {
		return p, err
	}
	if o := v.member("optional"); o.kind != jsonObject && o.kind != jsonNull {
		return p, jsonErrf("optional", o.off, "%s, want an object or null", o.kind)
	}
	c := v.member("critical")
	if err := objectMembers(c, "critical", true, []string{"identity", "image", "type"}); err != nil {
		return p, err
	}
	typ, err := stringMember(c, "critical", "type")
	if err != nil {
		return p, err
	}
	if typ != cosignSignatureType {
		return p, jsonErrf("critical.type", c.member("type").off, "%q, want %q", typ, cosignSignatureType)
	}
	id := c.member("identity")
	if err := objectMembers(id, "critical.identity", true, []string{"docker-reference"}); err != nil {
		return p, err
	}
	if p.dockerReference, err = stringMember(id, "critical.identity", "docker-reference"); err != nil {
		return p, err
	}
	img := c.member("image")
	if err := objectMembers(img, "critical.image", true, []string{"docker-manifest-digest"}); err != nil {
		return p, err
	}
	ds, err := stringMember(img, "critical.image", "docker-manifest-digest")
	if err != nil {
		return p, err
	}
	p.digest = digest.Digest(ds)
	if err := p.digest.Validate(); err != nil {
		return p, jsonErrf("critical.image.docker-manifest-digest", img.member("docker-manifest-digest").off, "%q: %v", ds, err)
	}
	return p, nil
}

// matchIdentity checks a signed docker-reference against the request: its
// repository is the requested name or the registry repository the digest
// came from, and a tag it carries is the requested one (a request by
// digest asks no tag).
func matchIdentity(ref string, req Request) (Reason, error) {
	name, tag, err := splitDockerReference(ref)
	if err != nil {
		return ReasonMalformed, err
	}
	if !sameRepository(name, req.RequestedName) && !sameRepository(name, req.RegistryRepository) {
		want := req.RequestedName
		if req.RegistryRepository != "" && req.RegistryRepository != want {
			want += " or " + req.RegistryRepository
		}
		return ReasonWrongIdentity, fmt.Errorf("signed for repository %s, want %s", name, want)
	}
	if tag != "" && req.RequestedTag != "" && tag != req.RequestedTag {
		return ReasonWrongTag, fmt.Errorf("signed for tag %s, want %s", tag, req.RequestedTag)
	}
	return "", nil
}

// splitDockerReference splits "host/path[:tag]" into name and tag, after
// checking it with the grammar of docker-form names (reference.Parse,
// the one grammar ocidns has): a host, a repository path, a tag that is a
// tag. A digest in the reference is refused: cosign writes none, and its
// meaning beside docker-manifest-digest would be ambiguous.
func splitDockerReference(ref string) (name, tag string, err error) {
	if ref == "" {
		return "", "", errors.New("empty docker-reference")
	}
	r, err := reference.Parse(ref)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("docker-reference %q: %w", ref, err)
	case r.Form() != reference.FormDocker || r.Digest() != "":
		return "", "", fmt.Errorf("docker-reference %q: want host/path[:tag]", ref)
	case r.Domain() == "":
		return "", "", fmt.Errorf("docker-reference %q is not host/path", ref)
	}
	return r.Name(), r.Tag(), nil
}

// sameRepository compares two host[:port]/path names: the host
// case-insensitively, Docker Hub's aliases as one host, the path exactly.
func sameRepository(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	ha, pa, _ := strings.Cut(a, "/")
	hb, pb, _ := strings.Cut(b, "/")
	return pa == pb && canonicalHost(ha) == canonicalHost(hb)
}

func canonicalHost(h string) string {
	h = strings.ToLower(h)
	switch h {
	case "index.docker.io", "registry-1.docker.io":
		return "docker.io"
	}
	return h
}
