package signature_test

import (
	"testing"

	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// An image signed as cosign signs it, in either format, with an ECDSA
// P-256 or an Ed25519 (Ed25519ph) key, verifies with the published key; the
// result names the key, the format and the key's source.
func TestCosignSignaturesVerify(t *testing.T) {
	for _, f := range formats {
		for _, alg := range algorithms {
			t.Run(string(f.format)+"/"+string(alg), func(t *testing.T) {
				l := newLab(t)
				d := l.image(t, "org/app", "v1")
				k := signtest.MustKey(t, alg, "owner")
				f.sign(t, l, "org/app", d, k, signtest.Options{})

				res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, k.MustVerifier(t, signature.SourceDNS)))
				if !res.Verified || res.KeyID != k.ID() || res.Format != f.format || res.Signer != signature.SourceDNS {
					t.Fatalf("got verified=%v key=%s format=%s signer=%s code=%s, want verified by %s in %s from dns%s",
						res.Verified, res.KeyID, res.Format, res.Signer, res.Code, k.ID(), f.format, attempts(res))
				}
				if err := signature.PolicyRequired.Check(res); err != nil {
					t.Errorf("required policy refused a verified result: %v", err)
				}
			})
		}
	}
}

// The bundle format is found through the referrers tag schema's index when
// the registry has no referrers API: cosign (through go-containerregistry)
// writes the index there, and a verifier reads it there.
func TestBundleFoundThroughReferrersFallbackTag(t *testing.T) {
	l := newLab(t)
	d := l.image(t, "org/app", "v1")
	l.withoutReferrers(t)
	k := signtest.MustKey(t, signature.ECDSAP256, "owner")
	l.signBundle(t, "org/app", d, k, signtest.Options{})

	// The fallback index exists at the registry itself.
	if _, _, err := (signtest.RegistryFetcher{URL: l.reg.URL(), Repository: "org/app", Client: l.reg.Client()}).
		Manifest(t.Context(), signature.FallbackTag(d), signature.MaxIndexBytes); err != nil {
		t.Fatalf("no index at %s after signing through a registry without referrers: %v", signature.FallbackTag(d), err)
	}
	res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, k.MustVerifier(t, signature.SourceHTTPS)))
	if !res.Verified || res.Format != signature.FormatBundle {
		t.Fatalf("not verified through the fallback tag: %s%s", res.Code, attempts(res))
	}
	if a := res.Attempts[len(res.Attempts)-1]; a.Reason != "" || a.KeyID != k.ID() {
		t.Errorf("last attempt %v, want the verified one", a)
	}
}

// Several signatures on one image: cosign appends a layer per signing to
// the .sig manifest, and adds a referrer per bundle; any one made with a
// published key verifies, whatever comes before it. (The .sig layers are
// tried in order, so both strangers' are reported first; the referrers
// list has the registry's order.)
func TestOneOfSeveralSignaturesVerifies(t *testing.T) {
	for _, f := range formats {
		t.Run(string(f.format), func(t *testing.T) {
			l := newLab(t)
			d := l.image(t, "org/app", "v1")
			stranger := signtest.MustKey(t, signature.ECDSAP256, "stranger")
			other := signtest.MustKey(t, signature.Ed25519, "other")
			owner := signtest.MustKey(t, signature.Ed25519, "owner")
			f.sign(t, l, "org/app", d, stranger, signtest.Options{})
			f.sign(t, l, "org/app", d, other, signtest.Options{})
			f.sign(t, l, "org/app", d, owner, signtest.Options{})

			res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, owner.MustVerifier(t, signature.SourceDNS)))
			if !res.Verified || res.KeyID != owner.ID() {
				t.Fatalf("not verified by the owner's key: %s%s", res.Code, attempts(res))
			}
			bad := 0
			for _, a := range res.Attempts {
				if a.Reason == signature.ReasonBadSignature {
					bad++
				}
			}
			if f.format == signature.FormatSimpleSigning && bad != 2 || bad > 2 {
				t.Errorf("%d signatures by other keys reported, want 2:%s", bad, attempts(res))
			}
		})
	}
}

// Both owner keys and the user's keys may verify: the result names the
// source of the key that did.
func TestResultNamesTheSourceOfTheVerifyingKey(t *testing.T) {
	l := newLab(t)
	d := l.image(t, "org/app", "v1")
	owner := signtest.MustKey(t, signature.ECDSAP256, "owner")
	mine := signtest.MustKey(t, signature.ECDSAP256, "mine")
	l.signTag(t, "org/app", d, mine, signtest.Options{})
	res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d,
		owner.MustVerifier(t, signature.SourceDNS), mine.MustVerifier(t, signature.SourceConfig)))
	if !res.Verified || res.Signer != signature.SourceConfig || res.KeyID != mine.ID() {
		t.Fatalf("got %+v, want verified by the configured key", res)
	}
}
