package geo

import (
	"fmt"

	"github.com/paulmach/orb"
)

// Errors of a polygon's rings taken together (ValidateMultiPolygon). Both
// match ErrInvalid.
var (
	// ErrHoleOutside is a hole (a ring after the first) that does not lie
	// inside its polygon's outer ring.
	ErrHoleOutside = fmt.Errorf("hole not inside its outer ring: %w", ErrInvalid)
	// ErrRingsCross is two rings of one polygon that cross or run along
	// each other.
	ErrRingsCross = fmt.Errorf("rings of one polygon cross: %w", ErrInvalid)
)

// ringError is a geometry error whose message names the rings and that
// matches one of the errors above.
type ringError struct {
	msg  string
	kind error
}

func (e *ringError) Error() string { return e.msg }
func (e *ringError) Unwrap() error { return e.kind }

// compactRing returns r without its closing position and without
// positions equal to the one before (zero-length edges, common in real
// boundary files), and orig[k], the index in r of the compact ring's edge
// k, so that edges reported are r's. r must be closed.
func compactRing(r orb.Ring) (c []orb.Point, orig []int) {
	c = make([]orb.Point, 0, len(r))
	orig = make([]int, 0, len(r))
	for i := 0; i+1 < len(r); i++ {
		if r[i] == r[i+1] {
			continue
		}
		c = append(c, r[i])
		orig = append(orig, i)
	}
	return c, orig
}

// ringSelfIntersection finds two non-adjacent edges of the closed ring r
// that cross or touch, or two adjacent edges that fold back over each
// other (a spike), returning their indexes in r. It sweeps the ring's
// vertices in O(n log n) (see sweep.go).
//
// Zero-length edges (a position repeated consecutively) are skipped, and
// the edges on either side of one are treated as adjacent. A ring that
// passes through the same vertex twice (a figure 8 pinched at one point)
// is reported: its non-adjacent edges touch.
func ringSelfIntersection(r orb.Ring) (int, int, bool) {
	if len(r) < 4 {
		return 0, 0, false
	}
	c, orig := compactRing(r)
	if len(c) < 3 {
		return 0, 0, false
	}
	s := newSweep(c, []int32{0, int32(len(c))}, false)
	if !s.run() {
		return 0, 0, false
	}
	return orig[s.found.e1], orig[s.found.e2], true
}

// polygonRings checks the rings of p together, each having passed
// ValidateMultiPolygon's checks on its own: holes must lie inside the
// outer ring, and no two rings may cross or run along each other; they may
// touch at points. where prefixes ring names ("polygon 2 " or "").
func polygonRings(p orb.Polygon, where string) error {
	if len(p) < 2 {
		return nil
	}
	var (
		pts   []orb.Point
		first = make([]int32, 0, len(p)+1)
		orig  [][]int
	)
	for _, r := range p {
		c, o := compactRing(r)
		first = append(first, int32(len(pts)))
		pts = append(pts, c...)
		orig = append(orig, o)
	}
	first = append(first, int32(len(pts)))
	s := newSweep(pts, first, true)
	if !s.run() {
		return nil
	}
	f := s.found
	ring := func(k int32) string { return fmt.Sprintf("%sring %d", where, k+1) }
	switch f.kind {
	case foundOutside:
		return &ringError{fmt.Sprintf("%s is a hole that does not lie inside %s, the outer ring", ring(f.r1), ring(0)), ErrHoleOutside}
	case foundCrossAt:
		a, b := max(f.r1, f.r2), min(f.r1, f.r2)
		return &ringError{fmt.Sprintf("%s crosses %s at (%g, %g)", ring(a), ring(b), f.at[0], f.at[1]), ErrRingsCross}
	}
	ra, rb := s.ringOf[f.e1], s.ringOf[f.e2]
	ea, eb := orig[ra][f.e1-first[ra]], orig[rb][f.e2-first[rb]]
	if ra < rb {
		ra, rb, ea, eb = rb, ra, eb, ea
	}
	verb := "crosses"
	if _, overlap := crossOrOverlap(s.pts[f.e1], s.pts[s.next(f.e1)], s.pts[f.e2], s.pts[s.next(f.e2)]); overlap {
		verb = "runs along"
	}
	return &ringError{fmt.Sprintf("%s %s %s (edge %d of ring %d, edge %d of ring %d)", ring(ra), verb, ring(rb), ea+1, ra+1, eb+1, rb+1), ErrRingsCross}
}
