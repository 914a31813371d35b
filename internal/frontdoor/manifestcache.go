package frontdoor

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/ocidns/ocidns/resolver"
)

// manifestCache keeps verified manifests by repository and digest: a digest
// names the same bytes forever, so an entry never goes stale, only out. It
// is bounded by entries and by bytes, least recently used first out. The
// key holds the repository too: a manifest fetched for one name is never
// served for another, whose registries may not have it.
type manifestCache struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[string, resolver.Manifest]
	bytes    int64
	maxBytes int64
}

// maxCachedManifests bounds the entries whatever their size.
const maxCachedManifests = 4096

func newManifestCache(maxBytes int64) *manifestCache {
	c := &manifestCache{maxBytes: maxBytes}
	c.lru, _ = simplelru.NewLRU[string, resolver.Manifest](maxCachedManifests, func(_ string, m resolver.Manifest) {
		c.bytes -= int64(len(m.Body))
	})
	return c
}

func (c *manifestCache) get(key string) (resolver.Manifest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

// add stores m unless it alone is over the byte bound, then evicts until
// the bound holds.
func (c *manifestCache) add(key string, m resolver.Manifest) {
	size := int64(len(m.Body))
	if size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru.Contains(key) {
		return
	}
	c.lru.Add(key, m)
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.lru.RemoveOldest()
	}
}
