package dnssec

import (
	"context"
	"errors"
	"time"
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

type flight struct {
	done chan struct{}
	e    cacheEntry
	err  error
}

// do returns the cached entry for k, or computes it once for every
// concurrent caller and caches it until it expires.
func (r *validation) do(ctx context.Context, k cacheKey, fn func() (cacheEntry, error)) (cacheEntry, error) {
	v := r.v
	for {
		v.mu.Lock()
		if e, ok := v.cache[k]; ok {
			if v.now().Before(e.expires) {
				v.mu.Unlock()
				return e, nil
			}
			delete(v.cache, k)
		}
		if f, ok := v.inflight[k]; ok {
			v.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return cacheEntry{}, ctx.Err()
			}
			// The computing caller's context ended, not ours: try again.
			if f.err != nil && isContextErr(f.err) && ctx.Err() == nil {
				continue
			}
			return f.e, f.err
		}
		f := &flight{done: make(chan struct{})}
		v.inflight[k] = f
		v.mu.Unlock()

		func() {
			defer func() {
				v.mu.Lock()
				delete(v.inflight, k)
				if f.err == nil && v.now().Before(f.e.expires) {
					v.store(k, f.e)
				}
				v.mu.Unlock()
				close(f.done)
			}()
			f.e, f.err = fn()
		}()
		return f.e, f.err
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
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
