package index

import (
	"math"
	"slices"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/uber/h3-go/v4"
)

func TestCellParentMatchesH3(t *testing.T) {
	pts := []orb.Point{{106.4, 10.5}, {105.1, 9.2}, {-70.1, -33.4}, {0, 0}}
	for _, p := range pts {
		c := CellAt(p[0], p[1], 9)
		for res := 0; res <= 9; res++ {
			want := uint64(h3.Cell(c).Parent(res))
			if got := CellParent(c, res); got != want {
				t.Errorf("CellParent(%s, %d) = %x, want %x", CellString(c), res, got, want)
			}
		}
	}
}

func TestCellsToMultiPolygon(t *testing.T) {
	center := CellAt(106.4, 10.5, 9)
	disk := func(k int) []uint64 {
		var out []uint64
		for _, ring := range CellDisk(center, k) {
			out = append(out, ring...)
		}
		return out
	}
	ring1 := CellDisk(center, 1)[1]
	far := CellAt(106.6, 10.7, 9)
	tests := []struct {
		name       string
		cells      []uint64
		parts      int
		holes      int
		outerVerts int // vertices of the first outer ring (closing one included), 0 = don't check
	}{
		{"one cell", []uint64{center}, 1, 0, 7},
		{"cell and its ring merge into one polygon", disk(1), 1, 0, 19},
		{"ring without centre has a hole", ring1, 1, 1, 19},
		{"two far cells are two parts", []uint64{center, far}, 2, 0, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mp := CellsToMultiPolygon(tc.cells)
			if len(mp) != tc.parts {
				t.Fatalf("parts = %d, want %d", len(mp), tc.parts)
			}
			holes := 0
			for _, p := range mp {
				holes += len(p) - 1
			}
			if holes != tc.holes {
				t.Errorf("holes = %d, want %d", holes, tc.holes)
			}
			if tc.outerVerts > 0 && len(mp[0][0]) != tc.outerVerts {
				t.Errorf("outer ring has %d positions, want %d", len(mp[0][0]), tc.outerVerts)
			}
			if err := geo.ValidateMultiPolygon(mp); err != nil {
				t.Errorf("union is invalid: %v", err)
			}
			// Planar area of the union equals the sum of the cells'.
			var sum float64
			for _, c := range tc.cells {
				sum += planar.Area(orb.Polygon{CellBoundary(c)})
			}
			if got := planar.Area(mp); math.Abs(got-sum) > 1e-9*sum+1e-15 {
				t.Errorf("area of union = %g, want sum of cells %g", got, sum)
			}
			// Outer rings counter-clockwise (positive), holes clockwise.
			for _, p := range mp {
				if geo.RingArea2(p[0]) <= 0 {
					t.Error("outer ring is not counter-clockwise")
				}
				for _, h := range p[1:] {
					if geo.RingArea2(h) >= 0 {
						t.Error("hole ring is not clockwise")
					}
				}
			}
		})
	}
}

func TestCellChildrenMatchesH3(t *testing.T) {
	for _, p := range []orb.Point{{106.4, 10.5}, {105.1, 9.2}, {-70.1, -33.4}} {
		for res := 7; res <= 10; res++ {
			c := CellAt(p[0], p[1], res)
			got := CellChildren(c, res+1)
			want := h3.Cell(c).Children(res + 1)
			if len(got) != len(want) {
				t.Fatalf("%s: %d children, H3 has %d", CellString(c), len(got), len(want))
			}
			for i := range want {
				if got[i] != uint64(want[i]) {
					t.Errorf("%s child %d: %s, H3 says %s", CellString(c), i, CellString(got[i]), want[i])
				}
			}
		}
	}
}

func TestCellNeighboursMatchesCellDisk(t *testing.T) {
	cells := []uint64{CellAt(106.4, 10.5, 10), CellAt(105.1, 9.2, 10), CellAt(-70.1, -33.4, 9)}
	// A pentagon at resolution 10 and a cell beside it.
	pent := uint64(h3.Pentagons(10)[0])
	if !h3.Cell(pent).IsPentagon() {
		t.Fatalf("%s is not a pentagon", CellString(pent))
	}
	cells = append(cells, pent, CellDisk(pent, 1)[1][0])
	for _, c := range cells {
		got := CellNeighbours(nil, c)
		want := CellDisk(c, 1)[1]
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: neighbours %x, CellDisk says %x", CellString(c), got, want)
		}
	}
	if n := len(CellNeighbours(nil, pent)); n != 5 {
		t.Errorf("a pentagon has %d neighbours, want 5", n)
	}
}
