package signtest

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/resolver/signature"
)

var zero = digest.Digest("sha256:" + strings.Repeat("0", 64))

// The documents are byte for byte what cosign writes: sigstore's
// payload.Cosign through encoding/json, and protojson of cosign's
// intotov1.Statement (field order, empty annotations and predicate).
func TestDocumentsAreCosigns(t *testing.T) {
	if got, want := string(Payload("r.example/org/app", zero, nil)),
		`{"critical":{"identity":{"docker-reference":"r.example/org/app"},"image":{"docker-manifest-digest":"`+zero.String()+
			`"},"type":"cosign container image signature"},"optional":null}`; got != want {
		t.Errorf("payload\n%s\nwant\n%s", got, want)
	}
	if got, want := string(Statement(zero, signature.CosignSignPredicateType, nil)),
		`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"`+zero.Encoded()+
			`"},"annotations":{}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`; got != want {
		t.Errorf("statement\n%s\nwant\n%s", got, want)
	}
	if got := string(PAE("http://example.com/HelloWorld", []byte("hello world"))); got != "DSSEv1 29 http://example.com/HelloWorld 11 hello world" {
		t.Errorf("PAE %q", got)
	}
}

// Ed25519 keys sign Ed25519ph over SHA-512, as cosign's default load
// option does: the signature verifies as Ed25519ph, not as pure Ed25519.
func TestEd25519SignsPrehashed(t *testing.T) {
	k := MustKey(t, signature.Ed25519, "k")
	msg := []byte("payload")
	sig, err := k.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(k.PublicDER())
	if err != nil {
		t.Fatal(err)
	}
	h := sha512.Sum512(msg)
	if err := ed25519.VerifyWithOptions(pub.(ed25519.PublicKey), h[:], sig, &ed25519.Options{Hash: crypto.SHA512}); err != nil {
		t.Errorf("not Ed25519ph: %v", err)
	}
	if ed25519.Verify(pub.(ed25519.PublicKey), msg, sig) {
		t.Error("verifies as pure Ed25519")
	}
}

// The manifests pushed have cosign's shapes: the .sig manifest an OCI
// manifest with an OCI config and annotated simple-signing layers; the
// referrer an OCI manifest with the bundle artifactType, the empty config
// descriptor, the bundle layer, the subject and cosign's annotations.
func TestPushedManifestsHaveCosignsShape(t *testing.T) {
	reg := registrytest.StartT(t, registrytest.Options{})
	d := reg.MustPushImage(t, "org/app", "v1")
	s := Signer{Target: reg.Target()}
	k := MustKey(t, signature.ECDSAP256, "k")
	ctx := context.Background()
	for range 2 {
		if _, err := s.SignTag(ctx, "org/app", d, k, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	md, err := s.SignBundle(ctx, "org/app", d, k, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := RegistryFetcher{URL: reg.URL(), Repository: "org/app", Client: reg.Client()}

	type desc struct {
		MediaType    string            `json:"mediaType"`
		ArtifactType string            `json:"artifactType"`
		Digest       digest.Digest     `json:"digest"`
		Size         int64             `json:"size"`
		Annotations  map[string]string `json:"annotations"`
	}
	var m struct {
		MediaType    string            `json:"mediaType"`
		ArtifactType string            `json:"artifactType"`
		Config       desc              `json:"config"`
		Layers       []desc            `json:"layers"`
		Subject      *desc             `json:"subject"`
		Annotations  map[string]string `json:"annotations"`
	}
	body, _, err := f.Manifest(ctx, signature.SignatureTag(d), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.Config.MediaType != "application/vnd.oci.image.config.v1+json" || len(m.Layers) != 2 {
		t.Errorf(".sig manifest %s", body)
	}
	for _, l := range m.Layers {
		if l.MediaType != signature.SimpleSigningMediaType || l.Annotations[signature.SignatureAnnotation] == "" || len(l.Annotations) != 1 {
			t.Errorf(".sig layer %+v", l)
		}
	}

	m.Layers, m.Annotations = nil, nil
	if body, _, err = f.Manifest(ctx, md.String(), 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	emptyJSON := digest.FromString("{}")
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.ArtifactType != signature.BundleMediaType ||
		m.Config.MediaType != "application/vnd.oci.empty.v1+json" || m.Config.ArtifactType != signature.BundleMediaType ||
		m.Config.Digest != emptyJSON || m.Config.Size != 2 ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != signature.BundleMediaType ||
		m.Subject == nil || m.Subject.Digest != d ||
		m.Annotations["dev.sigstore.bundle.content"] != "dsse-envelope" ||
		m.Annotations[signature.BundlePredicateAnnotation] != signature.CosignSignPredicateType ||
		m.Annotations["org.opencontainers.image.created"] != "2026-01-01T00:00:00Z" {
		t.Errorf("referrer manifest %s", body)
	}
}
