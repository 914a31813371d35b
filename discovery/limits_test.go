package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

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
	cache := &discovery.Memo{} // keeps everything, so that what discovery stores per host can be weighed
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
			if !errors.Is(de, discovery.ErrRRsetTooLarge) || de.Step != "TXT _oci-discovery.n0000.big.test." ||
				!strings.Contains(de.Error(), "RRset too large") {
				t.Errorf("error %v (step %q), want ErrRRsetTooLarge naming the RRset", de, de.Step)
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

// fanZone is the zone fan.test: txt.fan.test publishes txt mirrors of its
// whole namespace, srv.fan.test srv SRV targets, and wk.fan.test nothing
// (its well-known document is served by the test).
func fanZone(txt, srv int) dnstest.Zone {
	var b strings.Builder
	b.WriteString("$ORIGIN fan.test.\n$TTL 3600\n@ IN SOA ns.fan.test. hostmaster.fan.test. 1 7200 900 1209600 900\n  IN NS ns\nns IN A 127.0.0.1\n")
	for i := range txt {
		fmt.Fprintf(&b, "_oci-discovery.txt IN TXT \"v=oci1; registry=https://m%04d.example; weight=%d\"\n", i, i%7)
	}
	for i := range srv {
		fmt.Fprintf(&b, "_oci-registry._tcp.srv IN SRV %d %d 443 t%04d.fan.test.\n", i%3, i%5, i)
	}
	return dnstest.Zone{Origin: "fan.test.", Text: b.String()}
}

// wkMirrors is a well-known document of one namespace with n registries.
func wkMirrors(n int) string {
	regs := make([]string, n)
	for i := range regs {
		regs[i] = fmt.Sprintf(`{"url":"https://r%04d.example","priority":%d}`, i, i%3)
	}
	return `{"version":1,"namespaces":[{"prefix":"","registries":[` + strings.Join(regs, ",") + `]}]}`
}

// One source gives at most MaxEndpoints endpoints at one hop, whatever it
// publishes: the mirrors of one prefix (TXT or well-known) and the SRV
// targets are ordered first (priority, then weighted random), the first 16
// used, and the rest reported in the trace. An RRset over MaxRRsetRecords
// is not read at all (unknown). Before the limits one resolution could be
// sent to 613 mirrors of a TXT RRset, 1,367 of a well-known document and
// 858 SRV targets.
func TestFanOutIsCappedPerSource(t *testing.T) {
	for _, tc := range []struct {
		name, host string
		published  int
		source     discovery.Source
		refused    bool
	}{
		{"TXT mirrors: the most records an RRset may have", "txt.fan.test", discovery.MaxRRsetRecords, discovery.SourceTXT, false},
		{"TXT mirrors: a few over the limit", "txt.fan.test", 20, discovery.SourceTXT, false},
		{"SRV targets: the most records an RRset may have", "srv.fan.test", discovery.MaxRRsetRecords, discovery.SourceSRV, false},
		{"SRV targets: a few over the limit", "srv.fan.test", 20, discovery.SourceSRV, false},
		{"SRV targets: an RRset over the limit", "srv.fan.test", 858, discovery.SourceSRV, true},
		{"well-known mirrors", "wk.fan.test", 1367, discovery.SourceWellKnown, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			txt, srv := 0, 0
			switch tc.source {
			case discovery.SourceTXT:
				txt = tc.published
			case discovery.SourceSRV:
				srv = tc.published
			}
			l := dlStart(t, dnstest.Config{Zones: []dnstest.Zone{fanZone(txt, srv)}})
			o := l.options()
			o.DNSSECOff, o.Validator = true, nil
			if tc.source == discovery.SourceWellKnown {
				o.NoWellKnown = false
				o.HTTP = dlWellKnown(t, map[string]dlDoc{"wk.fan.test": {body: wkMirrors(tc.published)}})
			}
			if tc.refused {
				de, _ := dlFail(t, discovery.New(o), tc.host+"/app")
				if !errors.Is(de, discovery.ErrRRsetTooLarge) || de.Step != "SRV _oci-registry._tcp.srv.fan.test." {
					t.Errorf("error %v (step %q), want ErrRRsetTooLarge naming the RRset", de, de.Step)
				}
				t.Logf("%d published: %v", tc.published, de)
				return
			}
			res, evs := dlMust(t, discovery.New(o), tc.host+"/app")
			t.Logf("%d published, %d endpoints", tc.published, len(res.Endpoints))
			if len(res.Endpoints) != discovery.MaxEndpoints {
				t.Fatalf("%d endpoints, want %d", len(res.Endpoints), discovery.MaxEndpoints)
			}
			for i, ep := range res.Endpoints {
				if ep.Source != tc.source {
					t.Errorf("endpoint %d from %s, want %s", i, ep.Source, tc.source)
				}
				if i > 0 && ep.Priority < res.Endpoints[i-1].Priority {
					t.Errorf("endpoint %d of priority %d after one of %d: the lowest priorities must be kept", i, ep.Priority, res.Endpoints[i-1].Priority)
				}
			}
			dlWantDecision(t, evs, fmt.Sprintf("%d more", tc.published-discovery.MaxEndpoints), fmt.Sprintf("at most %d", discovery.MaxEndpoints))
		})
	}
}
