package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/gapmap/gapmap/geo/index"
)

// TestCellTableMatchesMap adds cells to a table and a map side by side,
// real H3 cells (their low bits alike) and random ones, from empty and
// from a table made with room, and asks both for every cell and for
// cells never added.
func TestCellTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h3cells []uint64
	for _, ring := range index.CellDisk(index.CellAt(106.6, 10.8, 10), 40) {
		h3cells = append(h3cells, ring...)
	}
	random := make([]uint64, 50000)
	for i := range random {
		random[i] = rng.Uint64() | 1
	}
	for _, tc := range []struct {
		name  string
		cells []uint64
		room  int
	}{
		{"h3 from empty", h3cells, 0},
		{"h3 with room", h3cells, len(h3cells)},
		{"random from empty", random, 0},
		{"random, too little room", random, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tab cellTable
			if tc.room > 0 {
				tab = newCellTable(tc.room)
			}
			var cells []uint64
			want := map[uint64]int32{}
			for i, c := range tc.cells {
				// Every cell twice: the second time it is found, not added.
				for range 2 {
					if j, ok := tab.find(cells, c); ok {
						if want[c] != j {
							t.Fatalf("cell %x: found at %d, added at %d", c, j, want[c])
						}
						continue
					}
					if _, ok := want[c]; ok {
						t.Fatalf("cell %x added but not found", c)
					}
					want[c] = int32(len(cells))
					cells = append(cells, c)
					tab.add(cells)
				}
				if tab.len() != len(want) {
					t.Fatalf("after %d cells: len %d, want %d", i+1, tab.len(), len(want))
				}
				if len(tab.slots) < 2*tab.len() {
					t.Fatalf("%d slots for %d cells", len(tab.slots), tab.len())
				}
			}
			for c, j := range want {
				if got, ok := tab.find(cells, c); !ok || got != j {
					t.Fatalf("cell %x: got %d %v, want %d", c, got, ok, j)
				}
			}
			for range 10000 {
				c := rng.Uint64() &^ 1 // random cells are odd
				if _, in := want[c]; in {
					continue
				}
				if j, ok := tab.find(cells, c); ok {
					t.Fatalf("cell %x never added, found at %d", c, j)
				}
			}
		})
	}
	var empty cellTable
	if _, ok := empty.find(nil, 42); ok {
		t.Fatal("the empty table found a cell")
	}
}

// BenchmarkCellTable looks up the cells of a field-sized disk of H3
// cells in a cellTable and in a map.
func BenchmarkCellTable(b *testing.B) {
	var cells []uint64
	for _, ring := range index.CellDisk(index.CellAt(106.6, 10.8, 10), 300) {
		cells = append(cells, ring...)
	}
	tab := newCellTable(len(cells))
	m := make(map[uint64]int32, len(cells))
	for i, c := range cells {
		tab.add(cells[:i+1])
		m[c] = int32(i)
	}
	order := rand.New(rand.NewPCG(3, 4)).Perm(len(cells))
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			for _, i := range order {
				if _, ok := tab.find(cells, cells[i]); !ok {
					b.Fatal("missing")
				}
			}
		}
		b.ReportMetric(float64(len(tab.slots)*4)/float64(len(cells)), "B/cell")
	})
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			for _, i := range order {
				if _, ok := m[cells[i]]; !ok {
					b.Fatal("missing")
				}
			}
		}
	})
}
