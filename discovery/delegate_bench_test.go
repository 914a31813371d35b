package discovery_test

import (
	"context"
	"testing"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// BenchmarkDiscoverColdOneDelegation discovers org.chain.test/acme/app
// (one delegation: org → acme → registry) against the in-process server
// with a fresh Discoverer and no cache each time: two hosts, each with its
// TXT and SRV questions sent concurrently. The signed variant also
// validates every answer in-process with a fresh Validator (cold: the
// DNSKEY of the zone is fetched and verified each time).
//
//	go test -run '^$' -bench BenchmarkDiscoverColdOneDelegation -benchmem ./discovery/
func BenchmarkDiscoverColdOneDelegation(b *testing.B) {
	for _, mode := range dlModes {
		b.Run(mode.name, func(b *testing.B) {
			l, base := mode.start(b)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				o := base
				if mode.sign {
					o.Validator = dnssec.NewValidator(l.dns, l.anchors(), nil)
				}
				res, err := discovery.New(o).Discover(ctx, "org.chain.test", "acme/app")
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Chain) != 2 || res.Endpoints[0].URL != "https://registry.acme.example" {
					b.Fatalf("chain %s", dlSteps(res.Chain))
				}
			}
		})
	}
}

// BenchmarkDiscoverDirectNoDNS is the floor: a host with a port, which
// asks no DNS question and fetches nothing (well-known documents off).
func BenchmarkDiscoverDirectNoDNS(b *testing.B) {
	l := dlStart(b, dnstest.Config{})
	o := l.options()
	d := discovery.New(o)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Discover(ctx, "localhost:5000", "team/app"); err != nil {
			b.Fatal(err)
		}
	}
}
