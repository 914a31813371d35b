package discovery

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseSignerTXT: no input panics or hangs; every error is
// ErrNotOCISig or a *RecordError pointing inside the record; a valid
// record's canonical form parses back to the same key.
func FuzzParseSignerTXT(f *testing.F) {
	for _, s := range []string{
		"v=ocisig1; prefix=org; k=ecdsa-p256; p=" + b64(testKeyDER(f, KeyAlgECDSAP256, "a")) + "; sign=required",
		"v=ocisig1; k=ed25519; p=" + b64(testKeyDER(f, KeyAlgEd25519, "b")),
		"v=ocisig1; k=future; p=xyz",
		"v=ocisig1; k=ed25519; p=",
		"V=OCISIG1;K=ED25519;P=;x=1;X=2",
		"v=ocisig1 k=ed25519",
		"v=oci1; registry=https://r.example",
		"", ";;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, record string) {
		k, err := ParseSignerTXT(record)
		if err != nil {
			var re *RecordError
			switch {
			case errors.Is(err, ErrNotOCISig):
			case errors.As(err, &re):
				if re.Offset < 0 || re.Offset > len(record) || !errors.Is(err, ErrMalformed) {
					t.Fatalf("bad error %v", err)
				}
			default:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !knownKeyAlg(k.Alg) {
			return // an unknown algorithm's p= is not kept
		}
		again, err := ParseSignerTXT(FormatSignerTXT(k))
		if err != nil || again.Prefix != k.Prefix || again.Sign != k.Sign || again.Alg != k.Alg ||
			again.Revoked != k.Revoked || !bytes.Equal(again.DER, k.DER) {
			t.Fatalf("canonical form of %q: %+v %v, want %+v", record, again, err, k)
		}
	})
}

// FuzzParseWellKnownSigners: no input panics or hangs; errors are
// *DocumentErrors with an offset inside the member.
func FuzzParseWellKnownSigners(f *testing.F) {
	for _, s := range []string{
		`[{"prefix":"org","sign":"required","keys":[{"alg":"ed25519","spki":"` + b64(testKeyDER(f, KeyAlgEd25519, "a")) + `"}]}]`,
		`[{"keys":[{"alg":"x","spki":""}]}]`, `null`, `[`, `[{"keys":[{"alg":"ed25519","alg":"x"}]}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, member []byte) {
		if _, err := ParseWellKnownSigners(member); err != nil {
			var de *DocumentError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > int64(len(member)) {
				t.Fatalf("bad error %v", err)
			}
		}
	})
}
