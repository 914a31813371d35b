package discovery

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// The well-known "signers" member: one PublishedKey per key, with the
// entry's prefix and sign; the rules of k= and p= for alg and spki.
func TestParseWellKnownSigners(t *testing.T) {
	ec := b64(testKeyDER(t, KeyAlgECDSAP256, "owner"))
	ed := b64(testKeyDER(t, KeyAlgEd25519, "owner"))
	member := `[
	  {"prefix": "org", "sign": "required", "keys": [{"alg": "ecdsa-p256", "spki": "` + ec + `"}, {"alg": "ED25519", "spki": "` + ed + `", "comment": "x"}]},
	  {"keys": [{"alg": "ml-dsa-65", "spki": "future"}], "note": {"a": [1]}},
	  {"prefix": "org/legacy", "sign": null, "keys": [{"alg": "ecdsa-p256", "spki": ""}]}
	]`
	keys, err := ParseWellKnownSigners([]byte(member))
	if err != nil {
		t.Fatal(err)
	}
	want := []PublishedKey{
		{Prefix: "org", Sign: SignRequired, Alg: KeyAlgECDSAP256},
		{Prefix: "org", Sign: SignRequired, Alg: KeyAlgEd25519},
		{Alg: "ml-dsa-65"},
		{Prefix: "org/legacy", Alg: KeyAlgECDSAP256, Revoked: true},
	}
	if len(keys) != len(want) {
		t.Fatalf("%d keys, want %d: %+v", len(keys), len(want), keys)
	}
	for i, w := range want {
		k := keys[i]
		if k.Prefix != w.Prefix || k.Sign != w.Sign || k.Alg != w.Alg || k.Revoked != w.Revoked || k.Usable() != (i < 2) {
			t.Errorf("key %d = %+v, want %+v", i, k, w)
		}
	}
	if !strings.Contains(keys[1].Record, "signers[0].keys[1]") || !bytes.Equal(keys[0].DER, testKeyDER(t, KeyAlgECDSAP256, "owner")) {
		t.Errorf("record %q", keys[1].Record)
	}
	if keys, err := ParseWellKnownSigners([]byte(" null ")); err != nil || len(keys) != 0 {
		t.Errorf("null: %v %v", keys, err)
	}
}

// Invalid "signers" members are *DocumentErrors naming the JSON path.
func TestParseWellKnownSignersMalformed(t *testing.T) {
	ec := b64(testKeyDER(t, KeyAlgECDSAP256, "owner"))
	for _, c := range []struct{ name, member, path, msg string }{
		{"not an array", `{"keys":[]}`, "signers", "want an array"},
		{"no keys", `[{"prefix":"org"}]`, "signers[0]", `no "keys"`},
		{"empty keys", `[{"keys":[]}]`, "signers[0].keys", "keys is empty"},
		{"no alg", `[{"keys":[{"spki":"` + ec + `"}]}]`, "signers[0].keys[0]", `no "alg"`},
		{"no spki", `[{"keys":[{"alg":"ed25519"}]}]`, "signers[0].keys[0]", `no "spki"`},
		{"bad sign", `[{"sign":"sometimes","keys":[{"alg":"ed25519","spki":""}]}]`, "signers[0].sign", "want required or optional"},
		{"bad prefix", `[{"prefix":"Org","keys":[{"alg":"ed25519","spki":""}]}]`, "signers[0].prefix", ""},
		{"bad base64", `[{"keys":[{"alg":"ecdsa-p256","spki":"` + ec[:5] + `*"}]}]`, "signers[0].keys[0].spki", "not standard base64"},
		{"duplicate member", `[{"keys":[{"alg":"ed25519","alg":"ecdsa-p256","spki":""}]}]`, "signers[0].keys[0].alg", "duplicated key"},
		{"spki a number", `[{"keys":[{"alg":"ed25519","spki":1}]}]`, "signers[0].keys[0].spki", "want a string"},
		{"trailing data", `[] []`, "signers", "data after"},
		{"not JSON", `[{`, "", "invalid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseWellKnownSigners([]byte(c.member))
			var de *DocumentError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want a *DocumentError containing %q", err, c.msg)
			}
			if c.path != "" && de.Path != c.path {
				t.Errorf("path %q, want %q", de.Path, c.path)
			}
			if de.Offset < 0 || de.Offset > int64(len(c.member)) {
				t.Errorf("offset %d outside the member", de.Offset)
			}
		})
	}
}

// A v1 client reading a document with "signers" sees its mappings
// unchanged: the member is an unknown field to ParseWellKnown.
func TestWellKnownSignersAreIgnoredByMappingParser(t *testing.T) {
	doc := `{"version": 1, "signers": [{"prefix": "org", "sign": "required", "keys": [{"alg": "ecdsa-p256", "spki": "` +
		b64(testKeyDER(t, KeyAlgECDSAP256, "owner")) + `"}]}],
	  "namespaces": [{"prefix": "org", "registries": [{"url": "https://r.example/org"}]}]}`
	ms, err := ParseWellKnown([]byte(doc), ParseOptions{})
	if err != nil || len(ms) != 1 || ms[0].Registry != "https://r.example/org" {
		t.Fatalf("ParseWellKnown = %+v, %v", ms, err)
	}
}

// A malformed "signers" member makes the whole document invalid, as a
// malformed namespace does: it may carry a sign=required, which must not
// be dropped while the mappings are used.
func TestMalformedSignersMakeTheDocumentInvalid(t *testing.T) {
	doc := `{"version": 1, "signers": [{"prefix": "org", "sign": "always", "keys": [{"alg": "ecdsa-p256", "spki": ""}]}],
	  "namespaces": [{"prefix": "org", "registries": [{"url": "https://r.example/org"}]}]}`
	ms, err := ParseWellKnown([]byte(doc), ParseOptions{})
	var de *DocumentError
	if !errors.As(err, &de) || de.Path != "signers[0].sign" || ms != nil {
		t.Fatalf("ParseWellKnown = %+v, %v; want a *DocumentError at signers[0].sign", ms, err)
	}
}
