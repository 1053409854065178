package engine

// cellTable finds a cell's position in a list of distinct cells that only
// grows (a field's cells, a wide level's): a hash table of positions with
// linear probing, the cells themselves being the list's. It takes 4 bytes
// a slot and two to four slots a cell, where a map from cell to position
// took about 40 bytes a cell, and it is the analysis's most used lookup.
// The zero value is empty. Finding is safe from several goroutines while
// nothing is added.
type cellTable struct {
	// slots hold position+1 (0: empty); their number is a power of two,
	// at least twice n.
	slots []int32
	n     int
	shift uint // 64 − log₂(len(slots))
}

// newCellTable returns a table with room for n cells before it grows.
func newCellTable(n int) cellTable {
	var t cellTable
	t.alloc(n)
	return t
}

// alloc makes room for n cells, dropping what t held.
func (t *cellTable) alloc(n int) {
	s, shift := 16, uint(60)
	for s < 2*n {
		s *= 2
		shift--
	}
	t.slots, t.n, t.shift = make([]int32, s), 0, shift
}

// home is cell's first slot: Fibonacci hashing, whose top bits mix every
// bit of the cell (an H3 index's low bits are mostly the same).
func (t *cellTable) home(cell uint64) uint64 {
	return (cell * 0x9E3779B97F4A7C15) >> t.shift
}

// len is the number of cells in t.
func (t *cellTable) len() int { return t.n }

// find returns cell's position in cells, the list t indexes.
func (t *cellTable) find(cells []uint64, cell uint64) (int32, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for h := t.home(cell); ; h = (h + 1) & mask {
		s := t.slots[h]
		if s == 0 {
			return 0, false
		}
		if cells[s-1] == cell {
			return s - 1, true
		}
	}
}

// add takes in the last cell of cells, just appended and not in t yet:
// cells must be the list t indexes, with that one cell more.
func (t *cellTable) add(cells []uint64) {
	if 2*(t.n+1) > len(t.slots) {
		t.alloc(max(2*t.n, 8))
		for j := range cells[:len(cells)-1] {
			t.put(cells, int32(j))
		}
	}
	t.put(cells, int32(len(cells)-1))
}

// put stores position j of cells in its slot.
func (t *cellTable) put(cells []uint64, j int32) {
	mask := uint64(len(t.slots) - 1)
	h := t.home(cells[j])
	for t.slots[h] != 0 {
		h = (h + 1) & mask
	}
	t.slots[h] = j + 1
	t.n++
}
