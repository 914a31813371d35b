package signature_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// A key's ID is the hex SHA-256 of its DER SubjectPublicKeyInfo, and its
// hint the same digest in standard base64, which is what sigstore-go and
// cosign write as verificationMaterial.publicKey.hint.
func TestKeyIDAndHint(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(string(alg), func(t *testing.T) {
			sk := signtest.MustKey(t, alg, "owner")
			for _, parse := range []func() (*signature.Key, error){
				func() (*signature.Key, error) { return signature.ParseKey(alg, sk.PublicDER(), signature.SourceDNS) },
				func() (*signature.Key, error) { return signature.ParseKey("", sk.PublicDER(), signature.SourceDNS) },
				func() (*signature.Key, error) {
					return signature.ParseKeyBase64(alg, sk.PublicBase64(), signature.SourceDNS)
				},
				func() (*signature.Key, error) { return signature.ParsePEM(sk.PublicPEM(), signature.SourceDNS) },
			} {
				k, err := parse()
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(sk.PublicDER())
				if k.ID() != hex.EncodeToString(sum[:]) || k.Hint() != base64.StdEncoding.EncodeToString(sum[:]) {
					t.Errorf("ID %s hint %s, want sha256 of the DER", k.ID(), k.Hint())
				}
				if k.Algorithm() != alg || k.Source() != signature.SourceDNS || string(k.DER()) != string(sk.PublicDER()) {
					t.Errorf("key %v", k)
				}
			}
		})
	}
}

// Keys that cannot be used are refused with an error that names what is
// wrong, and where.
func TestUnusableKeysAreRefused(t *testing.T) {
	ecDER := signtest.MustKey(t, signature.ECDSAP256, "k").PublicDER()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(edPriv)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"}}
	cert, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, edPub, edPriv)

	for _, c := range []struct {
		name    string
		alg     signature.Algorithm
		der     []byte
		b64     string
		wantErr error
		wantMsg string
	}{
		{"P-384", "", p384DER, "", signature.ErrKeyUnsupported, "curve P-384"},
		{"RSA", "", rsaDER, "", signature.ErrKeyUnsupported, "an RSA key (2048 bits)"},
		{"published under another algorithm", signature.Ed25519, ecDER, "", signature.ErrKeyUnsupported, "published as ed25519 but the key is ecdsa-p256"},
		{"unknown algorithm", "rsa-2048", ecDER, "", signature.ErrKeyUnsupported, `algorithm "rsa-2048"`},
		{"trailing bytes", "", append(append([]byte{}, ecDER...), 0, 0), "", signature.ErrKeyMalformed, "2 bytes after the SubjectPublicKeyInfo"},
		{"not DER", "", []byte("hello"), "", signature.ErrKeyMalformed, "not DER"},
		{"truncated", "", ecDER[:60], "", signature.ErrKeyMalformed, "not DER"},
		{"a private key", "", pkcs8, "", signature.ErrKeyMalformed, "a private key"},
		{"a certificate", "", cert, "", signature.ErrKeyMalformed, "an X.509 certificate"},
		{"empty", "", []byte{}, "", signature.ErrKeyMalformed, "empty"},
		{"bad base64", "", nil, base64.StdEncoding.EncodeToString(ecDER)[:20] + "*" + base64.StdEncoding.EncodeToString(ecDER)[21:], signature.ErrKeyMalformed, "not standard base64"},
		{"unpadded base64", "", nil, strings.TrimRight(base64.StdEncoding.EncodeToString(ecDER), "="), signature.ErrKeyMalformed, "not standard base64"},
		{"empty base64", "", nil, "", signature.ErrKeyMalformed, "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.der != nil {
				_, err = signature.ParseKey(c.alg, c.der, signature.SourceDNS)
			} else {
				_, err = signature.ParseKeyBase64(c.alg, c.b64, signature.SourceDNS)
			}
			var ke *signature.KeyError
			if !errors.Is(err, c.wantErr) || !errors.As(err, &ke) || !strings.Contains(err.Error(), c.wantMsg) {
				t.Fatalf("error %v, want %v containing %q", err, c.wantErr, c.wantMsg)
			}
			if want := map[string]int{"trailing bytes": 91, "bad base64": 20}[c.name]; want != 0 && ke.Offset != want {
				t.Errorf("offset %d, want %d", ke.Offset, want)
			}
		})
	}
}

// PEM files: cosign.pub parses; cosign.key, a certificate, two blocks or
// stray text are refused with a reason.
func TestParsePEM(t *testing.T) {
	pub := signtest.MustKey(t, signature.Ed25519, "k").PublicPEM()
	block := func(typ string) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: []byte{1, 2, 3}}) }
	for _, c := range []struct {
		name, pem, wantMsg string
	}{
		{"cosign.pub", string(pub), ""},
		{"surrounding white space", "\n\n" + string(pub) + "\n\n", ""},
		{"cosign.key", string(block("ENCRYPTED SIGSTORE PRIVATE KEY")), "is a private key"},
		{"certificate", string(block("CERTIFICATE")), "a CERTIFICATE block"},
		{"other type", string(block("RSA PUBLIC KEY")), `PEM block "RSA PUBLIC KEY"`},
		{"two blocks", string(pub) + string(pub), "a second PEM block"},
		{"text after", string(pub) + "trailing", "text after the PEM block"},
		{"text before", "key:\n" + string(pub), "text before the PEM block"},
		{"no block", "MCowBQYDK2VwAyEA", "no PEM block"},
		{"broken block", "-----BEGIN PUBLIC KEY-----\n!!!\n", "not well formed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := signature.ParsePEM([]byte(c.pem), signature.SourceConfig)
			if c.wantMsg == "" {
				if err != nil || k.Source() != signature.SourceConfig {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, signature.ErrKeyMalformed) || !strings.Contains(err.Error(), c.wantMsg) {
				t.Fatalf("error %v, want one containing %q", err, c.wantMsg)
			}
		})
	}
}
