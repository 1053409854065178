package engine

import (
	"maps"
	"slices"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
)

// TestBesideHolesAnyOrder: two holes of one carrier under neighbouring
// land cells bring both cells' rings, whichever comes first. (Skipping a
// land cell already beside a hole, rather than one already taken, made
// the tasks depend on the order the holes map was walked in.)
func TestBesideHolesAnyOrder(t *testing.T) {
	const res = 9
	p1 := index.CellAt(106.4, 10.5, res)
	p2 := index.CellNeighbours(nil, p1)[0]
	a := &geo.Hole{Carrier: geo.Viettel, CellIDs: []uint64{index.CellCenterChild(p1)}}
	b := &geo.Hole{Carrier: geo.Viettel, CellIDs: []uint64{index.CellCenterChild(p2)}}
	want := map[uint64]bool{}
	for _, p := range []uint64{p1, p2} {
		want[p] = true
		for _, n := range index.CellNeighbours(nil, p) {
			want[n] = true
		}
	}
	for _, order := range [][]*geo.Hole{{a, b}, {b, a}} {
		got := besideHoles(res, slices.Values(order))
		if s := carrierSlot(geo.Viettel); !maps.Equal(got[s], want) {
			t.Errorf("holes in order %s, %s: %d land cells beside them, want %d", index.CellString(order[0].CellIDs[0]), index.CellString(order[1].CellIDs[0]), len(got[s]), len(want))
		}
		for s := range got {
			if s != carrierSlot(geo.Viettel) && len(got[s]) > 0 {
				t.Errorf("slot %d has land beside holes it has none of", s)
			}
		}
	}
}
