package api

import (
	"math"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// pointIndex finds the reports of a reports collection that lie in a
// window. The reports are points the collection already holds (its obs),
// so the index holds only their positions, sorted by the cell of a grid
// over their extent, and where each cell's run begins: about 4.5 bytes a
// report, where an R-tree of the points took about 230. A window's cells
// in one row are one run of the array. The index covers the first n
// reports; those appended since (at most a few percent, see stale) are
// scanned. It is not modified once built, so successive collections
// share it.
type pointIndex struct {
	n      int
	bound  orb.Bound
	nx, ny int
	// sx, sy are the cells per degree.
	sx, sy float64
	// start[c] is the position in pos of cell c's first report
	// (row-major cells, start[nx*ny] = n).
	start []uint32
	pos   []int32
}

// pointsPerCell is the mean number of reports in a cell of the grid.
const pointsPerCell = 8

// newPointIndex indexes the reports obs.
func newPointIndex(obs []geo.Obs) *pointIndex {
	p := &pointIndex{n: len(obs), nx: 1, ny: 1}
	if len(obs) == 0 {
		p.start = []uint32{0, 0}
		return p
	}
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for i := range obs {
		o := &obs[i]
		b.Min[0], b.Max[0] = min(b.Min[0], o.Lon), max(b.Max[0], o.Lon)
		b.Min[1], b.Max[1] = min(b.Min[1], o.Lat), max(b.Max[1], o.Lat)
	}
	p.bound = b
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	cells := float64(max(1, len(obs)/pointsPerCell))
	switch {
	case w > 0 && h > 0:
		p.nx = int(min(max(1, math.Round(math.Sqrt(cells*w/h))), cells))
		p.ny = int(max(1, math.Round(cells/float64(p.nx))))
	case w > 0:
		p.nx = int(cells)
	case h > 0:
		p.ny = int(cells)
	}
	if w > 0 {
		p.sx = float64(p.nx) / w
	}
	if h > 0 {
		p.sy = float64(p.ny) / h
	}
	// A counting sort by cell: positions stay in order within a cell.
	cell := make([]uint32, len(obs))
	p.start = make([]uint32, p.nx*p.ny+1)
	for i := range obs {
		c := p.cellOf(obs[i].Lon, obs[i].Lat)
		cell[i] = uint32(c)
		p.start[c+1]++
	}
	for c := 1; c < len(p.start); c++ {
		p.start[c] += p.start[c-1]
	}
	next := make([]uint32, len(p.start)-1)
	copy(next, p.start)
	p.pos = make([]int32, len(obs))
	for i, c := range cell {
		p.pos[next[c]] = int32(i)
		next[c]++
	}
	return p
}

// column returns the grid column (or, with the latitude's origin and
// scale, row) of coordinate v, clamped to the grid. It does not decrease
// as v grows, so the cells of a window's corners bound those of every
// point in it.
func column(v, origin, scale float64, n int) int {
	f := (v - origin) * scale
	switch {
	case !(f >= 0): // below the grid, or NaN
		return 0
	case f >= float64(n):
		return n - 1
	}
	return int(f)
}

func (p *pointIndex) cellOf(lon, lat float64) int {
	return column(lat, p.bound.Min[1], p.sy, p.ny)*p.nx + column(lon, p.bound.Min[0], p.sx, p.nx)
}

// touches reports whether point (lon, lat) is in b, edges included, as
// an R-tree tests a point's bounds against a window.
func touches(b orb.Bound, lon, lat float64) bool {
	return !(b.Min[0] > lon || b.Max[0] < lon || b.Min[1] > lat || b.Max[1] < lat)
}

// within appends to cand the positions of the reports of obs (which begin
// with those indexed) in b, edges included: by cell, then in order, and
// those past the index last.
func (p *pointIndex) within(cand []int32, obs []geo.Obs, b orb.Bound) []int32 {
	n := min(p.n, len(obs))
	if n > 0 && p.bound.Intersects(b) {
		x0 := column(b.Min[0], p.bound.Min[0], p.sx, p.nx)
		x1 := column(b.Max[0], p.bound.Min[0], p.sx, p.nx)
		y0 := column(b.Min[1], p.bound.Min[1], p.sy, p.ny)
		y1 := column(b.Max[1], p.bound.Min[1], p.sy, p.ny)
		for y := y0; y <= y1; y++ {
			row := y * p.nx
			for _, i := range p.pos[p.start[row+x0]:p.start[row+x1+1]] {
				if int(i) < n {
					if o := &obs[i]; touches(b, o.Lon, o.Lat) {
						cand = append(cand, i)
					}
				}
			}
		}
	}
	for i := n; i < len(obs); i++ {
		if o := &obs[i]; touches(b, o.Lon, o.Lat) {
			cand = append(cand, int32(i))
		}
	}
	return cand
}

// stale reports whether the index should be built again for m reports:
// when those past it, scanned by every window, are more than a thirty-
// second of them (and a few thousand), so that building it again costs a
// constant per report appended.
func (p *pointIndex) stale(m int) bool {
	return m-p.n > 4096+p.n/32
}
