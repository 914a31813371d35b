package cache

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	lru "github.com/hashicorp/golang-lru/v2"
)

// value200 is a ~200-byte value, the size of a cached resolution with its
// strings' headers (the string bytes themselves are shared here).
type value200 struct {
	Digest, MediaType, Registry, Repository, Platform string
	Size                                              int64
	Fetched                                           time.Time
	_                                                 [88]byte
}

const memEntries = 1_000_000

func memKey(i int) string {
	return fmt.Sprintf("registry-%d.example.com/team/app-%07d:v1", i%10, i)
}

// heapAfterGC returns live heap bytes after a full collection.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemoryPerEntry fills a cache with 1,000,000 string-keyed ~200-byte
// values and reports the live heap per entry (B/entry), keys included, next
// to golang-lru alone and the keys alone. It is slow and heavy by design and
// runs only under -bench; use -benchtime=1x.
func BenchmarkMemoryPerEntry(b *testing.B) {
	b.Logf("sizeof(value200) = %d bytes", unsafe.Sizeof(value200{}))
	v := value200{Digest: "sha256:0123", MediaType: "application/vnd.oci.image.index.v1+json", Registry: "r.example.com", Repository: "team/app", Platform: "linux/amd64"}

	measure := func(b *testing.B, fill func() any) {
		var total uint64
		for b.Loop() {
			before := heapAfterGC()
			keep := fill()
			after := heapAfterGC()
			runtime.KeepAlive(keep)
			total += after - before
		}
		b.ReportMetric(float64(total)/float64(b.N)/memEntries, "B/entry")
	}
	b.Run("keys-only", func(b *testing.B) {
		measure(b, func() any {
			ks := make([]string, memEntries)
			for i := range ks {
				ks[i] = memKey(i)
			}
			return ks
		})
	})
	b.Run("cache", func(b *testing.B) {
		measure(b, func() any {
			c := New[string, value200](Config{Size: memEntries})
			for i := range memEntries {
				c.Set(memKey(i), v, time.Hour)
			}
			return c
		})
	})
	b.Run("raw-lru", func(b *testing.B) {
		measure(b, func() any {
			c, _ := lru.New[string, value200](memEntries)
			for i := range memEntries {
				c.Add(memKey(i), v)
			}
			return c
		})
	})
}
