package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// Limits on what one host's records may cost a client (docs/protocol.md
// §11): the size of a TXT RRset, and the memory its cached form takes.

// bigZone is a zone big.test whose hosts n0000.big.test, n0001.big.test,
// ... each publish a TXT RRset of records v=oci1 records of size bytes
// each (distinct prefixes, one registry), and nothing else.
func bigZone(hosts, records, size int) dnstest.Zone {
	var b strings.Builder
	b.WriteString("$ORIGIN big.test.\n$TTL 3600\n@ IN SOA ns.big.test. hostmaster.big.test. 1 7200 900 1209600 900\n  IN NS ns\nns IN A 127.0.0.1\n")
	for h := range hosts {
		for r := range records {
			rec := fmt.Sprintf("v=oci1; prefix=p%d; registry=https://registry.example/", r)
			rec += strings.Repeat("a", max(size-len(rec), 1))
			fmt.Fprintf(&b, "_oci-discovery.n%04d IN TXT %q\n", h, rec)
		}
	}
	return dnstest.Zone{Origin: "big.test.", Text: b.String()}
}

// keepAll is a SourceCache that keeps every value for ever, so that what
// discovery stores per host can be weighed.
type keepAll struct {
	mu sync.Mutex
	m  map[string]any
}

func (c *keepAll) Fetch(ctx context.Context, key string, fn func(context.Context) (any, time.Duration, error)) (any, bool, bool, error) {
	c.mu.Lock()
	v, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return v, true, false, nil
	}
	v, _, err := fn(ctx)
	if err != nil {
		return nil, false, false, err
	}
	c.mu.Lock()
	c.m[key] = v
	c.mu.Unlock()
	return v, false, false, nil
}

// heapInUse is the live heap after two collections.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// retainedPerHost discovers one name at each of hosts hosts of z through a
// cache that keeps everything, and returns the heap the cache holds per
// host and how many discoveries failed.
func retainedPerHost(tb testing.TB, z dnstest.Zone, hosts int) (perHost uint64, failed int) {
	tb.Helper()
	l := dlStart(tb, dnstest.Config{Zones: []dnstest.Zone{z}})
	o := l.options()
	o.DNSSECOff, o.Validator = true, nil
	cache := &keepAll{m: map[string]any{}}
	o.Cache = cache
	d := discovery.New(o)
	before := heapInUse()
	for h := range hosts {
		if _, err := d.Discover(context.Background(), fmt.Sprintf("n%04d.big.test", h), "p0/app"); err != nil {
			failed++
		}
	}
	after := heapInUse()
	runtime.KeepAlive(cache)
	if after < before {
		return 0, failed
	}
	return (after - before) / uint64(hosts), failed
}

// BenchmarkSourceCacheHeap weighs the discovery cache of 1,000 hosts
// whose TXT RRsets are about 60 KB (240 records of 250 bytes) and about
// 15 KB (60 records), as the report of the hardening review measured:
//
//	go test -run '^$' -bench SourceCacheHeap -benchtime 1x ./discovery/
func BenchmarkSourceCacheHeap(b *testing.B) {
	for _, tc := range []struct {
		name          string
		records, size int
	}{{"60KB-of-250B-records", 240, 250}, {"48KB-of-60B-records", 800, 60}, {"15KB-of-250B-records", 60, 250}} {
		b.Run(tc.name, func(b *testing.B) {
			const hosts = 1000
			z := bigZone(hosts, tc.records, tc.size)
			for range b.N {
				per, failed := retainedPerHost(b, z, hosts)
				b.ReportMetric(float64(per), "B/host")
				b.ReportMetric(float64(per*hosts)/(1<<20), "MB/1000hosts")
				b.ReportMetric(float64(failed), "refused")
			}
		})
	}
}

// A TXT RRset over MaxTXTBytes or MaxTXTRecords is refused whole, as an
// unknown answer naming the RRset: no fall-through to SRV or direct, no
// mapping used. One at the limits is read.
func TestTXTRRsetOverTheLimitsIsUnknown(t *testing.T) {
	for _, tc := range []struct {
		name          string
		records, size int
		refused       bool
	}{
		{"64 records of 250 bytes: 16,000 bytes", 64, 250, false},
		{"66 records of 250 bytes: over 16 KiB", 66, 250, true},
		{"128 records of 60 bytes", 128, 60, false},
		{"129 records of 60 bytes", 129, 60, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := dlStart(t, dnstest.Config{Zones: []dnstest.Zone{bigZone(1, tc.records, tc.size)}})
			o := l.options()
			o.DNSSECOff, o.Validator = true, nil
			d := discovery.New(o)
			if !tc.refused {
				res, _ := dlMust(t, d, "n0000.big.test/p0/app")
				if len(res.Endpoints) != 1 || res.Endpoints[0].URL != "https://registry.example" {
					t.Errorf("endpoints:\n%s", dlEndpoints(res.Endpoints))
				}
				return
			}
			de, evs := dlFail(t, d, "n0000.big.test/p0/app")
			if !errors.Is(de, discovery.ErrTXTTooLarge) || de.Step != "TXT _oci-discovery.n0000.big.test." ||
				!strings.Contains(de.Error(), "TXT RRset too large") {
				t.Errorf("error %v (step %q), want ErrTXTTooLarge naming the RRset", de, de.Step)
			}
			dlWantDecision(t, evs, "no fall-through")
			if dlDecided(evs, "is its own registry") {
				t.Errorf("fell through to direct:\n%s", dlTrace(evs))
			}
		})
	}
}

// The discovery cache keeps a host's parsed mappings, not the DNS answer
// they came from: for RRsets of 15 KB the cache holds well under twice the
// records' text per host (it held 3.2 times before, 47,800 bytes).
func TestSourceCacheKeepsParsedMappings(t *testing.T) {
	const hosts, records, size = 20, 60, 250
	per, failed := retainedPerHost(t, bigZone(hosts, records, size), hosts)
	if failed != 0 {
		t.Fatalf("%d discoveries failed", failed)
	}
	if limit := uint64(2 * records * size); per > limit {
		t.Errorf("the cache holds %d bytes per host, want at most %d (twice the %d bytes of text)", per, limit, records*size)
	}
	t.Logf("%d bytes per host for %d bytes of TXT text", per, records*size)
}
