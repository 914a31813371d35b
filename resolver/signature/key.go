package signature

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Algorithm names a key algorithm as published (the k= of a v=ocisig1
// record, the alg of a well-known key).
type Algorithm string

// The algorithms cosign signs with and this package verifies.
const (
	// ECDSAP256 is ECDSA over NIST P-256; cosign signs SHA-256 of the
	// message and encodes the signature in ASN.1 DER.
	ECDSAP256 Algorithm = "ecdsa-p256"
	// Ed25519 is Ed25519ph (RFC 8032 §5.1, SHA-512 pre-hash, empty
	// context): cosign's default for Ed25519 keys. Pure Ed25519 signatures
	// (cosign before v2.3) do not verify.
	Ed25519 Algorithm = "ed25519"
)

// Known reports whether a is an algorithm this package verifies.
func (a Algorithm) Known() bool { return a == ECDSAP256 || a == Ed25519 }

// Source says where a key came from; results carry it so a reader knows
// on whose authority a signature was accepted.
type Source string

// Key sources. Keys are used only from these: a DNSSEC-secure TXT RRset,
// a well-known document fetched over verified TLS, or local configuration.
const (
	SourceDNS    Source = "dns"
	SourceHTTPS  Source = "https"
	SourceConfig Source = "config"
)

// Errors of the key parsers, wrapped by *KeyError.
var (
	// ErrKeyMalformed: the bytes are not a public key in the expected
	// encoding (bad base64, not DER SubjectPublicKeyInfo, trailing bytes,
	// not canonical, a private key or a certificate instead).
	ErrKeyMalformed = errors.New("malformed public key")
	// ErrKeyUnsupported: a well-formed public key of an algorithm or curve
	// this package does not verify (RSA, P-384, X25519...), or one that
	// does not match the algorithm it was published under.
	ErrKeyUnsupported = errors.New("unsupported public key")
)

// KeyError is a key that cannot be used: what was being parsed ("p= value",
// "PEM file cosign.pub"), the byte offset of the fault in that input (-1
// when the fault has no place), and the cause, which wraps ErrKeyMalformed
// or ErrKeyUnsupported.
type KeyError struct {
	Input  string
	Offset int
	Err    error
}

// Error names the input, the offset and the cause.
func (e *KeyError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%s: %v", e.Input, e.Err)
	}
	return fmt.Sprintf("%s: at offset %d: %v", e.Input, e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *KeyError) Unwrap() error { return e.Err }

func keyErr(input string, off int, kind error, format string, args ...any) error {
	return &KeyError{Input: input, Offset: off, Err: fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))}
}

// Key is a parsed public key that signatures are verified with. It is
// immutable and safe for concurrent use.
type Key struct {
	alg    Algorithm
	der    []byte
	sum    [sha256.Size]byte
	source Source
	ec     *ecdsa.PublicKey
	ed     ed25519.PublicKey
}

// ParseKey parses der, a DER-encoded SubjectPublicKeyInfo (RFC 5280
// §4.1.2.7), as a key of algorithm alg ("" accepts either known
// algorithm). Nothing may follow it; encoding/asn1 and crypto/x509 accept
// DER only (an uncompressed point, Ed25519 without parameters), so a key
// has one encoding and one ID. Errors are a *KeyError.
func ParseKey(alg Algorithm, der []byte, src Source) (*Key, error) {
	return parseDER(alg, der, src, "public key")
}

// ParseKeyBase64 parses the standard base64 (RFC 4648 §4, padded) of a DER
// SubjectPublicKeyInfo, as published in p= or "spki". A bad character is
// reported at its offset.
func ParseKeyBase64(alg Algorithm, b64 string, src Source) (*Key, error) {
	const input = "base64 public key"
	if b64 == "" {
		return nil, keyErr(input, -1, ErrKeyMalformed, "empty")
	}
	der, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, keyErr(input, int(ce), ErrKeyMalformed, "not standard base64 (RFC 4648 §4, with padding)")
		}
		return nil, keyErr(input, -1, ErrKeyMalformed, "not standard base64: %v", err)
	}
	return parseDER(alg, der, src, input)
}

// ParsePEM parses a PEM file holding one "PUBLIC KEY" block, such as
// cosign.pub from `cosign generate-key-pair`. Text before and after the
// block is not allowed (only white space), nor a second block.
func ParsePEM(data []byte, src Source) (*Key, error) {
	const input = "PEM public key"
	start := bytes.Index(data, []byte("-----BEGIN "))
	if start < 0 {
		return nil, keyErr(input, -1, ErrKeyMalformed, "no PEM block (want -----BEGIN PUBLIC KEY-----)")
	}
	if lead := bytes.TrimSpace(data[:start]); len(lead) > 0 {
		return nil, keyErr(input, 0, ErrKeyMalformed, "text before the PEM block")
	}
	block, rest := pem.Decode(data[start:])
	if block == nil {
		return nil, keyErr(input, start, ErrKeyMalformed, "PEM block is not well formed (header, base64 body and matching END line)")
	}
	if tail := bytes.TrimSpace(rest); len(tail) > 0 {
		off := len(data) - len(bytes.TrimLeft(rest, " \t\r\n"))
		if bytes.HasPrefix(tail, []byte("-----BEGIN ")) {
			return nil, keyErr(input, off, ErrKeyMalformed, "a second PEM block: want exactly one PUBLIC KEY")
		}
		return nil, keyErr(input, off, ErrKeyMalformed, "text after the PEM block")
	}
	switch {
	case block.Type == "PUBLIC KEY":
	case strings.Contains(block.Type, "PRIVATE KEY"):
		return nil, keyErr(input, start, ErrKeyMalformed, "%q is a private key: publish the public key (cosign.pub, not cosign.key)", block.Type)
	case block.Type == "CERTIFICATE":
		return nil, keyErr(input, start, ErrKeyMalformed, "a CERTIFICATE block: want the PUBLIC KEY block of a key pair")
	default:
		return nil, keyErr(input, start, ErrKeyMalformed, "PEM block %q: want \"PUBLIC KEY\"", block.Type)
	}
	if len(block.Headers) > 0 {
		return nil, keyErr(input, start, ErrKeyMalformed, "PEM headers in a PUBLIC KEY block")
	}
	return parseDER("", block.Bytes, src, input)
}

// MaxPEMFileBytes bounds a key file ReadPEMFile reads: a PEM public key
// is a few hundred bytes.
const MaxPEMFileBytes = 64 << 10

// ReadPEMFile reads the file at path, at most MaxPEMFileBytes, and parses it
// with ParsePEM (a `cosign.pub`, for --trust-key and records --signing-key).
// Errors name the file.
func ReadPEMFile(path string, src Source) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPEMFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxPEMFileBytes {
		return nil, fmt.Errorf("%s: over %d KiB: not a PEM public key", path, MaxPEMFileBytes>>10)
	}
	k, err := ParsePEM(data, src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func parseDER(alg Algorithm, der []byte, src Source, input string) (*Key, error) {
	if alg != "" && !alg.Known() {
		return nil, keyErr(input, -1, ErrKeyUnsupported, "algorithm %q: known are %s and %s", alg, ECDSAP256, Ed25519)
	}
	if len(der) == 0 {
		return nil, keyErr(input, -1, ErrKeyMalformed, "empty")
	}
	var outer asn1.RawValue
	rest, err := asn1.Unmarshal(der, &outer)
	if err != nil || outer.Class != asn1.ClassUniversal || outer.Tag != asn1.TagSequence {
		return nil, keyErr(input, 0, ErrKeyMalformed, "not DER: want a SubjectPublicKeyInfo SEQUENCE")
	}
	if len(rest) > 0 {
		return nil, keyErr(input, len(der)-len(rest), ErrKeyMalformed, "%d bytes after the SubjectPublicKeyInfo", len(rest))
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		switch {
		case isCertificate(der):
			return nil, keyErr(input, 0, ErrKeyMalformed, "an X.509 certificate: want its SubjectPublicKeyInfo")
		case isPrivateKey(der):
			return nil, keyErr(input, 0, ErrKeyMalformed, "a private key: publish the public key")
		case strings.Contains(err.Error(), "unknown public key algorithm"):
			return nil, keyErr(input, 0, ErrKeyUnsupported, "a public key of an unknown algorithm: known are %s and %s", ECDSAP256, Ed25519)
		}
		return nil, keyErr(input, 0, ErrKeyMalformed, "not a SubjectPublicKeyInfo: %v", err)
	}
	k := &Key{source: src}
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return nil, keyErr(input, -1, ErrKeyUnsupported, "ECDSA key on curve %s: want P-256 (%s)", pub.Curve.Params().Name, ECDSAP256)
		}
		k.alg, k.ec = ECDSAP256, pub
	case ed25519.PublicKey:
		k.alg, k.ed = Ed25519, pub
	case *rsa.PublicKey:
		return nil, keyErr(input, -1, ErrKeyUnsupported, "an RSA key (%d bits): known are %s and %s", pub.N.BitLen(), ECDSAP256, Ed25519)
	default:
		return nil, keyErr(input, -1, ErrKeyUnsupported, "a %T: known are %s and %s", pub, ECDSAP256, Ed25519)
	}
	if alg != "" && alg != k.alg {
		return nil, keyErr(input, -1, ErrKeyUnsupported, "published as %s but the key is %s", alg, k.alg)
	}
	k.der = bytes.Clone(der)
	k.sum = sha256.Sum256(der)
	return k, nil
}

func isCertificate(der []byte) bool { _, err := x509.ParseCertificate(der); return err == nil }

func isPrivateKey(der []byte) bool {
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParseECPrivateKey(der); err == nil {
		return true
	}
	_, err := x509.ParsePKCS1PrivateKey(der)
	return err == nil
}

// Algorithm returns the key's algorithm.
func (k *Key) Algorithm() Algorithm { return k.alg }

// Source returns where the key came from.
func (k *Key) Source() Source { return k.source }

// DER returns a copy of the key's DER SubjectPublicKeyInfo.
func (k *Key) DER() []byte { return bytes.Clone(k.der) }

// ID returns the key ID: the lowercase hex SHA-256 of the DER
// SubjectPublicKeyInfo. It names the same digest as cosign's bundle hint
// (which is that digest in standard base64; see Hint).
func (k *Key) ID() string { return hex.EncodeToString(k.sum[:]) }

// Hint returns the key as sigstore bundles name it in
// verificationMaterial.publicKey.hint: the standard base64 of the SHA-256
// of the DER SubjectPublicKeyInfo.
func (k *Key) Hint() string { return base64.StdEncoding.EncodeToString(k.sum[:]) }

// String names the algorithm, the ID and the source.
func (k *Key) String() string { return fmt.Sprintf("%s key %s (%s)", k.alg, k.ID(), k.source) }

// matchesHint reports whether hint names this key. The hint is not
// authenticated; it only orders the keys tried.
func (k *Key) matchesHint(hint string) bool {
	b, err := base64.StdEncoding.DecodeString(hint)
	return err == nil && bytes.Equal(b, k.sum[:])
}

// digests holds a message's SHA-256 and SHA-512, each computed once, when
// first asked for.
type digests struct {
	msg        []byte
	s256, s512 []byte
}

func (d *digests) sha256() []byte {
	if d.s256 == nil {
		s := sha256.Sum256(d.msg)
		d.s256 = s[:]
	}
	return d.s256
}

func (d *digests) sha512() []byte {
	if d.s512 == nil {
		s := sha512.Sum512(d.msg)
		d.s512 = s[:]
	}
	return d.s512
}

// verify reports whether sig is this key's signature over the message, as
// cosign signs: ECDSA P-256 over SHA-256, ASN.1 DER; Ed25519ph over
// SHA-512.
func (k *Key) verify(m *digests, sig []byte) bool {
	switch k.alg {
	case ECDSAP256:
		return ecdsa.VerifyASN1(k.ec, m.sha256(), sig)
	case Ed25519:
		return ed25519.VerifyWithOptions(k.ed, m.sha512(), sig, &ed25519.Options{Hash: crypto.SHA512}) == nil
	}
	return false
}
