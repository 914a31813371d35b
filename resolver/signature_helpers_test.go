package resolver

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// signLab is a lab whose zone maps example.test to one registry, holding
// images to sign as cosign does.
type signLab struct {
	*lab
	reg    *registrytest.Registry
	signer signtest.Signer
}

// startSignLab serves example.test (signed) mapped to a TLS registry, plus
// the extra zones given.
func startSignLab(t testing.TB, body string) *signLab {
	t.Helper()
	regs := startRegistries(t, 1)
	l := startLab(t, regs, zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n"+body, true))
	return &signLab{lab: l, reg: regs[0], signer: signtest.Signer{Target: regs[0].Target()}}
}

// image pushes repo:tag and returns its digest.
func (l *signLab) image(t testing.TB, repo, tag string) digest.Digest {
	t.Helper()
	return push(t, l.reg, repo, tag)
}

func (l *signLab) signTag(t testing.TB, repo string, d digest.Digest, k *signtest.Key) {
	t.Helper()
	if _, err := l.signer.SignTag(context.Background(), repo, d, k, signtest.Options{}); err != nil {
		t.Fatal(err)
	}
}

func (l *signLab) signBundle(t testing.TB, repo string, d digest.Digest, k *signtest.Key) {
	t.Helper()
	if _, err := l.signer.SignBundle(context.Background(), repo, d, k, signtest.Options{}); err != nil {
		t.Fatal(err)
	}
}

// keyFile writes k's public key as cosign.pub holds it and returns the
// path, for WithTrustKeyFile.
func keyFile(t testing.TB, k *signtest.Key) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cosign.pub")
	if err := os.WriteFile(p, k.PublicPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantSignature checks a result's signature report.
func wantSignature(t testing.TB, res Result, verified bool, code Code, signer signature.Source) {
	t.Helper()
	s := res.Signature
	if s == nil {
		t.Fatalf("no signature report in %+v", res)
	}
	if s.Verified != verified || s.Code != code || s.Signer != signer {
		t.Fatalf("signature verified=%t code=%q signer=%q, want %t %q %q (error %q)", s.Verified, s.Code, s.Signer, verified, code, signer, s.Error)
	}
}
