package api

import (
	"hash/maphash"
	"sync"
)

// idIndex finds a feature by its id: a hash table of positions, open
// addressing, the ids themselves being the collection's (a report's in
// the state's ids), 8 bytes or less a feature where a map from id to
// position took about 58. The reports collections of successive
// publications share one, to which ids are only added; a position found
// is checked against the asking collection's features. An id added
// again takes the place of the one before, as in a map.
type idIndex struct {
	mu   sync.RWMutex
	seed maphash.Seed
	n    int
	// slots hold position+1 (0: empty); their number is a power of two
	// at least twice n.
	slots []int32
}

func newIDIndex(n int) *idIndex {
	x := &idIndex{seed: maphash.MakeSeed()}
	x.slots = make([]int32, slotsFor(n))
	return x
}

// slotsFor is the number of slots that holds n ids.
func slotsFor(n int) int {
	s := 16
	for s < 2*n {
		s *= 2
	}
	return s
}

// add takes position i in, the id of a position p being idAt(p) (for
// every position added so far). The caller holds mu for writing when the
// index is shared.
func (x *idIndex) add(i int, idAt func(int) string) {
	if 2*(x.n+1) > len(x.slots) {
		old := x.slots
		x.slots = make([]int32, 2*len(old))
		for _, s := range old {
			if s != 0 {
				x.put(int(s-1), idAt(int(s-1)), nil)
			}
		}
	}
	if x.put(i, idAt(i), idAt) {
		x.n++
	}
}

// put stores position i of id in its slot, or over the position of the
// same id (compared with idAt, nil: ids known distinct); it reports
// whether a slot was taken.
func (x *idIndex) put(i int, id string, idAt func(int) string) bool {
	mask := uint64(len(x.slots) - 1)
	for h := maphash.String(x.seed, id) & mask; ; h = (h + 1) & mask {
		s := x.slots[h]
		if s == 0 {
			x.slots[h] = int32(i + 1)
			return true
		}
		if idAt != nil && idAt(int(s-1)) == id {
			x.slots[h] = int32(i + 1)
			return false
		}
	}
}

// find returns the position of id among the first n features, the id of
// feature p being idAt(p). The caller holds mu for reading when the
// index is shared.
func (x *idIndex) find(id string, n int, idAt func(int) string) (int, bool) {
	mask := uint64(len(x.slots) - 1)
	for h := maphash.String(x.seed, id) & mask; ; h = (h + 1) & mask {
		s := x.slots[h]
		if s == 0 {
			return 0, false
		}
		// Positions past n are another collection's, later over the log.
		if p := int(s - 1); p < n && idAt(p) == id {
			return p, true
		}
	}
}
