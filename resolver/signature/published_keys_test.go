package signature_test

import (
	"errors"
	"testing"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// keysFor selects the owner's published keys for path and parses them as
// the resolver does, returning them with the policy.
func keysFor(t testing.TB, records []string, path string) ([]*signature.Key, signature.Policy) {
	t.Helper()
	var published []discovery.PublishedKey
	for _, r := range records {
		k, err := discovery.ParseSignerTXT(r)
		if errors.Is(err, discovery.ErrNotOCISig) {
			continue // the mappings of the same RRset
		}
		if err != nil {
			t.Fatalf("record %q: %v", r, err)
		}
		published = append(published, k)
	}
	s := discovery.SelectSigners(published, path)
	var keys []*signature.Key
	for _, pk := range s.Keys {
		k, err := signature.ParseKey(signature.Algorithm(pk.Alg), pk.DER, signature.SourceDNS)
		if err != nil {
			t.Fatalf("published key %q: %v", pk.Record, err)
		}
		keys = append(keys, k)
	}
	policy := signature.PolicyOptional
	if s.Sign == discovery.SignRequired {
		policy = signature.PolicyRequired
	}
	return keys, policy
}

// From records to a decision: the owner publishes a key for org and
// revokes the keys of org/legacy, requiring signatures for both. An image
// signed with the key verifies under org; the same key signing under
// org/legacy has no usable key there, and the resolution fails.
func TestPublishedKeysAndRevocation(t *testing.T) {
	owner := signtest.MustKey(t, signature.ECDSAP256, "owner")
	records := []string{
		"v=oci1; prefix=org; registry=https://registry.example/org",
		"v=ocisig1; prefix=org; k=ecdsa-p256; p=" + owner.PublicBase64() + "; sign=required",
		"v=ocisig1; prefix=org/legacy; k=ecdsa-p256; p=; sign=required",
	}
	l := newLab(t)
	for _, c := range []struct {
		repo string
		want error
	}{
		{"org/app", nil},
		{"org/legacy/app", signature.ErrNoUsableKey},
	} {
		t.Run(c.repo, func(t *testing.T) {
			d := l.image(t, c.repo, "v1")
			for _, f := range formats {
				f.sign(t, l, c.repo, d, owner, signtest.Options{})
			}
			keys, policy := keysFor(t, records, c.repo)
			res := verify(t, l.fetcher(c.repo), l.request(c.repo, "v1", d, keys...))
			if err := policy.Check(res); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("policy %s: %v, want %v%s", policy, err, c.want, attempts(res))
			}
		})
	}
}

// A key that was replaced (a new key published in its place) no longer
// verifies: the old signature is invalid under required.
func TestReplacedKeyNoLongerVerifies(t *testing.T) {
	old := signtest.MustKey(t, signature.Ed25519, "2025")
	current := signtest.MustKey(t, signature.Ed25519, "2026")
	l := newLab(t)
	d := l.image(t, "org/app", "v1")
	l.signTag(t, "org/app", d, old, signtest.Options{})
	keys, policy := keysFor(t, []string{"v=ocisig1; k=ed25519; p=" + current.PublicBase64() + "; sign=required"}, "org/app")
	res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, keys...))
	if err := policy.Check(res); !errors.Is(err, signature.ErrInvalid) {
		t.Fatalf("policy %s: %v, want ErrInvalid%s", policy, err, attempts(res))
	}
}
