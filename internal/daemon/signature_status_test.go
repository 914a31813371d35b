package daemon

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/internal/tracepage"
	"github.com/ocidns/ocidns/resolver"
	"github.com/ocidns/ocidns/resolver/signature"
)

// protocol.md §15.4: a resolution the signing policy refuses is 403 with
// its code, the digest and who required a signature; the attempts (which
// may name the daemon's network) stay in the trace.
func TestSignatureRefusalIs403(t *testing.T) {
	k := signtest.MustKey(t, signature.ECDSAP256, "nobody signed with this")
	srv, lab := startDaemon(t, Config{}, resolver.WithRequireSignature(true), resolver.WithTrustKeys(k.MustVerifier(t, signature.SourceConfig)))
	ref := "example.test/org/app:v1.0.0"
	var body errorBody
	resp := get(t, srv, "/v1/resolve?ref="+url.QueryEscape(ref), &body)
	if resp.StatusCode != http.StatusForbidden || body.Code != string(resolver.CodeSignatureMissing) {
		t.Fatalf("status %d %+v, want 403 SIGNATURE_MISSING", resp.StatusCode, body)
	}
	want := ref + ": SIGNATURE_MISSING for " + lab.Digests["example/org/app:v1.0.0"].String() + ": a verified signature is required by --require-signature"
	if body.Error != want {
		t.Errorf("error %q, want %q", body.Error, want)
	}
	var tr tracepage.Body
	resp = get(t, srv, "/v1/trace?ref="+url.QueryEscape(ref), &tr)
	found := false
	for _, e := range tr.Events {
		if e.Source == "signature" && strings.Contains(e.Query, ".sig") && e.Outcome == string(signature.ReasonNotFound) {
			found = true
		}
	}
	if resp.StatusCode != http.StatusForbidden || !found {
		t.Errorf("trace status %d, events %+v: want 403 and the .sig attempt", resp.StatusCode, tr.Events)
	}
	// The trace keeps the digest that was refused, and why.
	if r := tr.Result; r == nil || r.Digest != lab.Digests["example/org/app:v1.0.0"] || r.Signature == nil ||
		r.Signature.Code != resolver.CodeSignatureMissing || tr.Code != string(resolver.CodeSignatureMissing) {
		t.Errorf("trace result %+v code %s: want the refused digest and its signature state", tr.Result, tr.Code)
	}
}

func TestSignatureCodesMapToStatuses(t *testing.T) {
	for code, want := range map[resolver.Code]int{
		resolver.CodeSignatureMissing:     http.StatusForbidden,
		resolver.CodeSignatureInvalid:     http.StatusForbidden,
		resolver.CodeNoUsableKey:          http.StatusForbidden,
		resolver.CodeSignatureUnfetchable: http.StatusBadGateway,
	} {
		t.Run(string(code), func(t *testing.T) {
			if got := statusOf(code); got != want {
				t.Errorf("statusOf(%s) = %d, want %d", code, got, want)
			}
		})
	}
}
