package dnssec

import (
	"context"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery/dnsclient"
	"github.com/ocidns/ocidns/discovery/trace"
)

// Speculative fetching of the chain of trust. Every zone a validator may
// need for an answer about a name is known before the answer comes: the
// name's ancestors down from the closest trust anchor. A cold validation
// asks their DS and DNSKEY RRsets one after another, each link waiting for
// the one above: one round trip per query. Prefetch asks them all at once
// when the question is sent, so the validation finds every answer in hand
// or in flight: one round trip for the whole chain.

// Bounds of prefetching.
const (
	// maxPrefetchZones bounds the zones one Prefetch asks about (two
	// queries each, DNSKEY alone for the anchor): the ones nearest the
	// anchor, which a validation needs first and other names share.
	maxPrefetchZones = 8
	// maxPrefetchInFlight bounds the prefetch queries in flight, all
	// names together; past it Prefetch asks nothing more (validation then
	// asks for itself).
	maxPrefetchInFlight = 64
	// maxPrefetched bounds the answers held for validations.
	maxPrefetched = 256
	// prefetchHold is how long a prefetched answer is held for the
	// validation it was asked for (never past its TTL): the validator's
	// own cache keeps what the validation concludes.
	prefetchHold = 30 * time.Second
	// maxPrefetchTraces bounds the traces a prefetched answer reports its
	// query to.
	maxPrefetchTraces = 4
)

// queryKey is one question: a canonical name and a type.
type queryKey struct {
	name  string
	qtype uint16
}

// prefetched is one speculative query, in flight until done is closed.
type prefetched struct {
	done    chan struct{}
	a       *dnsclient.Answer
	err     error
	events  *trace.Trace   // the query's own events, reported to the validations that use it
	traces  []*trace.Trace // validations it was reported to
	expires time.Time      // once done
}

// Prefetch starts asking, in the background, the DS and DNSKEY RRsets of
// every zone that may hold name — its ancestors below the closest trust
// anchor (at most 8, those nearest the anchor) and the anchor's DNSKEY
// RRset — so that a validation of an answer about name that follows finds
// them fetched or in flight instead of asking one after another. Call it
// with the owner name of a question about to be sent, e.g.
// "_oci-discovery.example.com.", before or while sending it; a second
// call for the same zones asks nothing more.
//
// Labels that begin with an underscore ("_oci-discovery", "_tcp", RFC
// 8552) are not taken for zone cuts. Zones whose keys are cached, and
// zones below one cached as insecure, are skipped; a name outside every
// trust anchor asks nothing.
//
// Prefetch waits for nothing and never fails anything: an answer that
// failed is dropped, and the validation that would have used it asks for
// itself. Prefetched answers are held for at most 30 s (their TTL when
// shorter), unvalidated until a validation uses them. At most 64 prefetch
// queries are in flight and 256 answers held, across all names; past that
// Prefetch asks nothing. The queries end with ctx. Their trace events go
// to the trace of the validation that uses the answer (in trace.FromContext
// of its context), not to ctx's.
func (v *Validator) Prefetch(ctx context.Context, name string) {
	if v.q == nil || ctx.Err() != nil {
		return
	}
	name = dns.CanonicalName(name)
	if _, ok := dns.IsDomainName(name); !ok {
		return
	}
	anchor := v.closestAnchor(name)
	if anchor == "" {
		return
	}
	zones := prefetchZones(name, anchor)

	v.mu.Lock()
	defer v.mu.Unlock()
	if anchor == "." && v.withoutDNSSEC() {
		return // the resolver cannot serve the chain: nothing will be validated
	}
	now := v.now()
	var ask []queryKey
	for _, z := range zones {
		if e, ok := v.cache[cacheKey{kindKeys, z}]; ok && now.Before(e.expires) {
			if e.keys.sec == Insecure {
				break // and so is everything below it
			}
			continue
		}
		if v.flights.InFlight(cacheKey{kindKeys, z}) {
			continue // a validation is asking
		}
		if z != anchor {
			ask = append(ask, queryKey{z, dns.TypeDS})
		}
		ask = append(ask, queryKey{z, dns.TypeDNSKEY})
	}
	for _, k := range ask {
		if p, ok := v.prefetch[k]; ok {
			if !isDone(p) || now.Before(p.expires) {
				continue
			}
			delete(v.prefetch, k)
		}
		if v.prefetchInFlight >= maxPrefetchInFlight || !v.roomToPrefetch(now) {
			return
		}
		p := &prefetched{done: make(chan struct{}), events: trace.New(nil)}
		v.prefetch[k] = p
		v.prefetchInFlight++
		go v.runPrefetch(trace.NewContext(ctx, p.events), k, p)
	}
}

// prefetchZones lists the zones Prefetch asks about for name: anchor,
// then each ancestor of name below it, down to name itself, leaving out
// names whose first label begins with an underscore; at most
// maxPrefetchZones below the anchor.
func prefetchZones(name, anchor string) []string {
	var below []string
	for n := name; n != anchor && n != ""; n = parentZone(n) {
		if n[0] != '_' {
			below = append(below, n)
		}
	}
	zones := []string{anchor}
	for i := len(below) - 1; i >= 0 && len(zones) <= maxPrefetchZones; i-- {
		zones = append(zones, below[i])
	}
	return zones
}

// roomToPrefetch makes room for one more held answer, dropping expired
// ones, and says whether there is. v.mu held.
func (v *Validator) roomToPrefetch(now time.Time) bool {
	if len(v.prefetch) < maxPrefetched {
		return true
	}
	for k, p := range v.prefetch {
		if isDone(p) && !now.Before(p.expires) {
			delete(v.prefetch, k)
		}
	}
	return len(v.prefetch) < maxPrefetched
}

// runPrefetch asks k and hands the answer to the validations waiting; a
// failure is not kept.
func (v *Validator) runPrefetch(ctx context.Context, k queryKey, p *prefetched) {
	a, err := v.q.Query(ctx, k.name, k.qtype)
	if err == nil && a == nil {
		err = errNoAnswer
	}
	v.mu.Lock()
	v.prefetchInFlight--
	p.a, p.err = a, err
	if err != nil {
		delete(v.prefetch, k)
	} else {
		hold := prefetchHold
		if ttl := answerTTL(a); ttl > 0 {
			hold = min(hold, ttl)
		}
		p.expires = v.now().Add(hold)
	}
	v.mu.Unlock()
	close(p.done)
}

// answerTTL is how long an answer may be kept: its records' TTL, or for an
// absent answer the negative one.
func answerTTL(a *dnsclient.Answer) time.Duration {
	if len(a.Records) > 0 {
		return a.TTL
	}
	return a.NegativeTTL
}

// hold keeps a, the answer to k that a validation asked for itself, for
// the validations that follow, as if prefetched (the resolver check's
// DNSKEY question is the chain's too).
func (v *Validator) hold(k queryKey, a *dnsclient.Answer) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	if p, ok := v.prefetch[k]; ok && (!isDone(p) || now.Before(p.expires)) {
		return
	}
	if !v.roomToPrefetch(now) {
		return
	}
	hold := prefetchHold
	if ttl := answerTTL(a); ttl > 0 {
		hold = min(hold, ttl)
	}
	p := &prefetched{done: make(chan struct{}), a: a, events: trace.New(nil), expires: now.Add(hold)}
	close(p.done)
	v.prefetch[k] = p
}

func isDone(p *prefetched) bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// prefetchedAnswer returns the prefetched answer to name/qtype, waiting
// for it while it is in flight, and reports its query's events to tr
// (once per trace). ok is false when there is none, it failed, or ctx
// ended first: the caller then asks for itself.
func (v *Validator) prefetchedAnswer(ctx context.Context, tr *trace.Trace, name string, qtype uint16) (a *dnsclient.Answer, ok bool) {
	k := queryKey{dns.CanonicalName(name), qtype}
	v.mu.Lock()
	p := v.prefetch[k]
	v.mu.Unlock()
	if p == nil {
		return nil, false
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, false
	}
	if p.err != nil {
		return nil, false
	}
	v.mu.Lock()
	if !v.now().Before(p.expires) {
		if v.prefetch[k] == p {
			delete(v.prefetch, k)
		}
		v.mu.Unlock()
		return nil, false
	}
	report := tr != nil && len(p.traces) < maxPrefetchTraces
	for _, seen := range p.traces {
		report = report && seen != tr
	}
	if report {
		p.traces = append(p.traces, tr)
	}
	v.mu.Unlock()
	if report {
		for _, e := range p.events.Events() {
			if e.Decision == "" {
				e.Decision = "prefetched for the chain of trust"
			} else {
				e.Decision = "prefetched for the chain of trust; " + e.Decision
			}
			tr.Add(e)
		}
	}
	return p.a, true
}
