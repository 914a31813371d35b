package discovery

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

func srvRR(prio, weight uint16, target string) *dns.SRV {
	return &dns.SRV{Hdr: dns.RR_Header{Name: "_oci-registry._tcp.example.com.", Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 60},
		Priority: prio, Weight: weight, Port: 443, Target: target}
}

func srvTargets(srvs []*dns.SRV) []string {
	var s []string
	for _, x := range srvs {
		s = append(s, x.Target)
	}
	return s
}

// firstPickShares runs order n times and returns how often each target came first.
func firstShares(n int, order func() string) map[string]float64 {
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		counts[order()]++
	}
	shares := map[string]float64{}
	for k, c := range counts {
		shares[k] = float64(c) / float64(n)
	}
	return shares
}

// RFC 2782: "A client MUST attempt to contact the target host with the
// lowest-numbered priority it can reach"; weights only order within a priority.
func TestOrderSRVPriorityFirst(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	in := []*dns.SRV{srvRR(20, 65535, "c."), srvRR(10, 0, "a."), srvRR(30, 1, "d."), srvRR(10, 0, "b.")}
	for i := 0; i < 200; i++ {
		got := OrderSRV(in, rnd)
		if got[0].Priority != 10 || got[1].Priority != 10 || got[2].Target != "c." || got[3].Target != "d." {
			t.Fatalf("order %v breaks ascending priority", srvTargets(got))
		}
	}
	if in[0].Target != "c." || in[1].Target != "a." {
		t.Fatal("OrderSRV modified its input")
	}
}

// RFC 2782: within a priority, "select a uniform random number between 0 and
// the sum of the weights (inclusive)" and take the first target whose running
// sum is >= it: target i comes first with probability (w_i [+1 for the first
// in the list]) / (sum+1). Seeded, so the counts are deterministic; the bound
// is for a change of seed, not for flakiness.
func TestOrderSRVWeightedDistribution(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2782, 1))
	in := []*dns.SRV{srvRR(0, 10, "w10."), srvRR(0, 20, "w20."), srvRR(0, 70, "w70.")}
	const n = 30000
	got := firstShares(n, func() string { return OrderSRV(in, rnd)[0].Target })
	for target, want := range map[string]float64{"w10.": 11.0 / 101, "w20.": 20.0 / 101, "w70.": 70.0 / 101} {
		if math.Abs(got[target]-want) > 0.01 {
			t.Errorf("%s first in %.4f of %d orderings, want %.4f", target, got[target], n, want)
		}
	}
}

// RFC 2782: "records with weight 0 should have a very small chance of being
// selected" when others have weight: 1/(sum+1), since they are placed first.
func TestOrderSRVWeightZeroSmallChance(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	in := []*dns.SRV{srvRR(0, 100, "heavy."), srvRR(0, 0, "zero.")}
	const n = 30000
	got := firstShares(n, func() string { return OrderSRV(in, rnd)[0].Target })
	if want := 1.0 / 101; math.Abs(got["zero."]-want) > 0.003 {
		t.Errorf("weight-0 target first in %.4f of orderings, want %.4f", got["zero."], want)
	}
	// All weights 0: every running sum is 0 and the draw is 0, so the
	// published order stands (RFC 2782's algorithm, literally).
	all0 := []*dns.SRV{srvRR(0, 0, "a."), srvRR(0, 0, "b."), srvRR(0, 0, "c.")}
	if got := fmt.Sprint(srvTargets(OrderSRV(all0, rnd))); got != "[a. b. c.]" {
		t.Errorf("all weights 0: order %s", got)
	}
}

// Every target appears exactly once, whatever the weights; the same seed gives
// the same order.
func TestOrderSRVPermutationAndSeed(t *testing.T) {
	in := []*dns.SRV{srvRR(1, 5, "a."), srvRR(0, 0, "b."), srvRR(1, 0, "c."), srvRR(0, 65535, "d."), srvRR(1, 65535, "e."), srvRR(2, 3, "f.")}
	a := srvTargets(OrderSRV(in, rand.New(rand.NewPCG(9, 9))))
	b := srvTargets(OrderSRV(in, rand.New(rand.NewPCG(9, 9))))
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different orders: %v %v", a, b)
	}
	seen := map[string]bool{}
	for _, x := range a {
		seen[x] = true
	}
	if len(a) != len(in) || len(seen) != len(in) {
		t.Errorf("order %v is not a permutation of the input", a)
	}
	if got := OrderSRV(nil, nil); len(got) != 0 {
		t.Errorf("no records ordered into %v", srvTargets(got))
	}
}

// "mirrors, ordered by priority, then RFC 2782 weight"
func TestOrderMirrors(t *testing.T) {
	ms := txtMappings(t,
		"v=oci1; prefix=tools; registry=https://backup.example; priority=20; weight=50",
		"v=oci1; prefix=tools; registry=https://light.example; priority=10; weight=1",
		"v=oci1; prefix=tools; registry=https://heavy.example; priority=10; weight=9",
	)
	matched, _, err := Select(ms, "tools/x")
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	const n = 20000
	got := firstShares(n, func() string {
		o := OrderMirrors(matched, rnd)
		if o[2].Registry != "https://backup.example" {
			t.Fatalf("priority 20 mirror not last: %v", mappingRecords(o))
		}
		return o[0].Registry
	})
	if want := 9.0 / 11; math.Abs(got["https://heavy.example"]-want) > 0.01 {
		t.Errorf("weight 9 of 1+9 first in %.4f of orderings, want %.4f", got["https://heavy.example"], want)
	}
}

// A nil *rand.Rand uses a process-wide source that is safe for concurrent use
// (run with -race).
func TestOrderMirrorsNilRandConcurrent(t *testing.T) {
	ms := txtMappings(t, "v=oci1; registry=https://a.example; weight=1", "v=oci1; registry=https://b.example; weight=1")
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if o := OrderMirrors(ms, nil); len(o) != 2 {
					t.Error("lost a mirror")
					return
				}
			}
		}()
	}
	wg.Wait()
}
