package discovery

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// records parses v=oci1 TXT records, as a host would publish them.
func txtMappings(t testing.TB, texts ...string) []Mapping {
	t.Helper()
	ms := make([]Mapping, len(texts))
	for i, s := range texts {
		m, err := ParseTXT(s, ParseOptions{})
		if err != nil {
			t.Fatalf("record %q: %v", s, err)
		}
		ms[i] = m
	}
	return ms
}

func mappingRecords(ms []Mapping) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Record)
	}
	return s
}

func TestSelect(t *testing.T) {
	published := []string{
		"v=oci1; prefix=acme; delegate=acme.example",
		"v=oci1; prefix=acme/team; registry=https://team.example",
		"v=oci1; prefix=tools; registry=https://ghcr.io/example-tools; priority=20",
		"v=oci1; prefix=tools; registry=https://mirror-a.example; priority=10; weight=1",
		"v=oci1; prefix=tools; registry=https://mirror-b.example; priority=10; weight=9",
		"v=oci1; registry=https://registry.example.com",
	}
	for _, tc := range []struct {
		rule    string
		records []string
		path    string
		want    []string // records matched, in order
		rest    string
	}{
		{"a single mapping for the whole host matches every path", published[5:], "org/app", published[5:], "org/app"},
		{"prefix matched on whole components: acme matches acme/x", published[:1], "acme/app", published[:1], "app"},
		{"prefix matched on whole components: acme matches acme itself", published[:1], "acme", published[:1], ""},
		{"prefix matched on whole components: acme does not match acmex", published[:1], "acmex/app", nil, "acmex/app"},
		{"prefix matched on whole components: acme does not match acm", published[:1], "acm", nil, "acm"},
		{"longest prefix wins: acme/team over acme and the whole host", published, "acme/team/app", published[1:2], "app"},
		{"longest prefix wins: acme/teamx is under acme, not acme/team", published, "acme/teamx/app", published[:1], "teamx/app"},
		{"longest prefix wins: the whole host when nothing longer matches", published, "other/app", published[5:], "other/app"},
		{"mirrors (all registry=, same prefix) sorted by priority, stable", published, "tools/x/y",
			[]string{published[3], published[4], published[2]}, "x/y"},
		{"identical delegations count once", []string{"v=oci1; prefix=a; delegate=d.example", "v=oci1;prefix=a;delegate=D.example."}, "a/b",
			[]string{"v=oci1; prefix=a; delegate=d.example"}, "b"},
		{"no mapping at all", nil, "a/b", nil, "a/b"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			ms := txtMappings(t, tc.records...)
			before := append([]Mapping(nil), ms...)
			got, rest, err := Select(ms, tc.path)
			if err != nil {
				t.Fatalf("Select(%q): %v", tc.path, err)
			}
			if g := mappingRecords(got); strings.Join(g, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Select(%q) matched\n%s\nwant\n%s", tc.path, strings.Join(g, "\n"), strings.Join(tc.want, "\n"))
			}
			if rest != tc.rest {
				t.Errorf("Select(%q) rest = %q, want %q", tc.path, rest, tc.rest)
			}
			for i := range ms {
				if ms[i] != before[i] {
					t.Fatalf("Select reordered or changed its input at %d", i)
				}
			}
		})
	}
}

// The single-match result shares ms but has no spare capacity: appending to it
// must not overwrite the caller's mappings.
func TestSelectResultDoesNotAliasOnAppend(t *testing.T) {
	ms := txtMappings(t, "v=oci1; prefix=a; registry=https://a.example", "v=oci1; prefix=b; registry=https://b.example")
	got, _, _ := Select(ms, "a/x")
	_ = append(got, Mapping{Registry: "https://evil.example"})
	if ms[1].Registry != "https://b.example" {
		t.Fatal("append to Select's result overwrote the input")
	}
}

// "the URL path is a repository prefix: example.com/tools/x → ghcr.io,
// repository example-tools/x"
func TestRegistryEndpoint(t *testing.T) {
	for _, tc := range []struct {
		registry, rest string
		url, repo      string
	}{
		{"https://ghcr.io/example-tools", "x", "https://ghcr.io", "example-tools/x"},
		{"https://registry.example.com", "team/app", "https://registry.example.com", "team/app"},
		{"https://ghcr.io/example-tools", "", "https://ghcr.io", "example-tools"},
		{"HTTPS://R.Example:443/a/", "b", "https://r.example", "a/b"},
		{"https://r.example:5443/a", "b/c", "https://r.example:5443", "a/b/c"},
		{"http://localhost:5000", "app", "http://localhost:5000", "app"},
		{"http://localhost:80", "app", "http://localhost", "app"},
		{"https://[::1]:5000/p", "", "https://[::1]:5000", "p"},
	} {
		t.Run(tc.registry+" "+tc.rest, func(t *testing.T) {
			url, repo, err := RegistryEndpoint(Mapping{Registry: tc.registry}, tc.rest)
			if err != nil || url != tc.url || repo != tc.repo {
				t.Errorf("RegistryEndpoint(%q, %q) = %q, %q, %v; want %q, %q", tc.registry, tc.rest, url, repo, err, tc.url, tc.repo)
			}
		})
	}
	for _, tc := range []struct {
		m    Mapping
		rest string
		msg  string
	}{
		{Mapping{Prefix: "acme", Registry: "https://r.example"}, "", `no repository: the name ends at the prefix "acme"`},
		{Mapping{Delegate: "d.example"}, "x", "has no registry"},
		{Mapping{Registry: "https://r.example/a"}, "B", "uppercase"},
		{Mapping{Registry: "https://r.example"}, "/x", "must not start with '/'"},
		{Mapping{Registry: "ftp://r.example"}, "x", "scheme must be https"},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			_, _, err := RegistryEndpoint(tc.m, tc.rest)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("RegistryEndpoint(%+v, %q) = %v, want an error saying %q", tc.m, tc.rest, err, tc.msg)
			}
		})
	}
}

// "two records with the same prefix and different targets are an error
// unless both are registry= (then they are mirrors)"
func TestSelectConflict(t *testing.T) {
	for _, tc := range []struct {
		rule    string
		records []string
		path    string
		a, b    string
	}{
		{"a delegate and a registry for one prefix",
			[]string{"v=oci1; prefix=acme; delegate=acme.example", "v=oci1; prefix=acme; registry=https://r.example"},
			"acme/app", "v=oci1; prefix=acme; delegate=acme.example", "v=oci1; prefix=acme; registry=https://r.example"},
		{"two different delegates for the whole host",
			[]string{"v=oci1; delegate=a.example", "v=oci1; delegate=b.example"},
			"x", "v=oci1; delegate=a.example", "v=oci1; delegate=b.example"},
		{"registry mirrors then a delegate: the delegate and the first mirror are named in published order",
			[]string{"v=oci1; registry=https://m1.example", "v=oci1; registry=https://m2.example", "v=oci1; delegate=d.example"},
			"x", "v=oci1; registry=https://m1.example", "v=oci1; delegate=d.example"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			got, _, err := Select(txtMappings(t, tc.records...), tc.path)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("Select = %v, %v; want ErrConflict", mappingRecords(got), err)
			}
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("%T is not a *ConflictError", err)
			}
			if ce.A.Record != tc.a || ce.B.Record != tc.b {
				t.Errorf("conflict between\n%q and\n%q, want\n%q and\n%q", ce.A.Record, ce.B.Record, tc.a, tc.b)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.a) || !strings.Contains(msg, tc.b) {
				t.Errorf("error %q does not name both records", msg)
			}
		})
	}

	// A conflict under a shorter prefix does not matter when a longer one wins.
	ms := txtMappings(t, "v=oci1; delegate=a.example", "v=oci1; delegate=b.example", "v=oci1; prefix=x; registry=https://r.example")
	if got, _, err := Select(ms, "x/y"); err != nil || len(got) != 1 {
		t.Errorf("longer prefix beside a conflicting shorter one: %v, %v", mappingRecords(got), err)
	}
}

// Conflicts judges a whole set of mappings as Select judges each prefix:
// one *ConflictError a conflicting prefix, in the order prefixes appear;
// mirrors and a delegation repeated are no conflict.
func TestConflicts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		records  []string
		prefixes []string
	}{
		{"mirrors and a repeated delegation", []string{
			"v=oci1; registry=https://m1.example", "v=oci1; registry=https://m2.example",
			"v=oci1; prefix=a; delegate=d.example", "v=oci1; prefix=a; delegate=D.example."}, nil},
		{"two prefixes in conflict, one not", []string{
			"v=oci1; prefix=b; delegate=x.example", "v=oci1; prefix=ok; registry=https://r.example",
			"v=oci1; prefix=b; registry=https://r.example", "v=oci1; delegate=a.example", "v=oci1; delegate=b.example"}, []string{"b", ""}},
		{"none", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, ce := range Conflicts(txtMappings(t, tc.records...)) {
				if ce.A.Prefix != ce.B.Prefix || !errors.Is(ce, ErrConflict) {
					t.Errorf("conflict %v across prefixes", ce)
				}
				got = append(got, ce.A.Prefix)
			}
			if strings.Join(got, ",") != strings.Join(tc.prefixes, ",") || len(got) != len(tc.prefixes) {
				t.Errorf("conflicting prefixes %q, want %q", got, tc.prefixes)
			}
		})
	}
}

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
