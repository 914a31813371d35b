package signature_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"testing"

	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// BenchmarkVerify measures Verify with every object already in memory (a
// warm cache): the cost of parsing, digest checks and the signature
// check, beside BenchmarkBareECDSAVerify, the signature check alone.
func BenchmarkVerify(b *testing.B) {
	for _, f := range formats {
		for _, alg := range algorithms {
			b.Run(string(f.format)+"/"+string(alg), func(b *testing.B) {
				l := newLab(b)
				d := l.image(b, "org/app", "v1")
				k := signtest.MustKey(b, alg, "owner")
				f.sign(b, l, "org/app", d, k, signtest.Options{})
				memo := &signtest.Memo{Inner: l.fetcher("org/app")}
				req := l.request("org/app", "v1", d, k.MustVerifier(b, signature.SourceDNS))
				if res := verify(b, memo, req); !res.Verified {
					b.Fatalf("not verified: %s%s", res.Code, attempts(res))
				}
				misses := memo.Misses
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if res, _ := signature.Verify(ctx, memo, req); !res.Verified {
						b.Fatal("not verified")
					}
				}
				if memo.Misses != misses {
					b.Fatalf("the warm fetcher was asked %d more times", memo.Misses-misses)
				}
			})
		}
	}
}

// BenchmarkBareECDSAVerify is the reference: one ECDSA P-256 verification
// of a cosign payload, nothing else.
func BenchmarkBareECDSAVerify(b *testing.B) {
	k := signtest.MustKey(b, signature.ECDSAP256, "owner")
	payload := signtest.Payload("registry.example/org/app", "sha256:"+zeros64, nil)
	sig, err := k.Sign(payload)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(k.PublicDER())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(payload)
		if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), h[:], sig) {
			b.Fatal("bad signature")
		}
	}
}
