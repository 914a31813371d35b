package resolver

import (
	"context"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// ownerZone publishes, beside example.test's mapping: org/ must be signed
// with key; opt/ may be; org/legacy/ must be, and its keys are revoked.
func ownerZone(key *signtest.Key) string {
	return `_oci-discovery TXT "v=ocisig1; prefix=org; k=ecdsa-p256; p=` + key.PublicBase64() + `; sign=required"
_oci-discovery TXT "v=ocisig1; prefix=opt; k=ecdsa-p256; p=` + key.PublicBase64() + `"
_oci-discovery TXT "v=ocisig1; prefix=org/legacy; k=ecdsa-p256; p=; sign=required"
`
}

// protocol.md §15: the owner's key, published in the mappings' signed
// RRset, verifies what it signed (signer "dns"); under the owner's
// sign=required a missing signature, another key's and a revoked prefix
// fail the resolution with their codes; under optional the failure is
// reported and the digest returned.
func TestOwnerPolicy(t *testing.T) {
	owner := signtest.MustKey(t, signature.ECDSAP256, "owner")
	other := signtest.MustKey(t, signature.ECDSAP256, "other")
	l := startSignLab(t, ownerZone(owner))
	for _, c := range []struct {
		repo     string
		signer   *signtest.Key
		err      error
		code     Code // under optional
		verified bool
	}{
		{repo: "org/app", signer: owner, verified: true},
		{repo: "org/unsigned", err: ErrSignatureMissing},
		{repo: "org/other", signer: other, err: ErrSignatureInvalid},
		{repo: "org/legacy/app", signer: owner, err: ErrNoUsableKey},
		{repo: "opt/app", signer: owner, verified: true},
		{repo: "opt/unsigned", code: CodeSignatureMissing},
		{repo: "opt/other", signer: other, code: CodeSignatureInvalid},
	} {
		t.Run(c.repo, func(t *testing.T) {
			d := l.image(t, c.repo, "v1")
			if c.signer != nil {
				l.signTag(t, c.repo, d, c.signer)
			}
			r := l.resolver(t)
			res, err := r.Resolve(context.Background(), "example.test/"+c.repo+":v1")
			if c.err != nil {
				e := wantKind(t, err, c.err)
				if !strings.Contains(e.Error(), "required by example.test") {
					t.Errorf("error %q does not say who requires the signature", e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Digest != d {
				t.Fatalf("digest %s, want %s", res.Digest, d)
			}
			if c.verified {
				wantSignature(t, res, true, "", signature.SourceDNS)
				if res.Signature.KeyID != owner.ID() {
					t.Errorf("key %s, want the owner's %s", res.Signature.KeyID, owner.ID())
				}
			} else {
				wantSignature(t, res, false, c.code, "")
			}
			want := "optional"
			if strings.HasPrefix(c.repo, "org/") {
				want = "required"
			}
			if res.Signature.Policy != want {
				t.Errorf("policy %s, want %s", res.Signature.Policy, want)
			}
		})
	}
}

// protocol.md §15.3: --verify-signatures=false stops checking where the
// owner does not require signatures, and only there; --require-signature
// turns the owner's optional into required.
func TestUserPolicyCombinesWithTheOwners(t *testing.T) {
	owner := signtest.MustKey(t, signature.ECDSAP256, "owner")
	l := startSignLab(t, ownerZone(owner))
	l.image(t, "opt/unsigned", "v1")
	l.image(t, "org/unsigned", "v1")
	l.image(t, "free/app", "v1")

	off := l.resolver(t, WithSignatureVerification(false))
	if res := mustResolve(t, off, "example.test/opt/unsigned:v1"); res.Signature != nil {
		t.Errorf("--verify-signatures=false still checked an optional name: %+v", res.Signature)
	}
	_, err := off.Resolve(context.Background(), "example.test/org/unsigned:v1")
	wantKind(t, err, ErrSignatureMissing)

	strict := l.resolver(t, WithRequireSignature(true))
	_, err = strict.Resolve(context.Background(), "example.test/opt/unsigned:v1")
	if e := wantKind(t, err, ErrSignatureMissing); !strings.Contains(e.Error(), "--require-signature") {
		t.Errorf("error %q does not name --require-signature", e)
	}
	// A name with no key published and none configured cannot be verified.
	_, err = strict.Resolve(context.Background(), "example.test/free/app:v1")
	wantKind(t, err, ErrNoUsableKey)

	// Nobody requires, nothing applies: nothing is checked or fetched.
	l.reg.ResetRequests()
	if res := mustResolve(t, l.resolver(t), "example.test/free/app:v1"); res.Signature != nil {
		t.Errorf("a name without keys was checked: %+v", res.Signature)
	}
	for _, q := range l.reg.Log() {
		if strings.Contains(q.Path, ".sig") || strings.Contains(q.Path, "/referrers/") {
			t.Errorf("signature request for a name without keys: %s %s", q.Method, q.Path)
		}
	}
}
