package signature_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// An unsigned image is SIGNATURE_MISSING: required refuses it, optional
// reports it without failing, an unset policy refuses it.
func TestMissingSignature(t *testing.T) {
	for _, noReferrersAPI := range []bool{false, true} {
		name := "referrers API"
		if noReferrersAPI {
			name = "referrers tag schema"
		}
		t.Run(name, func(t *testing.T) {
			l := newLab(t)
			d := l.image(t, "org/app", "v1")
			if noReferrersAPI {
				l.withoutReferrers(t)
			}
			// A signature of another image of the repository is no signature of this one.
			l.signTag(t, "org/app", l.image(t, "org/app", "v0"), signtest.MustKey(t, signature.ECDSAP256, "owner"), signtest.Options{})
			k := signtest.MustKey(t, signature.ECDSAP256, "owner").MustVerifier(t, signature.SourceDNS)

			res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, k))
			if res.Verified || res.Code != signature.CodeMissing {
				t.Fatalf("code %s, want %s:%s", res.Code, signature.CodeMissing, attempts(res))
			}
			if err := signature.PolicyRequired.Check(res); !errors.Is(err, signature.ErrMissing) {
				t.Errorf("required: %v, want ErrMissing", err)
			}
			if err := signature.PolicyUnset.Check(res); !errors.Is(err, signature.ErrMissing) {
				t.Errorf("unset policy: %v, want ErrMissing (fail closed)", err)
			}
			if err := signature.PolicyOptional.Check(res); err != nil {
				t.Errorf("optional: %v, want nil", err)
			}
			if res.Err() == nil {
				t.Error("Result.Err() is nil for a missing signature")
			}
		})
	}
}

// Without a key of a known algorithm, nothing is fetched and the result
// is NO_USABLE_KEY, which required refuses.
func TestNoUsableKey(t *testing.T) {
	l := newLab(t)
	d := l.image(t, "org/app", "v1")
	l.signTag(t, "org/app", d, signtest.MustKey(t, signature.ECDSAP256, "owner"), signtest.Options{})
	l.reg.ResetRequests()
	res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, nil, nil))
	if res.Verified || res.Code != signature.CodeNoUsableKey {
		t.Fatalf("code %s, want %s", res.Code, signature.CodeNoUsableKey)
	}
	if n := len(l.reg.Log()); n != 0 {
		t.Errorf("%d requests made without a key", n)
	}
	if err := signature.PolicyRequired.Check(res); !errors.Is(err, signature.ErrNoUsableKey) {
		t.Errorf("required: %v, want ErrNoUsableKey", err)
	}
}

// A registry that does not answer is SIGNATURE_UNFETCHABLE, never
// missing: required refuses it.
func TestUnfetchableSignatureFailsClosed(t *testing.T) {
	l := newLab(t)
	d := l.image(t, "org/app", "v1")
	k := signtest.MustKey(t, signature.ECDSAP256, "owner")
	l.signTag(t, "org/app", d, k, signtest.Options{})
	l.reg.SetFaults(registrytest.Faults{Throttle: 100, ThrottleStatus: 503})
	res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, k.MustVerifier(t, signature.SourceDNS)))
	if res.Verified || res.Code != signature.CodeUnfetchable {
		t.Fatalf("code %s, want %s:%s", res.Code, signature.CodeUnfetchable, attempts(res))
	}
	if err := signature.PolicyRequired.Check(res); !errors.Is(err, signature.ErrUnfetchable) {
		t.Errorf("required: %v, want ErrUnfetchable", err)
	}
}

// A canceled context stops verification: nothing verifies, and the
// attempts say why.
func TestCanceledVerificationFailsClosed(t *testing.T) {
	l := newLab(t)
	d := l.image(t, "org/app", "v1")
	k := signtest.MustKey(t, signature.ECDSAP256, "owner")
	l.signTag(t, "org/app", d, k, signtest.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := signature.Verify(ctx, l.fetcher("org/app"), l.request("org/app", "v1", d, k.MustVerifier(t, signature.SourceDNS)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verified || signature.PolicyRequired.Check(res) == nil {
		t.Fatalf("verified under a canceled context: %+v", res)
	}
}

// A malformed request is an error, not a result.
func TestMalformedRequest(t *testing.T) {
	k := signtest.MustKey(t, signature.ECDSAP256, "owner").MustVerifier(t, signature.SourceDNS)
	for name, req := range map[string]signature.Request{
		"bad digest":    {Digest: "sha256:abc", RequestedName: "example.com/app", Keys: []*signature.Key{k}},
		"no repository": {Digest: "sha256:" + zeros64, Keys: []*signature.Key{k}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := signature.Verify(t.Context(), signtest.RegistryFetcher{URL: "http://127.0.0.1:1"}, req); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

const zeros64 = "0000000000000000000000000000000000000000000000000000000000000000"
