package discovery

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// testKeyDER returns a deterministic DER SubjectPublicKeyInfo.
func testKeyDER(t testing.TB, alg, seed string) []byte {
	t.Helper()
	h := sha256.Sum256([]byte(seed))
	var pub any
	switch alg {
	case KeyAlgEd25519:
		pub = ed25519.NewKeyFromSeed(h[:]).Public()
	case KeyAlgECDSAP256:
		priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), h[:])
		if err != nil {
			t.Fatal(err)
		}
		pub = &priv.PublicKey
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Valid v=ocisig1 records, as the grammar and its rules say: keys and
// known values case-insensitive, unknown keys ignored, sign= optional by
// default, an unknown k= kept without a usable key, an empty p= revoking.
func TestParseSignerTXT(t *testing.T) {
	ec := testKeyDER(t, KeyAlgECDSAP256, "owner")
	ed := testKeyDER(t, KeyAlgEd25519, "owner")
	for _, c := range []struct {
		name, record string
		want         PublishedKey
		usable       bool
	}{
		{"canonical", "v=ocisig1; prefix=org; k=ecdsa-p256; p=" + b64(ec) + "; sign=required",
			PublishedKey{Prefix: "org", Sign: SignRequired, Alg: KeyAlgECDSAP256, DER: ec}, true},
		{"whole host, sign absent", "v=ocisig1; k=ed25519; p=" + b64(ed),
			PublishedKey{Alg: KeyAlgEd25519, DER: ed}, true},
		{"empty prefix", "v=ocisig1; prefix=; k=ed25519; p=" + b64(ed) + "; sign=optional",
			PublishedKey{Alg: KeyAlgEd25519, DER: ed}, true},
		{"case and spacing", " V = OCISIG1 ;Prefix=org/team;  K=ECDSA-P256 ;P=" + b64(ec) + ";SIGN=Required;",
			PublishedKey{Prefix: "org/team", Sign: SignRequired, Alg: KeyAlgECDSAP256, DER: ec}, true},
		{"unknown keys ignored", "v=ocisig1; k=ed25519; note=rotated 2026; p=" + b64(ed) + "; x-y=1",
			PublishedKey{Alg: KeyAlgEd25519, DER: ed}, true},
		{"unknown algorithm", "v=ocisig1; prefix=org; k=ml-dsa-65; p=AAAA-not-base64; sign=required",
			PublishedKey{Prefix: "org", Sign: SignRequired, Alg: "ml-dsa-65"}, false},
		{"revocation", "v=ocisig1; prefix=org; k=ecdsa-p256; p=",
			PublishedKey{Prefix: "org", Alg: KeyAlgECDSAP256, Revoked: true}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseSignerTXT(c.record)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			c.want.Record = c.record
			if k.Prefix != c.want.Prefix || k.Sign != c.want.Sign || k.Alg != c.want.Alg || !bytes.Equal(k.DER, c.want.DER) ||
				k.Revoked != c.want.Revoked || k.Record != c.want.Record || k.Usable() != c.usable {
				t.Errorf("got %+v (usable %v), want %+v (usable %v)", k, k.Usable(), c.want, c.usable)
			}
		})
	}
}

// Malformed v=ocisig1 records are errors naming the key and its offset.
func TestParseSignerTXTMalformed(t *testing.T) {
	ec := b64(testKeyDER(t, KeyAlgECDSAP256, "owner"))
	for _, c := range []struct {
		name, record, key, msg string
		offset                 int
	}{
		{"no k", "v=ocisig1; p=" + ec, "", "no k=", -1},
		{"no p", "v=ocisig1; k=ecdsa-p256", "", "no p=", -1},
		{"duplicate k", "v=ocisig1; k=ecdsa-p256; K=ed25519; p=" + ec, "K", "duplicated key (first at offset 11)", 25},
		{"duplicate unknown key", "v=ocisig1; x=1; k=ed25519; X=2; p=" + ec, "X", "duplicated key", 27},
		{"bad sign", "v=ocisig1; k=ecdsa-p256; p=" + ec + "; sign=always", "sign", `"always": want required or optional`, -1},
		{"bad base64", "v=ocisig1; k=ecdsa-p256; p=" + ec[:10] + "!" + ec[11:], "p", "bad data at byte 10", 25},
		{"unpadded base64", "v=ocisig1; k=ecdsa-p256; p=" + strings.TrimRight(ec, "="), "p", "not standard base64", 25},
		{"missing ';'", "v=ocisig1; k=ecdsa-p256 p=" + ec, "k", "contains whitespace", 11},
		{"missing ';' after version", "v=ocisig1 k=ecdsa-p256; p=" + ec, "v", `must be followed by ";"`, 0},
		{"bad prefix", "v=ocisig1; prefix=Org; k=ecdsa-p256; p=" + ec, "prefix", "", 11},
		{"bad algorithm", "v=ocisig1; k=ecdsa_p256; p=" + ec, "k", "invalid character '_'", 11},
		{"empty algorithm", "v=ocisig1; k=; p=" + ec, "k", "empty algorithm", 11},
		{"not key=value", "v=ocisig1; k=ed25519; p=" + ec + "; required", "", "is not key=value", -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSignerTXT(c.record)
			var re *RecordError
			if !errors.As(err, &re) || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want a *RecordError containing %q", err, c.msg)
			}
			if re.Key != c.key || c.offset >= 0 && re.Offset != c.offset {
				t.Errorf("key %q offset %d, want %q at %d", re.Key, re.Offset, c.key, c.offset)
			}
		})
	}
}

// The two record kinds share the TXT RRset and ignore each other: a v=oci1
// parser skips v=ocisig1 records as another version, and the signer parser
// skips mappings and other protocols.
func TestSignerAndMappingRecordsIgnoreEachOther(t *testing.T) {
	sig := "v=ocisig1; prefix=org; k=ed25519; p=" + b64(testKeyDER(t, KeyAlgEd25519, "owner")) + "; sign=required"
	if _, err := ParseTXT(sig, ParseOptions{}); !errors.Is(err, ErrNotOCI) {
		t.Errorf("ParseTXT(v=ocisig1 record) = %v, want ErrNotOCI", err)
	}
	for _, r := range []string{"v=oci1; registry=https://r.example", "v=spf1 -all", "", "v=ocisig2; k=x; p=", "k=ed25519; v=ocisig1"} {
		if _, err := ParseSignerTXT(r); !errors.Is(err, ErrNotOCISig) {
			t.Errorf("ParseSignerTXT(%q) = %v, want ErrNotOCISig", r, err)
		}
	}
}

// A published key formats to canonical text that parses back to it, and
// the TXT record splits it into strings of at most 255 bytes that join
// back to the text.
func TestSignerTXTRoundTrip(t *testing.T) {
	long := strings.Repeat("team/", 40) + "app"
	for _, k := range []PublishedKey{
		{Prefix: "org", Sign: SignRequired, Alg: KeyAlgECDSAP256, DER: testKeyDER(t, KeyAlgECDSAP256, "a")},
		{Alg: KeyAlgEd25519, DER: testKeyDER(t, KeyAlgEd25519, "b")},
		{Prefix: "org/legacy", Alg: KeyAlgEd25519, Revoked: true, Sign: SignRequired},
		{Prefix: long, Alg: KeyAlgECDSAP256, DER: testKeyDER(t, KeyAlgECDSAP256, "c")},
	} {
		rr, err := SignerTXTRecord("Example.COM.", 300, k)
		if err != nil {
			t.Fatal(err)
		}
		if rr.Hdr.Name != "_oci-discovery.example.com." || rr.Hdr.Rrtype != dns.TypeTXT {
			t.Errorf("owner %s type %d", rr.Hdr.Name, rr.Hdr.Rrtype)
		}
		for _, s := range rr.Txt {
			if len(s) > 255 {
				t.Errorf("a %d-byte string", len(s))
			}
		}
		text := TXTString(rr)
		if text != FormatSignerTXT(k) {
			t.Errorf("record text %q, want %q", text, FormatSignerTXT(k))
		}
		got, err := ParseSignerTXT(text)
		if err != nil {
			t.Fatal(err)
		}
		if got.Prefix != k.Prefix || got.Sign != k.Sign || got.Alg != k.Alg || !bytes.Equal(got.DER, k.DER) || got.Revoked != k.Revoked {
			t.Errorf("round trip %+v, want %+v", got, k)
		}
	}
	for _, bad := range []PublishedKey{{Alg: "rsa", DER: []byte{1}}, {Alg: KeyAlgEd25519}, {Prefix: "/x", Alg: KeyAlgEd25519, Revoked: true}} {
		if _, err := SignerTXTRecord("example.com", 300, bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("SignerTXTRecord(%+v) = %v, want ErrMalformed", bad, err)
		}
	}
}
