package cache

import (
	"container/list"
	"fmt"
	"math/rand/v2"
	"testing"
)

// The store behaves as a map beside a recency list: random adds, gets and
// removes, through growth of the table, eviction and reuse of nodes, leave
// it holding exactly the model's entries in the model's order.
func TestStoreMatchesModel(t *testing.T) {
	for _, size := range []int{1, 2, 7, 100, 3000} {
		t.Run(fmt.Sprint("size ", size), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(size), 1))
			s := newStore[string, int](size)
			order := list.New() // front: most recently used
			byKey := map[string]*list.Element{}
			keys := 3 * size
			for op := range 20 * keys {
				k := fmt.Sprint("k", rng.IntN(keys))
				switch rng.IntN(3) {
				case 0: // add
					wantEvict := false
					if el, ok := byKey[k]; ok {
						order.MoveToFront(el)
						el.Value = [2]any{k, op}
					} else {
						if order.Len() == size {
							old := order.Back()
							delete(byKey, old.Value.([2]any)[0].(string))
							order.Remove(old)
							wantEvict = true
						}
						byKey[k] = order.PushFront([2]any{k, op})
					}
					if got := s.add(k, entry[int]{val: op}); got != wantEvict {
						t.Fatalf("op %d: add(%s) evicted %v, want %v", op, k, got, wantEvict)
					}
				case 1: // get
					e, ok := s.get(k)
					el, want := byKey[k]
					if ok != want || (ok && e.val != el.Value.([2]any)[1].(int)) {
						t.Fatalf("op %d: get(%s) = %v %v, want %v", op, k, e, ok, want)
					}
					if ok {
						order.MoveToFront(el)
					}
				case 2: // remove
					el, want := byKey[k]
					if got := s.remove(k); got != want {
						t.Fatalf("op %d: remove(%s) = %v, want %v", op, k, got, want)
					}
					if want {
						order.Remove(el)
						delete(byKey, k)
					}
				}
				if s.len() != order.Len() {
					t.Fatalf("op %d: len %d, want %d", op, s.len(), order.Len())
				}
			}
			// The recency order, and every entry found through the table.
			i := s.head
			for el := order.Front(); el != nil; el = el.Next() {
				k := el.Value.([2]any)[0].(string)
				if i == 0 || s.node(i).key != k {
					t.Fatalf("recency order differs at %s", k)
				}
				if _, found := s.find(k); found != i {
					t.Fatalf("%s not found through the table", k)
				}
				i = s.node(i).next
			}
			if i != 0 {
				t.Fatal("the store holds more entries than the model")
			}
		})
	}
}
