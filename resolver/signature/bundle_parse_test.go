package signature

import (
	"encoding/base64"
	"strings"
	"testing"
)

// PAE of DSSE's own test vector (secure-systems-lab/dsse, protocol.md).
func TestPAEMatchesTheDSSEVector(t *testing.T) {
	got := string(pae("http://example.com/HelloWorld", []byte("hello world")))
	if want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"; got != want {
		t.Fatalf("PAE = %q, want %q", got, want)
	}
	if got := string(pae("", nil)); got != "DSSEv1 0  0 " {
		t.Fatalf("PAE of empties = %q", got)
	}
}

var (
	goodStatement = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + strings.Repeat("0", 64) +
		`"},"annotations":{}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`
	goodBundle = `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"aGludA=="}},` +
		`"dsseEnvelope":{"payload":"` + base64.StdEncoding.EncodeToString([]byte(goodStatement)) +
		`","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"c2ln"}]}}`
)

// The bundle is parsed as protojson would (exact member names, nothing
// unknown in the bundle and its verification material), the envelope as
// DSSE asks (unknown members ignored, either base64 alphabet), and never a
// member twice.
func TestParseBundle(t *testing.T) {
	repl := func(old, new string) string { return strings.Replace(goodBundle, old, new, 1) }
	payload64 := base64.StdEncoding.EncodeToString([]byte(goodStatement))
	for _, c := range []struct {
		name, bundle, wantErr string
	}{
		{"cosign's bundle", goodBundle, ""},
		{"log entries and timestamps", repl(`"publicKey":`, `"tlogEntries":[{"logIndex":"1"}],"timestampVerificationData":{},"publicKey":`), ""},
		{"no hint", repl(`"hint":"aGludA=="`, ``), ""},
		{"signatures past the bound are not read", repl(`[{"sig":"c2ln"}]`, `[{"sig":"c2ln"},{"sig":"eA=="},{"sig":"eA=="},{"sig":"eA=="},{"sig":"not base64!"}]`), ""},
		{"keyid and unknown envelope members", repl(`{"sig":"c2ln"}`, `{"sig":"c2ln","keyid":"k","x":1}`), ""},
		{"URL-safe unpadded payload", repl(payload64, strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(payload64), "=")), ""},
		{"unknown bundle member", repl(`"dsseEnvelope"`, `"extra":1,"dsseEnvelope"`), `unknown member "extra"`},
		{"proto field name", repl(`"mediaType"`, `"media_type"`), `no member "mediaType"`},
		{"duplicate envelope", repl(`"dsseEnvelope":`, `"dsseEnvelope":{},"dsseEnvelope":`), `appears twice`},
		{"duplicate signature", repl(`{"sig":"c2ln"}`, `{"sig":"c2ln","sig":"c2ln"}`), `appears twice`},
		{"message signature", repl(`"dsseEnvelope"`, `"messageSignature"`), `message-signature bundle`},
		{"certificate", repl(`"publicKey":{"hint":"aGludA=="}`, `"certificate":{"rawBytes":"MAo="}`), `keyless bundle`},
		{"no verification content", repl(`"publicKey":{"hint":"aGludA=="}`, ``), `no publicKey`},
		{"v0.2", repl(`bundle.v0.3+json`, `bundle+json;version=0.2`), `want "application/vnd.dev.sigstore.bundle.v0.3+json"`},
		{"payload type", repl(`application/vnd.in-toto+json`, `application/vnd.in-toto+JSON`), `payloadType`},
		{"no signatures", repl(`[{"sig":"c2ln"}]`, `[]`), `want a non-empty array`},
		{"empty sig", repl(`"c2ln"`, `""`), `signatures[0].sig`},
		{"sig not base64", repl(`"c2ln"`, `"c2l*"`), `not base64`},
		{"payload not base64", repl(payload64, "%%%"), `dsseEnvelope.payload`},
		{"hint a number", repl(`"aGludA=="`, `1`), `want a string`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := parseBundle([]byte(c.bundle))
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if string(b.payload) != goodStatement || len(b.signatures) < 1 || len(b.signatures) > MaxEnvelopeSignatures || string(b.signatures[0]) != "sig" {
					t.Errorf("parsed %+v", b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}

// The statement must be an in-toto v1 statement; what it says is read
// from exact member names, unknown ones ignored, none twice.
func TestParseStatement(t *testing.T) {
	repl := func(old, new string) string { return strings.Replace(goodStatement, old, new, 1) }
	zero := "sha256:" + strings.Repeat("0", 64)
	for _, c := range []struct {
		name, stmt, wantErr string
		names               bool
	}{
		{"cosign's statement", goodStatement, "", true},
		{"another subject first", repl(`[{"digest"`, `[{"name":"x","digest":{"sha512":"ab"}},{"digest"`), "", true},
		{"unknown members", repl(`"predicate":{}`, `"predicate":{},"future":[1]`), "", true},
		{"another digest", repl(strings.Repeat("0", 64), strings.Repeat("1", 64)), "", false},
		{"uppercase hex", repl(strings.Repeat("0", 64), strings.Repeat("A", 64)), "", false},
		{"statement v0.1", repl(`Statement/v1`, `Statement/v0.1`), `_type`, false},
		{"no subject", repl(`"subject":[`, `"subjects":[`), `no member "subject"`, false},
		{"empty subject", `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}`, `non-empty array`, false},
		{"duplicate algorithm", repl(`{"sha256":"`, `{"sha256":"11","sha256":"`), `appears twice`, false},
		{"duplicate predicateType", repl(`"predicateType"`, `"predicateType":"x","predicateType"`), `appears twice`, false},
		{"digest value a number", repl(`{"sha256":"`+strings.Repeat("0", 64)+`"}`, `{"sha256":0}`), `want a string`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := parseStatement([]byte(c.stmt))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if s.predicateType != CosignSignPredicateType || s.names(digestOf(zero)) != c.names {
				t.Errorf("parsed %+v; names %s: %v, want %v", s, zero, s.names(digestOf(zero)), c.names)
			}
		})
	}
}
