package cache

import (
	"fmt"
	"testing"
	"time"
)

func TestEvictsLeastRecentlyUsedAtTheBound(t *testing.T) {
	c, _ := newTestCache[int](Config{Size: 3})
	c.Set("a", 1, time.Hour)
	c.Set("b", 2, time.Hour)
	c.Set("c", 3, time.Hour)
	c.Get("a") // a is now the most recently used; b the least
	c.Set("d", 4, time.Hour)

	if _, _, ok := c.Get("b"); ok {
		t.Error("b, the least recently used entry, survived")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, _, ok := c.Get(k); !ok {
			t.Errorf("%s was evicted; want only b evicted", k)
		}
	}
	if s := c.Stats(); s.Evictions != 1 || s.Entries != 3 {
		t.Errorf("Stats = %+v; want 1 eviction, 3 entries", s)
	}
}

func TestBoundHoldsStaleEntriesToo(t *testing.T) {
	c, clk := newTestCache[int](Config{Size: 10})
	for i := range 25 {
		c.Set(fmt.Sprint(i), i, time.Second)
		clk.Advance(time.Second) // each one expires, but stays for serve-stale
	}
	if c.Len() != 10 {
		t.Errorf("Len = %d; want the bound, 10", c.Len())
	}
	if s := c.Stats(); s.Evictions != 15 {
		t.Errorf("Evictions = %d; want 15", s.Evictions)
	}
}

func TestDefaultSizeIsApplied(t *testing.T) {
	c, _ := newTestCache[int](Config{Size: -1})
	for i := range DefaultSize + 5 {
		c.Set(fmt.Sprint(i), i, time.Hour)
	}
	if c.Len() != DefaultSize {
		t.Errorf("Len = %d; want DefaultSize %d", c.Len(), DefaultSize)
	}
	if s := c.Stats(); s.Evictions != 5 {
		t.Errorf("Evictions = %d; want 5", s.Evictions)
	}
}
