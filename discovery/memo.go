package discovery

import (
	"context"
	"sync"
	"time"
)

// Memo is the SourceCache of one bounded task — one `ocidns check`, one
// test — that asks each source of each host once, however many names it
// discovers through them: the first value fetched for a key is kept,
// whatever its TTL, for the life of the Memo; errors are not kept. It
// holds every key it is asked for and never evicts, so it is for a task
// that visits a bounded number of hosts, never for a long-lived resolver
// (cache.Cache bounds its entries and honours TTLs). Concurrent callers
// of one key may each call fn. The zero value is ready to use.
type Memo struct {
	mu sync.Mutex
	m  map[string]any
}

// Fetch implements SourceCache: the kept value of key, or fn's, kept.
func (c *Memo) Fetch(ctx context.Context, key string, fn func(context.Context) (any, time.Duration, error)) (v any, hit, stale bool, err error) {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v, true, false, nil
	}
	v, _, err = fn(ctx)
	if err != nil {
		return nil, false, false, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]any)
	}
	c.m[key] = v
	c.mu.Unlock()
	return v, false, false, nil
}

// Idle implements SourceCache: a Memo bounds no calls, so it just waits.
func (c *Memo) Idle(_ context.Context, wait func() error) error { return wait() }
