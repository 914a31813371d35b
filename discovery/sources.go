package discovery

import (
	"context"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/discovery/trace"
)

// The lookups of one hop: TXT, SRV and the well-known document asked at
// once (docs/protocol.md §7 step 2), each through the SourceCache, and
// read in precedence order.
//
// A cold hop waits through one DNS round trip: the TXT and SRV questions,
// the chain of trust of the host (Validator.Prefetch) and the address of
// the well-known host all go out together. Validating an answer is the
// costly part once it has arrived (signature checks; a denial takes
// several), so an answer is validated only when the hop consults its
// source: when TXT decides, the SRV answer that came with it is dropped
// unvalidated.

// dnsAnswer is what discovery keeps of a TXT or SRV answer, in the cache
// and between the lookup and its use: never the answer itself, since a DNS
// message holds every record twice over (parsed RRs and the raw message)
// and a cache of thousands of hosts would keep them all. Immutable once
// built.
type dnsAnswer struct {
	auth   Authentication
	absent bool // NXDOMAIN or NODATA
	rcode  int
	ttl    time.Duration
	// TXT: the valid mappings, the v=ocisig1 keys (docs/protocol.md
	// §15.1), and the records skipped whatever the path.
	mappings []Mapping
	signers  []PublishedKey
	skipped  []Skipped
	// SRV: the records, without owner names.
	srvs []*dns.SRV
}

// wellKnownAnswer is a fetched well-known document (nil when absent).
type wellKnownAnswer struct {
	doc *WellKnown
	ttl time.Duration
}

// lookup is one source's lookup in flight: its answer arrives on done,
// and its trace events collect in tr until the source is consulted. use is
// closed when the hop consults the source (nil for a source whose lookup
// does not wait for it).
type lookup[T any] struct {
	done chan looked[T]
	tr   *trace.Trace
	use  chan struct{}
}

type looked[T any] struct {
	v     T
	cache CacheStatus
	err   error
}

// lookups are the lookups of one hop.
type lookups struct {
	host    string
	dns     bool // TXT and SRV are asked (a DNS name without port)
	txt     lookup[*dnsAnswer]
	srv     lookup[*dnsAnswer]
	wk      lookup[*wellKnownAnswer]
	started []*trace.Trace // every lookup's trace, in precedence order
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	// gone is closed once the hop has finished with its lookups: a lookup
	// it started and another discovery shares (the SourceCache coalesces
	// them) then validates its answer for that one.
	gone     chan struct{}
	prefetch sync.Once
}

// startLookups asks host's sources at once.
func (d *Discoverer) startLookups(ctx context.Context, host string) *lookups {
	tr := trace.FromContext(ctx)
	ctx, cancel := context.WithCancel(ctx)
	l := &lookups{host: host, cancel: cancel, gone: make(chan struct{})}
	_, publishes, _ := ParseHost(host) // validated by Discover or by ParseTXT
	l.dns = d.opts.DNS != nil && publishes
	if l.dns {
		txtUse, srvUse := make(chan struct{}), make(chan struct{})
		l.txt = start(l, ctx, tr, func(ctx context.Context) looked[*dnsAnswer] {
			return d.lookupDNS(ctx, l, txtUse, "txt|"+host, TXTLabel+"."+host+".", dns.TypeTXT)
		})
		l.srv = start(l, ctx, tr, func(ctx context.Context) looked[*dnsAnswer] {
			return d.lookupDNS(ctx, l, srvUse, "srv|"+host, SRVLabel+"."+host+".", dns.TypeSRV)
		})
		l.txt.use, l.srv.use = txtUse, srvUse
	} else if d.opts.DNS != nil {
		tr.Add(noDNSEvent(host))
	}
	if !d.opts.NoWellKnown {
		l.wk = start(l, ctx, tr, func(ctx context.Context) looked[*wellKnownAnswer] { return d.lookupWellKnown(ctx, host) })
	}
	return l
}

// start runs fn with a trace of its own, so that the source's events are
// read together when it is consulted.
func start[T any](l *lookups, ctx context.Context, tr *trace.Trace, fn func(context.Context) looked[T]) lookup[T] {
	lk := lookup[T]{done: make(chan looked[T], 1), tr: tr.Fork()}
	l.started = append(l.started, lk.tr)
	ctx = trace.NewContext(ctx, lk.tr)
	l.wg.Go(func() { lk.done <- fn(ctx) })
	return lk
}

// wait tells the lookup its source is consulted, and returns its answer
// and moves its events to tr.
func (lk lookup[T]) wait(tr *trace.Trace) looked[T] {
	if lk.use != nil {
		select {
		case <-lk.use: // consulted before (the hop is one goroutine)
		default:
			close(lk.use)
		}
	}
	o := <-lk.done
	tr.Join(lk.tr)
	return o
}

// finish cancels the lookups no source needs any more and waits for them,
// so that their events come before the hop's result. What is waited for
// is this hop's Fetch of the SourceCache: a call the cache shares with
// other callers goes on for them after this hop (one this hop alone
// waited for is cancelled, see Discover), and what it records then stays
// out of this trace (trace.Join).
func (l *lookups) finish(tr *trace.Trace) {
	l.cancel()
	l.wg.Wait()
	close(l.gone)
	for _, t := range l.started {
		tr.Join(t)
	}
}

// prefetchChain asks, once a hop, the chain of trust of the host's names
// together with the first question that missed the cache: the TXT and SRV
// owners (_oci-discovery.<host>, _oci-registry._tcp.<host>) sit in the
// same zones, and underscore labels are no zone cuts.
func (d *Discoverer) prefetchChain(ctx context.Context, l *lookups) {
	if d.opts.Validator == nil || d.opts.DNSSECOff {
		return
	}
	l.prefetch.Do(func() { d.opts.Validator.Prefetch(ctx, TXTLabel+"."+l.host+".") })
}

// awaitUse returns when the answer is to be validated: the hop consults
// the source, or has finished with it while another discovery still waits
// for the shared lookup (its context would have ended otherwise). The
// error is the context's, when no one waits any more.
func awaitUse(ctx context.Context, use, gone <-chan struct{}) error {
	select {
	case <-use:
	case <-gone:
	case <-ctx.Done():
	}
	return ctx.Err()
}

// lookupDNS asks qname/qtype (through the cache), authenticates the
// answer once the hop consults the source (use), and keeps what discovery
// reads of it.
func (d *Discoverer) lookupDNS(ctx context.Context, l *lookups, use <-chan struct{}, key, qname string, qtype uint16) looked[*dnsAnswer] {
	fetch := func(ctx context.Context) (any, time.Duration, error) {
		d.prefetchChain(ctx, l)
		a, err := d.opts.DNS.Query(ctx, qname, qtype)
		if err != nil {
			return nil, 0, err
		}
		if err := d.idle(ctx, func() error { return awaitUse(ctx, use, l.gone) }); err != nil {
			return nil, 0, err // not consulted: left unvalidated, and uncached
		}
		// A denial is validated too: a bogus one (expired or stripped
		// signatures over its SOA) is an error, not a reason to fall
		// through to a lower source.
		auth, err := d.authenticate(ctx, a)
		if err != nil {
			return nil, 0, err
		}
		v := &dnsAnswer{auth: auth, rcode: a.Rcode}
		if a.Absent() || len(a.Records) == 0 {
			v.absent, v.ttl = true, negativeTTL(a)
			return v, v.ttl, nil
		}
		v.ttl = min(a.TTL, maxResultTTL)
		switch qtype {
		case dns.TypeTXT:
			v.mappings, v.skipped, err = ParseTXTRecords(a.Records, d.popts)
			v.signers, v.skipped = splitSigners(v.skipped)
		case dns.TypeSRV:
			v.srvs, err = SRVRecords(a.Records)
		}
		if err != nil {
			return nil, 0, err
		}
		return v, v.ttl, nil
	}
	v, cache, err := d.fetch(ctx, key, fetch)
	if err != nil {
		return looked[*dnsAnswer]{err: err}
	}
	return looked[*dnsAnswer]{v: v.(*dnsAnswer), cache: cache}
}

// authenticate judges an answer, positive or negative, under the
// Discoverer's policy: in-process validation, then a trusted AD bit. A
// bogus answer is an error, never a fall-through.
func (d *Discoverer) authenticate(ctx context.Context, a *dnsclient.Answer) (Authentication, error) {
	auth := Authentication{Auth: AuthNone}
	if d.opts.DNSSECOff {
		return auth, nil
	}
	if d.opts.Validator != nil {
		sec, err := d.opts.Validator.Validate(ctx, a)
		auth.Validated, auth.Security = true, dnssec.Verdict(sec, err)
		switch auth.Security {
		case dnssec.Bogus:
			return Authentication{}, err
		case dnssec.Indeterminate:
			if d.opts.DNSSECRequire {
				return Authentication{}, err
			}
			// The chain of trust could not be fetched (a resolver that
			// cannot reach the zones above, a private server refusing
			// them): not proven either way, so not authenticated — unless
			// a trusted validating resolver vouches for it with AD.
			auth.Cause = err
			trace.FromContext(ctx).Add(indeterminateEvent(a.Name, err))
		case dnssec.Secure:
			auth.Auth = AuthDNSSEC
			return auth, nil
		}
	}
	if d.opts.TrustAD && a.AD {
		auth.Auth, auth.AD = AuthDNSSEC, true
	}
	return auth, nil
}

// lookupWellKnown fetches host's document (through the cache).
func (d *Discoverer) lookupWellKnown(ctx context.Context, host string) looked[*wellKnownAnswer] {
	fetch := func(ctx context.Context) (any, time.Duration, error) {
		doc, err := FetchWellKnown(ctx, d.opts.HTTP, host, d.popts)
		if err != nil {
			return nil, 0, err
		}
		v := &wellKnownAnswer{doc: doc, ttl: defaultNegativeTTL}
		if doc != nil {
			v.ttl = doc.MaxAge
		}
		return v, v.ttl, nil
	}
	v, cache, err := d.fetch(ctx, "wk|"+host, fetch)
	if err != nil {
		return looked[*wellKnownAnswer]{err: err}
	}
	return looked[*wellKnownAnswer]{v: v.(*wellKnownAnswer), cache: cache}
}

// idle runs wait, which waits for the hop, through the cache's Idle: a
// lookup waiting to be consulted must not hold a place of the cache's
// bound that the hop's other lookups need.
func (d *Discoverer) idle(ctx context.Context, wait func() error) error {
	if d.opts.Cache == nil {
		return wait()
	}
	return d.opts.Cache.Idle(ctx, wait)
}

// fetch asks the cache, or fn when there is none.
func (d *Discoverer) fetch(ctx context.Context, key string, fn func(context.Context) (any, time.Duration, error)) (any, CacheStatus, error) {
	if d.opts.Cache == nil {
		v, _, err := fn(ctx)
		return v, CacheMiss, err
	}
	v, hit, stale, err := d.opts.Cache.Fetch(ctx, key, fn)
	switch {
	case stale:
		return v, CacheStale, err
	case hit:
		return v, CacheHit, err
	}
	return v, CacheMiss, err
}

func negativeTTL(a *dnsclient.Answer) time.Duration {
	if a.NegativeTTL <= 0 {
		return defaultNegativeTTL
	}
	return min(a.NegativeTTL, maxNegativeTTL)
}
