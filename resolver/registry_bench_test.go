package resolver

import (
	"context"
	"testing"

	"github.com/ocidns/ocidns/internal/registrytest"
	"github.com/ocidns/ocidns/reference"
)

// Benchmarks of one resolution against the in-process registry over real
// HTTP on loopback (keep-alive connections, tokens cached after the first
// iteration). They measure the client's cost and its allocations; the
// registry's own work is included.
func benchResolve(b *testing.B, opts registrytest.Options, verify bool, plat string) {
	reg := registrytest.StartT(b, opts)
	if plat == "" {
		reg.MustPushImage(b, "org/app", "v1")
	} else if _, _, err := reg.PushIndex("org/app", "v1", threePlatforms); err != nil {
		b.Fatal(err)
	}
	c, _ := testClient(b, reg, nil)
	ep := endpointFor(reg, "org/app")
	var p *reference.Platform
	if plat != "" {
		p = platform(b, plat)
	}
	ctx := context.Background()
	if _, err := c.resolve(ctx, ep, "r", "v1", "", p, verify, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.resolve(ctx, ep, "r", "v1", "", p, verify, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveTagHEAD(b *testing.B) {
	benchResolve(b, registrytest.Options{}, false, "")
}

func BenchmarkResolveTagHEADTLSBearer(b *testing.B) {
	benchResolve(b, registrytest.Options{TLS: true, Auth: registrytest.Auth{Mode: registrytest.AuthToken, ExpiresIn: 3600}}, false, "")
}

func BenchmarkResolveTagGETVerify(b *testing.B) {
	benchResolve(b, registrytest.Options{}, true, "")
}

func BenchmarkResolveIndexPlatform(b *testing.B) {
	benchResolve(b, registrytest.Options{}, false, "linux/arm64")
}
