package resolver

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// protocol.md §15.4: a cached verified resolution costs what any cache hit
// costs. Compare with BenchmarkResolveCacheHit in the same run.
func BenchmarkResolveCacheHitVerified(b *testing.B) {
	l := startSignLab(b, "")
	k := signtest.MustKey(b, signature.ECDSAP256, "k")
	d := l.image(b, "org/app", "v1.0.0")
	l.signTag(b, "org/app", d, k)
	r := l.resolver(b, WithTrustKeyFile(keyFile(b, k)), WithRequireSignature(true))
	ctx := context.Background()
	if res := mustResolve(b, r, "example.test/org/app:v1.0.0"); res.Signature == nil || !res.Signature.Verified {
		b.Fatalf("not verified: %+v", res.Signature)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := r.Resolve(ctx, "example.test/org/app:v1.0.0")
		if err != nil || !res.Cached || !res.Signature.Verified {
			b.Fatal(err, res.Cached)
		}
	}
}

// A cold resolution, new Resolver each time, of an image that is unsigned
// and checked by nobody, signed in the tag format, and signed in the bundle
// format (with and without the referrers API), checked with the key the
// owner publishes beside its mapping (sign=required): the key comes with
// the TXT answer discovery reads anyway.
// With delay, every DNS answer and every registry request is held back that
// long: serial round trips = (ns/op with delay - ns/op without) / delay.
// registry-requests/op counts what reached the registry.
func BenchmarkResolveColdSigned(b *testing.B) {
	for _, delay := range []time.Duration{0, 10 * time.Millisecond} {
		for _, c := range []struct {
			name      string
			referrers bool
			sign      func(tb testing.TB, l *signLab, d digest.Digest, k *signtest.Key)
			check     bool
		}{
			{"unchecked", false, nil, false},
			{"tag", false, func(tb testing.TB, l *signLab, d digest.Digest, k *signtest.Key) { l.signTag(tb, "org/app", d, k) }, true},
			{"bundle-referrers", true, func(tb testing.TB, l *signLab, d digest.Digest, k *signtest.Key) { l.signBundle(tb, "org/app", d, k) }, true},
			{"bundle-fallback-tag", false, func(tb testing.TB, l *signLab, d digest.Digest, k *signtest.Key) { l.signBundle(tb, "org/app", d, k) }, true},
		} {
			b.Run(fmt.Sprintf("%s/delay=%v", c.name, delay), func(b *testing.B) {
				k := signtest.MustKey(b, signature.ECDSAP256, "k")
				records := `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"` + "\n"
				if c.check {
					records += `_oci-discovery TXT "v=ocisig1; k=ecdsa-p256; p=` + k.PublicBase64() + `; sign=required"` + "\n"
				}
				reg := registrytest.StartT(b, registrytest.Options{TLS: true, Referrers: c.referrers})
				lb := startLab(b, []*registrytest.Registry{reg}, zone("example.test.", records, true))
				l := &signLab{lab: lb, reg: reg, signer: signtest.Signer{Target: reg.Target()}}
				d := l.image(b, "org/app", "v1.0.0")
				if c.check {
					c.sign(b, l, d, k)
				}
				opts := []Option{WithWellKnown(false)}
				l.dns.SetDelay(delay)
				reg.SetFaults(registrytest.Faults{Delay: delay})
				ctx := context.Background()
				reg.ResetRequests()
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					r := l.resolver(b, opts...)
					b.StartTimer()
					res, err := r.Resolve(ctx, "example.test/org/app:v1.0.0")
					if err != nil || (c.check && (res.Signature == nil || !res.Signature.Verified || res.Signature.Signer != signature.SourceDNS)) {
						b.Fatal(err)
					}
					b.StopTimer()
					r.Close()
					b.StartTimer()
				}
				b.ReportMetric(float64(len(reg.Log()))/float64(b.N), "registry-requests/op")
			})
		}
	}
}
