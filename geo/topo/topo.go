// Package topo simplifies polygons that share edges so that the shared
// edges stay shared: the boundaries are cut into arcs at the vertices
// where more than two edges meet, each arc is simplified once, and every
// ring is put back together from its simplified arcs. Neighbours then
// keep one common boundary at every tolerance, with no slivers or
// overlaps between them.
package topo

import (
	"cmp"
	"math"

	"github.com/paulmach/orb"
)

// Topology is a set of multipolygons cut into arcs, ready to be
// simplified at any tolerance (see Simplify).
type Topology struct {
	src  []orb.MultiPolygon
	arcs [][]orb.Point // canonical direction, first and last are junctions
	// rings[f][p][r] are the arcs of ring r of polygon p of feature f.
	rings [][][][]arcRef
}

// arcRef is one arc of a ring, walked backwards when rev.
type arcRef struct {
	arc int32
	rev bool
}

// Build cuts the boundaries of polys into arcs. Points are matched
// exactly, as neighbours that share an edge have the same vertices.
func Build(polys []orb.MultiPolygon) *Topology {
	// The distinct neighbours of each vertex: a vertex with other than
	// two is a junction, where arcs start and end.
	type nb struct {
		a, b orb.Point
		n    int8 // distinct neighbours seen, capped at 3
	}
	size := 0
	for _, mp := range polys {
		for _, poly := range mp {
			for _, ring := range poly {
				size += len(ring)
			}
		}
	}
	// Most vertices are on two rings.
	deg := make(map[orb.Point]nb, size/2)
	see := func(p, q orb.Point) {
		v := deg[p]
		switch {
		case v.n == 0:
			v.a, v.n = q, 1
		case v.n == 1 && q != v.a:
			v.b, v.n = q, 2
		case v.n == 2 && q != v.a && q != v.b:
			v.n = 3
		default:
			return
		}
		deg[p] = v
	}
	clean := make([]orb.MultiPolygon, len(polys))
	for f, mp := range polys {
		clean[f] = make(orb.MultiPolygon, len(mp))
		for p, poly := range mp {
			clean[f][p] = make(orb.Polygon, len(poly))
			for r, ring := range poly {
				ring = dedupe(ring)
				clean[f][p][r] = ring
				n := len(ring) - 1 // closed: ring[n] == ring[0]
				for i := 0; i < n; i++ {
					see(ring[i], ring[i+1])
					see(ring[i+1], ring[i])
				}
			}
		}
	}
	junction := func(p orb.Point) bool { return deg[p].n != 2 }
	t := &Topology{src: polys, rings: make([][][][]arcRef, len(polys))}
	byStart := map[[2]orb.Point]int32{} // first two points of an arc
	addArc := func(pts []orb.Point) arcRef {
		rev := less(pts[len(pts)-1], pts[len(pts)-2], pts[0], pts[1])
		k := [2]orb.Point{pts[0], pts[1]}
		if rev {
			k = [2]orb.Point{pts[len(pts)-1], pts[len(pts)-2]}
		}
		if id, ok := byStart[k]; ok {
			return arcRef{id, rev}
		}
		c := make([]orb.Point, len(pts))
		copy(c, pts)
		if rev {
			reverse(c)
		}
		id := int32(len(t.arcs))
		t.arcs = append(t.arcs, c)
		byStart[k] = id
		return arcRef{id, rev}
	}
	for f, mp := range clean {
		t.rings[f] = make([][][]arcRef, len(mp))
		for p, poly := range mp {
			t.rings[f][p] = make([][]arcRef, len(poly))
			for r, ring := range poly {
				if len(ring) < 4 {
					continue
				}
				n := len(ring) - 1
				// Start at a junction; a ring with none (an island, or a
				// hole filled by one neighbour) starts at its least point,
				// which is the same in every ring along it.
				start := -1
				for i := 0; i < n; i++ {
					if junction(ring[i]) {
						start = i
						break
					}
				}
				if start < 0 {
					start = 0
					for i := 1; i < n; i++ {
						if cmpPoint(ring[i], ring[start]) < 0 {
							start = i
						}
					}
				}
				walk := make([]orb.Point, 0, n+1)
				walk = append(walk, ring[start:n]...)
				walk = append(walk, ring[:start+1]...)
				var refs []arcRef
				from := 0
				for i := 1; i < len(walk); i++ {
					if i == len(walk)-1 || junction(walk[i]) {
						refs = append(refs, addArc(walk[from:i+1]))
						from = i
					}
				}
				t.rings[f][p][r] = refs
			}
		}
	}
	return t
}

// Arcs returns how many arcs the boundaries were cut into.
func (t *Topology) Arcs() int { return len(t.arcs) }

// Simplify returns the multipolygons with each arc simplified once by
// Douglas–Peucker with tolerance tol (in the points' units) and its
// points rounded to decimals places (no rounding when decimals < 0).
// Rings whose area falls below tol² are dropped, and a polygon whose
// outer ring is dropped goes with it; a feature all of whose polygons
// would go keeps its largest simplified ring, or its source geometry
// when even that collapses, so no feature loses its geometry.
func (t *Topology) Simplify(tol float64, decimals int) []orb.MultiPolygon {
	simple := make([][]orb.Point, len(t.arcs))
	for i, a := range t.arcs {
		simple[i] = quantise(douglasPeucker(a, tol), decimals)
	}
	out := make([]orb.MultiPolygon, len(t.rings))
	minArea := tol * tol
	for f, mp := range t.rings {
		var res orb.MultiPolygon
		var best orb.Ring
		bestArea := -1.0
		for _, poly := range mp {
			var np orb.Polygon
			for r, refs := range poly {
				if refs == nil {
					continue
				}
				ring := assemble(simple, refs)
				a := math.Abs(ringArea(ring))
				if r == 0 && len(ring) >= 4 && a > bestArea {
					best, bestArea = ring, a
				}
				if len(ring) < 4 || a < minArea {
					if r == 0 {
						break
					}
					continue
				}
				np = append(np, ring)
			}
			if len(np) > 0 {
				res = append(res, np)
			}
		}
		switch {
		case len(res) > 0:
			out[f] = res
		case best != nil:
			out[f] = orb.MultiPolygon{{best}}
		default:
			out[f] = t.src[f]
		}
	}
	return out
}

// assemble joins the simplified arcs of a ring.
func assemble(simple [][]orb.Point, refs []arcRef) orb.Ring {
	var ring orb.Ring
	for _, ref := range refs {
		a := simple[ref.arc]
		for k := range a {
			i := k
			if ref.rev {
				i = len(a) - 1 - k
			}
			if len(ring) > 0 && ring[len(ring)-1] == a[i] {
				continue
			}
			ring = append(ring, a[i])
		}
	}
	return ring
}

// douglasPeucker keeps the end points of pts and, recursively, the point
// farthest from the segment between them while it is farther than tol.
func douglasPeucker(pts []orb.Point, tol float64) []orb.Point {
	if len(pts) <= 2 {
		return pts
	}
	keep := make([]bool, len(pts))
	keep[0], keep[len(pts)-1] = true, true
	type span struct{ i, j int }
	stack := []span{{0, len(pts) - 1}}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		far, dmax := -1, tol
		for k := s.i + 1; k < s.j; k++ {
			if d := segDist(pts[k], pts[s.i], pts[s.j]); d > dmax {
				far, dmax = k, d
			}
		}
		if far >= 0 {
			keep[far] = true
			stack = append(stack, span{s.i, far}, span{far, s.j})
		}
	}
	out := make([]orb.Point, 0, 8)
	for i, k := range keep {
		if k {
			out = append(out, pts[i])
		}
	}
	return out
}

// segDist is the distance from p to the segment a–b.
func segDist(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	if dx == 0 && dy == 0 {
		return math.Hypot(p[0]-a[0], p[1]-a[1])
	}
	u := ((p[0]-a[0])*dx + (p[1]-a[1])*dy) / (dx*dx + dy*dy)
	u = max(0, min(1, u))
	return math.Hypot(p[0]-a[0]-u*dx, p[1]-a[1]-u*dy)
}

// quantise rounds pts to decimals places, dropping repeated points.
func quantise(pts []orb.Point, decimals int) []orb.Point {
	if decimals < 0 {
		return pts
	}
	m := math.Pow10(decimals)
	out := make([]orb.Point, 0, len(pts))
	for _, p := range pts {
		q := orb.Point{math.Round(p[0]*m) / m, math.Round(p[1]*m) / m}
		if len(out) > 0 && out[len(out)-1] == q {
			continue
		}
		out = append(out, q)
	}
	return out
}

// ringArea is the signed shoelace area of a closed ring.
func ringArea(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s / 2
}

// dedupe returns r without repeated consecutive points, closed.
func dedupe(r orb.Ring) orb.Ring {
	if len(r) == 0 {
		return r
	}
	out := make(orb.Ring, 0, len(r)+1)
	for _, p := range r {
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	if out[0] != out[len(out)-1] {
		out = append(out, out[0])
	}
	return out
}

func cmpPoint(a, b orb.Point) int {
	return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
}

// less orders arcs by first point, then second: an arc and its reverse
// have one canonical direction.
func less(a0, a1, b0, b1 orb.Point) bool {
	if c := cmpPoint(a0, b0); c != 0 {
		return c < 0
	}
	return cmpPoint(a1, b1) < 0
}

func reverse(pts []orb.Point) {
	for i, j := 0, len(pts)-1; i < j; i, j = i+1, j-1 {
		pts[i], pts[j] = pts[j], pts[i]
	}
}

// PixelDegrees is the size of one pixel of a 256-pixel web-map tile at
// zoom z, in degrees of longitude.
func PixelDegrees(z int) float64 { return 360 / (256 * math.Exp2(float64(z))) }

// Decimals is how many decimal places of a degree keep points within a
// quarter of a pixel at zoom z.
func Decimals(z int) int {
	return max(0, min(7, int(math.Ceil(math.Log10(4/PixelDegrees(z))))))
}
