package signature_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// Signatures that must not verify, in each format and with each key
// algorithm: each is SIGNATURE_INVALID with the reason that names the
// fault, and the required policy refuses it.
func TestForgedSignaturesAreInvalid(t *testing.T) {
	type forgery struct {
		name   string
		format signature.Format // "" for both
		signer string           // seed of the signing key; "owner" is the published one
		opts   func(l *lab) signtest.Options
		want   signature.Reason
	}
	tamper := func(p []byte) []byte {
		// One byte changed in what was signed: a space before the final '}'.
		return append(p[:len(p)-1:len(p)-1], ' ', '}')
	}
	forgeries := []forgery{
		{name: "signed by a key not published", signer: "stranger", want: signature.ReasonBadSignature},
		{name: "payload changed after signing", signer: "owner", want: signature.ReasonBadSignature,
			opts: func(*lab) signtest.Options { return signtest.Options{Tamper: tamper} }},
		{name: "signature for another digest", signer: "owner", want: signature.ReasonWrongDigest,
			opts: func(l *lab) signtest.Options { return signtest.Options{Claims: l.otherDigest} }},
		{name: "another repository's identity", format: signature.FormatSimpleSigning, signer: "owner", want: signature.ReasonWrongIdentity,
			opts: func(l *lab) signtest.Options { return signtest.Options{Identity: l.host() + "/other/app"} }},
		{name: "the requested name's other repository", format: signature.FormatSimpleSigning, signer: "owner", want: signature.ReasonWrongIdentity,
			opts: func(l *lab) signtest.Options { return signtest.Options{Identity: "example.com/org/app2"} }},
		{name: "another tag", format: signature.FormatSimpleSigning, signer: "owner", want: signature.ReasonWrongTag,
			opts: func(l *lab) signtest.Options { return signtest.Options{Identity: "example.com/org/app:v2"} }},
		{name: "oversized signature layer", signer: "owner", want: signature.ReasonTooLarge,
			opts: func(*lab) signtest.Options { return signtest.Options{Pad: signature.MaxBundleBytes} }},
	}
	for _, fg := range forgeries {
		for _, f := range formats {
			if fg.format != "" && fg.format != f.format {
				continue
			}
			for _, alg := range algorithms {
				t.Run(fg.name+"/"+string(f.format)+"/"+string(alg), func(t *testing.T) {
					l := newLab(t)
					d := l.image(t, "org/app", "v1")
					l.otherDigest = l.image(t, "org/app", "v0")
					var o signtest.Options
					if fg.opts != nil {
						o = fg.opts(l)
					}
					f.sign(t, l, "org/app", d, signtest.MustKey(t, alg, fg.signer), o)
					l.reg.ResetRequests()

					owner := signtest.MustKey(t, alg, "owner").MustVerifier(t, signature.SourceDNS)
					res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, owner))
					if res.Verified || res.Code != signature.CodeInvalid || !slices.Contains(reasons(res), fg.want) {
						t.Fatalf("verified=%v code=%s, want %s with reason %s:%s", res.Verified, res.Code, signature.CodeInvalid, fg.want, attempts(res))
					}
					err := signature.PolicyRequired.Check(res)
					if !errors.Is(err, signature.ErrInvalid) {
						t.Errorf("required policy: %v, want ErrInvalid", err)
					}
					if fg.want == signature.ReasonTooLarge && l.reg.Requests().BlobGET != 0 {
						t.Errorf("the oversized layer was fetched (%d blob GETs)", l.reg.Requests().BlobGET)
					}
				})
			}
		}
	}
}

// The docker-reference may name the requested name (cosign sign
// --sign-container-identity) instead of the registry repository, with the
// host in any case; and it may carry the requested tag.
func TestIdentityMayNameTheRequestedNameOrTag(t *testing.T) {
	for _, id := range []string{"example.com/org/app", "EXAMPLE.COM/org/app", "example.com/org/app:v1", "REG/org/app:v1"} {
		t.Run(id, func(t *testing.T) {
			l := newLab(t)
			d := l.image(t, "org/app", "v1")
			k := signtest.MustKey(t, signature.ECDSAP256, "owner")
			if id == "REG/org/app:v1" {
				id = l.host() + "/org/app:v1"
			}
			l.signTag(t, "org/app", d, k, signtest.Options{Identity: id})
			res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, k.MustVerifier(t, signature.SourceDNS)))
			if !res.Verified {
				t.Fatalf("identity %q refused: %s%s", id, res.Code, attempts(res))
			}
			// Asked by digest, the signed tag is not compared.
			req := l.request("org/app", "", d, k.MustVerifier(t, signature.SourceDNS))
			if res := verify(t, l.fetcher("org/app"), req); !res.Verified {
				t.Fatalf("by digest, identity %q refused: %s%s", id, res.Code, attempts(res))
			}
		})
	}
}

// A bundle's hint is not authenticated: a hint naming another key neither
// stops the right key from verifying nor lets the named key verify.
func TestBundleHintOnlyOrdersTheKeys(t *testing.T) {
	l := newLab(t)
	d := l.image(t, "org/app", "v1")
	owner := signtest.MustKey(t, signature.ECDSAP256, "owner")
	other := signtest.MustKey(t, signature.ECDSAP256, "other")
	l.signBundle(t, "org/app", d, owner, signtest.Options{Hint: other.Hint()})
	res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d,
		other.MustVerifier(t, signature.SourceDNS), owner.MustVerifier(t, signature.SourceDNS)))
	if !res.Verified || res.KeyID != owner.ID() {
		t.Fatalf("got %s key %s, want verified by the owner's key%s", res.Code, res.KeyID, attempts(res))
	}
}

// A payload changed after signing is refused before it is parsed: the
// attempt says the signature does not verify, not what the payload says.
func TestTamperedPayloadIsNotParsed(t *testing.T) {
	l := newLab(t)
	d := l.image(t, "org/app", "v1")
	k := signtest.MustKey(t, signature.ECDSAP256, "owner")
	l.signTag(t, "org/app", d, k, signtest.Options{Tamper: func(p []byte) []byte {
		return bytes.Replace(p, []byte(`"critical"`), []byte(`"critical","critical"`), 1) // would be a parse error
	}})
	res := verify(t, l.fetcher("org/app"), l.request("org/app", "v1", d, k.MustVerifier(t, signature.SourceDNS)))
	if got := reasons(res); !slices.Equal(got, []signature.Reason{signature.ReasonBadSignature, signature.ReasonNotFound}) {
		t.Fatalf("reasons %v, want bad-signature then no bundle:%s", got, attempts(res))
	}
}
