// Package grid generates areas on a jittered grid whose neighbours share
// their winding edges exactly: test fixtures and national-scale synthetic
// data.
package grid

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// Areas returns nx × ny areas on a jittered grid of cells of size s
// degrees from (x0, y0), each edge subdivided into perSide segments with
// smooth noise shared by both neighbours, so neighbours share edges
// exactly and each polygon has 4·perSide vertices.
func Areas(nx, ny, perSide int, x0, y0, s float64) []geo.Area {
	corner := func(i, j int) orb.Point {
		r := rand.New(rand.NewPCG(uint64(i)*7919+11, uint64(j)*104729+13))
		return orb.Point{x0 + (float64(i)+(r.Float64()-0.5)*0.2)*s, y0 + (float64(j)+(r.Float64()-0.5)*0.2)*s}
	}
	// edge returns the points from a to b (exclusive of b), canonical
	// direction, offset perpendicular by a tapered smooth noise.
	edge := func(key uint64, a, b orb.Point) []orb.Point {
		r := rand.New(rand.NewPCG(key, 99))
		amp1, amp2 := (r.Float64()-0.5)*0.2*s, (r.Float64()-0.5)*0.08*s
		ph := r.Float64() * 2 * math.Pi
		dx, dy := b[0]-a[0], b[1]-a[1]
		l := math.Hypot(dx, dy)
		nxv, nyv := -dy/l, dx/l
		pts := make([]orb.Point, 0, perSide)
		for k := range perSide {
			u := float64(k) / float64(perSide)
			off := math.Sin(math.Pi*u) * (amp1 + amp2*math.Sin(4*math.Pi*u+ph))
			pts = append(pts, orb.Point{a[0] + u*dx + off*nxv, a[1] + u*dy + off*nyv})
		}
		return pts
	}
	hEdge := func(i, j int) []orb.Point { // corner(i,j) → corner(i+1,j)
		return edge(uint64(i)<<32|uint64(j)<<1, corner(i, j), corner(i+1, j))
	}
	vEdge := func(i, j int) []orb.Point { // corner(i,j) → corner(i,j+1)
		return edge(uint64(i)<<32|uint64(j)<<1|1, corner(i, j), corner(i, j+1))
	}
	reversed := func(pts []orb.Point, end orb.Point) []orb.Point {
		// pts runs start→end (exclusive of end); return end→start exclusive
		// of start.
		out := []orb.Point{end}
		for k := len(pts) - 1; k >= 1; k-- {
			out = append(out, pts[k])
		}
		return out
	}
	var areas []geo.Area
	for j := range ny {
		for i := range nx {
			var ring orb.Ring
			ring = append(ring, hEdge(i, j)...)
			ring = append(ring, vEdge(i+1, j)...)
			ring = append(ring, reversed(hEdge(i, j+1), corner(i+1, j+1))...)
			ring = append(ring, reversed(vEdge(i, j), corner(i, j+1))...)
			ring = append(ring, ring[0])
			areas = append(areas, geo.Area{
				Code: fmt.Sprintf("g%d-%d", i, j), Name: fmt.Sprintf("Ấp %d-%d", i, j),
				Level: geo.LevelHamlet, Population: 1000, Geometry: orb.MultiPolygon{{ring}},
			})
		}
	}
	return areas
}
