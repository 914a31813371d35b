package discovery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
)

// Defaults of the delegation algorithm (docs/protocol.md §7, §10, §11).
const (
	DefaultMaxHops = 8
	DefaultTimeout = 10 * time.Second
	// defaultNegativeTTL is used for an absent answer that carried no SOA.
	defaultNegativeTTL = 5 * time.Minute
	// maxNegativeTTL caps negative caching (RFC 2308 §5 suggests 1-3 hours).
	maxNegativeTTL = time.Hour
	// maxResultTTL bounds any positive answer's TTL (a week, like most resolvers).
	maxResultTTL = 7 * 24 * time.Hour
)

// SourceCache memoizes the lookups of one source for one host (the TXT
// answer, the SRV answer, the well-known document), keyed by strings such as
// "txt|example.com". Fetch returns the cached value when fresh, or calls fn,
// stores its value for the TTL it returns and returns it; when fn fails and
// an expired value is still within its stale window, Fetch returns that value
// with stale set. Errors are never cached. A SourceCache must not be shared
// between Discoverers with different Options.
//
// Fetch must return when ctx ends. A call of fn it shares between callers
// must end when none of them waits any more, as cache.Cache's do: Discover
// waits only for its own Fetch calls (see Discover).
type SourceCache interface {
	Fetch(ctx context.Context, key string, fn func(context.Context) (any, time.Duration, error)) (v any, hit, stale bool, err error)
	// Idle runs wait inside fn, when fn waits for its hop rather than for
	// an upstream (a lookup's answer waits until the hop consults its
	// source): a cache that bounds the calls of fn running at once gives
	// fn's place back meanwhile, as cache.Idle does, since the hop may be
	// waiting for another of its lookups to get one. Without a bound it
	// just runs wait.
	Idle(ctx context.Context, wait func() error) error
}

// Options configure a Discoverer. The zero value of every field is a safe
// default: DNSSEC on, well-known documents on, system DNS.
type Options struct {
	// DNS answers every TXT/SRV query. Nil disables DNS sources (only the
	// well-known document and the direct fallback remain).
	DNS *dnsclient.Client
	// HTTP fetches well-known documents; nil uses http.DefaultClient.
	HTTP *http.Client
	// Validator validates TXT/SRV answers in-process; nil skips in-process
	// validation (then only TrustAD can authenticate DNS).
	Validator *dnssec.Validator
	// TrustAD trusts the AD bit of the configured resolver.
	TrustAD bool
	// DNSSECOff follows unauthenticated cross-host mappings (--dnssec off).
	DNSSECOff bool
	// DNSSECRequire fails discovery on an answer whose chain of trust could
	// not be fetched (indeterminate) instead of taking it as
	// unauthenticated (--dnssec require; the Validator's ResolverCheck
	// should then have Require too).
	DNSSECRequire bool
	// NoWellKnown turns the HTTPS well-known source off (--no-well-known).
	NoWellKnown bool
	// Insecure reports whether plain HTTP is allowed for a host or host:port
	// (--insecure-registry).
	Insecure func(hostport string) bool
	// Local holds the operator's own mappings per host (authenticated as
	// "config"); they take precedence over every published source.
	Local map[string][]Mapping
	// MaxHops bounds the delegation chain (default 8).
	MaxHops int
	// Timeout bounds one whole discovery (default 10s).
	Timeout time.Duration
	// Rand orders mirrors and SRV targets of equal priority; nil seeds one
	// from the runtime. Tests inject a seeded source.
	Rand *rand.Rand
	// Cache memoizes source lookups; nil disables caching.
	Cache SourceCache
}

// Discoverer runs discovery protocol v1. It is safe for concurrent use.
type Discoverer struct {
	opts  Options
	popts ParseOptions

	randMu sync.Mutex
	rand   *rand.Rand
}

// New returns a Discoverer for opts.
func New(opts Options) *Discoverer {
	if opts.MaxHops <= 0 {
		opts.MaxHops = DefaultMaxHops
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.HTTP == nil {
		opts.HTTP = http.DefaultClient
	}
	if opts.Insecure == nil {
		opts.Insecure = func(string) bool { return false }
	}
	d := &Discoverer{opts: opts, popts: ParseOptions{Insecure: opts.Insecure}, rand: opts.Rand}
	if d.rand == nil {
		d.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return d
}

// Discover finds who serves host/path: the ordered endpoints, the delegation
// chain that produced them, the TTL of the whole answer and, for each hop,
// what each source said (Result.Hops). Trace events go to
// trace.FromContext(ctx). Every error is an *Error naming the step, host
// and record, with the reports of the hops up to the failure.
//
// Every lookup Discover starts has ended when it returns, but for one
// that Options.Cache shares with other callers: that one goes on for them,
// or, when Discover was its last waiter, is cancelled as Discover returns
// and ends as soon as its DNS query or HTTP fetch sees it. Nothing it
// records afterwards reaches Discover's trace.
func (d *Discoverer) Discover(ctx context.Context, host, path string) (*Result, error) {
	name := host + "/" + path
	if path == "" {
		name = host
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if err := checkHost(host); err != nil {
		return nil, &Error{Name: name, Host: host, Step: "parse name", Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	// The discovery is one step of the trace, its hops' events its parts.
	ctx, step := trace.Begin(ctx)
	tr := trace.FromContext(ctx)

	res := &Result{Name: name, TTL: maxResultTTL, DNSSECOff: d.opts.DNSSECOff}
	var chainAuth Auth
	var signers signerChain
	visited := make(map[string]bool)
	for n := 1; ; n++ {
		if err := d.enter(res, visited, host, path); err != nil {
			step.End(failedEvent(name, err))
			return nil, err
		}
		hctx := trace.WithHop(ctx, n)
		h, err := d.hop(hctx, name, host, path)
		res.Hops = append(res.Hops, h.report)
		if err != nil {
			err = failed(ctx, err, res.Hops)
			step.End(failedEvent(name, err))
			return nil, err
		}
		res.TTL = min(res.TTL, h.ttl)
		res.Stale = res.Stale || h.stale
		chainAuth = weaker(chainAuth, h.step.Authenticated)
		res.Chain = append(res.Chain, h.step)
		htr := trace.FromContext(hctx)
		signers.hop(htr, host, path, h.keys)
		if h.delegate == "" {
			res.Signers = signers.policy(tr, name)
			for i := range h.endpoints {
				h.endpoints[i].Authenticated = weaker(chainAuth, h.endpoints[i].Authenticated)
			}
			res.Endpoints = h.endpoints
			res.TTL = max(res.TTL, 0)
			if v := d.opts.Validator; v != nil && !d.opts.DNSSECOff {
				if st, _ := v.Resolver(); st == dnssec.ResolverWithoutDNSSEC {
					res.DNSSEC = st.String()
				}
			}
			step.End(resultEvent(res, n, chainAuth))
			return res, nil
		}
		htr.Add(delegatedEvent(host, path, h.delegate, h.rest))
		host, path = h.delegate, h.rest
	}
}

// enter records the visit of host/path as the next hop of res, or refuses
// it: a pair visited twice is a loop, and a chain longer than MaxHops is
// too deep (docs/protocol.md §7). Both errors name the whole chain and the
// record that closed the loop or made it one hop too long: that is the
// record to fix.
func (d *Discoverer) enter(res *Result, visited map[string]bool, host, path string) error {
	key := host + "/" + path
	fail := func(err error) error {
		return &Error{Name: res.Name, Host: host, Step: "delegation", Record: lastRecord(res.Chain), Err: err, Hops: res.Hops}
	}
	if len(res.Chain) > d.opts.MaxHops {
		return fail(fmt.Errorf("%w: more than %d (chain %s -> %s)", ErrTooManyHops, d.opts.MaxHops, chainString(res.Chain), key))
	}
	if visited[key] {
		return fail(fmt.Errorf("%w: %s visited twice (chain %s -> %s)", ErrLoop, key, chainString(res.Chain), key))
	}
	visited[key] = true
	return nil
}

// failed completes a hop's error: the reports of the hops so far, and the
// context's error when the deadline or the caller ended discovery.
func failed(ctx context.Context, err error, hops []HopReport) error {
	var de *Error
	if errors.As(err, &de) {
		de.Hops = hops
	}
	if ctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

// hopResult is what one host decided about one path.
type hopResult struct {
	report    HopReport
	step      Step
	endpoints []Endpoint // when the hop ends the chain
	delegate  string     // when the hop delegates
	rest      string
	ttl       time.Duration
	stale     bool
	// keys are the signing keys the host published in the sources read
	// for this hop that authenticate keys (docs/protocol.md §15.2).
	keys []PublishedKey
}

// hopRun is one hop in progress.
type hopRun struct {
	d                *Discoverer
	name, host, path string
	lookups          *lookups // started after the local configuration
	hopResult
}

// hop consults host's sources about path in precedence order
// (docs/protocol.md §7): the first that decides wins; an unknown answer,
// or records that fail the name, end discovery.
func (d *Discoverer) hop(ctx context.Context, name, host, path string) (hopResult, error) {
	tr := trace.FromContext(ctx)
	h := &hopRun{d: d, name: name, host: host, path: path,
		hopResult: hopResult{report: HopReport{Host: host, Path: path}, ttl: maxResultTTL}}
	for _, src := range sourceOrder {
		if src != SourceConfig && h.lookups == nil {
			h.lookups = d.startLookups(ctx, host)
			defer h.lookups.finish(tr)
		}
		rep, applies, err := h.consult(ctx, src)
		if !applies {
			continue
		}
		h.report.Sources = append(h.report.Sources, rep)
		renderSource(tr, host, path, &rep)
		if err != nil || rep.Outcome == OutcomeDecided {
			return h.hopResult, err
		}
	}
	return h.hopResult, &Error{Name: name, Host: host, Step: "delegation", Err: errors.New("no source decided")} // unreachable: direct decides or fails
}

// consult asks one source. applies is false when the source has nothing
// to say for this host (no DNS for a host with a port, --no-well-known, no
// local configuration); the error is an *Error.
func (h *hopRun) consult(ctx context.Context, src Source) (rep SourceReport, applies bool, err error) {
	switch src {
	case SourceConfig:
		return h.fromConfig()
	case SourceTXT:
		return h.fromTXT(ctx)
	case SourceSRV:
		return h.fromSRV(ctx)
	case SourceWellKnown:
		return h.fromWellKnown(ctx)
	}
	return h.direct()
}

// fromConfig: the operator's own mappings win over everything published.
func (h *hopRun) fromConfig() (SourceReport, bool, error) {
	local := h.d.opts.Local[h.host]
	if len(local) == 0 {
		return SourceReport{}, false, nil
	}
	rep := SourceReport{Source: SourceConfig, Auth: AuthConfig}
	return rep, true, h.useMappings(&rep, local)
}

// fromTXT: the v=oci1 mappings at _oci-discovery.<host>.
func (h *hopRun) fromTXT(ctx context.Context) (SourceReport, bool, error) {
	if !h.lookups.dns {
		return SourceReport{}, false, nil
	}
	rep, a, err := h.dnsSource(ctx, SourceTXT, "TXT "+TXTLabel+"."+h.host+".", h.lookups.txt)
	if a == nil {
		return rep, true, err
	}
	rep.Skipped = append(rep.Skipped, a.skipped...)
	h.useKeys(&rep, a.signers, rep.Auth == AuthDNSSEC)
	return rep, true, h.useMappings(&rep, a.mappings)
}

// fromSRV: the host's own registry, located by _oci-registry._tcp.<host>.
func (h *hopRun) fromSRV(ctx context.Context) (SourceReport, bool, error) {
	if !h.lookups.dns {
		return SourceReport{}, false, nil
	}
	rep, a, err := h.dnsSource(ctx, SourceSRV, "SRV "+SRVLabel+"."+h.host+".", h.lookups.srv)
	if a == nil {
		return rep, true, err
	}
	targets, none, err := h.d.srvTargets(a.srvs, h.host, h.path, rep.Auth)
	switch {
	case err != nil:
		return rep, true, h.fail(&rep, rep.Query, "", err)
	case none:
		rep.Outcome = OutcomeNoRegistry
	case len(targets) > 0:
		used, capped := capEndpoints(targets)
		for _, t := range capped {
			rep.Skipped = append(rep.Skipped, Skipped{Reason: SkipCapped, Record: t.mapping.Record, Mapping: t.mapping})
		}
		for _, t := range used {
			rep.Used = append(rep.Used, t.mapping)
			h.endpoints = append(h.endpoints, t.endpoint)
		}
		h.step = Step{Host: h.host, Path: h.path, Source: SourceSRV, Record: srvRecordText(a.srvs), TTL: rep.TTL, Authenticated: rep.Auth}
		rep.Outcome = OutcomeDecided
	default:
		rep.Outcome = OutcomeNoMatch // records of other types only
	}
	return rep, true, nil
}

// dnsSource waits for the answer of the hop's DNS lookup l, asked as
// query for src, and reports it: a is the answer to use, nil when the
// answer is unknown (err says why) or absent.
func (h *hopRun) dnsSource(ctx context.Context, src Source, query string, l lookup[*dnsAnswer]) (rep SourceReport, a *dnsAnswer, err error) {
	rep = SourceReport{Source: src, Query: query}
	o := l.wait(trace.FromContext(ctx))
	if o.err != nil {
		return rep, nil, h.unknown(&rep, o.err)
	}
	h.answeredDNS(&rep, o)
	if o.v.absent {
		rep.Outcome = OutcomeAbsent
		return rep, nil, nil
	}
	return rep, o.v, nil
}

// fromWellKnown: the mappings of https://<host>/.well-known/oci-discovery.
func (h *hopRun) fromWellKnown(ctx context.Context) (SourceReport, bool, error) {
	if h.lookups.wk.done == nil {
		return SourceReport{}, false, nil
	}
	rep := SourceReport{Source: SourceWellKnown, Query: "GET " + h.d.wellKnownURL(h.host)}
	o := h.lookups.wk.wait(trace.FromContext(ctx))
	if o.err != nil {
		return rep, true, h.unknown(&rep, o.err)
	}
	h.answered(&rep, o.cache, o.v.ttl)
	doc := o.v.doc
	if doc == nil {
		rep.Outcome = OutcomeAbsent
		return rep, true, nil
	}
	rep.Auth = AuthHTTPS
	if !strings.HasPrefix(doc.URL, "https://") {
		rep.Auth = AuthNone // a document over plain HTTP, for a host marked insecure
	}
	h.useKeys(&rep, doc.Signers, rep.Auth == AuthHTTPS)
	return rep, true, h.useMappings(&rep, doc.Mappings)
}

// direct: the host is its own registry, unless its SRV record said there
// is none.
func (h *hopRun) direct() (SourceReport, bool, error) {
	rep := SourceReport{Source: SourceDirect}
	if srv := h.report.Source(SourceSRV); srv != nil && srv.Outcome == OutcomeNoRegistry {
		return rep, true, h.fail(&rep, srv.Query, "", ErrNoRegistry)
	}
	ep := h.d.directEndpoint(h.host, h.path)
	if h.ttl == maxResultTTL {
		// Nothing was looked up (no DNS for this host, well-known off):
		// ask again in a while rather than for a week.
		h.ttl = defaultNegativeTTL
	}
	rep.Auth, rep.Outcome = ep.Authenticated, OutcomeDecided
	rep.Used = []Mapping{{Registry: ep.URL, Caps: CapAll}}
	h.step = Step{Host: h.host, Path: h.path, Source: SourceDirect, Authenticated: ep.Authenticated}
	h.endpoints = []Endpoint{ep}
	return rep, true, nil
}

// answered notes a source's answer: where it came from and how long the
// hop's decision may be kept.
func (h *hopRun) answered(rep *SourceReport, cache CacheStatus, ttl time.Duration) {
	rep.Cache, rep.TTL = cache, ttl
	h.ttl = min(h.ttl, ttl)
	h.stale = h.stale || cache == CacheStale
}

func (h *hopRun) answeredDNS(rep *SourceReport, o looked[*dnsAnswer]) {
	h.answered(rep, o.cache, o.v.ttl)
	rep.Auth, rep.DNSSEC, rep.Rcode = o.v.auth.Auth, o.v.auth, o.v.rcode
}

// unknown ends discovery at a source whose answer is unknown (SERVFAIL,
// timeout, bogus, HTTP 5xx, ...): a lower source may be one the owner has
// overridden, so there is no fall-through (docs/protocol.md §9).
func (h *hopRun) unknown(rep *SourceReport, err error) error {
	rep.Outcome, rep.Err = OutcomeUnknown, err
	return &Error{Name: h.name, Host: h.host, Step: rep.Query, Err: err}
}

// fail ends discovery at a source whose records fail the name.
func (h *hopRun) fail(rep *SourceReport, step, record string, err error) error {
	rep.Outcome, rep.Err = OutcomeFailed, err
	return &Error{Name: h.name, Host: h.host, Step: step, Record: record, Err: err}
}

// useMappings decides the hop with the mappings of one source: the longest
// matching prefix (docs/protocol.md §6), less the cross-host mappings of an
// unauthenticated source under --dnssec on (§8.3), then a delegation or at
// most MaxEndpoints mirrors (§11). rep records what was used and skipped.
func (h *hopRun) useMappings(rep *SourceReport, ms []Mapping) error {
	step := rep.Query
	if rep.Source == SourceConfig {
		step = "local configuration"
	}
	matched, rest, err := Select(ms, h.path)
	if err != nil {
		return h.fail(rep, step, "", err)
	}
	rep.Skipped = appendUnmatched(rep.Skipped, ms, matched, h.path)
	matched = h.followed(rep, matched)
	switch {
	case len(matched) == 0:
		rep.Outcome = OutcomeNoMatch
		return nil
	case matched[0].Delegate != "":
		h.delegateTo(rep, matched[0], rest)
		return nil
	}
	return h.mirrors(rep, matched, rest)
}

// appendUnmatched adds to skipped the mappings of ms that Select did not
// pick for path: those whose prefix does not match, and those whose prefix
// matches but is shorter than the one that won.
func appendUnmatched(skipped []Skipped, ms, matched []Mapping, path string) []Skipped {
	won := ""
	if len(matched) > 0 {
		won = matched[0].Prefix
	}
	for _, m := range ms {
		switch {
		case len(matched) > 0 && m.Prefix == won:
		case prefixMatches(m.Prefix, path):
			skipped = append(skipped, Skipped{Reason: SkipShorterPrefix, Record: m.Record, Mapping: m})
		default:
			skipped = append(skipped, Skipped{Reason: SkipNoPrefixMatch, Record: m.Record, Mapping: m})
		}
	}
	return skipped
}

// followed drops the mappings a client does not follow (Follows: under
// --dnssec on, the cross-host mappings of a source that is not
// authenticated, docs/protocol.md §8.3).
func (h *hopRun) followed(rep *SourceReport, matched []Mapping) []Mapping {
	kept := matched[:0:0]
	for _, m := range matched {
		if !Follows(m, h.host, rep.Auth, h.d.opts.DNSSECOff) {
			rep.Skipped = append(rep.Skipped, Skipped{Reason: SkipUnauthenticatedCrossHost, Record: m.Record, Mapping: m})
			continue
		}
		kept = append(kept, m)
	}
	return kept
}

// delegateTo ends the hop with a delegation: discovery goes on at the
// delegate with the rest of the path (docs/protocol.md §7 step 4).
func (h *hopRun) delegateTo(rep *SourceReport, m Mapping, rest string) {
	rep.Used, rep.Outcome = []Mapping{m}, OutcomeDecided
	h.step = Step{Host: h.host, Path: h.path, Source: rep.Source, Record: m.Record, TTL: h.ttl, Authenticated: rep.Auth}
	h.delegate = strings.ToLower(strings.TrimSuffix(m.Delegate, "."))
	h.rest = rest
}

// mirrors ends the hop with registry mirrors: in the order to try them
// (OrderMirrors), at most MaxEndpoints.
func (h *hopRun) mirrors(rep *SourceReport, matched []Mapping, rest string) error {
	h.d.randMu.Lock()
	ordered := OrderMirrors(matched, h.d.rand)
	h.d.randMu.Unlock()
	used, capped := capEndpoints(ordered)
	for _, m := range capped {
		rep.Skipped = append(rep.Skipped, Skipped{Reason: SkipCapped, Record: m.Record, Mapping: m})
	}
	records := make([]string, 0, len(used))
	for _, m := range matched { // in the order matched, as published
		if slices.Contains(used, m) {
			rep.Used = append(rep.Used, m)
			records = append(records, m.Record)
		}
	}
	for _, m := range used {
		u, repo, err := RegistryEndpoint(m, rest)
		if err != nil {
			h.endpoints = nil
			return h.fail(rep, string(rep.Source)+" mapping", m.Record, err)
		}
		caps := m.Caps
		if caps == 0 {
			caps = CapAll
		}
		h.endpoints = append(h.endpoints, Endpoint{URL: u, Repository: repo, Priority: m.Priority, Weight: m.Weight,
			Caps: caps, Source: rep.Source, Authenticated: rep.Auth})
	}
	h.step = Step{Host: h.host, Path: h.path, Source: rep.Source, Record: strings.Join(records, " | "), TTL: h.ttl, Authenticated: rep.Auth}
	rep.Outcome = OutcomeDecided
	return nil
}

// capEndpoints splits what one source offers, in the order to try it, into
// the first MaxEndpoints and the rest.
func capEndpoints[T any](ordered []T) (used, capped []T) {
	if len(ordered) <= MaxEndpoints {
		return ordered, nil
	}
	return ordered[:MaxEndpoints], ordered[MaxEndpoints:]
}

// srvTarget is one SRV target as an endpoint, and as the mapping a report
// shows.
type srvTarget struct {
	endpoint Endpoint
	mapping  Mapping
}

// srvTargets orders the SRV targets per RFC 2782 (SRVEndpoints does the
// record rules). none reports the single target "." that means "no
// registry here".
func (d *Discoverer) srvTargets(srvs []*dns.SRV, host, path string, auth Auth) (targets []srvTarget, none bool, err error) {
	d.randMu.Lock()
	srvs = OrderSRV(srvs, d.rand)
	d.randMu.Unlock()
	eps, none, err := SRVEndpoints(srvs, host, path)
	if err != nil || none {
		return nil, none, err
	}
	targets = make([]srvTarget, 0, len(eps))
	for _, s := range srvs {
		if s.Target == "." {
			continue // SRVEndpoints skips it too
		}
		ep := eps[len(targets)]
		ep.Authenticated = auth
		if hp := strings.TrimPrefix(ep.URL, "https://"); d.insecure(hp) {
			ep.URL = "http://" + hp // the mapping stays authenticated; the operator chose plain HTTP
		}
		// Unauthenticated SRV may point anywhere, but a target that a
		// mapping could not send the name to must then prove it is <host>
		// in TLS: a forged SRV can only cause a failure.
		if !Follows(Mapping{Registry: ep.URL}, host, auth, d.opts.DNSSECOff) {
			ep.TLSServerName = host
		}
		m := Mapping{Registry: ep.URL, Priority: ep.Priority, Weight: ep.Weight, Caps: ep.Caps, Record: srvText(s)}
		targets = append(targets, srvTarget{endpoint: ep, mapping: m})
	}
	return targets, false, nil
}

// insecure applies --insecure-registry to host[:port] with the parsers'
// rule (host:port, then the bare host).
func (d *Discoverer) insecure(hostport string) bool {
	a, err := parseAuthority(hostport)
	return err == nil && insecureAllowed(d.popts, a)
}

func srvRecordText(srvs []*dns.SRV) string {
	parts := make([]string, len(srvs))
	for i, s := range srvs {
		parts[i] = srvText(s)
	}
	return strings.Join(parts, " | ")
}

func (d *Discoverer) wellKnownURL(host string) string {
	if d.insecure(host) {
		return "http://" + host + WellKnownPath
	}
	return "https://" + host + WellKnownPath
}

// directEndpoint is today's Docker behaviour: https://<host> is the registry,
// with docker.io served by registry-1.docker.io.
func (d *Discoverer) directEndpoint(host, path string) Endpoint {
	target := host
	if host == "docker.io" || host == "index.docker.io" {
		target = "registry-1.docker.io"
	}
	ep := Endpoint{URL: "https://" + target, Repository: path, Caps: CapAll, Source: SourceDirect, Authenticated: AuthHTTPS}
	if d.insecure(host) {
		ep.URL, ep.Authenticated = "http://"+target, AuthNone
	}
	return ep
}

// checkHost accepts what a registry URL accepts as its authority: a DNS
// name of LDH labels, a dotted-quad IPv4 address or a bracketed IPv6
// address, and an optional port 1..65535. Anything else would be sent to
// DNS as a question no host can own ("a b.test", "::1", "[::1]x").
func checkHost(host string) error {
	if host == "" {
		return fmt.Errorf("%w: empty host", ErrInvalidName)
	}
	if _, _, err := ParseHost(host); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidName, err)
	}
	return nil
}

// lastRecord is the record of the chain's last step, "" for none.
func lastRecord(chain []Step) string {
	if len(chain) == 0 {
		return ""
	}
	return chain[len(chain)-1].Record
}

func chainString(chain []Step) string {
	parts := make([]string, len(chain))
	for i, s := range chain {
		parts[i] = s.Host + "/" + s.Path
	}
	return strings.Join(parts, " -> ")
}
