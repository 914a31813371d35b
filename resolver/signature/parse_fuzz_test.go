package signature

import (
	"errors"
	"testing"
)

// checkJSONError: a parse error points inside the input.
func checkJSONError(t *testing.T, err error, n int) {
	t.Helper()
	var je *jsonError
	if errors.As(err, &je) && (je.Offset < 0 || je.Offset > int64(n)) {
		t.Fatalf("error offset %d outside the %d-byte input: %v", je.Offset, n, err)
	}
}

// FuzzParseSimpleSigning: no input panics or hangs; an accepted payload has
// a valid digest, and parses the same again.
func FuzzParseSimpleSigning(f *testing.F) {
	for _, s := range []string{goodPayload, `{"critical":{},"optional":{}}`, `{"a":1,"a":2}`, `[[[[`, "\xff", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseSimpleSigning(b)
		if err != nil {
			checkJSONError(t, err, len(b))
			return
		}
		if p.digest.Validate() != nil {
			t.Fatalf("accepted %+v", p)
		}
		if q, err := parseSimpleSigning(b); err != nil || q != p {
			t.Fatalf("second parse %+v %v", q, err)
		}
	})
}

// FuzzParseBundle: no input panics or hangs; an accepted bundle has the
// in-toto payload type and 1..MaxEnvelopeSignatures non-empty signatures
// of bounded size.
func FuzzParseBundle(f *testing.F) {
	for _, s := range []string{goodBundle, `{"mediaType":"x"}`, `{"messageSignature":{}}`, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		bd, err := parseBundle(b)
		if err != nil {
			checkJSONError(t, err, len(b))
			return
		}
		if bd.payloadType != InTotoPayloadType || len(bd.signatures) == 0 || len(bd.signatures) > MaxEnvelopeSignatures {
			t.Fatalf("accepted %+v", bd)
		}
		for _, s := range bd.signatures {
			if len(s) == 0 || len(s) > maxRawSignatureBytes {
				t.Fatalf("accepted a %d-byte signature", len(s))
			}
		}
	})
}

// FuzzParseStatement: no input panics or hangs; an accepted statement has a
// subject.
func FuzzParseStatement(f *testing.F) {
	for _, s := range []string{goodStatement, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{}}],"predicateType":""}`, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := parseStatement(b); err != nil {
			checkJSONError(t, err, len(b))
		}
	})
}
