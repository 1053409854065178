package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/internal/geotest"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func TestIndexLocate(t *testing.T) {
	// A square commune with a lake (inner ring), a two-part area (an island
	// to the east), and a hamlet inside the commune's north-west corner.
	withLake := orb.MultiPolygon{{
		{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}},
		{{1, 1}, {1, 2}, {2, 2}, {2, 1}, {1, 1}},
	}}
	twoParts := orb.MultiPolygon{
		geotest.Square(5, 0, 6, 1)[0],
		geotest.Square(7, 0, 8, 1)[0],
	}
	areas := []geo.Area{
		{Code: "C1", Level: geo.LevelCommune, Geometry: withLake},
		{Code: "C2", Level: geo.LevelCommune, Geometry: twoParts},
		{Code: "H1", Level: geo.LevelHamlet, Geometry: geotest.Square(0, 3, 1, 4)},
	}
	ix := New(areas)
	tests := []struct {
		name     string
		lon, lat float64
		want     string // "" = outside
	}{
		{"inside commune", 3, 3, "C1"},
		{"in the lake", 1.5, 1.5, ""},
		{"between lake and shore", 0.5, 1.5, "C1"},
		{"in the hamlet, finest level wins", 0.5, 3.5, "H1"},
		{"first part", 5.5, 0.5, "C2"},
		{"second part", 7.5, 0.5, "C2"},
		{"between the parts", 6.5, 0.5, ""},
		{"far away", 100, 10, ""},
		{"south of everything", 3, -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ix.Locate(tc.lon, tc.lat)
			code := ""
			if got >= 0 {
				code = ix.Area(got).Code
			}
			if code != tc.want {
				t.Errorf("Locate(%v, %v) = %q, want %q", tc.lon, tc.lat, code, tc.want)
			}
		})
	}
}

func TestIndexSharedEdges(t *testing.T) {
	// Two neighbours share the edge x = 1 (with a middle vertex) and a third
	// shares the edge y = 1 with both; each point on a shared edge or
	// vertex must belong to exactly one of them.
	west := orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 0.5}, {1, 1}, {0, 1}, {0, 0}}}}
	east := orb.MultiPolygon{{{{1, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 0.5}, {1, 0}}}}
	north := geotest.Square(0, 1, 2, 2)
	areas := []geo.Area{{Code: "W", Geometry: west}, {Code: "E", Geometry: east}, {Code: "N", Geometry: north}}
	ix := New(areas)
	pts := []orb.Point{
		{1, 0.25}, {1, 0.5}, {1, 0.75}, {1, 1}, // on x = 1
		{0.5, 1}, {1.5, 1}, {0.1, 1}, // on y = 1
		{1, 1.5},
	}
	for i := range 100 {
		pts = append(pts, orb.Point{1, float64(i) / 100}, orb.Point{float64(i)/100*2 + 0.001, 1})
	}
	for _, p := range pts {
		n := 0
		for i := range areas {
			if ix.Contains(i, p[0], p[1]) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("point %v is in %d areas, want exactly 1", p, n)
		}
		if ix.Locate(p[0], p[1]) < 0 {
			t.Errorf("point %v not located", p)
		}
	}
}

func TestIndexSameLevelOverlap(t *testing.T) {
	// Overlapping areas of one level: the smallest code wins, whatever the
	// input order.
	areas := []geo.Area{{Code: "B", Geometry: geotest.Square(0, 0, 2, 2)}, {Code: "A", Geometry: geotest.Square(1, 1, 3, 3)}}
	ix := New(areas)
	if got := ix.Area(ix.Locate(1.5, 1.5)).Code; got != "A" {
		t.Errorf("overlap goes to %q, want A", got)
	}
}

func TestIndexEmpty(t *testing.T) {
	ix := New(nil)
	if got := ix.Locate(1, 1); got != -1 {
		t.Errorf("Locate on empty index = %d", got)
	}
	obs := []geo.Obs{{Lon: 1, Lat: 1}}
	ix.Assign(obs)
	if obs[0].Area != -1 {
		t.Errorf("Area = %d, want -1", obs[0].Area)
	}
}

// TestIndexMatchesPlanar compares Locate and Assign with orb's exact
// point-in-polygon test on noisy polygons with thousands of vertices in
// total and random points.
func TestIndexMatchesPlanar(t *testing.T) {
	areas := geotest.GridAreas(12, 9, 40, 106.0, 10.0, 0.02)
	for i := range areas {
		if err := areas[i].Validate(); err != nil {
			t.Fatalf("fixture area %s invalid: %v", areas[i].Code, err)
		}
	}
	checkAgainstPlanar(t, areas, 20000)
}

func TestIndexRealCommunes(t *testing.T) {
	for _, f := range []string{"communes_2025_tay_ninh_80.geojson", "communes_2025_ca_mau_96.geojson"} {
		t.Run(f, func(t *testing.T) {
			areas := geotest.ReadCommunes(t, f)
			checkAgainstPlanar(t, areas, 5000)
		})
	}
}

func checkAgainstPlanar(t *testing.T, areas []geo.Area, n int) {
	t.Helper()
	ix := New(areas)
	b := ix.Bound()
	rng := rand.New(rand.NewPCG(7, 8))
	obs := make([]geo.Obs, n)
	for i := range obs {
		obs[i] = geo.Obs{Lon: b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), Lat: b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
	}
	ix.Assign(obs)
	bounds := make([]orb.Bound, len(areas))
	for j := range areas {
		bounds[j] = areas[j].Geometry.Bound()
	}
	mismatches, inside := 0, 0
	for i := range obs {
		p := orb.Point{obs[i].Lon, obs[i].Lat}
		want := -1
		for j := range areas {
			if bounds[j].Contains(p) && planar.MultiPolygonContains(areas[j].Geometry, p) {
				want = j
				break
			}
		}
		if want >= 0 {
			inside++
		}
		if got := ix.Locate(p[0], p[1]); got != want || int(obs[i].Area) != want {
			mismatches++
			if mismatches < 5 {
				t.Errorf("point %v: Locate %d, Assign %d, planar %d", p, got, obs[i].Area, want)
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d points disagree with planar", mismatches, n)
	}
	if inside == 0 {
		t.Error("no point fell inside any area: the test checks nothing")
	}
}

func TestIndexSearch(t *testing.T) {
	areas := geotest.GridAreas(4, 4, 5, 0, 0, 1)
	ix := New(areas)
	var got []string
	ix.Search(orb.Bound{Min: orb.Point{1.5, 1.5}, Max: orb.Point{1.6, 1.6}}, func(i int) bool {
		got = append(got, ix.Area(i).Code)
		return true
	})
	slices.Sort(got)
	if !slices.Contains(got, "g1-1") {
		t.Errorf("Search around (1.5,1.5) = %v, want it to include g1-1", got)
	}
	if len(got) > 4 {
		t.Errorf("Search returned %d areas for a tiny window", len(got))
	}
}

func TestHilbertAndRadix(t *testing.T) {
	seen := map[uint32]bool{}
	for x := uint32(0); x < 64; x++ {
		for y := uint32(0); y < 64; y++ {
			d := hilbert16(x<<10, y<<10)
			if seen[d] {
				t.Fatalf("hilbert16 not injective at %d,%d", x, y)
			}
			seen[d] = true
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	v := make([]uint64, 10000)
	for i := range v {
		v[i] = uint64(rng.Uint32())<<32 | uint64(i)
	}
	SortHigh(v, 32)
	for i := 1; i < len(v); i++ {
		if v[i]>>32 < v[i-1]>>32 || (v[i]>>32 == v[i-1]>>32 && uint32(v[i]) < uint32(v[i-1])) {
			t.Fatalf("not sorted (stably) at %d", i)
		}
	}
}

// BenchmarkAssign measures assigning random reports to areas, Hilbert
// sort included, at the sizes: 1,000 and 100,000 areas of about
// 200 vertices each, 1M and 10M reports (the largest only without -short).
func BenchmarkAssign(b *testing.B) {
	for _, sz := range []struct{ areas, points int }{{1_000, 1_000_000}, {100_000, 10_000_000}} {
		b.Run(fmt.Sprintf("areas=%d/reports=%d", sz.areas, sz.points), func(b *testing.B) {
			if testing.Short() && sz.points > 1_000_000 {
				b.Skip("large size skipped in -short")
			}
			side := int(math.Sqrt(float64(sz.areas)))
			areas := geotest.GridAreas(side, sz.areas/side, 50, 105.0, 10.0, 1.0/float64(side))
			ix := New(areas)
			obs := geotest.RandomObs(ix.Bound(), sz.points)
			b.ResetTimer()
			for range b.N {
				ix.Assign(obs)
			}
			b.ReportMetric(float64(sz.points)*float64(b.N)/b.Elapsed().Seconds(), "reports/s")
		})
	}
}

// BenchmarkNewIndex measures preparing 100,000 areas of about 200
// vertices.
func BenchmarkNewIndex(b *testing.B) {
	areas := geotest.GridAreas(316, 316, 50, 105.0, 10.0, 1.0/316)
	b.ResetTimer()
	for range b.N {
		New(areas)
	}
	b.ReportMetric(float64(len(areas))*float64(b.N)/b.Elapsed().Seconds(), "areas/s")
}

// TestSortHighMatchesSort checks SortHigh against slices.Sort on keys
// with a rising index in their low bits, for key widths that do and do
// not fill whole passes.
func TestSortHighMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, bits := range []uint{1, 11, 12, 32, 39, 44, 64} {
		for _, n := range []int{0, 100, 5000} {
			v := make([]uint64, n)
			for i := range v {
				if bits == 64 {
					v[i] = rng.Uint64()
					continue
				}
				k := rng.Uint64() >> (64 - bits)
				if i%7 == 0 { // ties
					k = 3 & (1<<bits - 1)
				}
				v[i] = k<<(64-bits) | uint64(i)
			}
			want := slices.Sorted(slices.Values(v))
			SortHigh(v, bits)
			if !slices.Equal(v, want) {
				t.Errorf("%d bits, %d values: not the order slices.Sort gives", bits, n)
			}
		}
	}
}

func TestSharePoints(t *testing.T) {
	t.Run("lake and two parts", func(t *testing.T) {
		checkSharePoints(t, []geo.Area{
			{Code: "C1", Level: geo.LevelCommune, Geometry: orb.MultiPolygon{{
				{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}},
				{{1, 1}, {1, 2}, {2, 2}, {2, 1}, {1, 1}},
			}}},
			{Code: "C2", Level: geo.LevelCommune, Geometry: orb.MultiPolygon{
				geotest.Square(5, 0, 6, 1)[0],
				geotest.Square(7, 0, 8, 1)[0],
			}},
		})
	})
	t.Run("real communes", func(t *testing.T) {
		checkSharePoints(t, geotest.ReadCommunes(t, "communes_2025_ca_mau_96.geojson"))
	})
}

// checkSharePoints checks that SharePoints leaves every geometry as it
// was, that every ring then lies in the index's copy of the points, in
// order, and that the index still locates points as planar does.
func checkSharePoints(t *testing.T, areas []geo.Area) {
	t.Helper()
	want := make([]orb.MultiPolygon, len(areas))
	for i := range areas {
		want[i] = areas[i].Geometry.Clone()
	}
	ix := New(areas)
	ix.SharePoints()
	for i := range areas {
		got := areas[i].Geometry
		if !orb.Equal(got, want[i]) {
			t.Fatalf("area %s: geometry changed", areas[i].Code)
		}
		pts, k := ix.prep[i].pts, 0
		for _, poly := range got {
			for _, ring := range poly {
				if &ring[0] != &pts[k] || cap(ring) != len(ring) {
					t.Fatalf("area %s: a ring does not share the index's points at %d", areas[i].Code, k)
				}
				k += len(ring)
			}
		}
		if k != len(pts) {
			t.Fatalf("area %s: rings cover %d of the index's %d points", areas[i].Code, k, len(pts))
		}
	}
	checkAgainstPlanar(t, areas, 5000)
}
