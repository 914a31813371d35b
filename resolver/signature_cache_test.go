package resolver

import (
	"context"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// protocol.md §15.4: a verified digest is cached with its resolution. The
// second resolution is a cache hit that carries the verification and asks
// the registry nothing.
func TestCachedVerifiedResolution(t *testing.T) {
	l := startSignLab(t, "")
	k := signtest.MustKey(t, signature.ECDSAP256, "k")
	d := l.image(t, "org/app", "v1")
	l.signTag(t, "org/app", d, k)
	r := l.resolver(t, WithTrustKeyFile(keyFile(t, k)), WithRequireSignature(true))

	first := mustResolve(t, r, "example.test/org/app:v1")
	wantSignature(t, first, true, "", signature.SourceConfig)
	l.reg.ResetRequests()
	again := mustResolve(t, r, "example.test/org/app:v1")
	if !again.Cached {
		t.Fatal("second resolution not from the cache")
	}
	wantSignature(t, again, true, "", signature.SourceConfig)
	if again.Signature.KeyID != k.ID() || again.Digest != d {
		t.Errorf("cached signature %+v", again.Signature)
	}
	if n := len(l.reg.Log()); n != 0 {
		t.Errorf("a cached verified resolution made %d registry requests: %v", n, l.reg.Log())
	}
}

// protocol.md §15.4: when the refresh of a verified resolution is refused
// by the policy (the tag now names an unsigned image), the last good answer
// is not served stale in its place: the refusal is an answer, not an
// outage. A registry that does not answer still gets serve-stale.
func TestRefusedSignatureIsNotServedStale(t *testing.T) {
	l := startSignLab(t, "")
	k := signtest.MustKey(t, signature.ECDSAP256, "k")
	d := l.image(t, "org/app", "v1")
	l.signTag(t, "org/app", d, k)
	clock := &fakeClock{now: time.Now()}
	r := l.resolver(t, WithClock(clock.Now), WithTrustKeyFile(keyFile(t, k)), WithRequireSignature(true))
	if res := mustResolve(t, r, "example.test/org/app:v1"); res.Digest != d {
		t.Fatalf("digest %s, want %s", res.Digest, d)
	}

	// The tag moves to another image, which nobody signed.
	if _, err := l.reg.PushImage("org/app", "v1", registrytest.WithSeed("unsigned")); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * DefaultTagTTL)
	for range 2 {
		res, err := r.Resolve(context.Background(), "example.test/org/app:v1")
		if err == nil {
			t.Fatalf("the tag now names an unsigned image, yet it resolved to %s (stale=%t)", res.Digest, res.Stale)
		}
		wantKind(t, err, ErrSignatureMissing)
	}
}
