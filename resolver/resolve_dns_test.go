package resolver

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/reference"
)

// docs/protocol.md §7, §8.2: a signed TXT mapping sends the name to a registry, whose URL
// path is a repository prefix; the result says it was authenticated by DNSSEC.
func TestResolveThroughSignedTXTMapping(t *testing.T) {
	regs := startRegistries(t, 1)
	want := push(t, regs[0], "acme/org/app", "v1.0.0")
	l := startLab(t, regs, zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/acme"`+"\n", true))
	r := l.resolver(t)

	res := mustResolve(t, r, "example.test/org/app:v1.0.0")
	if res.Digest != want || res.Repository != "acme/org/app" || res.Registry != "https://"+regs[0].Host() {
		t.Fatalf("got %+v, want digest %s at acme/org/app", res, want)
	}
	if res.Authenticated != discovery.AuthDNSSEC || res.Cached || res.Stale {
		t.Errorf("authenticated=%s cached=%t stale=%t, want dnssec, false, false", res.Authenticated, res.Cached, res.Stale)
	}
	if res.Resolved != "example.test/org/app:v1.0.0" || res.TTL != DefaultTagTTL {
		t.Errorf("resolved %q ttl %s", res.Resolved, res.TTL)
	}
	if len(res.Events) == 0 {
		t.Error("no trace events")
	}
	again := mustResolve(t, r, "example.test/org/app:v1.0.0")
	if !again.Cached || again.Digest != want {
		t.Errorf("second resolution: cached=%t digest %s", again.Cached, again.Digest)
	}
}

// The appc form resolves the same image; its os/arch labels pick the
// platform's manifest from the index.
func TestResolveAppcFormSelectsPlatformFromLabels(t *testing.T) {
	regs := startRegistries(t, 1)
	idx, children, err := regs[0].PushIndex("org/app", "v1.0.0", []string{"linux/amd64", "linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	l := startLab(t, regs, zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true))
	r := l.resolver(t)
	res := mustResolve(t, r, "example.test/org/app,version=v1.0.0,os=linux,arch=aarch64")
	if res.Digest != idx || res.PlatformDigest != children["linux/arm64"] {
		t.Fatalf("digest %s platform %s, want %s and %s", res.Digest, res.PlatformDigest, idx, children["linux/arm64"])
	}
	res = mustResolve(t, r, "example.test/org/app:v1.0.0")
	if res.Digest != idx || res.PlatformDigest != "" {
		t.Fatalf("docker form without platform: %+v", res)
	}
	p, _ := reference.ParsePlatform("linux/amd64")
	res, err = r.ResolvePlatform(context.Background(), "example.test/org/app:v1.0.0", &p)
	if err != nil || res.PlatformDigest != children["linux/amd64"] {
		t.Fatalf("per-call platform: %+v, %v", res, err)
	}
}

// A namespace delegated over two hops across signed zones, with mount
// semantics: each hop strips its prefix.
func TestResolveTwoHopDelegation(t *testing.T) {
	regs := startRegistries(t, 1)
	want := push(t, regs[0], "tools/tool", "1.0")
	l := startLab(t, regs,
		zone("example.test.", `_oci-discovery TXT "v=oci1; prefix=partners; delegate=acme.test"`+"\n", true),
		zone("acme.test.", `_oci-discovery TXT "v=oci1; prefix=acme; delegate=tools.acme.test"`+"\n", true),
		zone("tools.acme.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}/tools"`+"\n", true),
	)
	res := mustResolve(t, l.resolver(t), "example.test/partners/acme/tool:1.0")
	if res.Digest != want || len(res.Chain) != 3 || res.Authenticated != discovery.AuthDNSSEC {
		t.Fatalf("digest %s chain %d auth %s; want %s, 3 hops, dnssec", res.Digest, len(res.Chain), res.Authenticated, want)
	}
}

// docs/protocol.md §12: 404 at the first endpoint, then the next endpoint.
func TestNotFoundAtFirstMirrorTriesTheSecond(t *testing.T) {
	regs := startRegistries(t, 2)
	want := push(t, regs[1], "app", "1.0")
	l := startLab(t, regs, zone("example.test.",
		`_oci-discovery TXT "v=oci1; registry=https://{{REG0}}; priority=1"`+"\n"+
			`_oci-discovery TXT "v=oci1; registry=https://{{REG1}}; priority=2"`+"\n", true))
	res := mustResolve(t, l.resolver(t), "example.test/app:1.0")
	if res.Digest != want || res.Registry != "https://"+regs[1].Host() {
		t.Fatalf("got %s from %s, want %s from the second mirror", res.Digest, res.Registry, want)
	}
	if regs[0].Requests().Manifests() == 0 {
		t.Error("the first mirror (priority 1) was never asked")
	}
}

// docs/protocol.md §6: a pull-only mirror MUST NOT be asked what a tag means.
func TestPullOnlyMirrorNeverResolvesATag(t *testing.T) {
	regs := startRegistries(t, 2)
	push(t, regs[0], "app", "1.0") // the mirror holds a (different) image under the same tag
	want := push(t, regs[1], "app", "1.0")
	l := startLab(t, regs, zone("example.test.",
		`_oci-discovery TXT "v=oci1; registry=https://{{REG0}}; priority=0; caps=pull"`+"\n"+
			`_oci-discovery TXT "v=oci1; registry=https://{{REG1}}; priority=10"`+"\n", true))
	res := mustResolve(t, l.resolver(t), "example.test/app:1.0")
	if res.Digest != want {
		t.Fatalf("digest %s, want %s from the resolve-capable endpoint", res.Digest, want)
	}
	if n := regs[0].Requests().Manifests(); n != 0 {
		t.Errorf("pull-only mirror got %d manifest requests", n)
	}
}

// Short names are qualified by the search list in order; a domain that does
// not hold the image gives way to the next, and the trace shows each try.
func TestShortNameTriesSearchDomainsInOrder(t *testing.T) {
	regs := startRegistries(t, 2)
	want := push(t, regs[1], "org/app", "1.0")
	l := startLab(t, regs,
		zone("first.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true),
		zone("second.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG1}}"`+"\n", true),
	)
	r := l.resolver(t, WithSearch("first.test", "second.test"))
	res := mustResolve(t, r, "org/app:1.0")
	if res.Digest != want || res.Resolved != "second.test/org/app:1.0" {
		t.Fatalf("got %s as %q", res.Digest, res.Resolved)
	}
	var tries []string
	for _, e := range res.Events {
		if strings.HasPrefix(e.Decision, "trying search domain") {
			tries = append(tries, e.Decision)
		}
	}
	if len(tries) != 2 {
		t.Errorf("trace shows %d search tries, want 2: %q", len(tries), tries)
	}
}

// docs/protocol.md §1: a short name with no search list and no --normalize is an
// error that says how to qualify it.
func TestShortNameWithoutSearchSaysHowToQualify(t *testing.T) {
	l := startLab(t, nil, zone("example.test.", "", false))
	_, err := l.resolver(t).Resolve(context.Background(), "org/app:1.0")
	if !errors.Is(err, ErrInvalidReference) || !strings.Contains(err.Error(), "--search") {
		t.Fatalf("err = %v, want ErrInvalidReference mentioning --search", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code() != CodeInvalidReference || e.Ref != "org/app:1.0" {
		t.Fatalf("err = %#v", err)
	}
}

func TestResolveErrorsAreTyped(t *testing.T) {
	regs := startRegistries(t, 1)
	l := startLab(t, regs, zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true))
	r := l.resolver(t)
	for _, c := range []struct {
		ref  string
		kind error
		code Code
	}{
		{"example.test/Org/app:1.0", ErrInvalidReference, CodeInvalidReference},
		{"example.test/missing:1.0", ErrNotFound, CodeNotFound},
	} {
		t.Run(c.ref, func(t *testing.T) {
			_, err := r.Resolve(context.Background(), c.ref)
			if !errors.Is(err, c.kind) || CodeOf(err) != c.code || !strings.Contains(err.Error(), c.ref) {
				t.Errorf("Resolve(%q) = %v, want %v (%s) naming the reference", c.ref, err, c.kind, c.code)
			}
		})
	}
	// SERVFAIL is "unknown": the resolution fails, naming the step; it never
	// falls through to the direct registry.
	l.dns.SetFault("_oci-discovery.example.test.", dns.TypeTXT, dnstest.FaultServFail)
	r = l.resolver(t)
	_, err := r.Resolve(context.Background(), "example.test/app:1.0")
	if !errors.Is(err, ErrDiscovery) || !strings.Contains(err.Error(), "TXT _oci-discovery.example.test.") {
		t.Fatalf("SERVFAIL: err = %v, want ErrDiscovery naming the TXT query", err)
	}
}
