package dnssec

import (
	"context"
	"slices"
	"time"

	"github.com/ocidns/ocidns/discovery/trace"
)

// Entries of the validator's cache, and the calls computing them.
type cacheKind uint8

const (
	kindKeys  cacheKind = iota // validated keys of a zone
	kindZone                   // the zone a name belongs to, from SOA
	kindProbe                  // the resolver check (never stored)
)

type cacheKey struct {
	kind cacheKind
	name string
}

type cacheEntry struct {
	keys    *zoneKeys // kindKeys
	zone    string    // kindZone
	expires time.Time
}

// computed is what one shared computation of an entry leaves: the entry,
// and the validation it ran as (its budget spent and its events).
type computed struct {
	e  cacheEntry
	by *validation
}

// chainTimeout bounds one shared computation of the validator's cache for
// callers without a later deadline of their own (internal/flight).
const chainTimeout = 30 * time.Second

// do returns the cached entry for k, or computes it with fn once for every
// validation that needs it meanwhile, under internal/flight's rule (the
// computation is cancelled only when every validation waiting for it has
// left), and caches it until it expires.
//
// fn runs as a validation of its own, which starts with r's budget spent
// so far and records its events apart (its queries' too); the validation
// that started the computation takes both over when it ends, as if it had
// done the work itself, and one that has left gets no event afterwards.
// A validation that joined is charged nothing and gets no events: the
// work was not done for it alone.
//
// fn is a method expression ((*validation).validateKeys), not a closure:
// it is passed on every call, cache hits included, which must not
// allocate.
func (r *validation) do(ctx context.Context, k cacheKey, fn func(*validation, context.Context, cacheKey) (cacheEntry, error)) (cacheEntry, error) {
	v := r.v
	if e, ok := v.cached(k); ok {
		return e, nil
	}
	// Forked here, not in the call: r belongs to this goroutine.
	own := r.fork()
	c, joined, err := v.flights.Do(ctx, k, func(ctx context.Context) (computed, error) {
		// The DNS client's events go with the computation's own: to the
		// validation that started it if it still waits, else nowhere.
		ctx = trace.NewContext(ctx, own.tr)
		e, err := fn(own, ctx, k)
		if err == nil && v.now().Before(e.expires) {
			// Stored before the call leaves the flight group, so that a
			// validation asking now finds one or the other.
			v.mu.Lock()
			v.store(k, e)
			v.mu.Unlock()
		}
		return computed{e: e, by: own}, err
	})
	if !joined && c.by != nil {
		r.takeOver(c.by)
	}
	return c.e, err
}

// cached returns the entry for k while it is fresh.
func (v *Validator) cached(k cacheKey) (cacheEntry, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.cache[k]
	if !ok {
		return cacheEntry{}, false
	}
	if !v.now().Before(e.expires) {
		delete(v.cache, k)
		return cacheEntry{}, false
	}
	return e, true
}

// fork returns a validation for work done on r's behalf on another
// goroutine: r's budget spent so far, and a trace of its own.
func (r *validation) fork() *validation {
	return &validation{v: r.v, tr: r.tr.Fork(), queries: r.queries, verifies: r.verifies,
		hashes: r.hashes, hashed: slices.Clone(r.hashed)}
}

// takeOver makes the work of c, a fork of r that has ended, r's own: its
// budget spent and its events.
func (r *validation) takeOver(c *validation) {
	r.queries, r.verifies, r.hashes, r.hashed = c.queries, c.verifies, c.hashes, c.hashed
	r.tr.Join(c.tr)
}

// store adds e under k, making room first: expired entries go, then, if the
// cache is still full, arbitrary ones (map order), which only costs queries.
// Called with v.mu held.
func (v *Validator) store(k cacheKey, e cacheEntry) {
	if len(v.cache) >= maxCacheEntries {
		now := v.now()
		for key, old := range v.cache {
			if !now.Before(old.expires) {
				delete(v.cache, key)
			}
		}
		for key := range v.cache {
			if len(v.cache) < maxCacheEntries*7/8 {
				break
			}
			delete(v.cache, key)
		}
	}
	v.cache[k] = e
}
