package e2e

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/daemon"
	"github.com/ocidns/ocidns/internal/frontdoor"
	"github.com/ocidns/ocidns/resolver"
	"github.com/ocidns/ocidns/resolver/signature"
)

// keyID reads a cosign.pub and returns its key ID.
func keyID(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := signature.ParsePEM(b, signature.SourceConfig)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return k.ID()
}

// signatureCase is one image under acme.lab.test/signed and what the
// owner's policy makes of it.
type signatureCase struct {
	ref    string
	digest string // key of OCIDNS_E2E_DIGEST_*
	format signature.Format
	err    error  // the sentinel under sign=required; nil when it verifies
	reason string // a reason the trace must show, for a failure
}

func signatureCases() []signatureCase {
	return []signatureCase{
		// Signed by the real cosign CLI with the key the owner publishes:
		// through the delegation (the last host's keys apply) and at the
		// owner itself; the tag format and the bundle format (which
		// docker-registry, without a referrers API, holds under the
		// fallback tag).
		{ref: "lab.test/acme/signed/app:v1", digest: "SIGNED_APP", format: signature.FormatSimpleSigning},
		{ref: "acme.lab.test/signed/app:v1", digest: "SIGNED_APP", format: signature.FormatSimpleSigning},
		{ref: "acme.lab.test/signed/bundle:v1", digest: "SIGNED_BUNDLE", format: signature.FormatBundle},
		{ref: "acme.lab.test/signed/multi:v1", digest: "SIGNED_MULTI", format: signature.FormatSimpleSigning},
		// Nothing stored; another key; the owner's valid signature of
		// another image, attached to this one.
		{ref: "acme.lab.test/signed/unsigned:v1", digest: "SIGNED_UNSIGNED", err: resolver.ErrSignatureMissing, reason: "not-found"},
		{ref: "acme.lab.test/signed/rogue:v1", digest: "SIGNED_ROGUE", err: resolver.ErrSignatureInvalid, reason: "bad-signature"},
		{ref: "lab.test/acme/signed/replayed:v1", digest: "SIGNED_REPLAYED", err: resolver.ErrSignatureInvalid, reason: "wrong-digest"},
	}
}

// protocol.md §15: the key acme.lab.test publishes in its signed zone
// verifies what cosign v2.6.5 signed with it, in both formats, through
// BIND with the anchor and through unbound's AD bit; under its
// sign=required a missing, foreign or replayed signature fails the
// resolution with the reason in the trace.
func TestCosignSignaturesVerifyWithThePublishedKey(t *testing.T) {
	l := needLab(t)
	owner := keyID(t, l.cosignPub)
	for _, p := range resolverPaths {
		t.Run(p.name, func(t *testing.T) {
			r := newResolver(t, l, p)
			defer r.Close()
			for _, c := range signatureCases() {
				t.Run(c.ref, func(t *testing.T) {
					res, events, err := r.Trace(t.Context(), c.ref)
					if c.err != nil {
						if !errors.Is(err, c.err) {
							logTrace(t, events)
							t.Fatalf("error %v, want %v", err, c.err)
						}
						found := false
						for _, e := range events {
							found = found || (e.Source == "signature" && e.Outcome == c.reason)
						}
						if !found {
							logTrace(t, events)
							t.Errorf("no signature attempt with reason %s in the trace", c.reason)
						}
						return
					}
					if err != nil {
						logTrace(t, events)
						t.Fatal(err)
					}
					s := res.Signature
					if res.Digest.String() != l.digest(t, c.digest) || s == nil || !s.Verified || s.KeyID != owner ||
						s.Signer != signature.SourceDNS || s.Format != c.format || s.Policy != "required" || s.RequiredBy != "acme.lab.test" {
						logTrace(t, events)
						t.Fatalf("digest %s, signature %+v; want %s verified by %s (dns), %s, required by acme.lab.test", res.Digest, s, l.digest(t, c.digest), owner, c.format)
					}
				})
			}
		})
	}
}

// `ocidns resolve -o json` carries the signature; a refused name exits 1
// with its code; --trust-key adds a key the owner does not publish.
func TestCLIResolveSignature(t *testing.T) {
	l := needLab(t)
	p := resolverPaths[0]
	args := append(append([]string{"resolve", "-o", "json"}, p.flags(l)...), cliCommon(l)...)
	out, errOut, code := runCLI(t, append(args, "lab.test/acme/signed/app:v1")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var res struct {
		Digest    string
		Signature struct {
			Verified             bool
			KeyID, Format        string
			Signer, Policy, Code string
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout %q: %v", out, err)
	}
	if s := res.Signature; res.Digest != l.digest(t, "SIGNED_APP") || !s.Verified || s.KeyID != keyID(t, l.cosignPub) || s.Signer != "dns" || s.Format != "simplesigning" {
		t.Fatalf("json = %s", out)
	}

	out, errOut, code = runCLI(t, append(args, "acme.lab.test/signed/unsigned:v1")...)
	if code != 1 || !strings.Contains(out, `"code":"SIGNATURE_MISSING"`) || !strings.Contains(errOut, "SIGNATURE_MISSING") {
		t.Fatalf("unsigned: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}

	out, errOut, code = runCLI(t, append(args, "--trust-key", l.roguePub, "acme.lab.test/signed/rogue:v1")...)
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || !res.Signature.Verified || res.Signature.Signer != "config" ||
		res.Signature.KeyID != keyID(t, l.roguePub) {
		t.Fatalf("--trust-key: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}

	traceArgs := append(append([]string{"trace"}, p.flags(l)...), cliCommon(l)...)
	out, _, code = runCLI(t, append(traceArgs, "lab.test/acme/signed/replayed:v1")...)
	if code != 1 || !strings.Contains(out, "wrong-digest") || !strings.Contains(out, "SIGNATURE_INVALID") {
		t.Fatalf("trace of the replayed signature: exit %d\n%s", code, out)
	}
}

// The registry front door applies acme.lab.test's sign=required: a
// stock engine asking for a manifest by tag or by digest gets it when its
// cosign signature verifies, and DENIED with the reason when it does not.
func TestFrontDoorAppliesTheSigningPolicy(t *testing.T) {
	l := needLab(t)
	r := newResolver(t, l, resolverPaths[0])
	defer r.Close()
	fd := frontdoor.New(frontdoor.Config{Resolver: r, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(daemon.New(daemon.Config{Resolver: r, FrontDoor: fd, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	c := &http.Client{Timeout: 40 * time.Second}
	get := func(path string) (int, string, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), body
	}
	for _, c := range signatureCases() {
		if !strings.HasPrefix(c.ref, "acme.lab.test/") {
			continue
		}
		repo, _, _ := strings.Cut(c.ref, ":")
		for _, ref := range []string{"v1", l.digest(t, c.digest)} {
			path := "/v2/" + repo + "/manifests/" + ref
			status, dgst, body := get(path)
			switch {
			case c.err == nil && (status != http.StatusOK || dgst != l.digest(t, c.digest)):
				t.Errorf("GET %s: %d %s %s, want 200 with the signed digest", path, status, dgst, body)
			case c.err != nil && (status != http.StatusForbidden || !strings.Contains(string(body), `"DENIED"`) ||
				!strings.Contains(string(body), string(resolver.CodeOf(&resolver.Error{Kind: c.err})))):
				t.Errorf("GET %s: %d %s, want 403 DENIED naming %v", path, status, body, c.err)
			}
		}
	}
}

// protocol.md §15.2: unsigned.lab.test publishes a key with sign=required
// in its unsigned zone; clients ignore both, and its names resolve without
// a signature check.
func TestKeysOfAnUnsignedZoneAreIgnored(t *testing.T) {
	l := needLab(t)
	for _, p := range resolverPaths {
		t.Run(p.name, func(t *testing.T) {
			r := newResolver(t, l, p)
			defer r.Close()
			res, events, err := r.Trace(t.Context(), "unsigned.lab.test/direct/app:v1")
			if err != nil || res.Signature != nil || res.Digest.String() != l.digest(t, "DIRECT_APP") {
				logTrace(t, events)
				t.Fatalf("digest %s, signature %+v, %v; want DIRECT_APP, no signature check", res.Digest, res.Signature, err)
			}
			found := false
			for _, e := range events {
				found = found || strings.Contains(e.Decision, "signing key(s) ignored")
			}
			if !found {
				logTrace(t, events)
				t.Error("the trace does not say the unsigned zone's keys were ignored")
			}
		})
	}
}
