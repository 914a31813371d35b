package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ocidns/ocidns/reference"
	"github.com/ocidns/ocidns/resolver"
)

// resolverFlags are the common flags of every command that resolves or
// discovers (README, Resolver flags).
type resolverFlags struct {
	dns          []string
	dnssec       string
	trustAnchors []string
	trustAD      bool
	caFiles      []string
	insecure     []string
	platform     string
	search       []string
	normalize    bool
	timeout      time.Duration
	noWellKnown  bool
	dockerConfig string
	authFiles    []string
	verify       bool
	tagTTL       time.Duration
	// Signature checking (protocol.md §15).
	trustKeys        []string
	requireSignature bool
	verifySignatures bool
	output           string
	// outputs are the -o values the command accepts beyond text and json
	// (resolve: ref).
	outputs []string
}

// addResolverFlags registers the common flags on fs.
func addResolverFlags(fs *pflag.FlagSet, f *resolverFlags) {
	fs.StringArrayVar(&f.dns, "dns", nil, "DNS server HOST:PORT for every lookup (repeatable; default: /etc/resolv.conf)")
	fs.StringVar(&f.dnssec, "dnssec", "on", "on: follow a mapping to another host only when authenticated; require: also fail when DNSSEC cannot be validated (a resolver without DNSSEC); off: trust DNS as it comes")
	fs.StringArrayVar(&f.trustAnchors, "trust-anchor", nil, "zone file of DS or DNSKEY trust anchors, besides the root KSK (repeatable)")
	fs.BoolVar(&f.trustAD, "trust-ad", false, "trust the AD bit of the configured resolver")
	fs.StringArrayVar(&f.caFiles, "ca-file", nil, "PEM file of extra CA certificates (repeatable)")
	fs.StringArrayVar(&f.insecure, "insecure-registry", nil, "allow plain HTTP to HOST[:PORT] (repeatable)")
	fs.StringVar(&f.platform, "platform", "", "select OS/ARCH[/VARIANT] from an image index")
	fs.StringArrayVar(&f.search, "search", nil, "qualify short names with DOMAIN, tried in order (repeatable)")
	fs.BoolVar(&f.normalize, "normalize", false, "qualify short names by the docker.io rules")
	fs.DurationVar(&f.timeout, "timeout", resolver.DefaultTimeout, "bound on one whole resolution")
	fs.BoolVar(&f.noWellKnown, "no-well-known", false, "do not fetch https://HOST/.well-known/oci-discovery")
	fs.StringVar(&f.dockerConfig, "docker-config", "", "read registry credentials from this Docker config.json, running its credential helpers (default: search containers' auth.json files, then $DOCKER_CONFIG/config.json or ~/.docker/config.json)")
	fs.StringArrayVar(&f.authFiles, "auth-file", nil, "read registry credentials from this containers auth.json, before --docker-config's, instead of the default search (repeatable)")
	fs.BoolVar(&f.verify, "verify", false, "fetch the manifest of digest references and check its digest")
	fs.DurationVar(&f.tagTTL, "tag-ttl", resolver.DefaultTagTTL, "how long a tag's resolution is cached (0: always revalidate)")
	fs.StringArrayVar(&f.trustKeys, "trust-key", nil, "PEM public key FILE (cosign.pub) that may sign every name, besides the keys owners publish (repeatable)")
	fs.BoolVar(&f.requireSignature, "require-signature", false, "fail a name whose digest has no cosign signature verified by a key that applies, as if every owner published sign=required")
	fs.BoolVar(&f.verifySignatures, "verify-signatures", true, "check signatures where keys apply; =false turns checking off, except where the owner publishes sign=required")
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text or json (resolve: also ref)")
}

// options turns the flags into resolver options, or a usage error.
func (f *resolverFlags) options() ([]resolver.Option, error) {
	var opts []resolver.Option
	switch f.dnssec {
	case "on":
	case "require":
		opts = append(opts, resolver.WithRequireDNSSEC(true))
	case "off":
		opts = append(opts, resolver.WithDNSSEC(false))
	default:
		return nil, fmt.Errorf("--dnssec must be on, require or off, not %q", f.dnssec)
	}
	if f.output != "text" && f.output != "json" && !slices.Contains(f.outputs, f.output) {
		return nil, fmt.Errorf("-o must be %s, not %q", strings.Join(append([]string{"text", "json"}, f.outputs...), ", "), f.output)
	}
	opts = append(opts, f.trustOptions()...)
	if f.platform != "" {
		p, err := reference.ParsePlatform(f.platform)
		if err != nil {
			return nil, fmt.Errorf("--platform %q: %w", f.platform, err)
		}
		opts = append(opts, resolver.WithPlatform(p))
	}
	if len(f.search) > 0 {
		opts = append(opts, resolver.WithSearch(f.search...))
	}
	if f.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive")
	}
	if f.tagTTL < 0 {
		return nil, fmt.Errorf("--tag-ttl must not be negative")
	}
	opts = append(opts,
		resolver.WithNormalize(f.normalize),
		resolver.WithTimeout(f.timeout),
		resolver.WithWellKnown(!f.noWellKnown),
		resolver.WithVerify(f.verify),
		resolver.WithTagTTL(f.tagTTL),
	)
	return append(opts, f.credentialOptions()...), nil
}

// trustOptions are the options of whom to ask and trust on the network:
// DNS servers, trust anchors, the AD bit, CA files, insecure registries.
func (f *resolverFlags) trustOptions() []resolver.Option {
	var opts []resolver.Option
	if len(f.dns) > 0 {
		opts = append(opts, resolver.WithDNSServers(f.dns...))
	}
	for _, a := range f.trustAnchors {
		opts = append(opts, resolver.WithTrustAnchorFile(a))
	}
	if f.trustAD {
		opts = append(opts, resolver.WithTrustAD(true))
	}
	for _, c := range f.caFiles {
		opts = append(opts, resolver.WithCAFile(c))
	}
	if len(f.insecure) > 0 {
		opts = append(opts, resolver.WithInsecureRegistries(f.insecure...))
	}
	return opts
}

// credentialOptions are the options of signing keys and of registry
// credentials.
func (f *resolverFlags) credentialOptions() []resolver.Option {
	var opts []resolver.Option
	for _, k := range f.trustKeys {
		opts = append(opts, resolver.WithTrustKeyFile(k))
	}
	if f.requireSignature {
		opts = append(opts, resolver.WithRequireSignature(true))
	}
	if !f.verifySignatures {
		opts = append(opts, resolver.WithSignatureVerification(false))
	}
	for _, a := range f.authFiles {
		opts = append(opts, resolver.WithAuthFile(a))
	}
	if f.dockerConfig != "" {
		opts = append(opts, resolver.WithDockerConfig(f.dockerConfig))
	}
	return opts
}

// newResolver builds the Resolver the flags describe. A bad flag value or
// an unreadable file they name is a usage error, reported here for cmd; ok
// is false then and the command returns exitUsage.
func (f *resolverFlags) newResolver(cmd string, stdio IO) (r *resolver.Resolver, ok bool) {
	opts, err := f.options()
	if err == nil {
		// Said once, on stderr, when the DNS resolver cannot serve DNSSEC
		// (serve logs it instead: serveSettings.resolverOptions).
		warn := resolver.WithDNSSECWarning(func(msg string) { fmt.Fprintln(stdio.Err, "ocidns: warning:", msg) })
		r, err = resolver.New(append(opts, warn)...)
	}
	if err != nil {
		usageError(stdio, cmd, "%v", err)
		return nil, false
	}
	return r, true
}
