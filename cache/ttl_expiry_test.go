package cache

import (
	"context"
	"testing"
	"time"
)

func TestGetIsFreshUntilTTLThenMisses(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	if _, _, ok := c.Get("a"); ok {
		t.Fatal("Get on an empty cache hit")
	}
	c.Set("a", "v1", 10*time.Second)
	stored := clk.Now()

	clk.Advance(4 * time.Second)
	v, st, ok := c.Get("a")
	if !ok || v != "v1" {
		t.Fatalf("Get before expiry = %q, %v; want v1, true", v, ok)
	}
	if !st.Hit || st.Stale || st.Coalesced || st.Err != nil {
		t.Errorf("Status = %+v; want a plain hit", st)
	}
	if st.Age != 4*time.Second {
		t.Errorf("Age = %v; want 4s", st.Age)
	}
	if want := stored.Add(10 * time.Second); !st.Expires.Equal(want) {
		t.Errorf("Expires = %v; want %v", st.Expires, want)
	}

	// The TTL is a half-open interval: at exactly stored+ttl the value is
	// expired, as a DNS TTL of 10 means 10 seconds of validity.
	clk.Advance(6 * time.Second)
	if v, _, ok := c.Get("a"); ok {
		t.Fatalf("Get at expiry = %q; want a miss", v)
	}
	if got := c.Len(); got != 1 {
		t.Errorf("Len after expiry = %d; want 1 (kept for serve-stale)", got)
	}
	if s := c.Stats(); s.Hits != 1 || s.Misses != 0 {
		t.Errorf("Stats = %+v; want 1 hit and no miss (Get does not count misses)", s)
	}
}

func TestFetchCountsHitsAndMisses(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	up := &upstream{}
	up.answer("v1", time.Minute)
	ctx := context.Background()

	v, st, err := c.Fetch(ctx, "a", up.fetch)
	if err != nil || v != "v1" || st.Hit || st.Stale || st.Coalesced {
		t.Fatalf("cold Fetch = %q, %+v, %v; want v1 fetched upstream", v, st, err)
	}
	if want := clk.Now().Add(time.Minute); !st.Expires.Equal(want) {
		t.Errorf("Expires = %v; want %v", st.Expires, want)
	}
	v, st, err = c.Fetch(ctx, "a", up.fetch)
	if err != nil || v != "v1" || !st.Hit {
		t.Fatalf("warm Fetch = %q, %+v, %v; want a hit", v, st, err)
	}
	clk.Advance(time.Minute)
	up.answer("v2", time.Minute)
	if v, st, err = c.Fetch(ctx, "a", up.fetch); err != nil || v != "v2" || st.Hit {
		t.Fatalf("Fetch after expiry = %q, %+v, %v; want v2 fetched upstream", v, st, err)
	}
	if n := up.calls.Load(); n != 2 {
		t.Errorf("upstream calls = %d; want 2", n)
	}
	want := Stats{Hits: 1, Misses: 2, Loads: 2, Entries: 1}
	if s := c.Stats(); s != want {
		t.Errorf("Stats = %+v; want %+v", s, want)
	}
}

func TestSetReplacesValueAndTTL(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	c.Set("a", "v1", time.Hour)
	c.Set("a", "v2", time.Second)
	if v, _, ok := c.Get("a"); !ok || v != "v2" {
		t.Fatalf("Get = %q, %v; want v2", v, ok)
	}
	clk.Advance(time.Second)
	if _, _, ok := c.Get("a"); ok {
		t.Fatal("the replaced entry kept the old TTL")
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d; want 1", c.Len())
	}
}

func TestForeverNeverExpiresAndDoesNotOverflow(t *testing.T) {
	c, clk := newTestCache[string](Config{})
	c.Set("sha256:abc", "digest", Forever)
	clk.Advance(100 * 365 * 24 * time.Hour)
	if _, _, ok := c.Get("sha256:abc"); !ok {
		t.Fatal("a Forever entry expired")
	}
	// A huge TTL plus the stale window must saturate, not wrap into the past.
	c.Set("big", "x", Forever-time.Second)
	if _, _, ok := c.Get("big"); !ok {
		t.Fatal("an entry with a near-maximal TTL was not fresh")
	}
}

func TestRealClockExpiresOnMonotonicTime(t *testing.T) {
	// Default clock: only checks that the monotonic path works end to end;
	// the TTL logic itself is covered with the fake clock above.
	c := New[string, int](Config{})
	c.Set("a", 1, time.Hour)
	if v, _, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get = %v, %v; want 1, true", v, ok)
	}
	c.Set("b", 2, -time.Second)
	if _, _, ok := c.Get("b"); ok {
		t.Fatal("a negative TTL entry was fresh")
	}
}

func TestRemoveLenPurge(t *testing.T) {
	c, _ := newTestCache[int](Config{})
	for i, k := range []string{"a", "b", "c"} {
		c.Set(k, i, time.Minute)
	}
	if c.Len() != 3 {
		t.Fatalf("Len = %d; want 3", c.Len())
	}
	if !c.Remove("b") || c.Remove("b") {
		t.Error("Remove did not report presence correctly")
	}
	if _, _, ok := c.Get("b"); ok {
		t.Error("a removed key still hits")
	}
	c.Purge()
	if c.Len() != 0 {
		t.Errorf("Len after Purge = %d; want 0", c.Len())
	}
	if s := c.Stats(); s.Evictions != 0 || s.Entries != 0 {
		t.Errorf("Stats = %+v; Remove and Purge are not evictions", s)
	}
}

func TestClampTTL(t *testing.T) {
	const min, max = 5 * time.Minute, 48 * time.Hour
	tests := []struct {
		name     string
		ttl      time.Duration
		min, max time.Duration
		want     time.Duration
	}{
		{"below floor", time.Second, min, max, min},
		{"within", time.Hour, min, max, time.Hour},
		{"above ceiling", 72 * time.Hour, min, max, max},
		{"negative TTL", -time.Second, 0, MaxNegativeTTL, 0},
		{"negative answer capped at an hour (RFC 2308)", 86400 * time.Second, 0, MaxNegativeTTL, time.Hour},
		{"ceiling wins over an inverted floor", time.Minute, time.Hour, 10 * time.Minute, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClampTTL(tt.ttl, tt.min, tt.max); got != tt.want {
				t.Errorf("%s: ClampTTL(%v, %v, %v) = %v; want %v", tt.name, tt.ttl, tt.min, tt.max, got, tt.want)
			}
		})
	}
}
