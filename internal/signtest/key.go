// Package signtest signs images as cosign v2.6.5 does, for tests: it makes
// key pairs like `cosign generate-key-pair` (ECDSA P-256) and like an
// imported Ed25519 key, writes cosign's tag format (simple-signing layers
// at tag sha256-<hex>.sig) and bundle format (a sigstore bundle v0.3 in a
// referrer manifest, which go-containerregistry also records under the
// referrers tag schema's tag when the registry has no referrers API), and
// pushes them to any registry through registrytest.Target. Options make
// the bad cases: a payload for another digest or repository, a payload
// changed after signing, oversized signatures.
//
// It also reads them back: RegistryFetcher implements signature.Fetcher
// over the distribution API, and Memo keeps what a Fetcher read, for
// benchmarks without the network.
package signtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"testing"

	"github.com/ocidns/ocidns/resolver/signature"
)

// Key is a signing key pair.
type Key struct {
	Alg signature.Algorithm
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
}

// NewKey derives a key pair of algorithm alg from seed: equal seeds give
// equal keys in every run, so key IDs are stable.
func NewKey(alg signature.Algorithm, seed string) (*Key, error) {
	h := sha256.Sum256([]byte("signtest " + string(alg) + " " + seed))
	switch alg {
	case signature.ECDSAP256:
		for {
			// A scalar out of range has probability about 2^-32; hash again.
			if priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), h[:]); err == nil {
				return &Key{Alg: alg, ec: priv}, nil
			}
			h = sha256.Sum256(h[:])
		}
	case signature.Ed25519:
		return &Key{Alg: alg, ed: ed25519.NewKeyFromSeed(h[:])}, nil
	}
	return nil, fmt.Errorf("signtest: unknown algorithm %q", alg)
}

// MustKey is NewKey failing the test on error.
func MustKey(t testing.TB, alg signature.Algorithm, seed string) *Key {
	t.Helper()
	k, err := NewKey(alg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (k *Key) public() crypto.PublicKey {
	if k.ec != nil {
		return &k.ec.PublicKey
	}
	return k.ed.Public()
}

// PublicDER returns the DER SubjectPublicKeyInfo of the public key.
func (k *Key) PublicDER() []byte {
	der, err := x509.MarshalPKIXPublicKey(k.public())
	if err != nil {
		panic(err) // both key types always marshal
	}
	return der
}

// PublicBase64 returns the standard base64 of PublicDER, as published in
// p= and "spki".
func (k *Key) PublicBase64() string { return base64.StdEncoding.EncodeToString(k.PublicDER()) }

// PublicPEM returns the public key as cosign.pub holds it.
func (k *Key) PublicPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: k.PublicDER()})
}

// ID returns the key ID: hex SHA-256 of PublicDER.
func (k *Key) ID() string {
	s := sha256.Sum256(k.PublicDER())
	return hex.EncodeToString(s[:])
}

// Hint returns cosign's bundle hint: standard base64 of SHA-256 of
// PublicDER.
func (k *Key) Hint() string {
	s := sha256.Sum256(k.PublicDER())
	return base64.StdEncoding.EncodeToString(s[:])
}

// Verifier returns the public key parsed as signature.ParseKey does.
func (k *Key) Verifier(src signature.Source) (*signature.Key, error) {
	return signature.ParseKey(k.Alg, k.PublicDER(), src)
}

// MustVerifier is Verifier failing the test on error.
func (k *Key) MustVerifier(t testing.TB, src signature.Source) *signature.Key {
	t.Helper()
	v, err := k.Verifier(src)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Sign signs msg as cosign does with this key: ECDSA P-256 over SHA-256,
// ASN.1 DER; Ed25519ph over SHA-512 (sigstore's default load option for
// Ed25519 keys).
func (k *Key) Sign(msg []byte) ([]byte, error) {
	if k.ec != nil {
		h := sha256.Sum256(msg)
		return ecdsa.SignASN1(rand.Reader, k.ec, h[:])
	}
	h := sha512.Sum512(msg)
	return k.ed.Sign(nil, h[:], &ed25519.Options{Hash: crypto.SHA512})
}
