package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// resolution stands for a cached resolver result: a value of a few strings
// and numbers, returned by value on every hit.
type resolution struct {
	Digest    string
	MediaType string
	Registry  string
	Stale     bool
	Size      int64
}

const benchKeys = 1024

func benchKeyset() []string {
	ks := make([]string, benchKeys)
	for i := range ks {
		ks[i] = fmt.Sprintf("registry-%d.example.com/team/app:v%d|linux/amd64", i%7, i)
	}
	return ks
}

func benchValue(k string) resolution {
	return resolution{Digest: "sha256:" + k, MediaType: "application/vnd.oci.image.index.v1+json", Registry: "registry.example.com", Size: 512}
}

func newBenchCache(ks []string) *Cache[string, resolution] {
	c := New[string, resolution](Config{Size: 2 * benchKeys})
	for _, k := range ks {
		c.Set(k, benchValue(k), time.Hour)
	}
	return c
}

// BenchmarkGetHit is the resolver's cache-hit path: fresh entry, string key.
func BenchmarkGetHit(b *testing.B) {
	ks := benchKeyset()
	c := newBenchCache(ks)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, ok := c.Get(ks[i&(benchKeys-1)]); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

// BenchmarkRawLRUGet is the floor: golang-lru's own thread-safe Get on the
// same keys and values, without TTLs or counters.
func BenchmarkRawLRUGet(b *testing.B) {
	ks := benchKeyset()
	c, _ := lru.New[string, resolution](2 * benchKeys)
	for _, k := range ks {
		c.Add(k, benchValue(k))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := c.Get(ks[i&(benchKeys-1)]); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

// BenchmarkGetHitStructKey uses a comparable struct key, as a resolver
// keying on (reference, platform, options) without concatenating would.
func BenchmarkGetHitStructKey(b *testing.B) {
	type key struct{ ref, platform string }
	ks := benchKeyset()
	sk := make([]key, len(ks))
	c := New[key, resolution](Config{Size: 2 * benchKeys})
	for i, k := range ks {
		sk[i] = key{k, "linux/amd64"}
		c.Set(sk[i], benchValue(k), time.Hour)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, ok := c.Get(sk[i&(benchKeys-1)]); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

// benchLoad is a Fetch function that captures nothing, so passing it does
// not allocate.
func benchLoad(context.Context) (resolution, time.Duration, error) {
	return resolution{Digest: "sha256:x"}, time.Hour, nil
}

// BenchmarkFetchHit is Fetch on a fresh entry with a function value that
// captures nothing.
func BenchmarkFetchHit(b *testing.B) {
	ks := benchKeyset()
	c := newBenchCache(ks)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, st, err := c.Fetch(ctx, ks[i&(benchKeys-1)], benchLoad); err != nil || !st.Hit {
			b.Fatal("miss")
		}
		i++
	}
}

// BenchmarkFetchHitClosure shows the cost of a capturing closure: it escapes
// (it may run on another goroutine), so the caller allocates it even on a
// hit. This is why hot paths call Get first.
func BenchmarkFetchHitClosure(b *testing.B) {
	ks := benchKeyset()
	c := newBenchCache(ks)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := ks[i&(benchKeys-1)]
		if _, st, err := c.Fetch(ctx, k, func(context.Context) (resolution, time.Duration, error) {
			return benchValue(k), time.Hour, nil
		}); err != nil || !st.Hit {
			b.Fatal("miss")
		}
		i++
	}
}

// BenchmarkFetchMiss is one cold key per iteration: an upstream call on its
// own goroutine with a timeout, stored afterwards (the cache stays at its
// bound, so this includes an eviction).
func BenchmarkFetchMiss(b *testing.B) {
	c := New[int, resolution](Config{Size: benchKeys})
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := c.Fetch(ctx, i, benchLoad); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkGetHitParallel(b *testing.B) {
	ks := benchKeyset()
	c := newBenchCache(ks)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, _, ok := c.Get(ks[i&(benchKeys-1)]); !ok {
				b.Error("miss")
				return
			}
			i++
		}
	})
}

func BenchmarkRawLRUGetParallel(b *testing.B) {
	ks := benchKeyset()
	c, _ := lru.New[string, resolution](2 * benchKeys)
	for _, k := range ks {
		c.Add(k, benchValue(k))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := c.Get(ks[i&(benchKeys-1)]); !ok {
				b.Error("miss")
				return
			}
			i++
		}
	})
}

// TestGetHitDoesNotAllocate pins the 0-allocation promise in the default test
// run, so a regression fails tests and not only a benchmark nobody reads.
func TestGetHitDoesNotAllocate(t *testing.T) {
	ks := benchKeyset()
	c := newBenchCache(ks)
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() { c.Get(ks[7]) }); n != 0 {
		t.Errorf("Get hit: %v allocs; want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { c.Fetch(ctx, ks[7], benchLoad) }); n != 0 {
		t.Errorf("Fetch hit with a non-capturing function: %v allocs; want 0", n)
	}
}
