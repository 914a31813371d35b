package signature_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// sigLayer is one layer of a hand-made .sig manifest.
type sigLayer struct {
	payload []byte
	sig     string // base64
	size    int64  // descriptor size; 0 means len(payload)
}

// pushSigManifest uploads the layers' payloads and puts a .sig manifest
// listing them at d's signature tag.
func pushSigManifest(t testing.TB, l *lab, repo string, d digest.Digest, layers []sigLayer) {
	t.Helper()
	type desc struct {
		MediaType   string            `json:"mediaType"`
		Size        int64             `json:"size"`
		Digest      digest.Digest     `json:"digest"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	cfg := []byte(`{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}`)
	cd, err := l.reg.PushBlob(repo, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}{2, "application/vnd.oci.image.manifest.v1+json", desc{MediaType: "application/vnd.oci.image.config.v1+json", Size: int64(len(cfg)), Digest: cd}, nil}
	for _, sl := range layers {
		pd, err := l.reg.PushBlob(repo, sl.payload)
		if err != nil {
			t.Fatal(err)
		}
		size := sl.size
		if size == 0 {
			size = int64(len(sl.payload))
		}
		m.Layers = append(m.Layers, desc{MediaType: signature.SimpleSigningMediaType, Size: size, Digest: pd,
			Annotations: map[string]string{signature.SignatureAnnotation: sl.sig}})
	}
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.reg.PushRaw(repo, signature.SignatureTag(d), "application/vnd.oci.image.manifest.v1+json", body); err != nil {
		t.Fatal(err)
	}
}

// signedLayer is a layer cosign would write for d in repo, signed by k.
func signedLayer(t testing.TB, l *lab, repo string, d digest.Digest, k *signtest.Key) sigLayer {
	t.Helper()
	p := signtest.Payload(l.host()+"/"+repo, d, nil)
	sig, err := k.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	return sigLayer{payload: p, sig: base64.StdEncoding.EncodeToString(sig)}
}

// At most MaxSignatureLayers layers of a .sig manifest are tried: the
// owner's signature in the last allowed place verifies, one place later it
// is not tried.
func TestSignatureLayersAreBounded(t *testing.T) {
	for _, strangers := range []int{signature.MaxSignatureLayers - 1, signature.MaxSignatureLayers} {
		t.Run(fmt.Sprint(strangers, " before"), func(t *testing.T) {
			l := newLab(t)
			d := l.image(t, "org/app", "v1")
			owner := signtest.MustKey(t, signature.ECDSAP256, "owner")
			var layers []sigLayer
			for i := range strangers {
				layers = append(layers, signedLayer(t, l, "org/app", d, signtest.MustKey(t, signature.ECDSAP256, fmt.Sprint("stranger", i))))
			}
			layers = append(layers, signedLayer(t, l, "org/app", d, owner))
			pushSigManifest(t, l, "org/app", d, layers)
			l.reg.ResetRequests()

			res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, owner.MustVerifier(t, signature.SourceDNS)))
			within := strangers < signature.MaxSignatureLayers
			if res.Verified != within {
				t.Fatalf("verified=%v, want %v:%s", res.Verified, within, attempts(res))
			}
			if !within && !slices.Contains(reasons(res), signature.ReasonTooMany) {
				t.Errorf("no too-many attempt:%s", attempts(res))
			}
			if got := l.reg.Requests().BlobGET; got > signature.MaxSignatureLayers {
				t.Errorf("%d payloads fetched, over %d", got, signature.MaxSignatureLayers)
			}
		})
	}
}

// Oversized objects are refused at their bound: a .sig manifest over
// 4 MiB, a layer whose descriptor is over MaxPayloadBytes (not fetched),
// and content that does not match its descriptor's size.
func TestOversizedAndMismatchedObjectsAreRefused(t *testing.T) {
	owner := signtest.MustKey(t, signature.ECDSAP256, "owner")
	t.Run("manifest over 4 MiB", func(t *testing.T) {
		l := newLab(t)
		d := l.image(t, "org/app", "v1")
		big := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"pad":"` +
			strings.Repeat("x", signature.MaxSignatureManifestBytes) + `"},"layers":[]}`)
		if _, err := l.reg.PushRaw("org/app", signature.SignatureTag(d), "application/vnd.oci.image.manifest.v1+json", big); err != nil {
			t.Fatal(err)
		}
		res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, owner.MustVerifier(t, signature.SourceDNS)))
		if res.Code != signature.CodeInvalid || res.Attempts[0].Reason != signature.ReasonTooLarge {
			t.Fatalf("code %s, want %s with too-large first:%s", res.Code, signature.CodeInvalid, attempts(res))
		}
	})
	t.Run("descriptor over the payload bound", func(t *testing.T) {
		l := newLab(t)
		d := l.image(t, "org/app", "v1")
		sl := signedLayer(t, l, "org/app", d, owner)
		sl.size = signature.MaxPayloadBytes + 1
		pushSigManifest(t, l, "org/app", d, []sigLayer{sl})
		l.reg.ResetRequests()
		res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, owner.MustVerifier(t, signature.SourceDNS)))
		if res.Verified || res.Attempts[0].Reason != signature.ReasonTooLarge || l.reg.Requests().BlobGET != 0 {
			t.Fatalf("verified=%v blobGETs=%d:%s", res.Verified, l.reg.Requests().BlobGET, attempts(res))
		}
	})
	t.Run("content shorter than its descriptor", func(t *testing.T) {
		l := newLab(t)
		d := l.image(t, "org/app", "v1")
		sl := signedLayer(t, l, "org/app", d, owner)
		sl.size = int64(len(sl.payload)) + 1
		pushSigManifest(t, l, "org/app", d, []sigLayer{sl})
		res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, owner.MustVerifier(t, signature.SourceDNS)))
		if res.Verified || res.Code != signature.CodeInvalid {
			t.Fatalf("verified=%v code=%s:%s", res.Verified, res.Code, attempts(res))
		}
	})
}

// The referrers list (here the referrers tag schema's index) is bounded
// like the .sig manifest, and a referrer whose descriptor is over
// MaxReferrerManifestBytes is refused without being fetched.
func TestOversizedReferrersAreRefused(t *testing.T) {
	owner := signtest.MustKey(t, signature.ECDSAP256, "owner")
	t.Run("index over 4 MiB", func(t *testing.T) {
		l := newLab(t)
		d := l.image(t, "org/app", "v1")
		l.withoutReferrers(t)
		big := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","annotations":{"pad":"` +
			strings.Repeat("x", signature.MaxIndexBytes) + `"},"manifests":[]}`)
		if _, err := l.reg.PushRaw("org/app", signature.FallbackTag(d), "application/vnd.oci.image.index.v1+json", big); err != nil {
			t.Fatal(err)
		}
		res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, owner.MustVerifier(t, signature.SourceDNS)))
		if res.Code != signature.CodeInvalid || res.Attempts[len(res.Attempts)-1].Reason != signature.ReasonTooLarge {
			t.Fatalf("code %s, want %s with too-large last:%s", res.Code, signature.CodeInvalid, attempts(res))
		}
	})
	t.Run("referrer manifest over its bound", func(t *testing.T) {
		l := newLab(t)
		d := l.image(t, "org/app", "v1")
		l.withoutReferrers(t)
		md := l.signBundle(t, "org/app", d, owner, signtest.Options{})
		body, _, err := l.fetcher("org/app").Manifest(t.Context(), signature.FallbackTag(d), signature.MaxIndexBytes)
		if err != nil {
			t.Fatal(err)
		}
		var idx map[string]any
		if err := json.Unmarshal(body, &idx); err != nil {
			t.Fatal(err)
		}
		idx["manifests"].([]any)[0].(map[string]any)["size"] = signature.MaxReferrerManifestBytes + 1
		out, _ := json.Marshal(idx)
		if _, err := l.reg.PushRaw("org/app", signature.FallbackTag(d), "application/vnd.oci.image.index.v1+json", out); err != nil {
			t.Fatal(err)
		}
		l.reg.ResetRequests()
		res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, owner.MustVerifier(t, signature.SourceDNS)))
		last := res.Attempts[len(res.Attempts)-1]
		if res.Verified || last.Reason != signature.ReasonTooLarge {
			t.Fatalf("verified=%v, want too-large:%s", res.Verified, attempts(res))
		}
		for _, q := range l.reg.Log() {
			if strings.HasSuffix(q.Path, "/manifests/"+md.String()) {
				t.Errorf("the oversized referrer was fetched: %s", q.Path)
			}
		}
	})
}

// At most MaxKeys keys are tried: with MaxKeys+1 keys, a signature by the
// last allowed one verifies and one by the key after it does not (and
// does once a key before it is dropped).
func TestKeysTriedAreBounded(t *testing.T) {
	l := newLab(t)
	within, beyond := l.image(t, "org/app", "v1"), l.image(t, "org/app", "v2")
	var keys []*signature.Key
	var signers []*signtest.Key
	for i := range signature.MaxKeys + 1 {
		k := signtest.MustKey(t, signature.Ed25519, fmt.Sprint("key", i))
		signers = append(signers, k)
		keys = append(keys, k.MustVerifier(t, signature.SourceDNS))
	}
	l.signTag(t, "org/app", within, signers[signature.MaxKeys-1], signtest.Options{})
	l.signTag(t, "org/app", beyond, signers[signature.MaxKeys], signtest.Options{})
	if res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", within, keys...)); !res.Verified {
		t.Errorf("key %d of %d not tried:%s", signature.MaxKeys, len(keys), attempts(res))
	}
	if res := verify(t, l.fetcher("org/app"), l.request("org/app", "v2", beyond, keys...)); res.Verified {
		t.Errorf("key %d of %d tried:%s", signature.MaxKeys+1, len(keys), attempts(res))
	}
	if res := verify(t, l.fetcher("org/app"), l.request("org/app", "v2", beyond, keys[1:]...)); !res.Verified {
		t.Errorf("as key %d, it is not tried:%s", signature.MaxKeys, attempts(res))
	}
}

// At most MaxBundles referrers are fetched: with the owner's bundle listed
// after MaxBundles others it is not tried; one place earlier it verifies.
func TestBundlesAreBounded(t *testing.T) {
	for _, strangers := range []int{signature.MaxBundles - 1, signature.MaxBundles} {
		t.Run(fmt.Sprint(strangers, " before"), func(t *testing.T) {
			l := newLab(t)
			d := l.image(t, "org/app", "v1")
			l.withoutReferrers(t)
			owner := signtest.MustKey(t, signature.ECDSAP256, "owner")
			var order []digest.Digest
			for i := range strangers {
				order = append(order, l.signBundle(t, "org/app", d, signtest.MustKey(t, signature.ECDSAP256, fmt.Sprint("stranger", i)), signtest.Options{}))
			}
			order = append(order, l.signBundle(t, "org/app", d, owner, signtest.Options{}))
			reorderFallbackIndex(t, l, "org/app", d, order)

			res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, owner.MustVerifier(t, signature.SourceDNS)))
			within := strangers < signature.MaxBundles
			if res.Verified != within {
				t.Fatalf("verified=%v, want %v:%s", res.Verified, within, attempts(res))
			}
			if !within && !slices.Contains(reasons(res), signature.ReasonTooMany) {
				t.Errorf("no too-many attempt:%s", attempts(res))
			}
		})
	}
}

// reorderFallbackIndex rewrites the referrers tag schema's index of d so
// that it lists the referrers in the given order (go-containerregistry
// sorts them by digest).
func reorderFallbackIndex(t testing.TB, l *lab, repo string, d digest.Digest, order []digest.Digest) {
	t.Helper()
	body, _, err := l.fetcher(repo).Manifest(t.Context(), signature.FallbackTag(d), signature.MaxIndexBytes)
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		Manifests     []json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(body, &idx); err != nil {
		t.Fatal(err)
	}
	var sorted []json.RawMessage
	for _, dg := range order {
		for _, m := range idx.Manifests {
			if bytes.Contains(m, []byte(dg)) {
				sorted = append(sorted, m)
			}
		}
	}
	if len(sorted) != len(order) {
		t.Fatalf("index lists %d of the %d referrers", len(sorted), len(order))
	}
	idx.Manifests = sorted
	out, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.reg.PushRaw(repo, signature.FallbackTag(d), "application/vnd.oci.image.index.v1+json", out); err != nil {
		t.Fatal(err)
	}
}
