package discovery

import (
	"math/rand/v2"
	"testing"

	"github.com/miekg/dns"
)

func BenchmarkSelect(b *testing.B) {
	ms := txtMappings(b,
		"v=oci1; prefix=acme; delegate=acme.example",
		"v=oci1; prefix=acme/team; registry=https://team.example",
		"v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=20",
		"v=oci1; prefix=tools; registry=https://mirror-a.example; priority=10; weight=1",
		"v=oci1; prefix=tools; registry=https://mirror-b.example; priority=10; weight=9",
		"v=oci1; prefix=library; registry=https://lib.example",
		"v=oci1; prefix=library/ubuntu; delegate=ubuntu.example",
		"v=oci1; prefix=x/y/z; registry=https://xyz.example",
		"v=oci1; registry=https://registry.example.com",
	)
	for _, bc := range []struct{ name, path string }{
		{"longest-prefix", "acme/team/app"},
		{"whole-host", "other/group/app"},
		{"mirrors", "tools/cli"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Select(ms, bc.path)
			}
		})
	}
}

func BenchmarkOrderSRV(b *testing.B) {
	in := []*dns.SRV{srvRR(10, 60, "a."), srvRR(10, 30, "b."), srvRR(10, 10, "c."), srvRR(20, 0, "d.")}
	rnd := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		OrderSRV(in, rnd)
	}
}
