package resolver

import (
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/reference"
	"github.com/ocidns/ocidns/resolver/signature"
)

// Defaults for a Resolver.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultTagTTL      = 60 * time.Second
	DefaultCacheSize   = 10_000
	DefaultStaleWindow = 24 * time.Hour
	// DefaultMaxUpstream bounds the resolutions, and separately the
	// discovery lookups, running upstream at once (WithMaxUpstream).
	DefaultMaxUpstream = 256
)

// Option configures a Resolver; see New.
type Option func(*options) error

type options struct {
	dnsServers     []string
	resolvConf     string
	dnsTimeout     time.Duration
	dnssecOff      bool
	requireDNSSEC  bool
	dnssecWarning  func(msg string)
	anchorFiles    []string
	anchors        []dns.RR
	trustAD        bool
	trustADSet     bool
	caFiles        []string
	rootCAs        *x509.CertPool
	insecure       []string
	platform       *reference.Platform
	search         []string
	normalize      bool
	timeout        time.Duration
	noWellKnown    bool
	httpClient     *http.Client
	dockerConfig   string
	authFiles      []string
	helperTimeout  time.Duration // 0: defaultHelperTimeout; tests shorten it
	verify         bool
	tagTTL         time.Duration
	cacheSize      int
	staleWindow    time.Duration
	now            func() time.Time
	rand           *rand.Rand
	local          map[string][]discovery.Mapping
	maxHops        int
	discoveryLimit time.Duration
	maxUpstream    int
	addrPolicy     *addressPolicy
	// Signature checking (protocol.md §15): the user's keys, the files
	// they come from (read by New), whether the user requires a signature
	// for every name, and whether checking is off where the owner does not
	// require it.
	trustKeys        []*signature.Key
	trustKeyFiles    []string
	requireSignature bool
	noVerifySigs     bool
	// connect replaces the connection to an address the policy checked,
	// for tests that stand a loopback server in for a public address.
	connect dialFunc
}

// WithDNSServers sends every DNS query — records and the addresses of
// registries, well-known hosts and token realms — to these servers
// (host:port; IPv6 as [addr]:port). Without it /etc/resolv.conf is used for
// records and the system resolver for addresses.
func WithDNSServers(servers ...string) Option {
	return func(o *options) error { o.dnsServers = append(o.dnsServers, servers...); return nil }
}

// WithResolvConf reads DNS servers and options from path instead of
// /etc/resolv.conf.
func WithResolvConf(path string) Option {
	return func(o *options) error { o.resolvConf = path; return nil }
}

// WithDNSTimeout sets the per-query DNS timeout (default 2s).
func WithDNSTimeout(d time.Duration) Option {
	return func(o *options) error { o.dnsTimeout = d; return nil }
}

// WithDNSSEC turns the authentication policy on (the default) or off. Off
// follows unauthenticated cross-host mappings and says so in every result.
func WithDNSSEC(on bool) Option {
	return func(o *options) error { o.dnssecOff = !on; return nil }
}

// WithRequireDNSSEC makes "cannot validate" an error (--dnssec require):
// an answer whose chain of trust cannot be fetched, or any answer under
// the root trust anchor when the DNS resolver cannot serve DNSSEC data,
// fails the resolution instead of being taken as unauthenticated.
// Provably unsigned zones stay insecure, as under WithDNSSEC(true).
func WithRequireDNSSEC(on bool) Option {
	return func(o *options) error { o.requireDNSSEC = on; return nil }
}

// WithDNSSECWarning calls warn once, when the Resolver finds that its DNS
// resolver cannot serve DNSSEC data (docs/protocol.md §8.2), with a
// message saying why and what to do. `ocidns` prints it on stderr, `ocidns
// serve` logs it. Not called under WithDNSSEC(false), WithRequireDNSSEC
// (every such answer is an error instead) or WithTrustAD(true) (the
// resolver's AD bit authenticates).
func WithDNSSECWarning(warn func(msg string)) Option {
	return func(o *options) error { o.dnssecWarning = warn; return nil }
}

// WithTrustAnchorFile adds the DS or DNSKEY records of a zone file as
// DNSSEC trust anchors, beside the built-in root KSK.
func WithTrustAnchorFile(path string) Option {
	return func(o *options) error { o.anchorFiles = append(o.anchorFiles, path); return nil }
}

// WithTrustAnchors adds DS or DNSKEY records as DNSSEC trust anchors.
func WithTrustAnchors(rrs ...dns.RR) Option {
	return func(o *options) error { o.anchors = append(o.anchors, rrs...); return nil }
}

// WithTrustAD trusts the AD bit of the configured resolver instead of (or
// besides) in-process validation.
func WithTrustAD(on bool) Option {
	return func(o *options) error { o.trustAD, o.trustADSet = on, true; return nil }
}

// WithCAFile adds the PEM certificates in path to the system roots for every
// TLS connection (well-known documents, registries, token realms).
func WithCAFile(path string) Option {
	return func(o *options) error { o.caFiles = append(o.caFiles, path); return nil }
}

// WithRootCAs verifies TLS against pool instead of the system roots
// (WithCAFile still adds to it).
func WithRootCAs(pool *x509.CertPool) Option {
	return func(o *options) error { o.rootCAs = pool; return nil }
}

// WithInsecureRegistries allows plain HTTP to these hosts (host or
// host:port), as Docker's insecure-registries.
func WithInsecureRegistries(hosts ...string) Option {
	return func(o *options) error { o.insecure = append(o.insecure, hosts...); return nil }
}

// WithPlatform selects the platform's manifest from an image index.
func WithPlatform(p reference.Platform) Option {
	return func(o *options) error { o.platform = &p; return nil }
}

// WithPlatformString is WithPlatform for "os/arch[/variant]".
func WithPlatformString(s string) Option {
	return func(o *options) error {
		p, err := reference.ParsePlatform(s)
		if err != nil {
			return fmt.Errorf("platform %q: %w", s, err)
		}
		o.platform = &p
		return nil
	}
}

// WithSearch qualifies short names with these domains, tried in order.
func WithSearch(domains ...string) Option {
	return func(o *options) error { o.search = append(o.search, domains...); return nil }
}

// WithNormalize qualifies short names by the docker.io rules
// (ubuntu → docker.io/library/ubuntu).
func WithNormalize(on bool) Option {
	return func(o *options) error { o.normalize = on; return nil }
}

// WithTimeout bounds one whole resolution (default 30s).
func WithTimeout(d time.Duration) Option {
	return func(o *options) error { o.timeout = d; return nil }
}

// WithDiscoveryTimeout bounds one whole discovery (default 10s).
func WithDiscoveryTimeout(d time.Duration) Option {
	return func(o *options) error { o.discoveryLimit = d; return nil }
}

// WithWellKnown turns the HTTPS well-known source on (default) or off.
func WithWellKnown(on bool) Option {
	return func(o *options) error { o.noWellKnown = !on; return nil }
}

// WithHTTPClient uses c for every HTTP request. Its transport is used as
// given: WithDNSServers, WithCAFile and the per-endpoint TLS name are then
// the caller's business.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error { o.httpClient = c; return nil }
}

// WithDockerConfig reads registry credentials from this Docker
// config.json, instead of searching the default files (containers'
// auth.json files, then $DOCKER_CONFIG/config.json or
// ~/.docker/config.json). Its credHelpers and credsStore are run as
// Docker runs them.
func WithDockerConfig(path string) Option {
	return func(o *options) error { o.dockerConfig = path; return nil }
}

// WithAuthFile reads registry credentials from this containers auth.json
// (as `podman login --authfile` writes it), instead of searching the
// default files; repeatable, read in order, before WithDockerConfig's.
func WithAuthFile(path string) Option {
	return func(o *options) error { o.authFiles = append(o.authFiles, path); return nil }
}

// WithVerify fetches the manifest of digest references and checks its digest.
func WithVerify(on bool) Option {
	return func(o *options) error { o.verify = on; return nil }
}

// WithTagTTL sets how long a tag's resolution is cached (default 60s; 0
// always revalidates, still serving stale when the registry fails).
func WithTagTTL(d time.Duration) Option {
	return func(o *options) error { o.tagTTL = d; return nil }
}

// WithCacheSize bounds each cache (resolutions, discovery answers) in entries.
func WithCacheSize(n int) Option {
	return func(o *options) error { o.cacheSize = n; return nil }
}

// WithStaleWindow sets how long past expiry an answer may be served when
// its refresh fails (RFC 8767; default 24h; negative disables).
func WithStaleWindow(d time.Duration) Option {
	return func(o *options) error { o.staleWindow = d; return nil }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option {
	return func(o *options) error { o.now = now; return nil }
}

// WithRand orders mirrors and SRV targets with r, for deterministic tests.
func WithRand(r *rand.Rand) Option {
	return func(o *options) error { o.rand = r; return nil }
}

// WithLocalMapping adds an operator-configured mapping for host, trusted as
// "config" and taking precedence over everything the host publishes.
func WithLocalMapping(host string, m discovery.Mapping) Option {
	return func(o *options) error {
		if o.local == nil {
			o.local = make(map[string][]discovery.Mapping)
		}
		o.local[host] = append(o.local[host], m)
		return nil
	}
}

// WithMaxUpstream bounds the work a Resolver does upstream at once: at
// most n resolutions, at most n discovery lookups (a TXT or SRV query with
// its validation, or a well-known fetch), and at most n connections being
// dialled, run at a time; more wait for a turn, each within its caller's
// deadline. A lookup whose callers all
// gave up is cancelled, but keeps its turn until it has stopped, so that
// abandoned work cannot pile up. Default DefaultMaxUpstream; n must be
// positive. `ocidns serve` passes --max-in-flight.
func WithMaxUpstream(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("max upstream must be positive, not %d", n)
		}
		o.maxUpstream = n
		return nil
	}
}

// WithMaxHops bounds the delegation chain (default 8).
func WithMaxHops(n int) Option {
	return func(o *options) error { o.maxHops = n; return nil }
}

// WithTrustKeys adds keys that may sign every name, beside those the
// names' owners publish (protocol.md §15.2); their source should be
// signature.SourceConfig. A signature one of them verifies is reported
// with signer "config".
func WithTrustKeys(keys ...*signature.Key) Option {
	return func(o *options) error {
		for _, k := range keys {
			if k == nil {
				return fmt.Errorf("trust key: nil key")
			}
		}
		o.trustKeys = append(o.trustKeys, keys...)
		return nil
	}
}

// WithTrustKeyFile adds the public key of a PEM file (cosign.pub) as
// WithTrustKeys does; New reads it, and fails naming the file when it is
// not one ECDSA P-256 or Ed25519 public key (`--trust-key`).
func WithTrustKeyFile(path string) Option {
	return func(o *options) error { o.trustKeyFiles = append(o.trustKeyFiles, path); return nil }
}

// WithRequireSignature requires a verified signature for every name, as
// if each owner published sign=required (`--require-signature`): without
// one, a resolution fails with ErrSignatureMissing, ErrSignatureInvalid,
// ErrNoUsableKey or ErrSignatureUnfetchable.
func WithRequireSignature(on bool) Option {
	return func(o *options) error { o.requireSignature = on; return nil }
}

// WithSignatureVerification turns signature checking off (false) for names
// whose owner does not require signatures (`--verify-signatures=false`);
// an owner's sign=required is checked whatever this says. Default on.
func WithSignatureVerification(on bool) Option {
	return func(o *options) error { o.noVerifySigs = !on; return nil }
}

// lazyRegexp compiles expr at its first use: a one-shot `ocidns resolve`
// never needs most of the package's expressions, and compiling them all
// when the process starts was a measurable part of its run.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
