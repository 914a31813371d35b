package cache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentUseKeepsInvariants mixes every operation from many
// goroutines on a small cache with a moving clock; run it with -race. Each
// value names its key, so a value served under the wrong key is caught.
func TestConcurrentUseKeepsInvariants(t *testing.T) {
	const (
		workers = 8
		ops     = 3000
		keys    = 40
		size    = 16
	)
	c, clk := newTestCache[string](Config{Size: size, StaleWindow: time.Minute, RetryInterval: 2 * time.Second})

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 42))
			for i := range ops {
				key := fmt.Sprintf("k%d", rnd.IntN(keys))
				switch op := rnd.IntN(100); {
				case op < 40:
					v, _, ok := c.Get(key)
					if ok && !strings.HasPrefix(v, key+"=") {
						t.Errorf("Get(%s) = %q: another key's value", key, v)
					}
				case op < 85:
					mode := rnd.IntN(10)
					ctx := context.Background()
					var cancel context.CancelFunc
					if mode == 9 {
						ctx, cancel = context.WithCancel(ctx)
						cancel()
					}
					v, st, err := c.Fetch(ctx, key, func(context.Context) (string, time.Duration, error) {
						switch mode {
						case 0, 1:
							return "", 0, errUpstream
						case 2:
							panic("boom")
						case 3:
							return fmt.Sprintf("%s=%d", key, i), 0, nil
						}
						return fmt.Sprintf("%s=%d", key, i), time.Duration(rnd.IntN(3000)) * time.Millisecond, nil
					})
					switch {
					case err == nil && !strings.HasPrefix(v, key+"="):
						t.Errorf("Fetch(%s) = %q: another key's value", key, v)
					case err == nil && st.Stale && st.Err == nil:
						t.Errorf("Fetch(%s) stale without Status.Err", key)
					case err != nil && !errors.Is(err, errUpstream) && !errors.Is(err, ErrPanic) && !errors.Is(err, context.Canceled):
						t.Errorf("Fetch(%s): unexpected error %v", key, err)
					}
				case op < 92:
					c.Set(key, fmt.Sprintf("%s=set", key), time.Second)
				case op < 97:
					c.Remove(key)
				case op < 98:
					c.Purge()
				default:
					c.Stats()
				}
				if n := c.Len(); n > size {
					t.Errorf("Len = %d beyond the bound %d", n, size)
				}
				clk.Advance(time.Duration(rnd.IntN(20)) * time.Millisecond)
			}
		})
	}
	wg.Wait()

	s := c.Stats()
	if s.Entries > size {
		t.Errorf("Entries = %d beyond the bound", s.Entries)
	}
	if s.Loads == 0 || s.Hits == 0 || s.Evictions == 0 || s.RefreshFailures == 0 {
		t.Errorf("Stats = %+v; the mix should exercise loads, hits, evictions and failures", s)
	}
	if inflight := c.flights.Len(); inflight != 0 {
		t.Errorf("%d calls still registered in flight after every Fetch returned", inflight)
	}
}
