package geo

import (
	"sort"

	"github.com/paulmach/orb"
)

// This file keeps the ring check that the sweep in sweep.go replaced, as
// the oracle the sweep is tested against: it tests every pair of edges
// that overlap in x, which costs O(n²) for a comb whose teeth all span the
// same x range.

// oracleRingSelfIntersection finds two non-adjacent edges of the closed ring r
// that cross or touch, returning their indexes. Edges are swept in order of
// their minimum x so a ring of n edges costs about O(n log n + k) for k
// pairs overlapping in x, which keeps rings of thousands of vertices fast.
//
// Zero-length edges (a position repeated consecutively, common in real
// boundary files) are skipped, and the edges on either side of one are
// treated as adjacent. A ring that passes through the same vertex twice
// (a figure 8 pinched at one point) is still reported: its non-adjacent
// edges touch.
func oracleRingSelfIntersection(r orb.Ring) (int, int, bool) {
	if len(r) < 4 {
		return 0, 0, false
	}
	// c is r without repeated consecutive positions; orig[k] is the index
	// in r of c's edge k, so the edges reported are r's.
	c := make(orb.Ring, 0, len(r))
	orig := make([]int, 0, len(r))
	for i := 0; i+1 < len(r); i++ {
		if r[i] == r[i+1] {
			continue
		}
		c = append(c, r[i])
		orig = append(orig, i)
	}
	n := len(c) // number of edges
	if n < 3 {
		return 0, 0, false
	}
	c = append(c, c[0])
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	minx := func(i int) float64 { return min(c[i][0], c[i+1][0]) }
	maxx := func(i int) float64 { return max(c[i][0], c[i+1][0]) }
	sort.Slice(order, func(a, b int) bool { return minx(order[a]) < minx(order[b]) })
	active := make([]int, 0, 64)
	for _, e := range order {
		x0 := minx(e)
		keep := active[:0]
		for _, a := range active {
			if maxx(a) >= x0 {
				keep = append(keep, a)
			}
		}
		active = keep
		for _, a := range active {
			i, j := a, e
			if i > j {
				i, j = j, i
			}
			if j == i+1 || (i == 0 && j == n-1) {
				// Adjacent edges share a vertex; they only matter if they
				// fold back over each other.
				if collinearOverlap(c, i, j) {
					return orig[i], orig[j], true
				}
				continue
			}
			if segmentsIntersect(c[i], c[i+1], c[j], c[j+1]) {
				return orig[i], orig[j], true
			}
		}
		active = append(active, e)
	}
	return 0, 0, false
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func onSegment(a, b, p orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) &&
		min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

func segmentsIntersect(p1, p2, q1, q2 orb.Point) bool {
	d1 := orient(q1, q2, p1)
	d2 := orient(q1, q2, p2)
	d3 := orient(p1, p2, q1)
	d4 := orient(p1, p2, q2)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(q1, q2, p1)) || (d2 == 0 && onSegment(q1, q2, p2)) ||
		(d3 == 0 && onSegment(p1, p2, q1)) || (d4 == 0 && onSegment(p1, p2, q2))
}

// collinearOverlap reports whether adjacent edges i and j double back on
// each other along one line (a spike).
func collinearOverlap(r orb.Ring, i, j int) bool {
	a, b := r[i], r[i+1]
	c, d := r[j], r[j+1]
	if orient(a, b, c) != 0 || orient(a, b, d) != 0 {
		return false
	}
	// Shared vertex s; the other ends must lie on the same side of s.
	var s, p, q orb.Point
	switch {
	case b == c:
		s, p, q = b, a, d
	case d == a:
		s, p, q = a, b, c
	default:
		return false
	}
	dot := (p[0]-s[0])*(q[0]-s[0]) + (p[1]-s[1])*(q[1]-s[1])
	return dot > 0
}
