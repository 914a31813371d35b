package daemon

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkServeCacheHit is a bounded load generator on loopback: 16
// clients with keep-alive send b.N /v1/resolve requests for one cached name
// in total. It reports requests/s and the p50/p99 latency seen by clients.
func BenchmarkServeCacheHit(b *testing.B) {
	srv, _ := startDaemon(b, Config{MaxInFlight: 1024})
	target := srv.URL + "/v1/resolve?ref=" + url.QueryEscape("example.test/org/app:v1.0.0")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	warm, err := client.Get(target)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, warm.Body)
	warm.Body.Close()

	const clients = 16
	latencies := make([]time.Duration, b.N)
	next := make(chan int, clients)
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				resp, err := client.Get(target)
				if err != nil {
					b.Error(err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
				}
				latencies[i] = time.Since(t0)
			}
		}()
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}
