package discovery_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/discovery/dnssec"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// The records of the org → acme → team → web chain of chain.test.
const (
	dlOrgAcme  = "v=oci1; prefix=acme; delegate=acme.chain.test"
	dlAcmeReg  = "v=oci1; registry=https://registry.acme.example"
	dlAcmeTeam = "v=oci1; prefix=team; delegate=team.chain.test."
	dlTeamReg  = "v=oci1; registry=https://registry.team.example/team"
	dlTeamWeb  = "v=oci1; prefix=web; delegate=WEB.Chain.Test"
	dlWebReg   = "v=oci1; registry=https://registry.web.example"
)

// docs/protocol.md §7 step 4: a delegate= mapping mounts the delegate: discovery
// continues at the delegate host with the rest of the path after the prefix. One,
// two and three delegations; each step of the chain names the host, the
// path it was asked about and the record that sent the name on.
func TestDelegationMountsThePathRemainderOnTheDelegate(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			d := discovery.New(o)
			step := func(host, path, record string) discovery.Step {
				return discovery.Step{Host: host, Path: path, Source: discovery.SourceTXT, Record: record, Authenticated: mode.auth}
			}
			for _, tc := range []struct {
				name      string
				url, repo string
				chain     []discovery.Step
				ttl       time.Duration
			}{
				{"org.chain.test/acme/app", "https://registry.acme.example", "app", []discovery.Step{
					step("org.chain.test", "acme/app", dlOrgAcme),
					step("acme.chain.test", "app", dlAcmeReg),
				}, 300 * time.Second},
				{"org.chain.test/acme/team/app", "https://registry.team.example", "team/app", []discovery.Step{
					step("org.chain.test", "acme/team/app", dlOrgAcme),
					step("acme.chain.test", "team/app", dlAcmeTeam),
					step("team.chain.test", "app", dlTeamReg),
				}, 300 * time.Second},
				{"org.chain.test/acme/team/web/app", "https://registry.web.example", "app", []discovery.Step{
					step("org.chain.test", "acme/team/web/app", dlOrgAcme),
					step("acme.chain.test", "team/web/app", dlAcmeTeam),
					step("team.chain.test", "web/app", dlTeamWeb),
					step("web.chain.test", "app", dlWebReg),
				}, 60 * time.Second},
			} {
				res, evs := dlMust(t, d, tc.name)
				dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
					{URL: tc.url, Repository: tc.repo, Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
				})
				dlWantChain(t, res.Chain, tc.chain)
				// The whole answer lives as long as its shortest-lived record.
				if res.TTL != tc.ttl {
					t.Errorf("%s: TTL %v, want %v", tc.name, res.TTL, tc.ttl)
				}
				for i := 1; i < len(tc.chain); i++ {
					dlWantDecision(t, evs, "delegated to "+tc.chain[i].Host, `continue with path "`+tc.chain[i].Path+`"`)
				}
			}
		})
	}
}

// A host that mounts part of its namespace on itself is no loop: the path
// is shorter at every hop. A same-host delegation needs no authentication,
// so under --dnssec on with plain DNS it is still followed; the host's
// mapping to another host's registry is not (it is skipped, and the host is
// its own registry), while --dnssec off follows it too.
func TestDelegationToTheSameHostWithAShorterPath(t *testing.T) {
	const old, reg = "v=oci1; prefix=old; delegate=rename.chain.test", "v=oci1; registry=https://registry.rename.example"
	l := dlStart(t, dnstest.Config{})
	for _, tc := range []struct {
		dnssecOff bool
		last      discovery.Step
		want      discovery.Endpoint
	}{
		{false,
			discovery.Step{Host: "rename.chain.test", Path: "app", Source: discovery.SourceDirect, Authenticated: discovery.AuthHTTPS},
			discovery.Endpoint{URL: "https://rename.chain.test", Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceDirect, Authenticated: discovery.AuthNone}},
		{true,
			discovery.Step{Host: "rename.chain.test", Path: "app", Source: discovery.SourceTXT, Record: reg, Authenticated: discovery.AuthNone},
			discovery.Endpoint{URL: "https://registry.rename.example", Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: discovery.AuthNone}},
	} {
		o := l.options()
		o.DNSSECOff = tc.dnssecOff
		res, evs := dlMust(t, discovery.New(o), "rename.chain.test/old/old/app")
		dlWantChain(t, res.Chain, []discovery.Step{
			{Host: "rename.chain.test", Path: "old/old/app", Source: discovery.SourceTXT, Record: old, Authenticated: discovery.AuthNone},
			{Host: "rename.chain.test", Path: "old/app", Source: discovery.SourceTXT, Record: old, Authenticated: discovery.AuthNone},
			tc.last,
		})
		dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{tc.want})
		if !tc.dnssecOff {
			dlWantDecision(t, evs, "skipped unauthenticated mapping to another host (registry.rename.example)")
		}
	}
}

// docs/protocol.md §7 step 5: a (host, path) pair visited twice is a loop.
// The error is ErrLoop and names the chain that came back, so an operator
// sees which records to fix.
func TestDelegationLoopIsAnErrorNamingTheChain(t *testing.T) {
	_, o := dlModes[0].start(t)
	d := discovery.New(o)
	for _, tc := range []struct {
		name  string
		names []string
	}{
		{"loop-a.chain.test/x", []string{"loop-a.chain.test/x", "loop-b.chain.test/x"}},
		{"self.chain.test/x", []string{"self.chain.test/x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			de, evs := dlFail(t, d, tc.name)
			if !errors.Is(de, discovery.ErrLoop) {
				t.Errorf("%s: %v, want ErrLoop", tc.name, de)
			}
			if de.Step != "delegation" || de.Name != tc.name {
				t.Errorf("%s: Step %q, Name %q", tc.name, de.Step, de.Name)
			}
			for _, n := range tc.names {
				if !strings.Contains(de.Error(), n) {
					t.Errorf("%s: error %q does not name %s", tc.name, de, n)
				}
			}
			// The record that closed the loop is named too.
			if !strings.Contains(de.Error(), "delegate=") {
				t.Errorf("%s: error %q does not name the delegating record", tc.name, de)
			}
			dlWantDecision(t, evs, "delegated to")
		})
	}
}

// docs/protocol.md §7 step 6: at most 8 delegations. hop1 → … → hop9 is eight
// delegations and resolves; hop0 adds a ninth and fails with
// ErrTooManyHops before asking the ninth delegate anything. Options.MaxHops
// lowers the limit.
func TestDelegationDepthIsLimited(t *testing.T) {
	l, o := dlModes[0].start(t)

	res, _ := dlMust(t, discovery.New(o), "hop1.chain.test/app")
	if len(res.Chain) != 9 || res.Chain[8].Host != "hop9.chain.test" {
		t.Fatalf("chain %s", dlSteps(res.Chain))
	}
	dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
		{URL: "https://registry.hop9.example", Repository: "app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: discovery.AuthNone},
	})

	l.srv.ResetCounts()
	de, _ := dlFail(t, discovery.New(o), "hop0.chain.test/app")
	if !errors.Is(de, discovery.ErrTooManyHops) || !strings.Contains(de.Error(), "more than 8") {
		t.Errorf("%v, want ErrTooManyHops naming the limit 8", de)
	}
	if de.Host != "hop9.chain.test" || !strings.Contains(de.Error(), "hop0.chain.test/app") || !strings.Contains(de.Error(), "delegate=hop9.chain.test") {
		t.Errorf("error %q (host %q) should name the host not reached and the record that sent the name there", de, de.Host)
	}
	if n := l.srv.QueryCount("_oci-discovery.hop9.chain.test.", dns.TypeTXT); n != 0 {
		t.Errorf("the ninth delegate was asked %d times", n)
	}

	o.MaxHops = 2
	if _, _, err := dlDiscover(discovery.New(o), "hop7.chain.test/app"); err != nil {
		t.Errorf("two delegations with MaxHops 2: %v", err)
	}
	de, _ = dlFail(t, discovery.New(o), "hop6.chain.test/app")
	if !errors.Is(de, discovery.ErrTooManyHops) || !strings.Contains(de.Error(), "more than 2") {
		t.Errorf("three delegations with MaxHops 2: %v", de)
	}
}

// docs/protocol.md §7: CNAMEs are followed for TXT and SRV.
// _oci-discovery.cname.mapping.test is a CNAME to single's TXT record: the
// mapping is the target's, and the answer lives as long as the CNAME (120 s),
// the shortest link of the chain.
func TestCNAMEToTheTXTRecord(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, _ := dlMust(t, discovery.New(o), "cname.mapping.test/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://registry.example", Repository: "single/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
			dlWantChain(t, res.Chain, []discovery.Step{
				{Host: "cname.mapping.test", Path: "app", Source: discovery.SourceTXT, Record: "v=oci1; registry=https://registry.example/single", Authenticated: mode.auth},
			})
			if res.TTL != 120*time.Second {
				t.Errorf("TTL %v, want the CNAME's 2m", res.TTL)
			}
		})
	}
}

// A CNAME into another zone: the server answers with the CNAME alone and
// the client asks again for the target. Signed, each link is validated
// with its own zone's keys.
func TestCNAMEToATXTRecordInAnotherZone(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, _ := dlMust(t, discovery.New(o), "cname-out.mapping.test/team/app")
			dlWantEndpoints(t, res.Endpoints, []discovery.Endpoint{
				{URL: "https://shared.example", Repository: "team/app", Caps: discovery.CapAll, Source: discovery.SourceTXT, Authenticated: mode.auth},
			})
		})
	}
}

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
