package cache

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A TTL of zero or less (a tag TTL of 0) means "always revalidate": never
// served fresh, but still a serve-stale fallback.

func TestZeroTTLAlwaysRevalidates(t *testing.T) {
	for _, ttl := range []time.Duration{0, -time.Second} {
		t.Run(ttl.String(), func(t *testing.T) {
			c, _ := newTestCache[string](Config{})
			up := &upstream{}
			up.answer("v1", ttl)
			ctx := context.Background()
			for i := range 3 {
				v, st, err := c.Fetch(ctx, "tag", up.fetch)
				if err != nil || v != "v1" || st.Hit {
					t.Fatalf("ttl %v, Fetch %d = %q, %+v, %v; want v1 from upstream", ttl, i, v, st, err)
				}
			}
			if n := up.calls.Load(); n != 3 {
				t.Errorf("ttl %v: upstream calls = %d; want 3", ttl, n)
			}
			if _, _, ok := c.Get("tag"); ok {
				t.Errorf("ttl %v: Get hit an always-revalidate entry", ttl)
			}
		})
	}
}

func TestZeroTTLValueBacksServeStale(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	up := &upstream{}
	up.answer("v1", 0)
	ctx := context.Background()
	c.Fetch(ctx, "tag", up.fetch)
	clk.Advance(time.Hour)
	up.fail(errUpstream)
	v, st, err := c.Fetch(ctx, "tag", up.fetch)
	if err != nil || v != "v1" || !st.Stale || !errors.Is(st.Err, errUpstream) {
		t.Fatalf("Fetch = %q, %+v, %v; want stale v1", v, st, err)
	}
}

func TestZeroTTLWithoutServeStaleIsNotKept(t *testing.T) {
	c, _ := newTestCache[string](Config{StaleWindow: -1})
	c.Set("tag", "old", time.Hour)
	up := &upstream{}
	up.answer("v1", 0)
	c.Set("tag", "new", -1) // an older value must not survive a newer one
	if c.Len() != 0 {
		t.Fatalf("Len = %d; want 0", c.Len())
	}
	if v, _, err := c.Fetch(context.Background(), "tag", up.fetch); err != nil || v != "v1" {
		t.Fatalf("Fetch = %q, %v", v, err)
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d; a value that can be neither fresh nor stale was stored", c.Len())
	}
}
