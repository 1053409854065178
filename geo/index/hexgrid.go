package index

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// Hex cells are H3 indexes (uint64). By default resolution 10 cells
// (≈0.015 km², ≈66 m edge) carry the evidence for holes, resolution 9
// cells (≈0.105 km²) the support distance and the land that is observed,
// and resolution 8 cells (≈0.737 km²) the per-carrier statistics, as in
// the FCC mobile challenge.

// CellAt returns the H3 cell of (lon, lat) at resolution res.
func CellAt(lon, lat float64, res int) uint64 {
	return uint64(h3.LatLngToCell(h3.LatLng{Lat: lat, Lng: lon}, res))
}

// CellParent returns the ancestor of cell at resolution res (res must not
// be finer than cell's). It is pure bit arithmetic on the index layout,
// cheaper than a call into the H3 C library on the hot path.
func CellParent(cell uint64, res int) uint64 {
	cur := int(cell>>52) & 0xF
	if res >= cur {
		return cell
	}
	cell = cell&^(uint64(0xF)<<52) | uint64(res)<<52
	for r := res + 1; r <= 15; r++ {
		cell |= uint64(7) << ((15 - r) * 3)
	}
	return cell
}

// CellResolution returns the resolution of cell.
func CellResolution(cell uint64) int { return int(cell>>52) & 0xF }

// CellCenter returns the centre of cell as (lon, lat).
func CellCenter(cell uint64) orb.Point {
	ll := h3.CellToLatLng(h3.Cell(cell))
	return orb.Point{ll.Lng, ll.Lat}
}

// CellBoundary returns the closed boundary ring of cell, counter-clockwise.
func CellBoundary(cell uint64) orb.Ring {
	b := h3.CellToBoundary(h3.Cell(cell))
	r := make(orb.Ring, 0, len(b)+1)
	for _, ll := range b {
		r = append(r, orb.Point{ll.Lng, ll.Lat})
	}
	r = append(r, r[0])
	return r
}

// CellAreaKm2 returns the exact area of cell in km².
func CellAreaKm2(cell uint64) float64 { return h3.CellAreaKm2(h3.Cell(cell)) }

// CellString formats cell as the usual 15-hex-digit H3 string.
func CellString(cell uint64) string { return h3.Cell(cell).String() }

// ParseCell reads a cell written by CellString.
func ParseCell(s string) (uint64, error) {
	c, err := strconv.ParseUint(s, 16, 64)
	if err != nil || !h3.Cell(c).IsValid() {
		return 0, fmt.Errorf("%q is not an H3 cell", s)
	}
	return c, nil
}

// CellDisk returns the cells within grid distance k of cell, grouped by
// distance (index 0 is the cell itself).
func CellDisk(cell uint64, k int) [][]uint64 {
	// One backing array for every ring, in the order GridDiskDistances
	// would group them: the disks of every evidence cell are taken, and
	// the allocations were a third of the analysis's bytes.
	rings := h3.GridDiskDistances(h3.Cell(cell), k)
	n := 0
	for _, ring := range rings {
		n += len(ring)
	}
	all := make([]uint64, 0, n)
	out := make([][]uint64, len(rings))
	for d, ring := range rings {
		lo := len(all)
		for _, c := range ring {
			if c != 0 {
				all = append(all, uint64(c))
			}
		}
		out[d] = all[lo:len(all):len(all)]
	}
	return out
}

// CellNeighbours appends to out the cells next to cell (six, or five
// beside a pentagon), in no particular order: one call into H3 and
// fewer allocations than CellDisk(cell, 1).
func CellNeighbours(out []uint64, cell uint64) []uint64 {
	for _, c := range h3.GridDisk(h3.Cell(cell), 1) {
		if c != 0 && uint64(c) != cell {
			out = append(out, uint64(c))
		}
	}
	return out
}

// CellsToMultiPolygon returns the union of same-resolution cells as a
// MultiPolygon: shared edges cancel and the remaining edges are chained
// into rings (outer rings counter-clockwise, holes clockwise, as RFC 7946
// asks). In a hexagonal grid every vertex joins three cells and any two of
// them share an edge, so boundary rings never pinch and each boundary
// vertex has exactly one outgoing edge.
func CellsToMultiPolygon(cells []uint64) orb.MultiPolygon {
	return CellsToMultiPolygonWith(cells, CellBoundary)
}

// CellsToMultiPolygonWith is CellsToMultiPolygon with the cell boundaries
// looked up by boundary (computed once elsewhere).
func CellsToMultiPolygonWith(cells []uint64, boundary func(uint64) orb.Ring) orb.MultiPolygon {
	if len(cells) == 0 {
		return nil
	}
	// Vertices are interned to small integers (the same vertex computed
	// for two cells is merged at 1e-9°, about 0.1 mm), so an edge is one
	// uint64 and the bookkeeping uses the fast map paths and slices.
	type key [2]int64
	vid := make(map[key]int32, 2*len(cells)+6)
	var pts []orb.Point
	intern := func(p orb.Point) int32 {
		k := key{int64(math.Round(p[0] * 1e9)), int64(math.Round(p[1] * 1e9))}
		if id, ok := vid[k]; ok {
			return id
		}
		id := int32(len(pts))
		vid[k] = id
		pts = append(pts, p)
		return id
	}
	edge := func(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }
	count := make(map[uint64]int32, 3*len(cells)+6)
	var order []uint64
	for _, c := range cells {
		r := boundary(c)
		for i := 0; i+1 < len(r); i++ {
			a, b := intern(r[i]), intern(r[i+1])
			if a == b {
				continue
			}
			if rev := edge(b, a); count[rev] > 0 {
				count[rev]--
				continue
			}
			e := edge(a, b)
			if count[e] == 0 {
				order = append(order, e)
			}
			count[e]++
		}
	}
	next := make([]int32, len(pts))
	for i := range next {
		next[i] = -1
	}
	var starts []int32
	for _, e := range order {
		if count[e] > 0 {
			a, b := int32(e>>32), int32(uint32(e))
			next[a] = b
			starts = append(starts, a)
		}
	}
	return ChainRings(starts, next, pts)
}

// ChainRings follows the boundary edges a → next[a] from each start in
// turn into rings and makes them a MultiPolygon: the outer rings (counter-
// clockwise) largest first, each with the holes (clockwise) it contains.
// It takes next over.
func ChainRings(starts, next []int32, pts []orb.Point) orb.MultiPolygon {
	var outers, inners []orb.Ring
	for _, s := range starts {
		if next[s] < 0 {
			continue
		}
		ring := orb.Ring{pts[s]}
		cur := s
		for {
			n := next[cur]
			if n < 0 {
				break
			}
			next[cur] = -1
			ring = append(ring, pts[n])
			cur = n
			if cur == s {
				break
			}
		}
		if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
			continue
		}
		if geo.RingArea2(ring) > 0 {
			outers = append(outers, ring)
		} else {
			inners = append(inners, ring)
		}
	}
	// Largest outer first so output is stable and the main part leads.
	sort.SliceStable(outers, func(i, j int) bool { return geo.RingArea2(outers[i]) > geo.RingArea2(outers[j]) })
	mp := make(orb.MultiPolygon, len(outers))
	for i, o := range outers {
		mp[i] = orb.Polygon{o}
	}
	for _, h := range inners {
		p := h[0]
		// A hole belongs to the smallest outer ring containing it.
		best, bestA := -1, math.Inf(1)
		for i, o := range outers {
			if a := geo.RingArea2(o); a < bestA && ringContains(o, p[0]+0, p[1]+0, h) {
				best, bestA = i, a
			}
		}
		if best >= 0 {
			mp[best] = append(mp[best], h)
		}
	}
	return mp
}

// ringContains reports whether ring r contains hole h: h's vertices lie
// on or inside r, so test the midpoint of h's first edge nudged inward.
func ringContains(r orb.Ring, x, y float64, h orb.Ring) bool {
	// The centroid of the hole's vertices is strictly inside r when h
	// lies inside r (hex holes are convex enough locally); fall back to
	// testing every vertex for robustness.
	var cx, cy float64
	for _, p := range h[:len(h)-1] {
		cx += p[0]
		cy += p[1]
	}
	n := float64(len(h) - 1)
	return pointInRing(r, cx/n, cy/n) || pointInRing(r, x, y)
}

// pointInRing is the crossing-number test with the half-open rule.
func pointInRing(r orb.Ring, x, y float64) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		xi, yi, xj, yj := r[i][0], r[i][1], r[j][0], r[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

// CellChildren returns the seven children of a hexagonal cell one
// resolution finer (res must be the cell's resolution + 1), without a call
// into H3: a child is the parent with the next digit set to 0–6. A
// pentagon has no child with digit 1; it is left out.
func CellChildren(cell uint64, res int) []uint64 {
	if CellResolution(cell)+1 != res {
		cs := h3.Cell(cell).Children(res)
		out := make([]uint64, len(cs))
		for i, c := range cs {
			out[i] = uint64(c)
		}
		return out
	}
	return CellChildrenInto(make([]uint64, 0, 7), cell)
}

// CellCenterChild returns the child of cell at the centre, one
// resolution finer (digit 0), by bit arithmetic.
func CellCenterChild(cell uint64) uint64 {
	res := CellResolution(cell) + 1
	shift := uint(3 * (15 - res))
	return cell&^(0xF<<52)&^(7<<shift) | uint64(res)<<52
}

// CellChildrenInto appends to out the children of cell one resolution
// finer, as cellChildren.
func CellChildrenInto(out []uint64, cell uint64) []uint64 {
	res := CellResolution(cell) + 1
	shift := uint(3 * (15 - res))
	base := cell&^(0xF<<52)&^(7<<shift) | uint64(res)<<52
	// Only a cell whose digits are all 0 can be a pentagon.
	pr := uint(res - 1)
	pent := cell>>(3*(15-pr))&(1<<(3*pr)-1) == 0 && h3.Cell(cell).IsPentagon()
	for d := uint64(0); d < 7; d++ {
		if d == 1 && pent {
			continue
		}
		out = append(out, base|d<<shift)
	}
	return out
}

// AreaCells returns the cells at resolution res whose centres lie in area
// i and in no finer area (Locate gives i), sorted. It samples the area's
// bounds on a square grid finer than the cells' inscribed circles (so
// every cell that overlaps the bounds holds a sample), takes the cell of
// each sample, and keeps those whose centre Locate puts in i. It is much faster than H3's polygon fill on rings of
// hundreds of vertices, which tests every cell against every edge.
func (ix *Index) AreaCells(i, res int) []uint64 {
	b := ix.prep[i].bound
	// A hexagon's inscribed circle has radius edge·√3/2 ≈ 0.87·edge; a
	// square grid of step d leaves no empty circle wider than d/√2, 0.71·d.
	// A step of 0.9 edges (H3's cells vary in size by a few per cent
	// within a province) keeps a sample in every cell.
	edgeKm := math.Sqrt(2 * h3.CellAreaKm2(h3.Cell(CellAt(b.Center()[0], b.Center()[1], res))) / (3 * math.Sqrt(3)))
	dLat := 0.9 * edgeKm / 110.57
	dLon := dLat / math.Max(0.1, math.Cos(b.Center()[1]*math.Pi/180))
	seen := map[uint64]bool{}
	var out []uint64
	for y := b.Min[1] + dLat/2; y < b.Max[1]; y += dLat {
		for x := b.Min[0] + dLon/2; x < b.Max[0]; x += dLon {
			c := CellAt(x, y, res)
			if seen[c] {
				continue
			}
			seen[c] = true
			if p := CellCenter(c); ix.Locate(p[0], p[1]) == i {
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}
