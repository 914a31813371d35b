// Package resolver turns image references into manifest digests: it
// qualifies the name, discovers who serves it (package discovery), asks the
// registry over the OCI distribution API and caches the answers.
//
// A Resolver is what a container engine embeds; `ocidns resolve` and the
// `ocidns serve` daemon are thin layers over it.
package resolver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/miekg/dns"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocidns/ocidns/cache"
	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
	"github.com/ocidns/ocidns/reference"
	"github.com/ocidns/ocidns/resolver/signature"
)

// digestTTL is how long a digest reference's resolution is cached: a digest
// names the same bytes forever, so only eviction removes it.
const digestTTL = 100 * 365 * 24 * time.Hour

// Connection bounds (protocol.md §11). Each distinct TLS server name (an
// unauthenticated SRV target verified against the owner's name) needs its
// own transport; a hostile set of names must not grow them without bound.
const (
	maxIdleConns           = 128 // idle connections kept in all, shared transport
	maxIdleConnsPerHost    = 8
	maxTLSNameClients      = 128 // per-name transports kept, least recently used dropped
	maxIdleConnsPerTLSName = 4
)

// maxRegistryAttempts bounds the endpoints one resolution asks (protocol.md
// §11): a hostile record set must not turn one lookup into hundreds of
// requests. Owners list a few mirrors; 16 leaves room for many.
const maxRegistryAttempts = 16

// timeoutGrace is how long past WithTimeout a caller waits for a resolution
// that should have ended on its own deadline, with the error saying why.
const timeoutGrace = 500 * time.Millisecond

// Result is one resolved reference.
type Result struct {
	// Ref is the reference as given.
	Ref string `json:"ref"`
	// Resolved is the qualified docker-form reference that was resolved.
	Resolved string `json:"resolved"`
	// Digest, MediaType and Size describe the manifest (or index) the
	// reference names.
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType,omitempty"`
	Size      int64         `json:"size,omitempty"`
	// Registry (scheme://host[:port]) and Repository say where it was found.
	Registry   string `json:"registry"`
	Repository string `json:"repository"`
	// Pinned is one pullable reference to what was resolved, pinned to its
	// digest: registry-host[:port]/repository@sha256:... — the platform's
	// manifest when a platform was selected, else the manifest or index.
	// Any engine can pull it without ocidns.
	Pinned string `json:"pinned"`
	// Descriptor is the OCI descriptor of what Pinned names: media type,
	// digest, size and, when a platform was selected, the platform. For a
	// digest reference resolved without a registry request (no platform,
	// no WithVerify) only the digest is known.
	Descriptor ocispec.Descriptor `json:"descriptor"`
	// Endpoints are every registry discovery produced for the name, in the
	// order they are tried, with their capabilities and TLS server names:
	// the front door pulls from those with the pull capability. Shared by
	// cached copies of the Result: do not modify.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	// PlatformDigest is the digest of the platform's manifest when a
	// platform was asked for and the reference names an index.
	PlatformDigest digest.Digest `json:"platformDigest,omitempty"`
	Platform       string        `json:"platform,omitempty"`
	// Authenticated is how the mapping that led to the registry was
	// authenticated (the weakest step of the chain).
	Authenticated discovery.Auth `json:"authenticated"`
	// DNSSECOff is set when the resolver ran with --dnssec off.
	DNSSECOff bool `json:"dnssecOff,omitempty"`
	// DNSSEC is "unavailable" when the DNS resolver cannot serve DNSSEC
	// data: mappings under the root trust anchor were not authenticated
	// (DNSSECUnavailable says why).
	DNSSEC string `json:"dnssec,omitempty"`
	// Cached is set when the answer came from the cache; Stale when it was
	// served past its TTL because refreshing it failed.
	Cached bool `json:"cached"`
	Stale  bool `json:"stale"`
	// TTL is how long the answer may be cached.
	TTL time.Duration `json:"-"`
	// TTLSeconds is TTL in whole seconds, for JSON.
	TTLSeconds int64 `json:"ttl"`
	// Chain is the delegation chain discovery followed. Shared by cached
	// copies of the Result: do not modify.
	Chain []discovery.Step `json:"chain,omitempty"`
	// Signature is what checking the digest's signature found, under the
	// owner's policy and the user's (protocol.md §15); nil when nothing was
	// checked (no key applies and no one requires a signature, or checking
	// is off). A cached Result carries it: a verified digest is not
	// verified again until the result expires.
	Signature *Signature `json:"signature,omitempty"`
	// Events are the trace of this resolution; empty on a cache hit.
	Events []trace.Event `json:"-"`
	// Hops are discovery's report of each hop (discovery.Result.Hops), up
	// to the failing one when discovery failed: set by Trace and
	// TracePlatform only, never kept in the cache.
	Hops []discovery.HopReport `json:"-"`
}

// age makes TTL the time left for an answer stored d ago, and sets
// TTLSeconds; the Age comes from the cache's own clock reading, so a hit
// reads no clock here.
func (res *Result) age(d time.Duration) {
	if res.TTL >= digestTTL || d <= 0 {
		res.TTLSeconds = int64(res.TTL / time.Second)
		return
	}
	res.TTL = max(res.TTL-d, 0)
	// Whole seconds rounded up: an answer a few milliseconds old still
	// has its full TTL for a reader of the JSON.
	res.TTLSeconds = int64((res.TTL + time.Second - 1) / time.Second)
}

// resultCache is the cache of whole resolutions.
type resultCache struct {
	c    *cache.Cache[resultKey, cachedResult]
	locs locationInterner
}

// resultKey holds everything that changes a resolution's answer beyond the
// Resolver's own options. A struct key keeps cache hits allocation-free.
type resultKey struct {
	ref      string
	platform string
}

// engine is a Resolver under one set of options: everything but the
// caches, which outlive it (see Resolver.Reload). Safe for concurrent use.
type engine struct {
	opts      options
	dns       *dnsclient.Client
	disc      *discovery.Discoverer
	http      *http.Client
	transport *http.Transport // nil when the caller gave its own client
	// ipTransport serves hosts named by an IP address when the TLS trust
	// is split (see tlsTrust.split); nil otherwise.
	ipTransport *lazyTransport
	registry    *registryClient
	byTLSName   *lru.Cache[string, *registryClient] // nil when the caller gave its own client
	regCfg      registryConfig

	validator *dnssec.Validator
	trustAD   bool

	// trustKeys are the user's keys (WithTrustKeys and the files of
	// WithTrustKeyFile), which may sign every name.
	trustKeys []*signature.Key

	results *resultCache
	sources *cache.Cache[string, any]

	platformKey string
}

// New returns a Resolver configured by opts. It reads the files the options
// name (trust anchors, CA bundle, credentials files, resolv.conf) once, here.
func New(opts ...Option) (*Resolver, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	// Results and sources have a bound each: a resolution's call waits for
	// the lookups it starts, never the other way round, so two bounds
	// cannot deadlock. Locations need none of their own: a Locate is
	// discovery alone, whose lookups the sources' bound holds. The caches
	// read the monotonic clock alone unless a test brings its own.
	cacheCfg := cache.Config{Size: o.cacheSize, StaleWindow: o.staleWindow, Now: o.now}
	bounded := cacheCfg
	bounded.MaxCalls = o.maxUpstream
	r := &Resolver{
		fixed:     o,
		results:   &resultCache{c: cache.New[resultKey, cachedResult](bounded)},
		sources:   cache.New[string, any](bounded),
		locations: cache.New[string, Location](cacheCfg),
	}
	e, err := newEngine(o, r.results, r.sources)
	if err != nil {
		return nil, err
	}
	r.cur.Store(e)
	return r, nil
}

// applyOptions returns the defaults with opts applied.
func applyOptions(opts []Option) (options, error) {
	o := options{tagTTL: DefaultTagTTL, cacheSize: DefaultCacheSize, staleWindow: DefaultStaleWindow, timeout: DefaultTimeout, maxUpstream: DefaultMaxUpstream}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return options{}, err
		}
	}
	return o, nil
}

// newEngine builds everything o describes around the given caches.
func newEngine(o options, results *resultCache, sources *cache.Cache[string, any]) (*engine, error) {
	if o.now == nil {
		o.now = time.Now
	}
	r := &engine{opts: o, results: results, sources: sources}
	insecure := discovery.InsecureHosts(o.insecure)

	// Under --dnssec off nothing reads signatures or denial proofs: ask
	// without the DO bit, so that none are sent.
	dc, err := dnsclient.New(dnsclient.Config{Servers: o.dnsServers, ResolvConf: o.resolvConf, Timeout: o.dnsTimeout, NoDNSSEC: o.dnssecOff})
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	r.dns = dc

	if err := r.buildHTTP(o, dc); err != nil {
		return nil, err
	}
	r.trustAD = o.trustAD
	if !o.trustADSet {
		r.trustAD = dc.TrustAD()
	}
	if !o.dnssecOff {
		if r.validator, err = newValidator(o, dc, r.trustAD); err != nil {
			return nil, err
		}
	}

	r.disc = discovery.New(discovery.Options{
		DNS:           dc,
		HTTP:          r.http,
		Validator:     r.validator,
		TrustAD:       r.trustAD,
		DNSSECOff:     o.dnssecOff,
		DNSSECRequire: o.requireDNSSEC,
		NoWellKnown:   o.noWellKnown,
		Insecure:      insecure,
		Local:         o.local,
		MaxHops:       o.maxHops,
		Timeout:       o.discoveryLimit,
		Rand:          o.rand,
		Cache:         sourceCache{r.sources},
	})

	if err := r.loadTrustKeys(o); err != nil {
		return nil, err
	}

	creds, err := loadCredentials(credPathsFor(&o), o.helperTimeout)
	if err != nil {
		return nil, err
	}
	r.regCfg = registryConfig{HTTP: r.http, Insecure: insecure, Creds: creds, Now: o.now}
	r.registry = newRegistryClient(r.regCfg)
	if o.platform != nil {
		r.platformKey = o.platform.String()
	}
	return r, nil
}

// loadTrustKeys sets the keys o trusts for signatures besides the
// owners' (--trust-key).
func (r *engine) loadTrustKeys(o options) error {
	if o.requireSignature && o.noVerifySigs {
		return errors.New("--require-signature and --verify-signatures=false contradict each other: a required signature is always checked")
	}
	r.trustKeys = append(r.trustKeys, o.trustKeys...)
	for _, f := range o.trustKeyFiles {
		k, err := readTrustKey(f)
		if err != nil {
			return err
		}
		r.trustKeys = append(r.trustKeys, k)
	}
	return nil
}

// buildHTTP sets r's HTTP client: o's own, or one on a transport of ours
// that dials through dc under o's address policy.
func (r *engine) buildHTTP(o options, dc *dnsclient.Client) error {
	if o.httpClient != nil {
		if o.addrPolicy != nil {
			return errPolicyNeedsTransport
		}
		r.http = o.httpClient
		return nil
	}
	trust, err := newTLSTrust(o.rootCAs, o.caFiles)
	if err != nil {
		return err
	}
	r.transport = newTransport(trust.config(), dc, len(o.dnsServers) > 0, o.addrPolicy, o.connect, o.maxUpstream)
	var rt http.RoundTripper = r.transport
	if trust.split() {
		names := r.transport
		r.ipTransport = &lazyTransport{make: func() *http.Transport {
			t := names.Clone() // the same dials, their bound and policy included
			t.TLSClientConfig = trust.ipConfig()
			return t
		}}
		rt = splitIP{names: names, ips: r.ipTransport}
	}
	r.http = &http.Client{Transport: requestScoped{rt}}
	// A client pushed out closes its idle connections; one with a request
	// in flight keeps that connection until IdleConnTimeout.
	r.byTLSName, _ = lru.NewWithEvict(maxTLSNameClients, func(_ string, c *registryClient) {
		c.cfg.HTTP.CloseIdleConnections()
	})
	return nil
}

// newValidator returns the validator of o's trust anchors asking dc, with
// the resolver check set up: found out once whether the DNS resolver
// serves DNSSEC data; if it cannot, answers under the root are
// unauthenticated rather than bogus (docs/protocol.md §8.2).
func newValidator(o options, dc *dnsclient.Client, trustAD bool) (*dnssec.Validator, error) {
	anchors := append(dnssec.RootAnchors(), o.anchors...)
	for _, f := range o.anchorFiles {
		rrs, err := readAnchors(f)
		if err != nil {
			return nil, err
		}
		anchors = append(anchors, rrs...)
	}
	validator := dnssec.NewValidator(dc, anchors, o.now)
	check := dnssec.ResolverCheck{Plain: dc.WithoutDNSSEC(), Require: o.requireDNSSEC}
	if warn := o.dnssecWarning; warn != nil && !o.requireDNSSEC && !trustAD {
		servers := strings.Join(dc.Servers(), ", ")
		check.Notify = func(why string) { warn(dnssecWarning(servers, why)) }
	}
	validator.CheckResolver(check)
	return validator, nil
}

// Resolve resolves ref (docker or appc form) to a manifest digest, using
// the Resolver's platform. A fresh cached answer is returned without network
// I/O or allocation. Errors are *Error values wrapping one of the Err*
// sentinels. To collect trace events on failure too, put a *trace.Trace
// in ctx with discovery.WithTrace.
func (r *Resolver) Resolve(ctx context.Context, ref string) (Result, error) {
	e := r.cur.Load()
	key := resultKey{ref, e.platformKey}
	if c, st, ok := r.results.c.Get(key); ok { // the hit, in as few calls as can be
		res := c.result(ref, st.Age)
		res.Cached = true
		return res, nil
	}
	return e.resolve(ctx, key, e.opts.platform)
}

// ResolvePlatform is Resolve with a platform for this call only (nil: none,
// even when the Resolver has one).
func (r *Resolver) ResolvePlatform(ctx context.Context, ref string, p *reference.Platform) (Result, error) {
	key := resultKey{ref: ref}
	if p != nil {
		key.platform = p.String()
	}
	return r.cur.Load().resolve(ctx, key, p)
}

// Trace resolves ref bypassing the cache of whole resolutions (discovery
// answers may still come from cache, and say so) and returns every event,
// on failure too.
func (r *Resolver) Trace(ctx context.Context, ref string) (Result, []trace.Event, error) {
	return r.trace(ctx, ref, r.cur.Load().opts.platform)
}

// TracePlatform is Trace with a platform for this call only (nil: none,
// even when the Resolver has one).
func (r *Resolver) TracePlatform(ctx context.Context, ref string, p *reference.Platform) (Result, []trace.Event, error) {
	return r.trace(ctx, ref, p)
}

func (r *Resolver) trace(ctx context.Context, ref string, p *reference.Platform) (Result, []trace.Event, error) {
	e := r.cur.Load()
	tr := trace.New(e.opts.now)
	ctx = trace.NewContext(ctx, tr)
	res, err := e.resolveUncached(ctx, ref, p)
	if err == nil {
		res.Events = tr.Events()
	}
	return res, tr.Events(), err
}

// Discover runs discovery only, for `ocidns discover`, bounded like a
// resolution by WithTimeout (and by discovery's own, shorter, limit).
func (r *Resolver) Discover(ctx context.Context, host, path string) (*discovery.Result, error) {
	e := r.cur.Load()
	ctx, cancel := context.WithTimeout(ctx, e.opts.timeout)
	defer cancel()
	return e.disc.Discover(ctx, host, path)
}

func (r *engine) resolve(ctx context.Context, key resultKey, plat *reference.Platform) (Result, error) {
	if c, st, ok := r.results.c.Get(key); ok {
		res := c.result(key.ref, st.Age)
		res.Cached = true
		return res, nil
	}
	tr := trace.FromContext(ctx)
	if tr == nil {
		tr = trace.New(r.opts.now)
		ctx = trace.NewContext(ctx, tr)
	}
	// The caller waits no longer than the resolution may take, and the
	// shared call gets that long too, beyond the cache's own CallTimeout.
	// The grace lets the resolution's own timeout, which says which step
	// stalled, win over the bare deadline of the wait.
	ctx, cancel := context.WithTimeout(ctx, r.opts.timeout+timeoutGrace)
	defer cancel()
	c, st, err := r.results.c.Fetch(ctx, key, func(ctx context.Context) (cachedResult, time.Duration, error) {
		res, err := r.resolveUncached(ctx, key.ref, plat)
		res.Hops = nil // for traces only: a cached answer keeps no report
		if err != nil {
			return cachedResult{}, 0, err
		}
		return newCachedResult(key.ref, &res, &r.results.locs), res.TTL, nil
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return Result{Ref: key.ref}, err
		}
		return Result{Ref: key.ref}, newError(key.ref, "", "resolve", kindOf(err), err)
	}
	if st.Stale && signatureVerdict(st.Err) {
		// The owner's policy refused the fresh answer (no signature, an
		// invalid one, a revoked key): that is an answer, not an outage,
		// and the answer it replaces must not outlive it (protocol.md
		// §15.4).
		r.results.c.Remove(key)
		tr.Add(trace.Event{Source: "cache", Query: key.ref, Outcome: "dropped",
			Decision: "not serving the last good answer stale: its signature check now fails: " + st.Err.Error()})
		return Result{Ref: key.ref}, st.Err
	}
	var age time.Duration
	if st.Hit {
		age = st.Age
	}
	res := c.result(key.ref, age)
	res.Cached = st.Hit
	res.Stale = st.Stale
	if st.Stale {
		tr.Add(trace.Event{Source: "cache", Query: key.ref, Outcome: "stale",
			Decision: "refresh failed, serving the last good answer: " + errString(st.Err)})
	} else if st.Coalesced {
		tr.Add(trace.Event{Source: "cache", Query: key.ref, Outcome: "coalesced", Decision: "shared another request's upstream call"})
	}
	res.Events = tr.Events()
	return res, nil
}

// resolveUncached does the whole work: parse, qualify, discover, ask the
// registry.
func (r *engine) resolveUncached(ctx context.Context, input string, plat *reference.Platform) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.timeout)
	defer cancel()
	tr := trace.FromContext(ctx)

	ref, err := r.parse(input)
	if err != nil {
		return Result{Ref: input}, newError(input, "", "parse", ErrInvalidReference, err)
	}
	if ref.Form() == reference.FormAppc {
		if plat == nil {
			p, ok, err := ref.Platform()
			if err != nil {
				return Result{Ref: input}, newError(input, "", "platform labels", ErrInvalidReference, err)
			}
			if ok {
				plat = &p
			}
		}
		if ref, err = ref.ToDocker(); err != nil {
			return Result{Ref: input}, newError(input, "", "appc to docker form", ErrInvalidReference, err)
		}
	}
	if !ref.IsShort() {
		return r.resolveQualified(ctx, input, ref, plat)
	}
	if len(r.opts.search) == 0 {
		return Result{Ref: input}, newError(input, "", "qualify", ErrInvalidReference,
			fmt.Errorf("short name %q has no domain: write it in full (example.com/%s), or pass --search DOMAIN, or --normalize for docker.io", input, ref.Path()))
	}
	var notFound error
	for _, domain := range r.opts.search {
		q, err := ref.WithDomain(domain)
		if err != nil {
			tr.Add(trace.Event{Source: "discovery", Query: input, Decision: "search domain " + domain + " gives an invalid name: " + err.Error()})
			continue
		}
		tr.Add(trace.Event{Source: "discovery", Query: input, Decision: "trying search domain " + domain + ": " + q.String()})
		res, err := r.resolveQualified(ctx, input, q, plat)
		if err == nil {
			return res, nil
		}
		if !errors.Is(err, ErrNotFound) {
			// Never let a failure at one domain fall through to another
			// owner's image of the same short name.
			return res, err
		}
		notFound = err
	}
	if notFound == nil {
		return Result{Ref: input}, newError(input, "", "qualify", ErrInvalidReference, fmt.Errorf("no search domain gives a valid name"))
	}
	return Result{Ref: input}, newError(input, "", "search", ErrNotFound,
		fmt.Errorf("not found under any search domain (%s): %w", strings.Join(r.opts.search, ", "), notFound))
}

func (r *engine) parse(input string) (reference.Reference, error) {
	if r.opts.normalize {
		return reference.ParseNormalized(input)
	}
	return reference.Parse(input)
}

func (r *engine) resolveQualified(ctx context.Context, input string, ref reference.Reference, plat *reference.Platform) (Result, error) {
	res := Result{Ref: input, Resolved: ref.String(), DNSSECOff: r.opts.dnssecOff}
	if plat != nil {
		res.Platform = plat.String()
	}
	disc, err := r.disc.Discover(ctx, ref.Domain(), ref.Path())
	if err != nil {
		var de *discovery.Error
		if errors.As(err, &de) {
			res.Hops = de.Hops
		}
		return res, newError(input, ref.Domain(), "discovery", kindOf(err), err)
	}
	res.Chain, res.DNSSEC, res.Hops = disc.Chain, disc.DNSSEC, disc.Hops
	res.Endpoints = endpoints(disc.Endpoints)
	res, err = r.askRegistries(ctx, input, ref, disc.Endpoints, plat, res)
	if err != nil {
		return res, err
	}
	if plan, ok := r.planSignature(disc.Signers); ok {
		if err := r.checkSignature(ctx, input, ref, &res, disc.Endpoints, plan); err != nil {
			return res, err
		}
		signatureTTL(&res, disc.TTL)
	}
	return res, nil
}

// askRegistries asks the endpoints, in order, what ref's tag or digest
// names, and fills res from the first answer. "Not found", upstream errors
// and timeouts move on to the next endpoint; anything else ends the
// resolution.
func (r *engine) askRegistries(ctx context.Context, input string, ref reference.Reference, endpoints []discovery.Endpoint,
	plat *reference.Platform, res Result) (Result, error) {
	tr := trace.FromContext(ctx)
	tag, dgst := ref.Tag(), ref.Digest()
	if tag == "" && dgst == "" {
		tag = "latest"
	}

	var errs []error
	attempts := 0
	for i, ep := range endpoints {
		if !ep.Caps.Has(discovery.CapResolve) {
			tr.Add(trace.Event{Source: "registry", Server: ep.URL, Decision: "pull-only mirror: never asked what a tag means"})
			continue
		}
		res.Registry, res.Repository, res.Authenticated = ep.URL, ep.Repository, ep.Authenticated
		if attempts == maxRegistryAttempts {
			var untried []discovery.Endpoint
			for _, ep := range endpoints[i:] {
				if ep.Caps.Has(discovery.CapResolve) {
					untried = append(untried, ep)
				}
			}
			return res, attemptsExhausted(tr, "", "resolution", errs, untried)
		}
		attempts++
		m, err := r.registryFor(ep).resolve(ctx, ep, input, tag, dgst, plat, r.opts.verify, tr)
		if err != nil {
			errs = append(errs, err)
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUpstream) || errors.Is(err, ErrTimeout) {
				if ctx.Err() != nil {
					break
				}
				tr.Add(trace.Event{Source: "registry", Server: ep.URL, Decision: "trying the next endpoint: " + err.Error()})
				continue
			}
			return res, err
		}
		r.fill(&res, ep, m, dgst != "")
		return res, nil
	}
	if len(errs) == 0 {
		return res, newError(input, ref.Domain(), "registry", ErrNotFound, fmt.Errorf("no endpoint can resolve tags (all are pull-only)"))
	}
	return res, mostTelling(errs)
}

// fill sets in res what the registry at ep answered (m), and the TTL: a
// digest reference's, or a tag's.
func (r *engine) fill(res *Result, ep discovery.Endpoint, m manifestResult, byDigest bool) {
	res.Digest, res.MediaType, res.Size = m.Digest, m.MediaType, m.Size
	res.Descriptor = ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size}
	if m.Platform != nil {
		res.PlatformDigest = m.Platform.Digest
		res.Platform = m.Platform.Platform.String()
		res.Descriptor = ocispec.Descriptor{MediaType: m.Platform.MediaType, Digest: m.Platform.Digest,
			Size: m.Platform.Size, Platform: ociPlatformOf(&m.Platform.Platform)}
	}
	res.Pinned = pinned(ep, res.Descriptor.Digest.String())
	res.TTL = r.opts.tagTTL
	if byDigest {
		res.TTL = digestTTL
	}
	res.TTLSeconds = int64(res.TTL / time.Second)
}

// mostTelling picks the error to report from the endpoints' failures:
// anything but "not found" says more.
func mostTelling(errs []error) error {
	for _, e := range errs {
		if !errors.Is(e, ErrNotFound) {
			return e
		}
	}
	return errs[len(errs)-1]
}

// attemptsExhausted ends a resolution or a request (per, for the words)
// that asked maxRegistryAttempts endpoints without an answer, leaving
// untried those it would have asked next: the trace names the first few,
// and the error, the most telling failure, says how many (protocol.md
// §11).
func attemptsExhausted(tr *trace.Trace, step, per string, errs []error, untried []discovery.Endpoint) error {
	var names []string
	for _, ep := range untried[:min(len(untried), 3)] {
		names = append(names, ep.URL+"/"+ep.Repository)
	}
	if len(untried) > len(names) {
		names = append(names, "…")
	}
	why := fmt.Sprintf("%d more endpoints not tried: at most %d registry attempts a %s", len(untried), maxRegistryAttempts, per)
	tr.Add(trace.Event{Source: "registry", Query: step, Decision: why + " (" + strings.Join(names, ", ") + ")"})
	last := mostTelling(errs)
	var e *Error
	if errors.As(last, &e) && e.Err != nil {
		return newError(e.Ref, e.Host, e.Step, e.Kind, fmt.Errorf("%w (%s)", e.Err, why))
	}
	return fmt.Errorf("%w (%s)", last, why)
}

// registryFor returns the client for ep: the shared one, or one whose TLS
// must verify a different name than the URL's host (unauthenticated SRV).
// Those are kept for the maxTLSNameClients names used last.
func (r *engine) registryFor(ep discovery.Endpoint) *registryClient {
	if ep.TLSServerName == "" || r.transport == nil {
		return r.registry
	}
	if c, ok := r.byTLSName.Get(ep.TLSServerName); ok {
		return c
	}
	t := r.transport.Clone()
	t.TLSClientConfig.ServerName = ep.TLSServerName
	// One name's transport talks to that name's few SRV targets.
	t.MaxIdleConns = maxIdleConnsPerTLSName
	cfg := r.regCfg
	cfg.HTTP = &http.Client{Transport: requestScoped{t}}
	c := newRegistryClient(cfg)
	if prev, ok, _ := r.byTLSName.PeekOrAdd(ep.TLSServerName, c); ok {
		return prev
	}
	return c
}

// Close closes the Resolver's idle connections (registries, well-known
// hosts, token realms) and forgets the per-name TLS clients. Call it when
// the Resolver is done with, as `ocidns serve` does on shutdown. The
// Resolver remains usable: later requests open new connections. A client
// given with WithHTTPClient is left alone. Close always returns nil.
func (r *Resolver) Close() error { return r.cur.Load().close() }

// close closes the engine's idle connections.
func (r *engine) close() error {
	if r.transport == nil {
		return nil
	}
	r.byTLSName.Purge() // the eviction callback closes each one's idle connections
	r.transport.CloseIdleConnections()
	if r.ipTransport != nil {
		r.ipTransport.closeIdle()
	}
	return nil
}

// HTTPClient returns the client the Resolver uses for well-known documents,
// registries and token realms (its DNS view and CA roots included).
func (r *Resolver) HTTPClient() *http.Client { return r.cur.Load().http }

// DNSClient returns the Resolver's DNS client.
func (r *Resolver) DNSClient() *dnsclient.Client { return r.cur.Load().dns }

// Validator returns the in-process DNSSEC validator, nil under --dnssec off.
func (r *Resolver) Validator() *dnssec.Validator { return r.cur.Load().validator }

// DNSSECUnavailable reports whether the DNS resolver was found unable to
// serve DNSSEC data, and why. False until a resolution has found out, and
// under WithDNSSEC(false).
func (r *Resolver) DNSSECUnavailable() (why string, unavailable bool) {
	v := r.cur.Load().validator
	if v == nil {
		return "", false
	}
	st, why := v.Resolver()
	return why, st == dnssec.ResolverWithoutDNSSEC
}

// dnssecWarning is the warning of WithDNSSECWarning.
func dnssecWarning(servers, why string) string {
	return "DNSSEC unavailable: the DNS resolver (" + servers + ") cannot serve DNSSEC data: " + why +
		". Answers are taken as unauthenticated: mappings to other hosts published only in DNS are skipped" +
		" (well-known documents over verified TLS still count). To validate, use --dns with a resolver that passes DNSSEC records," +
		" or --trust-ad with a validating resolver on a path you trust; --dnssec require makes this an error."
}

// TrustAD reports whether the resolver's AD bit is trusted.
func (r *Resolver) TrustAD() bool { return r.cur.Load().trustAD }

// Insecure reports whether plain HTTP is allowed for host (host or host:port).
func (r *Resolver) Insecure(host string) bool { return r.cur.Load().regCfg.Insecure(host) }

// Stats returns the cache counters: resolutions and discovery answers.
func (r *Resolver) Stats() (results, sources cache.Stats) {
	return r.results.c.Stats(), r.sources.Stats()
}

func kindOf(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrTimeout):
		return ErrTimeout
	case errors.Is(err, ErrNotFound):
		return ErrNotFound
	case errors.Is(err, ErrInvalidReference):
		return ErrInvalidReference
	}
	var de *discovery.Error
	if errors.As(err, &de) {
		return ErrDiscovery
	}
	return ErrUpstream
}

func errString(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// sourceCache adapts the generic cache to discovery.SourceCache.
type sourceCache struct{ c *cache.Cache[string, any] }

func (s sourceCache) Fetch(ctx context.Context, key string, fn func(context.Context) (any, time.Duration, error)) (any, bool, bool, error) {
	v, st, err := s.c.Fetch(ctx, key, fn)
	return v, st.Hit, st.Stale, err
}

// Idle gives the lookup's place under WithMaxUpstream back while it waits
// for its hop (cache.Idle).
func (s sourceCache) Idle(ctx context.Context, wait func() error) error { return cache.Idle(ctx, wait) }

func readAnchors(path string) ([]dns.RR, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--trust-anchor: %w", err)
	}
	defer f.Close()
	return dnssec.ParseAnchors(f, path)
}

// newTransport builds the HTTP transport: bounded timeouts and header sizes,
// the given TLS configuration, at most maxDials dials at once, each ended
// with its request, and — when the operator named DNS servers — addresses resolved
// through them, so one DNS view serves the whole resolution. With an
// address policy every connection is checked by it (see addrpolicy.go);
// connect, when set, replaces the final connection to a checked address.
func newTransport(tlsConfig *tls.Config, dc *dnsclient.Client, useDNS bool, policy *addressPolicy, connect dialFunc, maxDials int) *http.Transport {
	t := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  20 * time.Second,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           maxIdleConns,
		MaxIdleConnsPerHost:    maxIdleConnsPerHost,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
	dials := make(chan struct{}, maxDials)
	lookup := lookupFunc(systemLookup)
	dial := (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	if useDNS {
		lookup, dial = dc.LookupIP, dc.DialContext
	}
	t.DialContext = dialScoped(dial, dials)
	if policy != nil {
		if connect == nil {
			connect = dial
		}
		t.DialContext = dialScoped(policy.dialContext(lookup, connect), dials)
	}
	return t
}
