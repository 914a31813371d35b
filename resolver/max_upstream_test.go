package resolver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// WithMaxUpstream bounds resolutions and discovery lookups separately: a
// resolution holding the only resolution slot still gets its lookups (one
// bound for both would make it wait for itself), and distinct names beyond
// the bound wait their turn and resolve.
func TestMaxUpstreamOfOneStillResolvesEveryName(t *testing.T) {
	regs := startRegistries(t, 1)
	const names = 8
	want := make([]string, names)
	for i := range names {
		want[i] = push(t, regs[0], fmt.Sprintf("app%d", i), "1.0").String()
	}
	l := startLab(t, regs, zone("example.test.", `_oci-discovery TXT "v=oci1; registry=https://{{REG0}}"`+"\n", true))
	r := l.resolver(t, WithMaxUpstream(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range names {
		wg.Go(func() {
			res, err := r.Resolve(ctx, fmt.Sprintf("example.test/app%d:1.0", i))
			if err != nil || res.Digest.String() != want[i] {
				t.Errorf("app%d: %v, %v; want %s", i, res.Digest, err, want[i])
			}
		})
	}
	wg.Wait()
	if _, err := New(WithMaxUpstream(0)); err == nil {
		t.Error("WithMaxUpstream(0) accepted")
	}
}
