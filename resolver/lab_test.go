package resolver

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/ocidns/ocidns/internal/dnstest"
	"github.com/ocidns/ocidns/internal/registrytest"
)

// lab is a DNS server and registries started in-process for one test: the
// whole resolution path with real protocol peers.
type lab struct {
	dns  *dnstest.Server
	regs []*registrytest.Registry
}

// startRegistries starts n TLS registries.
func startRegistries(t testing.TB, n int) []*registrytest.Registry {
	t.Helper()
	regs := make([]*registrytest.Registry, n)
	for i := range regs {
		regs[i] = registrytest.StartT(t, registrytest.Options{TLS: true})
	}
	return regs
}

// startLab serves zones whose text may name registries as {{REG0}},
// {{REG1}}, ... (replaced by their host:port).
func startLab(t testing.TB, regs []*registrytest.Registry, zones ...dnstest.Zone) *lab {
	t.Helper()
	for i := range zones {
		for j, r := range regs {
			zones[i].Text = strings.ReplaceAll(zones[i].Text, "{{REG"+string(rune('0'+j))+"}}", r.Host())
		}
	}
	return &lab{dns: dnstest.StartT(t, dnstest.Config{Zones: zones}), regs: regs}
}

// resolver returns a Resolver that asks only the lab: its DNS server, its
// trust anchors, its registries' CA.
func (l *lab) resolver(t testing.TB, opts ...Option) *Resolver {
	t.Helper()
	cfg := t.TempDir() + "/config.json"
	if err := os.WriteFile(cfg, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []Option{
		WithDNSServers(l.dns.Addr()),
		WithTrustAnchors(l.dns.TrustAnchors()...),
		WithDockerConfig(cfg),
		WithTimeout(10 * time.Second),
	}
	if len(l.regs) > 0 {
		base = append(base, WithRootCAs(l.regs[0].Transport().TLSClientConfig.RootCAs))
	}
	r, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func push(t testing.TB, reg *registrytest.Registry, repo, tag string) digest.Digest {
	t.Helper()
	d, err := reg.PushImage(repo, tag, registrytest.WithSeed(repo+":"+tag+"@"+reg.Host()))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func zone(origin, body string, sign bool) dnstest.Zone {
	head := "$ORIGIN " + origin + "\n$TTL 300\n@ SOA ns." + origin + " hostmaster." + origin + " 1 3600 600 86400 60\n@ NS ns." + origin + "\nns A 127.0.0.1\n"
	return dnstest.Zone{Origin: origin, Text: head + body, Sign: sign}
}

func mustResolve(t testing.TB, r *Resolver, ref string) Result {
	t.Helper()
	res, err := r.Resolve(context.Background(), ref)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", ref, err)
	}
	return res
}
