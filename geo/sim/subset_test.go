package sim_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/internal/geotest"
	"github.com/gapmap/gapmap/geo/sim"
)

func codes(as []geo.Area) []string {
	out := make([]string, len(as))
	for i := range as {
		out[i] = as[i].Code
	}
	return out
}

// sharesVertex reports whether a and b have a boundary vertex in common
// exactly (the 2025 commune files share their borders' vertices).
func sharesVertex(a, b *geo.Area) bool {
	vs := map[[2]float64]bool{}
	for _, p := range a.Geometry {
		for _, r := range p {
			for _, pt := range r {
				vs[[2]float64{pt[0], pt[1]}] = true
			}
		}
	}
	for _, p := range b.Geometry {
		for _, r := range p {
			for _, pt := range r {
				if vs[[2]float64{pt[0], pt[1]}] {
					return true
				}
			}
		}
	}
	return false
}

// connected reports whether the areas form one piece under sharesVertex.
func connected(as []geo.Area) bool {
	seen := map[int]bool{0: true}
	stack := []int{0}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for j := range as {
			if !seen[j] && sharesVertex(&as[i], &as[j]) {
				seen[j] = true
				stack = append(stack, j)
			}
		}
	}
	return len(seen) == len(as)
}

// TestNearestContiguousPrefersLand: a strip of four touching squares and
// an island just north of the first one, nearer to it by centroid than
// the strip's third square. Three areas are the strip's first three, not
// the island; five take the island too, as the nearest of what is left.
func TestNearestContiguousPrefersLand(t *testing.T) {
	areas := []geo.Area{
		{Code: "strip-0", Geometry: geotest.Square(0, 0, 1, 1)},
		{Code: "island", Geometry: geotest.Square(0, 1.5, 1, 2.5)},
		{Code: "strip-1", Geometry: geotest.Square(1, 0, 2, 1)},
		{Code: "strip-2", Geometry: geotest.Square(2, 0, 3, 1)},
		{Code: "strip-3", Geometry: geotest.Square(3, 0, 4, 1)},
	}
	tests := []struct {
		n    int
		want []string // in the input's order
	}{
		{1, []string{"strip-0"}},
		{2, []string{"strip-0", "strip-1"}},
		{3, []string{"strip-0", "strip-1", "strip-2"}},
		{4, []string{"strip-0", "strip-1", "strip-2", "strip-3"}},
		{5, []string{"strip-0", "island", "strip-1", "strip-2", "strip-3"}},
	}
	for _, tt := range tests {
		got, err := sim.NearestContiguous(areas, tt.n)
		if err != nil {
			t.Fatalf("NearestContiguous(n=%d): %v", tt.n, err)
		}
		if !slices.Equal(codes(got), tt.want) {
			t.Errorf("NearestContiguous(n=%d) = %v, want %v", tt.n, codes(got), tt.want)
		}
	}
	for _, n := range []int{0, -1, len(areas) + 1} {
		_, err := sim.NearestContiguous(areas, n)
		var fe *geo.FieldError
		if !errors.As(err, &fe) || fe.Field != "communes" {
			t.Errorf("NearestContiguous(n=%d): error %v, want a FieldError on communes", n, err)
		}
	}
}

// TestNearestContiguousCommunes takes 30 of the real Tây Ninh communes:
// the first commune of the file and 29 others forming one piece with it,
// the same set again and when the other communes are shuffled.
func TestNearestContiguousCommunes(t *testing.T) {
	all := geotest.ReadCommunes(t, "communes_2025_tay_ninh_80.geojson")
	const n = 30
	got, err := sim.NearestContiguous(all, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d communes, want %d", len(got), n)
	}
	if got[0].Code != all[0].Code {
		t.Errorf("first commune %s, want the file's first, %s", got[0].Code, all[0].Code)
	}
	if !connected(got) {
		t.Errorf("the %d communes %v are not one piece", n, codes(got))
	}
	again, err := sim.NearestContiguous(all, n)
	if err != nil || !slices.Equal(codes(again), codes(got)) {
		t.Errorf("second call gave %v (%v), want %v", codes(again), err, codes(got))
	}
	shuffled := slices.Clone(all)
	rng := rand.New(rand.NewPCG(5, 6))
	rng.Shuffle(len(shuffled)-1, func(i, j int) { shuffled[i+1], shuffled[j+1] = shuffled[j+1], shuffled[i+1] })
	sh, err := sim.NearestContiguous(shuffled, n)
	if err != nil {
		t.Fatal(err)
	}
	a, b := codes(sh), codes(got)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Errorf("with the other communes shuffled: %v, want %v", a, b)
	}
}
