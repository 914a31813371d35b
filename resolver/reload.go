package resolver

import (
	"sync"
	"sync/atomic"

	"github.com/ocidns/ocidns/cache"
)

// Resolver resolves references. It is safe for concurrent use, Reload
// included.
//
// It holds its caches, and an engine — everything else its options make:
// DNS client, validator and trust anchors, discovery, HTTP transport and
// its address policy, registry clients, credentials. Reload builds a new
// engine around the same caches and swaps it in; each call works with the
// engine it started with to its end.
type Resolver struct {
	cur    atomic.Pointer[engine]
	reload sync.Mutex // one Reload at a time
	// fixed are New's options: Reload keeps their cache size, stale
	// window, upstream bound and clock, which the caches were built with.
	fixed     options
	results   *resultCache
	sources   *cache.Cache[string, any]
	locations *cache.Cache[string, Location] // Locate's answers
}

// Reload replaces the Resolver's options with opts, taken as New takes
// them, and reads again the files they name (trust anchors, CA bundle,
// credentials files, resolv.conf). What it has cached stays: resolutions
// and discovery answers made under the old options are served until they
// expire. Calls in flight finish under the options they started with, on
// their connections; later calls use the new ones. WithCacheSize,
// WithStaleWindow, WithMaxUpstream and WithClock keep New's values: the
// caches and the bound on upstream work are shared across the swap.
//
// When opts are wrong or a file cannot be read, Reload returns the error
// and the Resolver keeps its options.
func (r *Resolver) Reload(opts ...Option) error {
	o, err := applyOptions(opts)
	if err != nil {
		return err
	}
	r.reload.Lock()
	defer r.reload.Unlock()
	o.cacheSize, o.staleWindow, o.maxUpstream, o.now = r.fixed.cacheSize, r.fixed.staleWindow, r.fixed.maxUpstream, r.fixed.now
	e, err := newEngine(o, r.results, r.sources)
	if err != nil {
		return err
	}
	old := r.cur.Swap(e)
	// Idle connections go now; those in flight finish their requests
	// and then idle out (IdleConnTimeout).
	old.close()
	return nil
}
