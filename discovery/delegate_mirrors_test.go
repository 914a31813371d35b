package discovery_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ocidns/ocidns/discovery"
	"github.com/ocidns/ocidns/internal/dnstest"
)

// The records of mirrors.mapping.test, in the zone file's order.
var dlMirrorRecords = []string{
	"v=oci1; registry=https://primary.example; priority=10",
	"v=oci1; registry=https://heavy.example; priority=20; weight=60",
	"v=oci1; registry=https://medium.example; priority=20; weight=30",
	"v=oci1; registry=https://light.example; priority=20; weight=10",
	"v=oci1; registry=https://last.example; priority=30; caps=pull",
}

// DESIGN §2: records of one prefix that are all registry= "are mirrors,
// ordered by priority, then RFC 2782 weight". Every mirror is an endpoint
// with its priority, weight and caps; the lowest priority comes first, the
// highest last, and the chain's record lists them all.
func TestMirrorsAreOrderedByPriorityThenWeight(t *testing.T) {
	for _, mode := range dlModes {
		t.Run(mode.name, func(t *testing.T) {
			_, o := mode.start(t)
			res, _ := dlMust(t, discovery.New(o), "mirrors.mapping.test/team/app")
			eps := res.Endpoints
			if len(eps) != 5 {
				t.Fatalf("endpoints:\n%s", dlEndpoints(eps))
			}
			mirror := func(url string, prio, weight int, caps discovery.Caps) discovery.Endpoint {
				return discovery.Endpoint{URL: url, Repository: "team/app", Priority: prio, Weight: weight, Caps: caps,
					Source: discovery.SourceTXT, Authenticated: mode.auth}
			}
			dlWantEndpoints(t, []discovery.Endpoint{eps[0], eps[4]}, []discovery.Endpoint{
				mirror("https://primary.example", 10, 0, discovery.CapAll),
				mirror("https://last.example", 30, 0, discovery.CapPull),
			})
			middle := slices.Clone(eps[1:4])
			slices.SortFunc(middle, func(a, b discovery.Endpoint) int { return strings.Compare(a.URL, b.URL) })
			dlWantEndpoints(t, middle, []discovery.Endpoint{
				mirror("https://heavy.example", 20, 60, discovery.CapAll),
				mirror("https://light.example", 20, 10, discovery.CapAll),
				mirror("https://medium.example", 20, 30, discovery.CapAll),
			})
			if want := strings.Join(dlMirrorRecords, " | "); len(res.Chain) != 1 || res.Chain[0].Record != want {
				t.Errorf("chain %s, want one step with record %q", dlSteps(res.Chain), want)
			}
		})
	}
}

// The weighted order within a priority comes from Options.Rand: for one
// seed it is the order OrderMirrors draws from that seed, the same on
// every run, and different seeds do give different orders.
func TestMirrorOrderIsDeterministicPerSeed(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	var mirrors []discovery.Mapping
	for _, r := range dlMirrorRecords {
		m, err := discovery.ParseTXT(r, discovery.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mirrors = append(mirrors, m)
	}
	orders := map[string]bool{}
	for seed := uint64(1); seed <= 20; seed++ {
		var want []string
		for _, m := range discovery.OrderMirrors(mirrors, dlRand(seed)) {
			u, _, err := discovery.RegistryEndpoint(m, "app")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, u)
		}
		for run := 0; run < 2; run++ {
			o := l.options()
			o.DNSSECOff = true
			o.Rand = dlRand(seed)
			res, _ := dlMust(t, discovery.New(o), "mirrors.mapping.test/app")
			if got := dlURLs(res.Endpoints); !slices.Equal(got, want) {
				t.Errorf("seed %d, run %d: order %q, want %q", seed, run, got, want)
			}
		}
		orders[strings.Join(want, " ")] = true
	}
	if len(orders) < 3 {
		t.Errorf("20 seeds gave %d orders of three weighted mirrors: %v", len(orders), orders)
	}
}

// RFC 2782: within one priority a target is chosen first with probability
// proportional to its weight (60/30/10 here). One Discoverer drawing from
// one seeded source over many discoveries shows the proportions; the seed
// makes the counts exact on every run, the bounds leave room for changes
// of the draw that keep the distribution.
func TestMirrorWeightsShareTheFirstPlace(t *testing.T) {
	l := dlStart(t, dnstest.Config{})
	o := l.options()
	o.DNSSECOff = true
	o.Rand = dlRand(7)
	d := discovery.New(o)
	const n = 300
	first := map[string]int{}
	for range n {
		res, _ := dlMust(t, d, "mirrors.mapping.test/app")
		first[res.Endpoints[1].URL]++
	}
	for url, want := range map[string]float64{"https://heavy.example": 0.6, "https://medium.example": 0.3, "https://light.example": 0.1} {
		if got := float64(first[url]) / n; got < want-0.1 || got > want+0.1 {
			t.Errorf("%s first among priority 20 in %.2f of discoveries, want about %.1f (%v)", url, got, want, first)
		}
	}
}
