package resolver

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ocidns/ocidns/internal/registrytest"
)

// fakeClock is a settable clock for TTL logic without sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// docs/protocol.md §10, RFC 8767: with the DNS server stopped and the registry answering
// 503, every previously resolved name still resolves, marked stale, within
// the stale window; past it, resolution fails.
func TestUpstreamDownServesStale(t *testing.T) {
	regs := startRegistries(t, 1)
	digests := map[string]string{}
	for _, repo := range []string{"one", "two", "three"} {
		digests["example.test/"+repo+":1.0"] = push(t, regs[0], repo, "1.0").String()
	}
	l := startLab(t, regs, zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true))
	clock := &fakeClock{now: time.Now()}
	r := l.resolver(t, WithClock(clock.Now), WithDNSTimeout(200*time.Millisecond))
	for ref, want := range digests {
		if res := mustResolve(t, r, ref); res.Digest.String() != want || res.Stale {
			t.Fatalf("%s: %+v", ref, res)
		}
	}

	l.dns.Close()
	regs[0].SetFaults(registrytest.Faults{Throttle: 1 << 20, ThrottleStatus: 503, RetryAfter: "0"})
	clock.Advance(10 * time.Minute) // past the tag TTL (60s) and every DNS TTL (300s)

	for ref, want := range digests {
		res, err := r.Resolve(context.Background(), ref)
		if err != nil {
			t.Fatalf("%s with upstream down: %v", ref, err)
		}
		if !res.Stale || res.Digest.String() != want {
			t.Errorf("%s: stale=%t digest %s, want stale %s", ref, res.Stale, res.Digest, want)
		}
	}
	results, _ := r.Stats()
	if results.StaleServes < uint64(len(digests)) {
		t.Errorf("stale serves counted: %d, want at least %d", results.StaleServes, len(digests))
	}

	clock.Advance(DefaultStaleWindow)
	if _, err := r.Resolve(context.Background(), "example.test/one:1.0"); err == nil {
		t.Error("past the stale window a failed refresh must fail")
	}
}

// A cached answer reports the TTL it has left, not the one it was stored with.
func TestCachedAnswerReportsRemainingTTL(t *testing.T) {
	regs := startRegistries(t, 1)
	push(t, regs[0], "app", "1.0")
	l := startLab(t, regs, zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true))
	clock := &fakeClock{now: time.Now()}
	r := l.resolver(t, WithClock(clock.Now))
	if res := mustResolve(t, r, "example.test/app:1.0"); res.TTLSeconds != 60 || res.Cached {
		t.Fatalf("first: ttl %d cached %t", res.TTLSeconds, res.Cached)
	}
	clock.Advance(25 * time.Second)
	if res := mustResolve(t, r, "example.test/app:1.0"); res.TTLSeconds != 35 || !res.Cached {
		t.Fatalf("25s later: ttl %d cached %t, want 35 and cached", res.TTLSeconds, res.Cached)
	}
}
