package discovery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
)

// Defaults of the delegation algorithm (DESIGN §2 "Limits").
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
type SourceCache interface {
	Fetch(ctx context.Context, key string, fn func(context.Context) (any, time.Duration, error)) (v any, hit, stale bool, err error)
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
// chain that produced them and the TTL of the whole answer. Trace events go
// to trace.FromContext(ctx). Every error is an *Error naming the step, host
// and record.
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
	tr := trace.FromContext(ctx)

	res := &Result{Name: name, TTL: maxResultTTL, DNSSECOff: d.opts.DNSSECOff}
	var chainAuth Auth
	visited := make(map[string]bool)
	for hop := 0; ; hop++ {
		key := host + "/" + path
		// Both errors name the whole chain and the record that made it one
		// hop too long or closed the loop: that is the record to fix.
		if hop > d.opts.MaxHops {
			return nil, &Error{Name: name, Host: host, Step: "delegation", Record: lastRecord(res.Chain),
				Err: fmt.Errorf("%w: more than %d (chain %s -> %s)", ErrTooManyHops, d.opts.MaxHops, chainString(res.Chain), key)}
		}
		if visited[key] {
			return nil, &Error{Name: name, Host: host, Step: "delegation", Record: lastRecord(res.Chain),
				Err: fmt.Errorf("%w: %s visited twice (chain %s -> %s)", ErrLoop, key, chainString(res.Chain), key)}
		}
		visited[key] = true

		dec, err := d.hop(ctx, name, host, path)
		if err != nil {
			if ctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("%w: %w", ctx.Err(), err)
			}
			return nil, err
		}
		res.TTL = min(res.TTL, dec.ttl)
		res.Stale = res.Stale || dec.stale
		chainAuth = weaker(chainAuth, dec.step.Authenticated)
		res.Chain = append(res.Chain, dec.step)
		if dec.delegate == "" {
			for i := range dec.endpoints {
				dec.endpoints[i].Authenticated = weaker(chainAuth, dec.endpoints[i].Authenticated)
			}
			res.Endpoints = dec.endpoints
			if res.TTL <= 0 {
				res.TTL = 0
			}
			if v := d.opts.Validator; v != nil && !d.opts.DNSSECOff {
				if st, _ := v.Resolver(); st == dnssec.ResolverWithoutDNSSEC {
					res.DNSSEC = st.String()
				}
			}
			tr.Add(trace.Event{Source: "discovery", Query: name, TTL: res.TTL,
				Decision: fmt.Sprintf("%d endpoint(s) after %d hop(s), authenticated: %s", len(res.Endpoints), hop+1, chainAuth)})
			return res, nil
		}
		tr.Add(trace.Event{Source: "discovery", Query: key,
			Decision: fmt.Sprintf("delegated to %s, continue with path %q", dec.delegate, dec.rest)})
		host, path = dec.delegate, dec.rest
	}
}

// hopDecision is what one host decided about one path.
type hopDecision struct {
	step      Step
	endpoints []Endpoint // when the hop ends the chain
	delegate  string     // when the hop delegates
	rest      string
	ttl       time.Duration
	stale     bool
}

// Cached source lookups. They are immutable once built, and keep what
// discovery reads of an answer, never the answer itself: a DNS message
// holds every record twice over (parsed RRs and their presentation
// strings), and a cache of thousands of hosts would keep them all.
type dnsLookup struct {
	auth   Auth   // AuthDNSSEC when validated or AD-trusted, else AuthNone
	dnssec string // "secure", "insecure", "ad" or "" (validation not attempted)
	// absent is "NXDOMAIN" or "NODATA" for an absent answer, else "".
	absent string
	ttl    time.Duration
	// TXT: the valid mappings, and the records skipped for any path.
	mappings []Mapping
	skipped  []Skipped
	// SRV: the records, without owner names.
	srvs []*dns.SRV
}

type wellKnownLookup struct {
	doc *WellKnown // nil when absent
	ttl time.Duration
}

type sourceOutcome[T any] struct {
	v     T
	hit   bool
	stale bool
	err   error
}

func (d *Discoverer) hop(ctx context.Context, name, host, path string) (hopDecision, error) {
	tr := trace.FromContext(ctx)
	ctx, cancel := context.WithCancel(ctx)
	// Lookups still in flight when a source decides are no longer needed:
	// cancel them, and wait, so that their trace events come before the
	// result and no goroutine outlives Discover.
	var inflight sync.WaitGroup
	defer func() {
		cancel()
		inflight.Wait()
	}()

	_, publishes, _ := ParseHost(host) // validated by Discover or by ParseTXT
	useDNS := d.opts.DNS != nil && publishes
	dec := hopDecision{ttl: maxResultTTL}

	// Local configuration wins over everything published.
	if local := d.opts.Local[host]; len(local) > 0 {
		matched, rest, err := Select(local, path)
		if err != nil {
			return dec, &Error{Name: name, Host: host, Step: "local configuration", Err: err}
		}
		if len(matched) > 0 {
			return d.decide(ctx, name, host, path, SourceConfig, AuthConfig, matched, rest, dec)
		}
	}

	var txtCh, srvCh chan sourceOutcome[*dnsLookup]
	var wkCh chan sourceOutcome[*wellKnownLookup]
	if useDNS {
		txtCh = make(chan sourceOutcome[*dnsLookup], 1)
		srvCh = make(chan sourceOutcome[*dnsLookup], 1)
		inflight.Go(func() { txtCh <- d.lookupDNS(ctx, "txt|"+host, "_oci-discovery."+host+".", dns.TypeTXT, host) })
		inflight.Go(func() { srvCh <- d.lookupDNS(ctx, "srv|"+host, "_oci-registry._tcp."+host+".", dns.TypeSRV, host) })
	} else if d.opts.DNS != nil {
		tr.Add(trace.Event{Source: "discovery", Query: host, Decision: "no DNS discovery for an IP address or a host with a port"})
	}
	if !d.opts.NoWellKnown {
		wkCh = make(chan sourceOutcome[*wellKnownLookup], 1)
		inflight.Go(func() { wkCh <- d.lookupWellKnown(ctx, host) })
	}

	// 1. TXT mappings.
	srvNoRegistry := false
	if useDNS {
		txtQ := "TXT _oci-discovery." + host + "."
		o := <-txtCh
		if o.err != nil {
			return dec, unknownAnswer(tr, name, host, txtQ, o.err)
		}
		d.noteCache(tr, txtQ, o.hit, o.stale)
		dec.stale = dec.stale || o.stale
		dec.ttl = min(dec.ttl, o.v.ttl)
		for _, sk := range o.v.skipped {
			tr.Add(trace.Event{Source: "discovery", Query: txtQ, Decision: skipNote(sk)})
		}
		matched, rest, err := Select(o.v.mappings, path)
		if err != nil {
			return dec, &Error{Name: name, Host: host, Step: txtQ, Err: err}
		}
		if len(matched) > 0 {
			if ok, dd, err := d.tryDecide(ctx, name, host, path, SourceTXT, o.v.auth, o.v.dnssec, matched, rest, dec); err != nil || ok {
				return dd, err
			}
		} else if len(o.v.mappings) > 0 {
			tr.Add(trace.Event{Source: "discovery", Query: txtQ, Decision: fmt.Sprintf("no v=oci1 prefix matches path %q", path)})
		} else if o.v.absent != "" {
			tr.Add(trace.Event{Source: "discovery", Query: txtQ, Outcome: o.v.absent, TTL: o.v.ttl, DNSSEC: o.v.dnssec, Decision: "no TXT record: absent, next source"})
		} else {
			tr.Add(trace.Event{Source: "discovery", Query: txtQ, Decision: "no valid v=oci1 record: next source"})
		}

		// 2. SRV: the host's own registry.
		srvQ := "SRV _oci-registry._tcp." + host + "."
		o = <-srvCh
		if o.err != nil {
			return dec, unknownAnswer(tr, name, host, srvQ, o.err)
		}
		d.noteCache(tr, srvQ, o.hit, o.stale)
		dec.stale = dec.stale || o.stale
		dec.ttl = min(dec.ttl, o.v.ttl)
		if o.v.absent == "" {
			eps, none, err := d.srvEndpoints(ctx, o.v.srvs, host, path, o.v.auth)
			switch {
			case err != nil:
				return dec, &Error{Name: name, Host: host, Step: srvQ, Err: err}
			case none:
				srvNoRegistry = true
				tr.Add(trace.Event{Source: "discovery", Query: srvQ, Decision: `SRV target "." says there is no registry at this host`})
			case len(eps) > 0:
				dec.step = Step{Host: host, Path: path, Source: SourceSRV, Record: srvRecordText(o.v.srvs), TTL: o.v.ttl, Authenticated: o.v.auth}
				dec.endpoints = eps
				tr.Add(trace.Event{Source: "discovery", Query: srvQ, DNSSEC: o.v.dnssec,
					Decision: fmt.Sprintf("registry located by SRV: %s", eps[0].URL)})
				return dec, nil
			}
		} else {
			tr.Add(trace.Event{Source: "discovery", Query: srvQ, Outcome: o.v.absent, TTL: o.v.ttl, DNSSEC: o.v.dnssec, Decision: "no SRV record: absent, next source"})
		}
	}

	// 3. The well-known document.
	if wkCh != nil {
		wkQ := "GET " + d.wellKnownURL(host)
		o := <-wkCh
		if o.err != nil {
			return dec, unknownAnswer(tr, name, host, wkQ, o.err)
		}
		d.noteCache(tr, wkQ, o.hit, o.stale)
		dec.stale = dec.stale || o.stale
		dec.ttl = min(dec.ttl, o.v.ttl)
		if doc := o.v.doc; doc != nil {
			matched, rest, err := Select(doc.Mappings, path)
			if err != nil {
				return dec, &Error{Name: name, Host: host, Step: wkQ, Err: err}
			}
			auth := AuthHTTPS
			if !strings.HasPrefix(doc.URL, "https://") {
				auth = AuthNone
			}
			if len(matched) > 0 {
				if ok, dd, err := d.tryDecide(ctx, name, host, path, SourceWellKnown, auth, "", matched, rest, dec); err != nil || ok {
					return dd, err
				}
			} else {
				tr.Add(trace.Event{Source: "discovery", Query: wkQ, Decision: fmt.Sprintf("no namespace of the well-known document matches path %q", path)})
			}
		}
	}

	// 4. Direct: the host is its own registry.
	if srvNoRegistry {
		return dec, &Error{Name: name, Host: host, Step: "SRV _oci-registry._tcp." + host + ".", Err: ErrNoRegistry}
	}
	ep := d.directEndpoint(host, path)
	if dec.ttl == maxResultTTL {
		// Nothing was looked up (no DNS for this host, well-known off):
		// ask again in a while rather than for a week.
		dec.ttl = defaultNegativeTTL
	}
	dec.step = Step{Host: host, Path: path, Source: SourceDirect, Authenticated: ep.Authenticated}
	dec.endpoints = []Endpoint{ep}
	tr.Add(trace.Event{Source: "discovery", Query: host, Decision: "no mapping published: " + host + " is its own registry (" + ep.URL + ")"})
	return dec, nil
}

// tryDecide applies the authentication policy to a matched mapping set. It
// returns ok=false when the set was skipped and discovery goes on with the
// next source.
func (d *Discoverer) tryDecide(ctx context.Context, name, host, path string, src Source, auth Auth, dnssecState string, matched []Mapping, rest string, dec hopDecision) (bool, hopDecision, error) {
	tr := trace.FromContext(ctx)
	if auth == AuthNone && !d.opts.DNSSECOff {
		kept := matched[:0:0]
		for _, m := range matched {
			if target := mappingHost(m); target != "" && !sameHost(target, host) {
				how := "sign the zone with DNSSEC (and use --trust-anchor or a validating resolver with --trust-ad), or publish the mapping in https://" + host + "/.well-known/oci-discovery"
				if src == SourceWellKnown {
					how = "serve the well-known document over HTTPS"
				}
				tr.Add(trace.Event{Source: "discovery", Query: string(src) + " " + host, DNSSEC: dnssecState,
					Decision: fmt.Sprintf("skipped unauthenticated mapping to another host (%s) under --dnssec on: %s; to fix: %s", target, m.Record, how)})
				continue
			}
			kept = append(kept, m)
		}
		if len(kept) == 0 {
			return false, dec, nil
		}
		matched = kept
	}
	dd, err := d.decide(ctx, name, host, path, src, auth, matched, rest, dec)
	if err == nil {
		tr.Add(trace.Event{Source: "discovery", Query: string(src) + " " + host, DNSSEC: dnssecState, Decision: "mapping " + matched[0].Record})
	}
	return true, dd, err
}

// decide turns matched mappings (one delegate, or registry mirrors) into the
// hop's decision.
func (d *Discoverer) decide(ctx context.Context, name, host, path string, src Source, auth Auth, matched []Mapping, rest string, dec hopDecision) (hopDecision, error) {
	if m := matched[0]; m.Delegate != "" {
		dec.step = Step{Host: host, Path: path, Source: src, Record: m.Record, TTL: dec.ttl, Authenticated: auth}
		dec.delegate = strings.ToLower(strings.TrimSuffix(m.Delegate, "."))
		dec.rest = rest
		return dec, nil
	}
	d.randMu.Lock()
	ordered := OrderMirrors(matched, d.rand)
	d.randMu.Unlock()
	used, capped := capEndpoints(ordered)
	if len(capped) > 0 {
		trace.FromContext(ctx).Add(trace.Event{Source: "discovery", Query: string(src) + " " + host,
			Decision: cappedNote(len(capped), "mirror(s)", func(i int) string { return capped[i].Record })})
	}
	var records []string
	for _, m := range matched { // published order, as the mirrors were matched
		if slices.Contains(used, m) {
			records = append(records, m.Record)
		}
	}
	dec.step = Step{Host: host, Path: path, Source: src, Record: strings.Join(records, " | "), TTL: dec.ttl, Authenticated: auth}
	for _, m := range used {
		u, repo, err := RegistryEndpoint(m, rest)
		if err != nil {
			return dec, &Error{Name: name, Host: host, Step: string(src) + " mapping", Record: m.Record, Err: err}
		}
		caps := m.Caps
		if caps == 0 {
			caps = CapAll
		}
		dec.endpoints = append(dec.endpoints, Endpoint{URL: u, Repository: repo, Priority: m.Priority, Weight: m.Weight,
			Caps: caps, Source: src, Authenticated: auth})
	}
	return dec, nil
}

// capEndpoints splits what one source offers, in the order to try it, into
// the first MaxEndpoints and the rest.
func capEndpoints[T any](ordered []T) (used, capped []T) {
	if len(ordered) <= MaxEndpoints {
		return ordered, nil
	}
	return ordered[:MaxEndpoints], ordered[MaxEndpoints:]
}

// cappedNote is the trace's words for n endpoints left out by the cap; at
// most three of them are named (record(i) for the i-th).
func cappedNote(n int, what string, record func(i int) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d more %s not used: a client tries at most %d endpoints of one source (docs/protocol.md §11): ", n, what, MaxEndpoints)
	for i := range min(n, 3) {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(record(i))
	}
	if n > 3 {
		b.WriteString(" | ...")
	}
	return b.String()
}

// lookupDNS queries name/qtype (through the cache), authenticates the answer
// and, for TXT, parses the v=oci1 records.
func (d *Discoverer) lookupDNS(ctx context.Context, key, qname string, qtype uint16, host string) sourceOutcome[*dnsLookup] {
	fetch := func(ctx context.Context) (any, time.Duration, error) {
		// TEMPORARY wiring, to be replaced by the discovery-side change:
		// ask the chain of trust together with the question.
		if d.opts.Validator != nil && !d.opts.DNSSECOff {
			d.opts.Validator.Prefetch(ctx, qname)
		}
		a, err := d.opts.DNS.Query(ctx, qname, qtype)
		if err != nil {
			return nil, 0, err
		}
		l := &dnsLookup{auth: AuthNone}
		// A denial is validated too: a bogus one (expired or stripped
		// signatures over its SOA) is an error, not a reason to fall
		// through to a lower source.
		if err := d.authenticate(ctx, a, l); err != nil {
			return nil, 0, err
		}
		if a.Absent() || len(a.Records) == 0 {
			l.absent = absentOutcome(a)
			l.ttl = negativeTTL(a)
			return l, l.ttl, nil
		}
		l.ttl = min(a.TTL, maxResultTTL)
		switch qtype {
		case dns.TypeTXT:
			if l.mappings, l.skipped, err = ParseTXTRecords(a.Records, d.popts); err != nil {
				return nil, 0, err
			}
		case dns.TypeSRV:
			if l.srvs, err = SRVRecords(a.Records); err != nil {
				return nil, 0, err
			}
		}
		return l, l.ttl, nil
	}
	v, hit, stale, err := d.fetch(ctx, key, fetch)
	if err != nil {
		return sourceOutcome[*dnsLookup]{err: err}
	}
	return sourceOutcome[*dnsLookup]{v: v.(*dnsLookup), hit: hit, stale: stale}
}

// authenticate sets l.auth and l.dnssec for an answer, positive or
// negative. A bogus answer is an error, never a fall-through.
func (d *Discoverer) authenticate(ctx context.Context, a *dnsclient.Answer, l *dnsLookup) error {
	if d.opts.DNSSECOff {
		return nil
	}
	if d.opts.Validator != nil {
		sec, err := d.opts.Validator.Validate(ctx, a)
		switch dnssec.Verdict(sec, err) {
		case dnssec.Bogus:
			return err
		case dnssec.Indeterminate:
			if d.opts.DNSSECRequire {
				return err
			}
			// The chain of trust could not be fetched (a resolver that
			// cannot reach the zones above, a private server refusing
			// them): not proven either way, so not authenticated — unless
			// a trusted validating resolver vouches for it with AD.
			trace.FromContext(ctx).Add(trace.Event{Source: "dns", Query: a.Name, DNSSEC: dnssec.Indeterminate.String(),
				Decision: "chain of trust could not be fetched, answer not authenticated in-process: " + err.Error()})
			sec = dnssec.Insecure
		}
		l.dnssec = sec.String()
		if sec == dnssec.Secure {
			l.auth = AuthDNSSEC
			return nil
		}
	}
	if d.opts.TrustAD && a.AD {
		l.auth, l.dnssec = AuthDNSSEC, "ad"
	}
	return nil
}

func (d *Discoverer) lookupWellKnown(ctx context.Context, host string) sourceOutcome[*wellKnownLookup] {
	fetch := func(ctx context.Context) (any, time.Duration, error) {
		doc, err := FetchWellKnown(ctx, d.opts.HTTP, host, d.popts)
		if err != nil {
			return nil, 0, err
		}
		l := &wellKnownLookup{doc: doc, ttl: defaultNegativeTTL}
		if doc != nil {
			l.ttl = doc.MaxAge
		}
		return l, l.ttl, nil
	}
	v, hit, stale, err := d.fetch(ctx, "wk|"+host, fetch)
	if err != nil {
		return sourceOutcome[*wellKnownLookup]{err: err}
	}
	return sourceOutcome[*wellKnownLookup]{v: v.(*wellKnownLookup), hit: hit, stale: stale}
}

func (d *Discoverer) fetch(ctx context.Context, key string, fn func(context.Context) (any, time.Duration, error)) (any, bool, bool, error) {
	if d.opts.Cache == nil {
		v, _, err := fn(ctx)
		return v, false, false, err
	}
	return d.opts.Cache.Fetch(ctx, key, fn)
}

func (d *Discoverer) noteCache(tr *trace.Trace, query string, hit, stale bool) {
	switch {
	case stale:
		tr.Add(trace.Event{Source: "cache", Query: query, Outcome: "stale", Decision: "refresh failed: serving the last good answer, marked stale"})
	case hit:
		tr.Add(trace.Event{Source: "cache", Query: query, Outcome: "hit"})
	}
}

// srvEndpoints orders the SRV targets per RFC 2782 (SRVEndpoints does the
// record rules). none reports the single target "." that means "no registry
// here".
func (d *Discoverer) srvEndpoints(ctx context.Context, srvs []*dns.SRV, host, path string, auth Auth) (eps []Endpoint, none bool, err error) {
	d.randMu.Lock()
	srvs = OrderSRV(srvs, d.rand)
	d.randMu.Unlock()
	eps, none, err = SRVEndpoints(srvs, host, path)
	eps, capped := capEndpoints(eps)
	if len(capped) > 0 {
		trace.FromContext(ctx).Add(trace.Event{Source: "discovery", Query: "SRV " + SRVLabel + "." + host + ".",
			Decision: cappedNote(len(capped), "SRV target(s)", func(i int) string { return capped[i].URL })})
	}
	for i := range eps {
		ep := &eps[i]
		ep.Authenticated = auth
		if hp := strings.TrimPrefix(ep.URL, "https://"); d.insecure(hp) {
			ep.URL = "http://" + hp // the mapping stays authenticated; the operator chose plain HTTP
		}
		// Unauthenticated SRV may point anywhere, but the registry must then
		// prove it is <host> in TLS: a forged SRV can only cause a failure.
		if auth == AuthNone && !sameHost(mappingHost(Mapping{Registry: ep.URL}), host) && !d.opts.DNSSECOff {
			ep.TLSServerName = host
		}
	}
	return eps, none, err
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

// skipNote is the trace's words for a record skipped whatever the path.
func skipNote(sk Skipped) string {
	if sk.Reason == SkipNotOCI {
		return "ignored TXT record that is not v=oci1: " + quote(sk.Record)
	}
	return "skipped malformed record: " + sk.Err.Error()
}

func (d *Discoverer) wellKnownURL(host string) string {
	if d.insecure(host) {
		return "http://" + host + "/.well-known/oci-discovery"
	}
	return "https://" + host + "/.well-known/oci-discovery"
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

func negativeTTL(a *dnsclient.Answer) time.Duration {
	if a.NegativeTTL <= 0 {
		return defaultNegativeTTL
	}
	return min(a.NegativeTTL, maxNegativeTTL)
}

// mappingHost is the host a mapping sends names to, without port.
func mappingHost(m Mapping) string {
	if m.Delegate != "" {
		return strings.ToLower(strings.TrimSuffix(m.Delegate, "."))
	}
	u, err := url.Parse(m.Registry)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// sameHost reports whether target (a host without port, as mappingHost
// gives) is host[:port]'s host.
func sameHost(target, host string) bool {
	if a, err := parseAuthority(host); err == nil {
		host = a.bareHost()
	}
	return strings.EqualFold(strings.TrimSuffix(target, "."), strings.TrimSuffix(host, "."))
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

// weaker returns the weaker of two authentications: none is weaker than
// dnssec and https, which are weaker than the operator's own config. The
// empty Auth means "nothing yet".
func weaker(a, b Auth) Auth {
	rank := func(x Auth) int {
		switch x {
		case AuthNone:
			return 0
		case AuthDNSSEC, AuthHTTPS:
			return 1
		case AuthConfig:
			return 2
		}
		return 3
	}
	if rank(b) < rank(a) {
		return b
	}
	return a
}

// unknownAnswer is the error, and the trace event, of a source whose answer
// is unknown (SERVFAIL, timeout, bogus, HTTP 5xx, ...): discovery stops,
// because a lower source may be one the owner has overridden.
func unknownAnswer(tr *trace.Trace, name, host, step string, err error) error {
	tr.Add(trace.Event{Source: "discovery", Query: step, Outcome: "unknown",
		Decision: "answer unknown, no fall-through to a lower source: discovery fails: " + err.Error()})
	return &Error{Name: name, Host: host, Step: step, Err: err}
}

// absentOutcome names an absent answer the way dig does.
func absentOutcome(a *dnsclient.Answer) string {
	if a.Rcode == dns.RcodeNameError {
		return "NXDOMAIN"
	}
	return "NODATA"
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

// TXTString returns the record's character-strings concatenated as raw
// bytes: miekg/dns keeps them in presentation form, with \" \\ and \DDD
// escapes, which are undone here so records are parsed as published.
func TXTString(txt *dns.TXT) string {
	var b strings.Builder
	for _, s := range txt.Txt {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c != '\\' || i+1 >= len(s) {
				b.WriteByte(c)
				continue
			}
			if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
				if v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0'); v <= 255 {
					b.WriteByte(byte(v))
					i += 3
					continue
				}
			}
			b.WriteByte(s[i+1])
			i++
		}
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
