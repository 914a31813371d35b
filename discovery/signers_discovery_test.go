package discovery_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/signtest"
	"github.com/ocidns/ocidns/resolver/signature"
)

// The keys of the signing-key zones (testdata/zones/signers).
type sgKeys struct{ owner, parent, child *signtest.Key }

func sgNewKeys(t testing.TB) sgKeys {
	return sgKeys{
		owner:  signtest.MustKey(t, signature.ECDSAP256, "owner"),
		parent: signtest.MustKey(t, signature.ECDSAP256, "parent"),
		child:  signtest.MustKey(t, signature.Ed25519, "child"),
	}
}

// sgZone reads a zone of testdata/zones/signers with the keys filled in.
func sgZone(t testing.TB, k sgKeys, origin, file string, sign bool) dnstest.Zone {
	t.Helper()
	b, err := os.ReadFile(dnstest.ZonePath("signers/" + file))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("{{OWNER}}", k.owner.PublicBase64(), "{{PARENT}}", k.parent.PublicBase64(), "{{CHILD}}", k.child.PublicBase64()).Replace(string(b))
	return dnstest.Zone{Origin: origin, Text: text, Sign: sign}
}

// sgStart serves keys.test (signed, the anchor) and unsigned.test.
func sgStart(t testing.TB, k sgKeys) *dlLab {
	t.Helper()
	return dlStart(t, dnstest.Config{Zones: []dnstest.Zone{
		sgZone(t, k, "keys.test.", "keys.test.zone", true),
		sgZone(t, k, "unsigned.test.", "unsigned.test.zone", false),
	}})
}

// sgWant checks a discovered policy.
func sgWant(t testing.TB, got *discovery.SignerPolicy, host, prefix string, sign discovery.SignPolicy, requiredBy string, revoked bool, keys ...*signtest.Key) {
	t.Helper()
	if got == nil {
		t.Fatalf("no signer policy, want %s's keys", host)
	}
	if got.Host != host || got.Prefix != prefix || got.Sign != sign || got.RequiredBy != requiredBy || got.Revoked != revoked || len(got.Keys) != len(keys) {
		t.Fatalf("policy %+v (%s), want host %s prefix %q sign=%s required by %q revoked=%t, %d keys", got, got.Signers, host, prefix, sign, requiredBy, revoked, len(keys))
	}
	for i, k := range keys {
		if !bytes.Equal(got.Keys[i].DER, k.PublicDER()) {
			t.Errorf("key %d is not the expected one", i)
		}
	}
}

// protocol.md §15.2: keys are read from the mappings' own TXT RRset when it
// is DNSSEC-secure, selected by the longest whole-component prefix; an
// empty p= revokes its prefix's keys under its sign=; a path under no
// prefix has no policy.
func TestKeysFromASignedRRsetApply(t *testing.T) {
	k := sgNewKeys(t)
	l := sgStart(t, k)
	d := discovery.New(l.options())

	res, evs := dlMust(t, d, "owner.keys.test/org/app")
	sgWant(t, res.Signers, "owner.keys.test", "org", discovery.SignRequired, "owner.keys.test", false, k.owner)
	if src := res.Signers.Keys[0].Source; src != discovery.SourceTXT {
		t.Errorf("key source %q, want %q", src, discovery.SourceTXT)
	}
	if txt := res.Hops[0].Source(discovery.SourceTXT); txt == nil || len(txt.Keys) != 2 {
		t.Errorf("the hop report's TXT source: %+v, want the 2 keys (one a revocation)", txt)
	}
	dlWantDecision(t, evs, "signing keys of owner.keys.test", `prefix "org": sign=required, 1 key`)

	res, _ = dlMust(t, d, "owner.keys.test/org/legacy/app")
	sgWant(t, res.Signers, "owner.keys.test", "org/legacy", discovery.SignRequired, "owner.keys.test", true)

	if res, evs := dlMust(t, d, "owner.keys.test/other/app"); res.Signers != nil {
		t.Errorf("a path under no key prefix: %+v\n%s", res.Signers, dlTrace(evs))
	}
}

// protocol.md §15.2: keys from an unsigned zone are ignored, and its
// sign=required with them — whether the zone is reached directly or by a
// signed delegation, and whatever --dnssec says.
func TestKeysFromAnUnsignedZoneAreIgnored(t *testing.T) {
	k := sgNewKeys(t)
	l := sgStart(t, k)
	for _, off := range []bool{false, true} {
		o := l.options()
		o.DNSSECOff = off
		d := discovery.New(o)
		for _, name := range []string{"host.unsigned.test/app", "tounsigned.keys.test/app"} {
			res, evs := dlMust(t, d, name)
			if res.Signers != nil {
				t.Errorf("dnssec off=%t, %s: keys of an unsigned zone used: %+v", off, name, res.Signers)
			}
			dlWantDecision(t, evs, "1 signing key(s) ignored", "not DNSSEC-secure")
			txt := res.Hops[len(res.Hops)-1].Source(discovery.SourceTXT)
			if txt == nil || len(txt.Keys) != 0 || !slices.ContainsFunc(txt.Skipped, func(sk discovery.Skipped) bool {
				return sk.Reason == discovery.SkipUnauthenticatedKey && strings.Contains(sk.Record, "v=ocisig1")
			}) {
				t.Errorf("dnssec off=%t, %s: the hop report does not say the key was skipped: %+v", off, name, txt)
			}
		}
	}
}

// protocol.md §15.2: across a delegation the last host's keys apply (the
// parent's do not carry down) and the parent's sign=required does.
func TestParentRequiredCarriesAcrossDelegation(t *testing.T) {
	k := sgNewKeys(t)
	l := sgStart(t, k)
	res, _ := dlMust(t, discovery.New(l.options()), "parent.keys.test/team/app")
	if len(res.Chain) != 2 {
		t.Fatalf("chain %s", dlSteps(res.Chain))
	}
	sgWant(t, res.Signers, "child.keys.test", "", discovery.SignRequired, "parent.keys.test", false, k.child)
}

// protocol.md §15.2: keys from a well-known document fetched over verified
// TLS are used (source "well-known"); from a document fetched over plain
// HTTP (a host marked insecure) they are not.
func TestKeysFromWellKnownOverTLSAreAccepted(t *testing.T) {
	k := sgNewKeys(t)
	l := sgStart(t, k)
	doc, err := discovery.FormatWellKnownWithSigners(
		[]discovery.Mapping{{Registry: "https://registry.example/wk"}},
		[]discovery.PublishedKey{{Prefix: "org", Sign: discovery.SignRequired, Alg: discovery.KeyAlgECDSAP256, DER: k.owner.PublicDER()}})
	if err != nil {
		t.Fatal(err)
	}
	o := l.options()
	o.NoWellKnown = false
	o.HTTP = dlWellKnown(t, map[string]dlDoc{"wk.keys.test": {body: string(doc), maxAge: 600}})
	res, evs := dlMust(t, discovery.New(o), "wk.keys.test/org/app")
	sgWant(t, res.Signers, "wk.keys.test", "org", discovery.SignRequired, "wk.keys.test", false, k.owner)
	if src := res.Signers.Keys[0].Source; src != discovery.SourceWellKnown {
		t.Errorf("key source %q, want %q", src, discovery.SourceWellKnown)
	}
	dlWantDecision(t, evs, "well-known document with 1 mapping(s) and 1 signing key(s)")

	// The same document over plain HTTP, the host marked insecure.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, string(doc)) }))
	t.Cleanup(plain.Close)
	o.Insecure = func(h string) bool { return h == "wk.keys.test" }
	o.HTTP = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, plain.Listener.Addr().String())
	}}}
	res, evs = dlMust(t, discovery.New(o), "wk.keys.test/org/app")
	if res.Signers != nil {
		t.Errorf("keys from a plain-HTTP document used: %+v", res.Signers)
	}
	dlWantDecision(t, evs, "1 signing key(s) ignored", "not come over verified TLS")
}
