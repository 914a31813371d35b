package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/resolver"
)

// Options returns the resolver options that point at the lab: its DNS
// server for every lookup, its trust anchors and its CA, and example.test
// as the search domain.
func (lab *Lab) Options() []resolver.Option {
	return []resolver.Option{
		resolver.WithDNSServers(lab.DNS.Addr()),
		resolver.WithTrustAnchorFile(lab.AnchorFile),
		resolver.WithCAFile(lab.CAFile),
		resolver.WithSearch("example.test"),
	}
}

// CommandLine is the `ocidns resolve` invocation that reaches the lab from
// another shell.
func (lab *Lab) CommandLine() string {
	return fmt.Sprintf("go run ./cmd/ocidns resolve --dns %s --trust-anchor %s --ca-file %s --search example.test -o json REF...",
		lab.DNS.Addr(), lab.AnchorFile, lab.CAFile)
}

// LocalHosts are the lab's HTTPS servers (host:port) as resolutions reach
// them. They listen on loopback, so `ocidns serve` connects to them only
// when allowed with --allow-local-registry (resolver.AddressPolicy.Allow).
func (lab *Lab) LocalHosts() []string {
	return []string{lab.RegistryHost, lab.MirrorHost, lab.WellKnownHost}
}

// ServeCommandLine is the `ocidns serve` invocation that serves the lab's
// names from another shell.
func (lab *Lab) ServeCommandLine() string {
	allow := ""
	for _, h := range lab.LocalHosts() {
		allow += " --allow-local-registry " + h
	}
	return fmt.Sprintf("go run ./cmd/ocidns serve --dns %s --trust-anchor %s --ca-file %s --search example.test%s",
		lab.DNS.Addr(), lab.AnchorFile, lab.CAFile, allow)
}

// scenario is one scripted resolution and what it must show.
type scenario struct {
	title string
	ref   string
	check check
	// refused, when set, is the error the resolution must fail with.
	refused error
}

func (lab *Lab) scenarios() []scenario {
	app := lab.Digests["example/org/app:v1.0.0"]
	return []scenario{
		{"a docker-form name mapped by a signed TXT record", "example.test/org/app:v1.0.0",
			all(wantDigest(app), wantAuth(discovery.AuthDNSSEC), wantRepo("example/org/app")), nil},
		{"the same image in appc form; os/arch labels pick the platform manifest",
			"example.test/org/app,version=v1.0.0,os=linux,arch=arm64",
			all(wantDigest(app), wantPlatformDigest(lab.Digests["example/org/app:v1.0.0@linux/arm64"])), nil},
		{"a namespace delegated over two hops to another organization", "example.test/partners/acme/tool:1.0",
			all(wantDigest(lab.Digests["acme-tools/tool:1.0"]), wantRepo("acme-tools/tool"), wantHops(3), wantAuth(discovery.AuthDNSSEC)), nil},
		{"a host that publishes only a well-known document", lab.WellKnownHost + "/site:1.0",
			all(wantDigest(lab.Digests["web/site:1.0"]), wantAuth(discovery.AuthHTTPS)), nil},
		{"a host whose registry is located by SRV", "srv.example.test/db/postgres:16",
			all(wantDigest(lab.Digests["db/postgres:16"]), wantRepo("db/postgres")), nil},
		{"a forged, unsigned TXT delegation is refused; the owner's own registry answers", "insecure.test/app:1.0",
			all(wantDigest(lab.Digests["app:1.0"]), wantSkipped("insecure.test", "app", discovery.SkipUnauthenticatedCrossHost)), nil},
		{"a signed delegation to an unsigned vendor: its forged TXT mapping is skipped, its SRV names a registry and a mirror",
			"example.test/vendor/scanner:1.0",
			all(wantDigest(lab.Digests["scanner:1.0"]), wantHops(2), wantAuth(discovery.AuthNone), wantEndpoints(2),
				wantSkipped("vendor.test", "scanner", discovery.SkipUnauthenticatedCrossHost)), nil},
		{"a digest reference needs no tag lookup", "example.test/org/app@" + app.String(),
			all(wantDigest(app)), nil},
		{"a short name qualified by --search example.test", "org/app:v1.0.0",
			all(wantDigest(app), wantResolved("example.test/org/app:v1.0.0")), nil},
		{title: "an image signed with the cosign key its owner publishes in DNS (sign=required)", ref: "example.test/signed/app:1.0",
			check: all(wantDigest(lab.Digests["example/signed/app:1.0"]), wantVerified(lab.SigningKey.ID()))},
		{title: "an unsigned image where the owner requires a signature is refused", ref: "example.test/signed/unsigned:1.0",
			refused: resolver.ErrSignatureMissing},
		{"the first name again: a cache hit, no network", "example.test/org/app:v1.0.0",
			all(wantDigest(app), wantCached()), nil},
	}
}

// Run resolves the scripted names through r and prints, for each, the
// answer and a compact trace. It fails if any answer is not what the lab
// holds: the demo checks itself.
func (lab *Lab) Run(ctx context.Context, w io.Writer, r *resolver.Resolver) error {
	var failed []string
	for i, sc := range lab.scenarios() {
		fmt.Fprintf(w, "\n== %d. %s\n$ ocidns resolve %s\n", i+1, sc.title, sc.ref)
		tr := trace.New(nil)
		res, err := r.Resolve(trace.NewContext(ctx, tr), sc.ref)
		events := tr.Events()
		for _, e := range events {
			if compact(e) {
				fmt.Fprintf(w, "   %s\n", e)
			}
		}
		if err == nil && res.Cached && len(events) == 0 {
			fmt.Fprintln(w, "   cache hit: answered from memory, no DNS query, no registry request")
		}
		if sc.refused != nil {
			if errors.Is(err, sc.refused) {
				fmt.Fprintf(w, "=> refused, as it must be: %s\n", resolver.CodeOf(err))
				continue
			}
			err = fmt.Errorf("want the resolution refused (%v), got %v", sc.refused, err)
		} else if err == nil {
			err = sc.check(outcome{ctx: ctx, lab: lab, r: r, res: res})
		}
		if err != nil {
			fmt.Fprintf(w, "FAILED: %v\n", err)
			failed = append(failed, sc.title)
			continue
		}
		fmt.Fprintf(w, "=> %s\n", res.Digest)
		if res.PlatformDigest != "" {
			fmt.Fprintf(w, "   %s manifest: %s\n", res.Platform, res.PlatformDigest)
		}
		fmt.Fprintf(w, "   registry %s repository %s, authenticated: %s, cached: %t\n", res.Registry, res.Repository, res.Authenticated, res.Cached)
		if s := res.Signature; s != nil && s.Verified {
			fmt.Fprintf(w, "   signature verified: %s, key %s (%s), required by %s\n", s.Format, s.KeyID, s.Signer, s.RequiredBy)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d demo scenario(s) failed: %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}

// outcome is what a scenario's check looks at: the answer, and the
// resolver that gave it.
type outcome struct {
	ctx context.Context
	lab *Lab
	r   *resolver.Resolver
	res resolver.Result
}

type check func(o outcome) error

func all(cs ...check) check {
	return func(o outcome) error {
		var errs []error
		for _, c := range cs {
			if err := c(o); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

func wantDigest(d digest.Digest) check {
	return func(o outcome) error {
		res := o.res
		if d == "" || res.Digest != d {
			return fmt.Errorf("digest %s, want %s", res.Digest, d)
		}
		return nil
	}
}

func wantPlatformDigest(d digest.Digest) check {
	return func(o outcome) error {
		res := o.res
		if d == "" || res.PlatformDigest != d {
			return fmt.Errorf("platform digest %s, want %s", res.PlatformDigest, d)
		}
		return nil
	}
}

func wantAuth(a discovery.Auth) check {
	return func(o outcome) error {
		res := o.res
		if res.Authenticated != a {
			return fmt.Errorf("authenticated %q, want %q", res.Authenticated, a)
		}
		return nil
	}
}

func wantRepo(repo string) check {
	return func(o outcome) error {
		res := o.res
		if res.Repository != repo {
			return fmt.Errorf("repository %q, want %q", res.Repository, repo)
		}
		return nil
	}
}

func wantResolved(ref string) check {
	return func(o outcome) error {
		res := o.res
		if res.Resolved != ref {
			return fmt.Errorf("resolved as %q, want %q", res.Resolved, ref)
		}
		return nil
	}
}

func wantHops(n int) check {
	return func(o outcome) error {
		res := o.res
		if len(res.Chain) != n {
			return fmt.Errorf("%d hops, want %d", len(res.Chain), n)
		}
		return nil
	}
}

func wantVerified(keyID string) check {
	return func(o outcome) error {
		if s := o.res.Signature; s == nil || !s.Verified || s.KeyID != keyID || s.Signer != "dns" {
			return fmt.Errorf("signature %+v, want verified by the owner's key %s (dns)", s, keyID)
		}
		return nil
	}
}

func wantEndpoints(n int) check {
	return func(o outcome) error {
		if len(o.res.Endpoints) != n {
			return fmt.Errorf("%d endpoints, want %d", len(o.res.Endpoints), n)
		}
		return nil
	}
}

func wantCached() check {
	return func(o outcome) error {
		res := o.res
		if !res.Cached {
			return errors.New("not served from cache")
		}
		return nil
	}
}

// wantSkipped wants the discovery of host/path to have skipped a mapping
// at its first hop for reason, as the discovery report says.
func wantSkipped(host, path string, reason discovery.SkipReason) check {
	return func(o outcome) error {
		res, err := o.r.Discover(o.ctx, host, path)
		if err != nil {
			return err
		}
		for _, src := range res.Hops[0].Sources {
			for _, sk := range src.Skipped {
				if sk.Reason == reason {
					return nil
				}
			}
		}
		return fmt.Errorf("discovery of %s/%s skipped no mapping as %s", host, path, reason)
	}
}

// compact keeps the events a reader of the demo needs: the TXT/SRV/HTTPS/
// registry steps and every decision; address lookups and the raw DNSKEY,
// DS and SOA queries behind DNSSEC verdicts are left to `ocidns trace`.
func compact(e trace.Event) bool {
	if e.Decision != "" {
		return !(e.Source == "https" && e.Outcome == "error")
	}
	if e.Source != "dns" {
		return true
	}
	qtype, _, _ := strings.Cut(e.Query, " ")
	return qtype == "TXT" || qtype == "SRV"
}
