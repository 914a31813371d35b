package check

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// withRecords adds zone lines to the lab's signed (example.com) or
// unsigned (other.test) zone.
func withRecords(signed bool, lines string) func(*dnstest.Config) {
	return func(c *dnstest.Config) {
		for i := range c.Zones {
			if c.Zones[i].Sign == signed {
				c.Zones[i].Text += lines
			}
		}
	}
}

// TestSignerFindings pins what check says about v=ocisig1 records: each
// as clients parse it (docs/protocol.md §15.1), whether its key parses as
// a key of its algorithm, and whether clients take keys from the RRset.
func TestSignerFindings(t *testing.T) {
	key := signtest.MustKey(t, signature.ECDSAP256, "owner")
	signed := strings.NewReplacer("{{KEY}}", key.PublicBase64()).Replace(`
_oci-discovery.signers TXT "v=oci1; registry=https://reg.example.com/signers"
_oci-discovery.signers TXT "v=ocisig1; prefix=org; k=ecdsa-p256; p={{KEY}}; sign=required"
_oci-discovery.signers TXT "v=ocisig1; prefix=org/legacy; k=ecdsa-p256; p=; sign=required"
_oci-discovery.signers TXT "v=ocisig1; prefix=later; k=ml-dsa-65; p=AAAA"
_oci-discovery.signers TXT "v=ocisig1; prefix=bad; k=ecdsa-p256; p=AAAA"
_oci-discovery.signers TXT "v=ocisig1; prefix=twice; k=ecdsa-p256; k=ed25519; p={{KEY}}"
`)
	unsigned := strings.NewReplacer("{{KEY}}", key.PublicBase64()).Replace(`
_oci-discovery.keys TXT "v=ocisig1; k=ecdsa-p256; p={{KEY}}; sign=required"
_oci-discovery.optkeys TXT "v=ocisig1; k=ecdsa-p256; p={{KEY}}"
`)
	l := newLab(t, nil, withRecords(true, signed), withRecords(false, unsigned))
	for _, tt := range []struct {
		host   string
		want   []string
		wantNo []string
	}{
		// A key in a signed RRset, a revocation, a later algorithm, bytes
		// that are no key, and a record that breaks the grammar. A
		// v=ocisig1 record is not an ignored version of v=oci1.
		{host: "signers.example.com",
			want:   []string{"info SIGNER_KEY", "info SIGNER_REVOKED", "warning SIGNER_ALG_UNKNOWN", "error SIGNER_KEY_UNUSABLE", "error SIGNER_MALFORMED", "info TXT_MAPPING"},
			wantNo: []string{CodeTXTIgnoredVersion, CodeSignerUnauthenticated, CodeTXTMalformed}},
		// Keys clients ignore: sign=required is not enforced.
		{host: "keys.other.test", want: []string{"error SIGNER_UNAUTHENTICATED"}},
		{host: "optkeys.other.test", want: []string{"warning SIGNER_UNAUTHENTICATED"}},
	} {
		t.Run(tt.host, func(t *testing.T) {
			fs := l.check(t, tt.host, func(c *Config) { c.NoRegistryProbe = true })
			want(t, fs, tt.want...)
			wantNo(t, fs, tt.wantNo...)
			if f, ok := find(fs, CodeSignerKey); ok && !strings.Contains(f.Message, key.ID()) {
				t.Errorf("SIGNER_KEY %q does not name key %s", f.Message, key.ID())
			}
		})
	}
}

// A TXT answer over the 1232 bytes clients take over UDP is a warning:
// it is truncated and asked again over TCP.
func TestTXTLargeAnswer(t *testing.T) {
	key := signtest.MustKey(t, signature.ECDSAP256, "owner")
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, "_oci-discovery.big TXT \"v=ocisig1; prefix=p%d; k=ecdsa-p256; p=%s\"\n", i, key.PublicBase64())
	}
	l := newLab(t, nil, withRecords(true, "\n"+b.String()))
	fs := l.check(t, "big.example.com", func(c *Config) { c.NoRegistryProbe = true })
	want(t, fs, "warning TXT_LARGE")
	wantNo(t, l.check(t, "good.example.com", nil), CodeTXTLarge)
}

// The well-known document's "signers" are judged as the TXT keys are; a
// malformed member makes the whole document invalid, as clients read it.
func TestWellKnownSignerFindings(t *testing.T) {
	key := signtest.MustKey(t, signature.Ed25519, "owner")
	l := newLab(t, map[string]http.Handler{
		"wksign.example.com": doc(`{"version": 1, "signers": [{"prefix": "org", "sign": "required", "keys": [{"alg": "ed25519", "spki": "` + key.PublicBase64() + `"}]}],
			"namespaces": [{"registries": [{"url": "https://{{REG}}/wk"}]}]}`),
		"wkbadsign.example.com": doc(`{"version": 1, "signers": [{"sign": "always", "keys": [{"alg": "ed25519", "spki": ""}]}],
			"namespaces": [{"registries": [{"url": "https://{{REG}}/wk"}]}]}`),
	})
	fs := l.check(t, "wksign.example.com", func(c *Config) { c.NoRegistryProbe = true })
	want(t, fs, "info WELLKNOWN_OK", "info SIGNER_KEY")
	wantNo(t, fs, CodeSignerUnauthenticated)
	if f, _ := find(fs, CodeSignerKey); !strings.Contains(f.Message, key.ID()) || !strings.Contains(f.Message, "sign=required") {
		t.Errorf("SIGNER_KEY %q", f.Message)
	}
	want(t, l.check(t, "wkbadsign.example.com", func(c *Config) { c.NoRegistryProbe = true }), "error WELLKNOWN_INVALID")
}
