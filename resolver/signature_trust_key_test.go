package resolver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// protocol.md §15.2: --trust-key adds the user's keys for every name. An
// image signed with one, in either of cosign's formats and with either
// algorithm, resolves verified, the signer named "config" and the key by
// its ID.
func TestTrustKeyVerifies(t *testing.T) {
	l := startSignLab(t, "")
	for _, alg := range []signature.Algorithm{signature.ECDSAP256, signature.Ed25519} {
		for _, format := range []signature.Format{signature.FormatSimpleSigning, signature.FormatBundle} {
			t.Run(string(alg)+"/"+string(format), func(t *testing.T) {
				repo := "org/" + string(alg) + "-" + string(format)
				d := l.image(t, repo, "v1")
				k := signtest.MustKey(t, alg, repo)
				if format == signature.FormatSimpleSigning {
					l.signTag(t, repo, d, k)
				} else {
					l.signBundle(t, repo, d, k)
				}
				r := l.resolver(t, WithTrustKeyFile(keyFile(t, k)))
				res := mustResolve(t, r, "example.test/"+repo+":v1")
				wantSignature(t, res, true, "", signature.SourceConfig)
				if s := res.Signature; s.KeyID != k.ID() || s.Format != format || s.Digest != d || s.Policy != "optional" || s.Keys != 1 {
					t.Errorf("signature %+v, want key %s, format %s, digest %s, optional, 1 key", s, k.ID(), format, d)
				}
			})
		}
	}
}

// A --trust-key that signed nothing leaves an image unverified: under the
// default optional policy the resolution succeeds and says why; with
// --require-signature it fails with the code, and nothing is cached.
func TestTrustKeyOtherSignerIsInvalid(t *testing.T) {
	l := startSignLab(t, "")
	d := l.image(t, "org/app", "v1")
	l.signTag(t, "org/app", d, signtest.MustKey(t, signature.ECDSAP256, "someone else"))
	mine := keyFile(t, signtest.MustKey(t, signature.ECDSAP256, "mine"))

	res := mustResolve(t, l.resolver(t, WithTrustKeyFile(mine)), "example.test/org/app:v1")
	wantSignature(t, res, false, CodeSignatureInvalid, "")
	if res.Digest != d || !strings.Contains(res.Signature.Error, "bad-signature") {
		t.Errorf("digest %s, error %q", res.Digest, res.Signature.Error)
	}

	r := l.resolver(t, WithTrustKeyFile(mine), WithRequireSignature(true))
	for range 2 {
		_, err := r.Resolve(context.Background(), "example.test/org/app:v1")
		e := wantKind(t, err, ErrSignatureInvalid)
		if CodeOf(err) != CodeSignatureInvalid || e.Step != "signature" || !strings.Contains(err.Error(), "--require-signature") {
			t.Fatalf("error %v (code %s, step %q)", err, CodeOf(err), e.Step)
		}
	}
	if st, _ := r.Stats(); st.Hits != 0 {
		t.Errorf("a failed resolution was served from the cache: %+v", st)
	}
}

// A --trust-key file that is not one usable public key fails New with the
// file's name and what is wrong.
func TestTrustKeyFileErrors(t *testing.T) {
	l := startSignLab(t, "")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	k := signtest.MustKey(t, signature.ECDSAP256, "k")
	for _, c := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.pub"), "no such file"},
		{"not PEM", write("text.pub", []byte("hello")), "no PEM block"},
		{"private key", write("cosign.key", []byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")), "private key"},
		{"two keys", write("two.pub", append(k.PublicPEM(), k.PublicPEM()...)), "second PEM block"},
		{"too large", write("big.pub", make([]byte, signature.MaxPEMFileBytes+1)), "over 64 KiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "config.json")
			_ = os.WriteFile(cfg, []byte("{}"), 0o600)
			_, err := New(WithDNSServers(l.dns.Addr()), WithDockerConfig(cfg), WithTrustKeyFile(c.path))
			if err == nil || !strings.Contains(err.Error(), "--trust-key") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, want an error naming --trust-key and %q", err, c.want)
			}
			if c.name != "missing" && !strings.Contains(err.Error(), c.path) {
				t.Errorf("error %q does not name %s", err, c.path)
			}
		})
	}
}

// --require-signature with --verify-signatures=false is a contradiction
// New refuses.
func TestRequireWithoutVerifyIsRefused(t *testing.T) {
	_, err := New(WithRequireSignature(true), WithSignatureVerification(false))
	if err == nil || !strings.Contains(err.Error(), "contradict") {
		t.Fatalf("New: %v", err)
	}
	if errors.Is(err, ErrSignatureMissing) {
		t.Fatal("a usage error is not a signature verdict")
	}
}
