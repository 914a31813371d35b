package signature_test

import (
	"bytes"
	"testing"

	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// An attestation (a bundle of another predicate type) signed by the
// owner is not a signature: an image with only that is unsigned.
func TestAttestationIsNotASignature(t *testing.T) {
	l := newLab(t)
	d := l.image(t, "org/app", "v1")
	k := signtest.MustKey(t, signature.ECDSAP256, "owner")
	l.signBundle(t, "org/app", d, k, signtest.Options{PredicateType: "https://slsa.dev/provenance/v1"})
	res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, k.MustVerifier(t, signature.SourceDNS)))
	if res.Verified || res.Code != signature.CodeMissing {
		t.Fatalf("code %s, want %s:%s", res.Code, signature.CodeMissing, attempts(res))
	}
}

// Bundles this package cannot verify are found but invalid: keyless ones
// (a certificate as verification material) and message-signature ones;
// so are bundles of another version or payload type.
func TestUnverifiableBundlesAreInvalid(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		want signature.Reason
	}{
		{"keyless", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"publicKey":{`), []byte(`"certificate":{"rawBytes":"MAo="},"tlogEntries":[],"timestampVerificationData":{`), 1)
		}, signature.ReasonUnsupported},
		{"message signature", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"dsseEnvelope"`), []byte(`"messageSignature"`), 1)
		}, signature.ReasonMalformed},
		{"bundle v0.2", func(b []byte) []byte {
			return bytes.Replace(b, []byte(signature.BundleMediaType), []byte("application/vnd.dev.sigstore.bundle+json;version=0.2"), 1)
		}, signature.ReasonMalformed},
		{"payload type", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"payloadType":"application/vnd.in-toto+json"`), []byte(`"payloadType":"application/json"`), 1)
		}, signature.ReasonMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLab(t)
			d := l.image(t, "org/app", "v1")
			k := signtest.MustKey(t, signature.ECDSAP256, "owner")
			l.signBundle(t, "org/app", d, k, signtest.Options{EditBundle: c.edit})
			res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, k.MustVerifier(t, signature.SourceDNS)))
			last := res.Attempts[len(res.Attempts)-1]
			if res.Verified || res.Code != signature.CodeInvalid || last.Reason != c.want {
				t.Fatalf("code %s last reason %s, want %s with %s:%s", res.Code, last.Reason, signature.CodeInvalid, c.want, attempts(res))
			}
		})
	}
}
