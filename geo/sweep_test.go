package geo

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// randomRing returns a closed ring of 3 to maxN vertices on a grid of
// size×size points scaled by scale and moved by (dx, dy), with some
// vertices repeated: small grids make touching, collinear and repeated
// positions common, which is where a sweep goes wrong.
func randomRing(rng *rand.Rand, maxN, size int, scale, dx, dy float64) orb.Ring {
	n := 3 + rng.IntN(maxN-2)
	r := make(orb.Ring, 0, n+2)
	for range n {
		p := orb.Point{dx + scale*float64(rng.IntN(size)), dy + scale*float64(rng.IntN(size))}
		r = append(r, p)
		if rng.IntN(8) == 0 {
			r = append(r, p)
		}
	}
	return append(r, r[0])
}

// TestRingSelfIntersectionMatchesOracle compares the sweep with the
// quadratic check it replaced on many random small rings: integer grids
// (exact in floating point, full of degenerate cases), grids scaled by a
// power of two near Vietnam's coordinates, and random real positions.
func TestRingSelfIntersectionMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name            string
		maxN, size      int
		scale, dx, dy   float64
		random          bool
		wantBothVerdict bool
	}{
		{name: "4x4 grid", maxN: 8, size: 4, scale: 1},
		{name: "6x6 grid", maxN: 12, size: 6, scale: 1},
		{name: "3x3 grid long rings", maxN: 16, size: 3, scale: 1},
		{name: "grid of 2^-20 near 106E 10N", maxN: 10, size: 5, scale: 0x1p-20, dx: 106, dy: 10},
		{name: "random positions", maxN: 10, random: true},
	}
	const perCase = 20000
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			valid, invalid := 0, 0
			for range perCase {
				var r orb.Ring
				if tc.random {
					n := 3 + rng.IntN(tc.maxN-2)
					for range n {
						r = append(r, orb.Point{106 + rng.Float64(), 10 + rng.Float64()})
					}
					r = append(r, r[0])
				} else {
					r = randomRing(rng, tc.maxN, tc.size, tc.scale, tc.dx, tc.dy)
				}
				_, _, want := oracleRingSelfIntersection(r)
				i, j, got := ringSelfIntersection(r)
				if got != want {
					t.Fatalf("ring %v: sweep says crossing %v, oracle %v", r, got, want)
				}
				if got {
					invalid++
					// The edges named must really conflict.
					c, orig := compactRing(r)
					ci, cj := slices.Index(orig, i), slices.Index(orig, j)
					s := newSweep(c, []int32{0, int32(len(c))}, false)
					if ci < 0 || cj < 0 || !s.conflict(int32(ci), int32(cj)) {
						t.Fatalf("ring %v: edges %d and %d reported, which do not conflict", r, i+1, j+1)
					}
				} else {
					valid++
				}
			}
			// Both verdicts must be well represented, or the case tests little.
			if valid < perCase/50 || invalid < perCase/50 {
				t.Errorf("%d valid and %d invalid rings: the generator is lopsided", valid, invalid)
			}
		})
	}
}

// comb returns a valid ring of about n vertices shaped like a comb whose
// teeth point east: every tooth spans the same longitudes, so a check
// that tests edges overlapping in x tests every pair.
func comb(n int) orb.Ring {
	teeth := max(1, (n-2)/4)
	const x0, x1, w, y0 = 105.0, 106.0, 0.01, 10.0
	h := 1.0 / float64(2*teeth)
	r := make(orb.Ring, 0, 4*teeth+3)
	for k := range teeth {
		lo, hi := y0+float64(2*k)*h, y0+float64(2*k+1)*h
		if k == 0 {
			r = append(r, orb.Point{x0, lo})
		} else {
			r = append(r, orb.Point{x0 + w, lo})
		}
		r = append(r, orb.Point{x1, lo}, orb.Point{x1, hi}, orb.Point{x0 + w, hi})
	}
	top := r[len(r)-1][1]
	r[len(r)-1] = orb.Point{x0, top}
	return append(r, r[0])
}

func TestCombValid(t *testing.T) {
	for _, n := range []int{10, 1000, 4000} {
		r := comb(n)
		if err := ValidateMultiPolygon(orb.MultiPolygon{{r}}); err != nil {
			t.Fatalf("comb of %d: %v", len(r), err)
		}
		if _, _, bad := oracleRingSelfIntersection(r); bad {
			t.Fatalf("comb of %d: oracle finds a crossing", len(r))
		}
		// A tooth pushed down onto the one below it crosses.
		bent := slices.Clone(r)
		k := 4*(len(r)/8) + 2
		bent[k][1] -= 1.5 * (bent[k][1] - bent[k-1][1]) * 2
		_, _, want := oracleRingSelfIntersection(bent)
		if _, _, got := ringSelfIntersection(bent); !got || !want {
			t.Fatalf("bent comb of %d: sweep %v, oracle %v, want both true", len(r), got, want)
		}
	}
}

// BenchmarkSelfIntersectComb validates comb rings; the oracle (the check
// the sweep replaced) is run at a size it can finish.
func BenchmarkSelfIntersectComb(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		r := comb(n)
		mp := orb.MultiPolygon{{r}}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := ValidateMultiPolygon(mp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	r := comb(10_000)
	b.Run("oracle/n=10000", func(b *testing.B) {
		for b.Loop() {
			if _, _, bad := oracleRingSelfIntersection(r); bad {
				b.Fatal("crossing")
			}
		}
	})
}

// oracleRings is a brute-force statement of polygonRings' rules, over
// every pair of edges and every vertex: crossing is true when two rings
// cross or overlap anywhere, outside when none do and some hole is not
// inside the outer ring. Positions must be small multiples of 1/4 so that
// midpoints and quarter points of edges are exact.
func oracleRings(p orb.Polygon) (crossing, outside bool) {
	type edge struct {
		a, b orb.Point
		ring int
	}
	var edges []edge
	for k, r := range p {
		for i := 0; i+1 < len(r); i++ {
			if r[i] != r[i+1] {
				edges = append(edges, edge{r[i], r[i+1], k})
			}
		}
	}
	orientF := func(a, b, c orb.Point) float64 { return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0]) }
	onEdge := func(e edge, q orb.Point) bool { return orientF(e.a, e.b, q) == 0 && inBox(e.a, e.b, q) }
	for i, e := range edges {
		for _, f := range edges[i+1:] {
			if e.ring == f.ring {
				continue
			}
			d1, d2 := orientF(f.a, f.b, e.a), orientF(f.a, f.b, e.b)
			d3, d4 := orientF(e.a, e.b, f.a), orientF(e.a, e.b, f.b)
			if d1*d2 < 0 && d3*d4 < 0 {
				return true, false
			}
			if d1 == 0 && d2 == 0 && d3 == 0 && d4 == 0 {
				// Collinear: overlapping when some point strictly inside
				// one lies on the other.
				for _, q := range []orb.Point{mid(e.a, e.b), mid(f.a, f.b), e.a, e.b, f.a, f.b} {
					inE := onEdge(e, q) && q != e.a && q != e.b
					inF := onEdge(f, q) && q != f.a && q != f.b
					if (inE && onEdge(f, q)) || (inF && onEdge(e, q)) {
						return true, false
					}
				}
			}
		}
	}
	// Where rings meet at a point, their spokes must not alternate.
	var points []orb.Point
	for _, r := range p {
		points = append(points, r...)
	}
	for _, q := range points {
		type spoke struct {
			ang  float64
			ring int
		}
		var spokes []spoke
		for _, e := range edges {
			switch {
			case e.a == q:
				spokes = append(spokes, spoke{math.Atan2(e.b[1]-q[1], e.b[0]-q[0]), e.ring})
			case e.b == q:
				spokes = append(spokes, spoke{math.Atan2(e.a[1]-q[1], e.a[0]-q[0]), e.ring})
			case onEdge(e, q):
				spokes = append(spokes, spoke{math.Atan2(e.a[1]-q[1], e.a[0]-q[0]), e.ring}, spoke{math.Atan2(e.b[1]-q[1], e.b[0]-q[0]), e.ring})
			}
		}
		for _, a := range spokes {
			for _, b := range spokes {
				if a.ring >= b.ring {
					continue
				}
				var ra, rb []float64
				for _, s := range spokes {
					if s.ring == a.ring {
						ra = append(ra, s.ang)
					}
					if s.ring == b.ring {
						rb = append(rb, s.ang)
					}
				}
				if len(ra) != 2 || len(rb) != 2 {
					continue
				}
				lo, hi := min(ra[0], ra[1]), max(ra[0], ra[1])
				in := 0
				for _, x := range rb {
					if lo < x && x < hi {
						in++
					}
				}
				if in == 1 && !slices.Contains(rb, lo) && !slices.Contains(rb, hi) {
					return true, false
				}
			}
		}
	}
	// No crossings: each hole is inside or outside as a whole; test a
	// point of its boundary that is not on the outer ring.
	shell := p[0]
	onShell := func(q orb.Point) bool {
		for _, e := range edges {
			if e.ring == 0 && onEdge(e, q) {
				return true
			}
		}
		return false
	}
	for _, h := range p[1:] {
		found := false
		for i := 0; i+1 < len(h) && !found; i++ {
			for _, q := range []orb.Point{h[i], mid(h[i], h[i+1]), mid(h[i], mid(h[i], h[i+1]))} {
				if !onShell(q) {
					if !planar.RingContains(shell, q) {
						return false, true
					}
					found = true
					break
				}
			}
		}
	}
	return false, false
}

func mid(a, b orb.Point) orb.Point { return orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2} }

// TestPolygonRingsMatchesOracle compares polygonRings with oracleRings on
// random polygons of an outer ring and one to three holes on small
// grids, where holes often touch, share vertices with, cross and lie
// outside the outer ring.
func TestPolygonRingsMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	simple := func(maxN, size int, dx, dy float64) orb.Ring {
		for {
			r := randomRing(rng, maxN, size, 1, dx, dy)
			if RingArea2(r) == 0 {
				continue
			}
			if _, _, bad := ringSelfIntersection(r); !bad {
				return r
			}
		}
	}
	counts := map[string]int{}
	const n = 30000
	for i := range n {
		// The outer ring: the square (0,0)-(6,6) or a random ring on that
		// grid; holes: random rings on 3×3 grids placed anywhere in it.
		var p orb.Polygon
		if i%2 == 0 {
			p = orb.Polygon{{{0, 0}, {6, 0}, {6, 6}, {0, 6}, {0, 0}}}
		} else {
			p = orb.Polygon{simple(10, 7, 0, 0)}
		}
		for range 1 + rng.IntN(3) {
			p = append(p, simple(6, 3, float64(rng.IntN(6)), float64(rng.IntN(6))))
		}
		crossing, outside := oracleRings(p)
		err := polygonRings(p, "")
		switch {
		case crossing:
			counts["crossing"]++
			if err == nil {
				t.Fatalf("polygon %v: rings cross, polygonRings = nil", p)
			}
		case outside:
			counts["outside"]++
			if !errors.Is(err, ErrHoleOutside) {
				t.Fatalf("polygon %v: a hole is outside, polygonRings = %v", p, err)
			}
		default:
			counts["valid"]++
			if err != nil {
				t.Fatalf("polygon %v: valid, polygonRings = %v", p, err)
			}
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("polygon %v: %v does not match ErrInvalid", p, err)
		}
	}
	t.Logf("%v", counts)
	for _, k := range []string{"crossing", "outside", "valid"} {
		if counts[k] < n/100 {
			t.Errorf("only %d of %d polygons %s: the generator is lopsided (%v)", counts[k], n, k, counts)
		}
	}
}

func TestHoleOutsideShellRefused(t *testing.T) {
	sq := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	shell := sq(106, 10, 107, 11)
	tests := []struct {
		name    string
		mp      orb.MultiPolygon
		want    error  // nil: valid
		message string // substring of the error
	}{
		{"hole inside", orb.MultiPolygon{{shell, sq(106.2, 10.2, 106.4, 10.4)}}, nil, ""},
		{"hole touching the outer ring at a vertex", orb.MultiPolygon{{shell, {{106, 10}, {106.5, 10.2}, {106.2, 10.5}, {106, 10}}}}, nil, ""},
		{"hole touching an outer edge at its vertex", orb.MultiPolygon{{shell, {{106.5, 10}, {106.6, 10.2}, {106.4, 10.2}, {106.5, 10}}}}, nil, ""},
		{"two holes touching", orb.MultiPolygon{{shell, sq(106.2, 10.2, 106.4, 10.4), sq(106.4, 10.4, 106.6, 10.6)}}, nil, ""},
		{"hole outside", orb.MultiPolygon{{shell, sq(108, 10, 108.5, 10.5)}}, ErrHoleOutside, "ring 2 is a hole that does not lie inside ring 1"},
		{"hole around the outer ring", orb.MultiPolygon{{shell, sq(105, 9, 108, 12)}}, ErrHoleOutside, "ring 2 is a hole"},
		{"second part's hole outside", orb.MultiPolygon{{shell}, {sq(100, 10, 101, 11), sq(106.2, 10.2, 106.4, 10.4)}}, ErrHoleOutside, "polygon 2 ring 2 is a hole that does not lie inside polygon 2 ring 1"},
		{"hole crossing the outer ring", orb.MultiPolygon{{shell, sq(106.5, 10.5, 107.5, 10.7)}}, ErrRingsCross, "ring 2 crosses ring 1"},
		{"hole along an outer edge", orb.MultiPolygon{{shell, sq(106.2, 10, 106.4, 10.3)}}, ErrRingsCross, "ring 2 runs along ring 1"},
		{"hole crossing through two outer vertices", orb.MultiPolygon{{shell, {{107, 11}, {107.3, 10.5}, {107, 10}, {106.8, 10.5}, {107, 11}}}}, ErrRingsCross, "ring 2 crosses ring 1 at (107, 10)"},
		{"holes crossing each other", orb.MultiPolygon{{shell, sq(106.2, 10.2, 106.4, 10.4), sq(106.3, 10.3, 106.5, 10.5)}}, ErrRingsCross, "ring 3 crosses ring 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateMultiPolygon(tc.mp)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ValidateMultiPolygon = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("ValidateMultiPolygon = %v, want %v (and ErrInvalid)", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not contain %q", err, tc.message)
			}
		})
	}
}
