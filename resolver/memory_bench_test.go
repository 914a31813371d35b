package resolver

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/discovery"
)

// BenchmarkMemoryPerCachedResolution fills the resolution cache with
// 1,000,000 results shaped like real ones (distinct references, digests,
// registries) and reports the heap it takes per entry. Run it alone:
//
//	go test -run '^$' -bench MemoryPerCachedResolution -benchtime 1x ./resolver/
func BenchmarkMemoryPerCachedResolution(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		r, err := New(WithCacheSize(n), WithDNSServers("127.0.0.1:9"))
		if err != nil {
			b.Fatal(err)
		}
		before := heap()
		for i := range n {
			ref := fmt.Sprintf("registry%d.example.com/team%d/app%d:v1.%d.0", i%97, i%1000, i, i%13)
			sum := sha256.Sum256([]byte(ref))
			r.results.Set(resultKey{ref: ref}, Result{
				Ref: ref, Resolved: ref,
				Digest:        digest.NewDigestFromBytes(digest.SHA256, sum[:]),
				MediaType:     "application/vnd.oci.image.index.v1+json",
				Size:          1234,
				Registry:      fmt.Sprintf("https://registry%d.example.com", i%97),
				Repository:    fmt.Sprintf("team%d/app%d", i%1000, i),
				Authenticated: discovery.AuthDNSSEC,
				TTL:           DefaultTagTTL, TTLSeconds: 60,
			}, DefaultTagTTL)
		}
		after := heap()
		if got := r.results.Len(); got != n {
			b.Fatalf("%d entries cached, want %d", got, n)
		}
		b.ReportMetric(float64(after-before)/n, "B/entry")
		runtime.KeepAlive(r)
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
