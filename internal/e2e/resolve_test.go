package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/resolver"
)

// resolverPath is one way a user points ocidns at the lab's DNS; flags is
// the same as command-line flags, for the CLI tests.
type resolverPath struct {
	name  string
	opts  func(l *lab) []resolver.Option
	flags func(l *lab) []string
}

var resolverPaths = []resolverPath{
	{
		name: "bind+anchor",
		opts: func(l *lab) []resolver.Option {
			return []resolver.Option{resolver.WithDNSServers(l.bind), resolver.WithTrustAnchorFile(l.anchor)}
		},
		flags: func(l *lab) []string { return []string{"--dns", l.bind, "--trust-anchor", l.anchor} },
	},
	{
		// Only unbound's AD bit: the in-process validator cannot fetch the
		// chain from the built-in root in this offline lab (unbound
		// SERVFAILs DS lab.test.), which leaves the answer unproven rather
		// than bogus, and the trusted AD bit authenticates it.
		name: "unbound+trust-ad",
		opts: func(l *lab) []resolver.Option {
			return []resolver.Option{resolver.WithDNSServers(l.unbound), resolver.WithTrustAD(true)}
		},
		flags: func(l *lab) []string { return []string{"--dns", l.unbound, "--trust-ad"} },
	},
}

// commonOpts keep the tests hermetic: plain HTTP only to the lab's hosts,
// no well-known fetches (the lab serves none), and no credentials from the
// user's docker config, so every registry is reached anonymously.
func commonOpts(t *testing.T, l *lab) []resolver.Option {
	return []resolver.Option{
		resolver.WithInsecureRegistries(l.insecure()...),
		resolver.WithWellKnown(false),
		resolver.WithDockerConfig(emptyDockerConfig(t)),
		resolver.WithTimeout(30 * time.Second),
	}
}

func emptyDockerConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newResolver(t *testing.T, l *lab, p resolverPath, extra ...resolver.Option) *resolver.Resolver {
	t.Helper()
	opts := append(append(p.opts(l), commonOpts(t, l)...), extra...)
	r, err := resolver.New(opts...)
	if err != nil {
		t.Fatalf("resolver.New: %v", err)
	}
	return r
}

func resolveTraced(t *testing.T, r *resolver.Resolver, ref string) (resolver.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	tr := trace.New(nil)
	res, err := r.Resolve(trace.NewContext(ctx, tr), ref)
	if err != nil || t.Failed() {
		logTrace(t, tr.Events())
	}
	return res, err
}

// resolveCase is one name of the lab and what the registry itself says it is.
type resolveCase struct {
	ref        string
	digest     string // key of OCIDNS_E2E_DIGEST_*
	platform   string // "" or os/arch
	platDigest string // key of the platform child's digest
	registry   string // "plain" or "token"
	repository string
	hops       int
}

func labCases() []resolveCase {
	return []resolveCase{
		{ref: "lab.test/app:v1", digest: "LAB_APP", registry: "plain", repository: "lab/app", hops: 1},
		// Two hops across two signed zones.
		{ref: "lab.test/acme/app:v1", digest: "ACME_APP", registry: "plain", repository: "acme/app", hops: 2},
		{ref: "acme.lab.test/app:v1", digest: "ACME_APP", registry: "plain", repository: "acme/app", hops: 1},
		// An index: the tag's digest is the index's.
		{ref: "lab.test/acme/multi:v1", digest: "ACME_MULTI", registry: "plain", repository: "acme/multi", hops: 2},
		{ref: "lab.test/acme/multi:v1", digest: "ACME_MULTI", platform: "linux/arm64", platDigest: "ACME_MULTI_LINUX_ARM64",
			registry: "plain", repository: "acme/multi", hops: 2},
		{ref: "lab.test/acme/multi:v1", digest: "ACME_MULTI", platform: "linux/amd64", platDigest: "ACME_MULTI_LINUX_AMD64",
			registry: "plain", repository: "acme/multi", hops: 2},
		// appc form: os/arch labels pick the platform (aarch64 is arm64).
		{ref: "lab.test/acme/multi,version=v1,os=linux,arch=aarch64", digest: "ACME_MULTI", platDigest: "ACME_MULTI_LINUX_ARM64",
			registry: "plain", repository: "acme/multi", hops: 2},
		// The token-auth registry, anonymously.
		{ref: "lab.test/secure/app:v1", digest: "SECURE_APP", registry: "token", repository: "secure/app", hops: 1},
		// Located by a signed SRV record.
		{ref: "srv.lab.test/acme/app:v1", digest: "ACME_APP", registry: "plain", repository: "acme/app", hops: 1},
	}
}

// Every lab name resolves to the digest the registry itself reports
// (Docker-Content-Digest, recorded by pushimages), authenticated by DNSSEC,
// through BIND with the anchor and through unbound with --trust-ad.
func TestResolvedDigestsEqualTheRegistrysOwn(t *testing.T) {
	l := needLab(t)
	for _, p := range resolverPaths {
		for _, c := range labCases() {
			t.Run(p.name+"/"+c.ref+"/"+c.platform, func(t *testing.T) {
				var extra []resolver.Option
				if c.platform != "" {
					extra = append(extra, resolver.WithPlatformString(c.platform))
				}
				r := newResolver(t, l, p, extra...)
				res, err := resolveTraced(t, r, c.ref)
				if err != nil {
					t.Fatalf("Resolve(%s): %v", c.ref, err)
				}
				if want := l.digest(t, c.digest); string(res.Digest) != want {
					t.Errorf("Digest = %s, want the registry's %s", res.Digest, want)
				}
				if c.platDigest != "" {
					if want := l.digest(t, c.platDigest); string(res.PlatformDigest) != want {
						t.Errorf("PlatformDigest = %q, want the registry's %s", res.PlatformDigest, want)
					}
				} else if res.PlatformDigest != "" {
					t.Errorf("PlatformDigest = %s without a platform", res.PlatformDigest)
				}
				wantReg := "http://" + l.plain()
				if c.registry == "token" {
					wantReg = "http://" + l.token()
				}
				if res.Registry != wantReg || res.Repository != c.repository {
					t.Errorf("found at %s %s, want %s %s", res.Registry, res.Repository, wantReg, c.repository)
				}
				if res.Authenticated != discovery.AuthDNSSEC || res.DNSSECOff {
					t.Errorf("Authenticated = %q (DNSSECOff %v), want dnssec", res.Authenticated, res.DNSSECOff)
				}
				if len(res.Chain) != c.hops {
					t.Errorf("chain = %+v, want %d hop(s)", res.Chain, c.hops)
				}
				if res.Cached {
					t.Error("first resolution reported as cached")
				}
				again, err := r.Resolve(context.Background(), c.ref)
				if err != nil || !again.Cached || again.Digest != res.Digest {
					t.Errorf("second resolution = %+v, %v; want the same digest from cache", again, err)
				}
			})
		}
	}
}

// A digest reference needs no tag lookup; with verify the registry's bytes
// must hash to it.
func TestDigestReferenceResolvesToItself(t *testing.T) {
	l := needLab(t)
	d := l.digest(t, "ACME_APP")
	for _, verify := range []bool{false, true} {
		r := newResolver(t, l, resolverPaths[0], resolver.WithVerify(verify))
		res, err := resolveTraced(t, r, "lab.test/acme/app@"+d)
		if err != nil {
			t.Fatalf("verify=%v: %v", verify, err)
		}
		if string(res.Digest) != d {
			t.Errorf("verify=%v: Digest = %s, want %s", verify, res.Digest, d)
		}
	}
}

// A tampered zone is a failure that names the cause; the resolver must not
// fall through to the SRV record or the direct registry (both would find an
// image), nor follow the tampered record (evil/app exists too).
func TestTamperedZoneFailsResolution(t *testing.T) {
	l := needLab(t)
	for _, p := range resolverPaths {
		for _, ref := range []string{"bogus.lab.test/direct/app:v1", "lab.test/bogus/app:v1"} {
			t.Run(p.name+"/"+ref, func(t *testing.T) {
				r := newResolver(t, l, p)
				res, err := r.Resolve(context.Background(), ref)
				if err == nil {
					t.Fatalf("Resolve(%s) = %s at %s/%s, want a failure", ref, res.Digest, res.Registry, res.Repository)
				}
				var re *resolver.Error
				if !errors.As(err, &re) || re.Ref != ref || resolver.CodeOf(err) != resolver.CodeDiscovery {
					t.Fatalf("error = %v (code %s), want a *resolver.Error for %s with code %s", err, resolver.CodeOf(err), ref, resolver.CodeDiscovery)
				}
				if p.name == "bind+anchor" && !errors.Is(err, dnssec.ErrBogus) {
					t.Errorf("error = %v, want it to wrap dnssec.ErrBogus", err)
				}
			})
		}
	}
}

// The unsigned child's mapping to another host is skipped under dnssec on
// (the host's own registry, found by SRV, answers), followed under
// dnssec off, and the result says which.
func TestUnsignedChildMappingSkippedUnlessDNSSECOff(t *testing.T) {
	l := needLab(t)
	const ref = "unsigned.lab.test/direct/app:v1"
	for _, p := range resolverPaths {
		t.Run(p.name+"/dnssec-on", func(t *testing.T) {
			res, err := resolveTraced(t, newResolver(t, l, p), ref)
			if err != nil {
				t.Fatal(err)
			}
			if want := l.digest(t, "DIRECT_APP"); string(res.Digest) != want {
				t.Fatalf("Digest = %s at %s/%s, want %s (the owner's own registry)", res.Digest, res.Registry, res.Repository, want)
			}
			if res.Registry != "http://unsigned.lab.test:"+l.plainPort || res.Authenticated == discovery.AuthDNSSEC {
				t.Errorf("found at %s authenticated %q, want the host itself, not dnssec", res.Registry, res.Authenticated)
			}
		})
		t.Run(p.name+"/dnssec-off", func(t *testing.T) {
			res, err := resolveTraced(t, newResolver(t, l, p, resolver.WithDNSSEC(false)), ref)
			if err != nil {
				t.Fatal(err)
			}
			if want := l.digest(t, "EVIL_DIRECT_APP"); string(res.Digest) != want || !res.DNSSECOff {
				t.Fatalf("Digest = %s (DNSSECOff %v), want %s and DNSSECOff", res.Digest, res.DNSSECOff, want)
			}
		})
	}
}

// A tag the registry does not have is "not found", not a discovery failure.
func TestMissingTagIsNotFound(t *testing.T) {
	l := needLab(t)
	_, err := newResolver(t, l, resolverPaths[0]).Resolve(context.Background(), "lab.test/acme/app:no-such-tag")
	if !errors.Is(err, resolver.ErrNotFound) {
		t.Fatalf("error = %v, want ErrNotFound", err)
	}
}

// The token-auth registry answers 401 with a Bearer challenge whose realm
// is the lab's token service; ocidns fetches an anonymous pull token there
// (no credentials: the docker config is empty) and resolves the tag.
func TestTokenRegistryResolvesAnonymously(t *testing.T) {
	l := needLab(t)
	for _, p := range resolverPaths {
		t.Run(p.name, func(t *testing.T) {
			r := newResolver(t, l, p)
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			res, events, err := r.Trace(ctx, "lab.test/secure/app:v1")
			if err != nil {
				logTrace(t, events)
				t.Fatal(err)
			}
			if want := l.digest(t, "SECURE_APP"); string(res.Digest) != want {
				t.Errorf("Digest = %s, want %s", res.Digest, want)
			}
			token := false
			for _, e := range events {
				if e.Source == "registry" && e.Server == l.realmHost && e.Outcome == "200" {
					token = true
				}
			}
			if !token {
				logTrace(t, events)
				t.Errorf("no successful token request to the realm %s in the trace", l.realmHost)
			}
		})
	}
}
