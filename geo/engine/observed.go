package engine

import (
	"cmp"
	"slices"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Where gapmap does not know. The areas' land is covered by land cells:
// H3 cells one resolution coarser than the evidence grid, each belonging
// to the finest area that holds its centre (an area too small to hold one gets
// the cell of its centroid). Land cells are at the resolution of the
// support (see hexField.supportedBy): a land cell is observed for a carrier
// when that carrier's reports support it, and observed for all carriers
// (slot nCarriers) when all carriers' reports pooled do. The
// rest is unobserved: the map of what is not yet known, and each area's
// observed share. Support only grows as reports arrive, so a Live only
// ever turns land cells observed.
type landGrid struct {
	res   int
	cells []uint64         // sorted
	pos   map[uint64]int32 // land cell → position in cells
	area  []int32          // the area of each land cell
	land  []int64          // the land of each land cell, in landUnit
	// seen says, per slot, which land cells are observed; dirty which
	// slots' land changed since the last Result, drawn which slots'
	// outlines are up to date, and last holds the last figures and outlines.
	seen [nCarriers + 1][]bool
	// unseen and unseenLand count, per slot, the land cells not observed
	// and their land (in landUnit: integers, so the sums do not depend on
	// the order cells are seen in).
	unseen     [nCarriers + 1]int
	unseenLand [nCarriers + 1]int64
	drawn      [nCarriers + 1]bool
	dirty      [nCarriers + 1]bool
	last       [nCarriers + 1]geo.Unobserved
}

// newLandGrid covers the areas of ix with land cells at resolution res.
func newLandGrid(ix *index.Index, res int) *landGrid {
	g := &landGrid{res: res}
	per := make([][]uint64, ix.Len())
	index.Each(ix.Len(), func(i int) {
		per[i] = ix.AreaCells(i, res)
		if mp := ix.Area(i).Geometry; len(per[i]) == 0 && len(mp) > 0 {
			c, _ := planar.CentroidArea(mp)
			per[i] = []uint64{index.CellAt(c[0], c[1], res)}
		}
	})
	// A cell in several areas' lists is the first area's: the (cell,
	// area) pairs are sorted by cell, then area, and the first of each
	// cell kept.
	n := 0
	for _, cs := range per {
		n += len(cs)
	}
	type owned struct {
		cell uint64
		area int32
	}
	pairs := make([]owned, 0, n)
	for i, cs := range per {
		for _, c := range cs {
			pairs = append(pairs, owned{c, int32(i)})
		}
		per[i] = nil
	}
	slices.SortFunc(pairs, func(a, b owned) int {
		if c := cmp.Compare(a.cell, b.cell); c != 0 {
			return c
		}
		return cmp.Compare(a.area, b.area)
	})
	pairs = slices.CompactFunc(pairs, func(a, b owned) bool { return a.cell == b.cell })
	g.cells = make([]uint64, len(pairs))
	g.area = make([]int32, len(pairs))
	g.land = make([]int64, len(pairs))
	g.pos = make(map[uint64]int32, len(pairs))
	for k, o := range pairs {
		g.cells[k], g.area[k] = o.cell, o.area
		g.pos[o.cell] = int32(k)
	}
	index.Parallel(len(g.cells), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			g.land[k] = landUnits(index.CellAreaKm2(g.cells[k]))
		}
	})
	var all int64
	for _, u := range g.land {
		all += u
	}
	for s := range g.seen {
		g.seen[s] = make([]bool, len(g.cells))
		g.unseen[s], g.unseenLand[s] = len(g.cells), all
		g.dirty[s] = true
	}
	return g
}

// supportAll marks the land cells f's reports support, as NewLive
// starts; a's areas count their land and observed cells.
func (g *landGrid) supportAll(f *hexField, a *areaAccum) {
	for _, ar := range g.area {
		a.nodes[ar].landCells++
	}
	for k, c := range g.cells {
		g.update(f, int32(k), c, a)
	}
}

// reached updates the land cells among cells (one resolution coarser
// than the evidence grid), which a report's evidence has just reached.
func (g *landGrid) reached(f *hexField, cells []uint64, a *areaAccum) {
	for _, c := range cells {
		if k, ok := g.pos[c]; ok {
			g.update(f, k, c, a)
		}
	}
}

// update marks land cell k (cell c) observed for each slot whose support
// it has gained (support only grows).
func (g *landGrid) update(f *hexField, k int32, c uint64, a *areaAccum) {
	w := f.wide[0].at(c)
	if w == nil {
		return
	}
	for s := range nCarriers + 1 {
		if g.seen[s][k] || !f.supportedBy(w, s) {
			continue
		}
		g.seen[s][k] = true
		g.unseen[s]--
		g.unseenLand[s] -= g.land[k]
		g.dirty[s] = true
		a.nodes[g.area[k]].observed[s]++
	}
}

// unobserved returns, per slot, the unobserved land's size (kept as land
// cells are observed); the outlines are drawn only when
// asked for (see outline), since a Live that takes reports one by one
// would otherwise redraw them after most reports.
func (g *landGrid) unobserved() []geo.Unobserved {
	out := make([]geo.Unobserved, 0, nCarriers+1)
	for s := range nCarriers + 1 {
		if g.dirty[s] {
			g.dirty[s], g.drawn[s] = false, false
			u := geo.Unobserved{Carrier: geo.CarrierAll, Cells: g.unseen[s], AreaKm2: landKm2(g.unseenLand[s])}
			if s < nCarriers {
				u.Carrier = geo.Carriers[s]
			}
			g.last[s] = u
		}
		u := g.last[s]
		u.Geometry = nil
		out = append(out, u)
	}
	return out
}

// outline sets the outline of each entry of us (as unobserved returned
// them), drawing again the slots whose land changed since last drawn.
func (g *landGrid) outline(us []geo.Unobserved) {
	for i := range us {
		s := slotOf(us[i].Carrier)
		if !g.drawn[s] {
			var cells []uint64
			for k, seen := range g.seen[s] {
				if !seen {
					cells = append(cells, g.cells[k])
				}
			}
			g.last[s].Geometry = orb.MultiPolygon{}
			if len(cells) > 0 {
				g.last[s].Geometry = index.CellsToMultiPolygon(cells)
			}
			g.drawn[s] = true
		}
		us[i].Geometry = g.last[s].Geometry
	}
}
