package signature

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/bytesize"
)

// This file verifies cosign's bundle format: a referrer manifest of the
// image (subject = the digest, artifactType BundleMediaType) whose layer
// is a sigstore bundle v0.3 (sigstore/protobuf-specs, sigstore_bundle.proto,
// in its JSON mapping) holding a DSSE envelope (secure-systems-lab/dsse,
// envelope.md) of an in-toto statement v1 with predicate type
// CosignSignPredicateType and a subject whose digest is the image's. The
// signature is over DSSE's pre-authentication encoding of the envelope's
// payload type and payload.

// bundleFormat tries the bundle format; it reports whether a signature
// verified.
func (v *verifier) bundleFormat() bool {
	idx, where, ok := v.referrers()
	if !ok {
		return false
	}
	tried := 0
	for _, d := range idx.Manifests {
		if !bundleCandidate(d) {
			continue
		}
		rwhere := "referrer " + d.Digest.String()
		if tried == MaxBundles {
			v.fail(FormatBundle, rwhere, "", ReasonTooMany, fmt.Errorf("only the first %d bundles listed in %s are tried", MaxBundles, where))
			return false
		}
		tried++
		if v.bundleReferrer(rwhere, d) {
			return true
		}
		if v.ctx.Err() != nil {
			return false
		}
	}
	if tried == 0 {
		v.fail(FormatBundle, where, "", ReasonNotFound, errors.New("no sigstore bundle among the referrers"))
	}
	return false
}

// referrers returns the image's referrers list: the referrers API's, or,
// from a registry without it, the index at the referrers tag schema's tag.
func (v *verifier) referrers() (*manifestDoc, string, bool) {
	where := "referrers"
	body, err := v.f.Referrers(v.ctx, v.req.Digest, BundleMediaType, MaxIndexBytes)
	if errors.Is(err, ErrReferrersUnsupported) {
		tag := FallbackTag(v.req.Digest)
		where = "tag " + tag
		body, _, err = v.f.Manifest(v.ctx, tag, MaxIndexBytes)
	}
	if err != nil {
		v.fail(FormatBundle, where, "", fetchFailure(err), fmt.Errorf("GET %s: %w", where, err))
		return nil, where, false
	}
	if len(body) > MaxIndexBytes {
		v.fail(FormatBundle, where, "", ReasonTooLarge, fmt.Errorf("%w: %s is over the %s limit", ErrTooLarge, where, bytesize.Limit(MaxIndexBytes)))
		return nil, where, false
	}
	idx, err := parseManifest(body)
	if err != nil {
		v.fail(FormatBundle, where, "", ReasonMalformed, fmt.Errorf("%s: %w", where, err))
		return nil, where, false
	}
	return idx, where, true
}

// bundleCandidate reports whether a referrer descriptor may be a cosign
// signature bundle, without fetching it. go-containerregistry's registry
// lists the config media type (the empty descriptor's) as artifactType, so
// that one is fetched and its manifest checked; so is a descriptor with
// none.
func bundleCandidate(d descriptor) bool {
	if d.MediaType != "" && d.MediaType != ociManifestType {
		return false
	}
	switch d.ArtifactType {
	case BundleMediaType, emptyConfigMediaType, "":
	default:
		return false
	}
	pt, ok := d.Annotations[BundlePredicateAnnotation]
	return !ok || pt == CosignSignPredicateType
}

// bundleReferrer verifies one referrer.
func (v *verifier) bundleReferrer(where string, d descriptor) bool {
	layer, reason, err := v.bundleLayer(d)
	if err != nil {
		v.fail(FormatBundle, where, "", reason, err)
		return false
	}
	k, reason, err := v.verifyBundle(layer)
	if err != nil {
		v.fail(FormatBundle, where, layer.Digest, reason, err)
		return false
	}
	v.succeed(FormatBundle, where, layer.Digest, k)
	return true
}

// bundleLayer fetches the referrer manifest d, checks that it is a cosign
// signature bundle whose subject is the requested digest, and returns the
// descriptor of its bundle layer.
func (v *verifier) bundleLayer(d descriptor) (*descriptor, Reason, error) {
	m, reason, err := v.fetchManifest(d.Digest.String(), MaxReferrerManifestBytes, &d)
	if err != nil {
		return nil, reason, err
	}
	artifact := m.ArtifactType
	if artifact == "" && m.Config != nil {
		artifact = m.Config.MediaType
	}
	if artifact != BundleMediaType {
		return nil, ReasonNotASignature, fmt.Errorf("artifact type %q", artifact)
	}
	if pt, ok := d.Annotations[BundlePredicateAnnotation]; ok && pt != CosignSignPredicateType {
		return nil, ReasonNotASignature, fmt.Errorf("predicate type %q", pt)
	}
	if m.Subject == nil || m.Subject.Digest != v.req.Digest {
		subj := "none"
		if m.Subject != nil {
			subj = m.Subject.Digest.String()
		}
		return nil, ReasonWrongDigest, fmt.Errorf("referrer's subject is %s", subj)
	}
	for i := range m.Layers {
		if m.Layers[i].MediaType == BundleMediaType {
			return &m.Layers[i], "", nil
		}
	}
	return nil, ReasonMalformed, fmt.Errorf("no layer of media type %s", BundleMediaType)
}

// verifyBundle fetches and parses the bundle in layer and returns the
// trusted key whose DSSE signature verifies, once the signed statement is
// found to be cosign's signature of the requested digest.
func (v *verifier) verifyBundle(layer *descriptor) (*Key, Reason, error) {
	body, reason, err := v.fetchBlob(layer.Digest, layer.Size, MaxBundleBytes)
	if err != nil {
		return nil, reason, err
	}
	b, err := parseBundle(body)
	if err != nil {
		if errors.Is(err, errKeyless) {
			return nil, ReasonUnsupported, err
		}
		return nil, ReasonMalformed, err
	}
	m := &digests{msg: pae(b.payloadType, b.payload)}
	var k *Key
	for _, sig := range b.signatures {
		if k = v.keyFor(m, sig, b.hint); k != nil {
			break
		}
	}
	if k == nil {
		return nil, ReasonBadSignature, errors.New("no trusted key verifies the DSSE signature")
	}
	// The statement is parsed only once a key has authenticated it.
	st, err := parseStatement(b.payload)
	if err != nil {
		return nil, ReasonMalformed, fmt.Errorf("statement signed by %s: %w", k.ID(), err)
	}
	if st.predicateType != CosignSignPredicateType {
		return nil, ReasonNotASignature, fmt.Errorf("statement signed by %s has predicate type %q", k.ID(), st.predicateType)
	}
	if !st.names(v.req.Digest) {
		return nil, ReasonWrongDigest, fmt.Errorf("statement signed by %s names no subject %s", k.ID(), v.req.Digest)
	}
	return k, "", nil
}

// pae is DSSE's pre-authentication encoding (secure-systems-lab/dsse,
// protocol.md): "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, each
// LEN the decimal byte count without leading zeros.
func pae(payloadType string, body []byte) []byte {
	b := make([]byte, 0, 32+len(payloadType)+len(body))
	b = append(b, "DSSEv1 "...)
	b = strconv.AppendInt(b, int64(len(payloadType)), 10)
	b = append(b, ' ')
	b = append(b, payloadType...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, ' ')
	return append(b, body...)
}

// errKeyless marks a bundle whose verification material is a certificate.
var errKeyless = errors.New("keyless bundle: its verification material is a certificate, and only published keys are verified here")

// sigstoreBundle is what verification needs of a bundle.
type sigstoreBundle struct {
	hint        string
	payloadType string
	payload     []byte
	signatures  [][]byte
}

// parseBundle parses a sigstore bundle v0.3 in protobuf's JSON mapping, as
// sigstore clients write it (protojson: lowerCamelCase member names, bytes
// as base64, empty fields left out):
//
//	{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
//	 "verificationMaterial": {"publicKey": {"hint": "<base64 sha256 of the DER key>"},
//	                          "tlogEntries": [...], "timestampVerificationData": {...}},
//	 "dsseEnvelope": {"payload": "<base64>", "payloadType": "application/vnd.in-toto+json",
//	                  "signatures": [{"sig": "<base64>", "keyid": ""}]}}
//
// The bundle and its verification material refuse unknown members, as
// protojson does; the envelope and its signatures ignore them, as DSSE asks.
// Transparency-log entries and timestamps are not read (out of scope).
func parseBundle(data []byte) (sigstoreBundle, error) {
	var b sigstoreBundle
	v, err := parseJSON(data)
	if err != nil {
		return b, err
	}
	if v.kind == jsonObject && v.member("messageSignature") != nil {
		return b, jsonErrf("messageSignature", v.member("messageSignature").off, "a message-signature bundle: cosign signs images with a DSSE envelope")
	}
	if err := objectMembers(v, "", true, []string{"mediaType", "verificationMaterial", "dsseEnvelope"}); err != nil {
		return b, err
	}
	mt, err := stringMember(v, "", "mediaType")
	if err != nil {
		return b, err
	}
	if mt != BundleMediaType {
		return b, jsonErrf("mediaType", v.member("mediaType").off, "%q, want %q", mt, BundleMediaType)
	}
	if b.hint, err = publicKeyHint(v.member("verificationMaterial")); err != nil {
		return b, err
	}
	if err := b.readEnvelope(v.member("dsseEnvelope")); err != nil {
		return b, err
	}
	return b, nil
}

// publicKeyHint reads the bundle's verificationMaterial: a public key,
// with its hint if any; a certificate (keyless signing) is errKeyless.
func publicKeyHint(vm *jsonValue) (string, error) {
	if err := objectMembers(vm, "verificationMaterial", true, nil, "publicKey", "certificate", "x509CertificateChain", "tlogEntries", "timestampVerificationData"); err != nil {
		return "", err
	}
	if vm.member("certificate") != nil || vm.member("x509CertificateChain") != nil {
		return "", &jsonError{Path: "verificationMaterial", Offset: vm.off, Err: errKeyless}
	}
	pk := vm.member("publicKey")
	if pk == nil {
		return "", jsonErrf("verificationMaterial", vm.off, "no publicKey")
	}
	if err := objectMembers(pk, "verificationMaterial.publicKey", true, nil, "hint"); err != nil {
		return "", err
	}
	return optionalString(pk, "verificationMaterial.publicKey", "hint")
}

// readEnvelope reads the DSSE envelope into b: the in-toto payload type,
// the payload, and the first MaxEnvelopeSignatures signatures.
func (b *sigstoreBundle) readEnvelope(env *jsonValue) error {
	if err := objectMembers(env, "dsseEnvelope", false, []string{"payload", "payloadType", "signatures"}); err != nil {
		return err
	}
	var err error
	if b.payloadType, err = stringMember(env, "dsseEnvelope", "payloadType"); err != nil {
		return err
	}
	if b.payloadType != InTotoPayloadType {
		return jsonErrf("dsseEnvelope.payloadType", env.member("payloadType").off, "%q, want %q", b.payloadType, InTotoPayloadType)
	}
	p64, err := stringMember(env, "dsseEnvelope", "payload")
	if err != nil {
		return err
	}
	if b.payload, err = decodeDSSEBase64(p64); err != nil {
		return jsonErrf("dsseEnvelope.payload", env.member("payload").off, "%v", err)
	}
	sigs := env.member("signatures")
	if sigs.kind != jsonArray || len(sigs.elems) == 0 {
		return jsonErrf("dsseEnvelope.signatures", sigs.off, "%s, want a non-empty array", sigs.kind)
	}
	for i, s := range sigs.elems {
		if i == MaxEnvelopeSignatures {
			break
		}
		raw, err := envelopeSignature(s, i)
		if err != nil {
			return err
		}
		b.signatures = append(b.signatures, raw)
	}
	return nil
}

// envelopeSignature decodes the i-th signature of a DSSE envelope.
func envelopeSignature(s *jsonValue, i int) ([]byte, error) {
	path := fmt.Sprintf("dsseEnvelope.signatures[%d]", i)
	if err := objectMembers(s, path, false, []string{"sig"}); err != nil {
		return nil, err
	}
	s64, err := stringMember(s, path, "sig")
	if err != nil {
		return nil, err
	}
	raw, err := decodeDSSEBase64(s64)
	if err != nil || len(raw) == 0 || len(raw) > maxRawSignatureBytes {
		if err == nil {
			err = fmt.Errorf("%d bytes: no signature of a known algorithm is that long", len(raw))
		}
		return nil, jsonErrf(path+".sig", s.member("sig").off, "%v", err)
	}
	return raw, nil
}

// decodeDSSEBase64 decodes standard or URL-safe base64, padded or not:
// DSSE verifiers must accept either alphabet, and protobuf's JSON mapping
// accepts both paddings. Inputs valid in several forms decode alike.
func decodeDSSEBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// statement is what verification needs of an in-toto statement.
type statement struct {
	predicateType string
	subjects      [][2]string // (algorithm, encoded) pairs of every subject's digest
}

// names reports whether a subject's digest is d.
func (s statement) names(d digest.Digest) bool {
	for _, p := range s.subjects {
		if p[0] == d.Algorithm().String() && p[1] == d.Encoded() {
			return true
		}
	}
	return false
}

// parseStatement parses an in-toto statement v1 (in-toto/attestation,
// spec/v1/statement.md):
//
//	{"_type": "https://in-toto.io/Statement/v1",
//	 "subject": [{"digest": {"sha256": "<hex>"}, ...}, ...],
//	 "predicateType": "<URI>", "predicate": {...}}
//
// Unknown members are ignored, as in-toto asks; a member twice is refused.
func parseStatement(data []byte) (statement, error) {
	var s statement
	v, err := parseJSON(data)
	if err != nil {
		return s, err
	}
	if err := objectMembers(v, "", false, []string{"_type", "subject", "predicateType"}); err != nil {
		return s, err
	}
	typ, err := stringMember(v, "", "_type")
	if err != nil {
		return s, err
	}
	if typ != InTotoStatementType {
		return s, jsonErrf("_type", v.member("_type").off, "%q, want %q", typ, InTotoStatementType)
	}
	if s.predicateType, err = stringMember(v, "", "predicateType"); err != nil {
		return s, err
	}
	subj := v.member("subject")
	if subj.kind != jsonArray || len(subj.elems) == 0 {
		return s, jsonErrf("subject", subj.off, "%s, want a non-empty array", subj.kind)
	}
	for i, e := range subj.elems {
		path := fmt.Sprintf("subject[%d]", i)
		if err := objectMembers(e, path, false, []string{"digest"}); err != nil {
			return s, err
		}
		dm := e.member("digest")
		if err := objectMembers(dm, path+".digest", false, nil); err != nil {
			return s, err
		}
		for j, alg := range dm.keys {
			hv := dm.elems[j]
			if hv.kind != jsonString {
				return s, jsonErrf(path+".digest."+alg, hv.off, "%s, want a string", hv.kind)
			}
			s.subjects = append(s.subjects, [2]string{alg, hv.str})
		}
	}
	return s, nil
}
