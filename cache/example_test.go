package cache_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ocidns/ocidns/cache"
)

// A resolver caches resolutions per (reference, platform): Get on the hot
// path, Fetch on a miss. Upstream failures fall back to the stale answer.
func Example() {
	type key struct{ ref, platform string }
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := cache.New[key, string](cache.Config{Now: func() time.Time { return now }})
	k := key{"example.com/app:v1", "linux/amd64"}

	up := func(context.Context) (string, time.Duration, error) {
		return "sha256:1111", 60 * time.Second, nil // a tag: 60 s TTL
	}
	resolve := func(fn func(context.Context) (string, time.Duration, error)) {
		if d, _, ok := c.Get(k); ok {
			fmt.Println("hit", d)
			return
		}
		d, st, err := c.Fetch(context.Background(), k, fn)
		switch {
		case err != nil:
			fmt.Println("error:", err)
		case st.Stale:
			fmt.Println("stale", d, "because:", st.Err)
		default:
			fmt.Println("fetched", d)
		}
	}

	resolve(up)
	resolve(up)
	now = now.Add(2 * time.Minute)
	resolve(func(context.Context) (string, time.Duration, error) {
		return "", 0, errors.New("registry: 503 Service Unavailable")
	})
	fmt.Printf("%+v\n", c.Stats())
	// Output:
	// fetched sha256:1111
	// hit sha256:1111
	// stale sha256:1111 because: registry: 503 Service Unavailable
	// {Hits:1 Misses:2 StaleServes:1 Coalesced:0 Evictions:0 Loads:2 RefreshFailures:1 Abandoned:0 Entries:1 Running:0 Queued:0}
}
