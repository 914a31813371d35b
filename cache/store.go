package cache

import "hash/maphash"

// store holds the entries of a Cache in recency order, the least recently
// used first out when full. A cache of resolutions holds millions of small
// entries, so the store spends few bytes on each:
//
//   - entries live in nodes allocated as the cache grows: the first
//     chunkSize in a slice grown as a slice grows (a small cache stays
//     small), the rest in chunks of chunkSize (no allocation an entry, and
//     a large cache never copies more than one chunk's worth); they are
//     linked in recency order by 4-byte node numbers, not pointers;
//   - they are found through an open-addressing table of 4-byte node
//     numbers (linear probing, backward-shift deletion), not a Go map,
//     which would hold a second copy of every key.
//
// Node numbers start at 1; 0 means none. Keys must equal themselves (no
// NaN), as a map's must to be found again. Not safe for concurrent use:
// the Cache's mutex guards it. A pointer returned by get stays valid until
// the next add.
type store[K comparable, V any] struct {
	size       int // at most this many entries
	n          int
	head, tail uint32                   // most and least recently used; 0 when empty
	free       uint32                   // a removed node to reuse, linked through next
	used       uint32                   // nodes ever handed out (the highest node number)
	first      []node[K, V]             // nodes 1 to chunkSize
	chunks     []*[chunkSize]node[K, V] // the nodes after
	slots      []uint32                 // node numbers; 0: empty; len is a power of two
	seed       maphash.Seed
}

type node[K comparable, V any] struct {
	key        K
	prev, next uint32
	e          entry[V]
}

// chunkSize is how many nodes one chunk holds: large enough that the
// chunk pointers cost nothing per entry, small enough that a cache that
// grows never copies much.
const (
	chunkShift = 10
	chunkSize  = 1 << chunkShift
)

func newStore[K comparable, V any](size int) *store[K, V] {
	return &store[K, V]{size: size, slots: make([]uint32, 8), seed: maphash.MakeSeed()}
}

func (l *store[K, V]) node(i uint32) *node[K, V] {
	if i <= chunkSize {
		return &l.first[i-1]
	}
	i -= chunkSize + 1
	return &l.chunks[i>>chunkShift][i&(chunkSize-1)]
}

func (l *store[K, V]) hash(key K) uint64 { return maphash.Comparable(l.seed, key) }

// find returns the slot holding key's node number, or the empty slot where
// it would go, and the node number (0 when absent).
func (l *store[K, V]) find(key K) (slot int, i uint32) {
	mask := len(l.slots) - 1
	slot = int(l.hash(key)) & mask
	for {
		i = l.slots[slot]
		if i == 0 || l.node(i).key == key {
			return slot, i
		}
		slot = (slot + 1) & mask
	}
}

// get returns key's entry and marks it most recently used.
func (l *store[K, V]) get(key K) (*entry[V], bool) {
	_, i := l.find(key)
	if i == 0 {
		return nil, false
	}
	nd := l.node(i)
	if l.head != i {
		l.unlinkNode(i, nd)
		l.pushFrontNode(i, nd)
	}
	return &nd.e, true
}

// add stores e under key, most recently used, evicting the least recently
// used entry when full, and reports whether it evicted one.
func (l *store[K, V]) add(key K, e entry[V]) (evicted bool) {
	if _, i := l.find(key); i != 0 {
		nd := l.node(i)
		nd.e = e
		if l.head != i {
			l.unlinkNode(i, nd)
			l.pushFrontNode(i, nd)
		}
		return false
	}
	if l.n >= l.size {
		l.removeNode(l.tail)
		evicted = true
	}
	if (l.n+1)*4 > len(l.slots)*3 {
		l.grow()
	}
	i := l.alloc()
	nd := l.node(i)
	nd.key, nd.e = key, e
	slot, _ := l.find(key)
	l.slots[slot] = i
	l.n++
	l.pushFront(i)
	return evicted
}

// remove deletes key's entry and reports whether there was one.
func (l *store[K, V]) remove(key K) bool {
	_, i := l.find(key)
	if i == 0 {
		return false
	}
	l.removeNode(i)
	return true
}

func (l *store[K, V]) len() int { return l.n }

// purge deletes every entry and gives the memory back.
func (l *store[K, V]) purge() { *l = *newStore[K, V](l.size) }

// alloc returns an unused node: a removed one, or a new one.
func (l *store[K, V]) alloc() uint32 {
	if i := l.free; i != 0 {
		l.free = l.node(i).next
		l.node(i).next = 0
		return i
	}
	l.used++
	switch {
	case l.used <= chunkSize:
		l.first = append(l.first, node[K, V]{})
	case (l.used-1)&(chunkSize-1) == 0:
		l.chunks = append(l.chunks, new([chunkSize]node[K, V]))
	}
	return l.used
}

// removeNode unlinks node i, clears its slot and keeps it for reuse.
func (l *store[K, V]) removeNode(i uint32) {
	slot, _ := l.find(l.node(i).key)
	l.clearSlot(slot)
	l.unlink(i)
	*l.node(i) = node[K, V]{next: l.free} // drop the references for the collector
	l.free = i
	l.n--
}

// clearSlot empties slot and moves later entries of its probe run back,
// so that every entry stays reachable from its home slot without
// tombstones.
func (l *store[K, V]) clearSlot(slot int) {
	mask := len(l.slots) - 1
	for j := (slot + 1) & mask; l.slots[j] != 0; j = (j + 1) & mask {
		home := int(l.hash(l.node(l.slots[j]).key)) & mask
		// The entry at j may move to slot unless its home lies in the
		// cyclic range (slot, j].
		if (j > slot && (home <= slot || home > j)) || (j < slot && home <= slot && home > j) {
			l.slots[slot] = l.slots[j]
			slot = j
		}
	}
	l.slots[slot] = 0
}

// grow doubles the table.
func (l *store[K, V]) grow() {
	old := l.slots
	l.slots = make([]uint32, 2*len(old))
	for _, i := range old {
		if i != 0 {
			slot, _ := l.find(l.node(i).key)
			l.slots[slot] = i
		}
	}
}

func (l *store[K, V]) unlink(i uint32) {
	l.unlinkNode(i, l.node(i))
}

func (l *store[K, V]) unlinkNode(i uint32, nd *node[K, V]) {
	if nd.prev != 0 {
		l.node(nd.prev).next = nd.next
	} else {
		l.head = nd.next
	}
	if nd.next != 0 {
		l.node(nd.next).prev = nd.prev
	} else {
		l.tail = nd.prev
	}
	nd.prev, nd.next = 0, 0
}

func (l *store[K, V]) pushFront(i uint32) { l.pushFrontNode(i, l.node(i)) }

func (l *store[K, V]) pushFrontNode(i uint32, nd *node[K, V]) {
	nd.prev, nd.next = 0, l.head
	if l.head != 0 {
		l.node(l.head).prev = i
	}
	l.head = i
	if l.tail == 0 {
		l.tail = i
	}
}
