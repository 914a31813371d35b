package dnsclient_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/internal/dnstest"
)

// BenchmarkQueryUDP is one TXT query answered over UDP, one at a time: the
// receive buffer comes back to its pool after each exchange.
//
//	go test -run '^$' -bench 'BenchmarkQueryUDP' -benchmem ./discovery/dnsclient/
func BenchmarkQueryUDP(b *testing.B) {
	s := dcStart(b, dnstest.Config{})
	c := dnstest.ClientT(b, 0, s.Addr())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Query(ctx, "multi.client.test", dns.TypeTXT); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryUDPInFlight is 256 queries in flight at once (the server
// holds each answer 20 ms), as under load: every exchange waiting holds
// its own receive buffer, which no pool can share. It reports the heap in
// use per query in flight (heap-B/in-flight), sampled once the server has
// received all 256 and before it answers, from a heap emptied of pooled
// buffers by two garbage collections.
func BenchmarkQueryUDPInFlight(b *testing.B) {
	const inFlight = 256
	s := dcStart(b, dnstest.Config{Delay: 50 * time.Millisecond})
	c := dnstest.ClientT(b, 0, s.Addr())
	ctx := context.Background()
	var held uint64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		runtime.GC() // a sync.Pool survives one collection in its victim cache
		var before, during runtime.MemStats
		runtime.ReadMemStats(&before)
		sent := s.TotalQueries()
		b.StartTimer()
		var wg sync.WaitGroup
		for range inFlight {
			wg.Go(func() {
				if _, err := c.Query(ctx, "multi.client.test", dns.TypeTXT); err != nil {
					b.Error(err)
				}
			})
		}
		for s.TotalQueries() < sent+inFlight {
			time.Sleep(time.Millisecond)
		}
		runtime.ReadMemStats(&during)
		wg.Wait()
		if during.HeapInuse > before.HeapInuse {
			held += during.HeapInuse - before.HeapInuse
		}
	}
	b.ReportMetric(float64(held)/float64(b.N)/inFlight, "heap-B/in-flight")
}
