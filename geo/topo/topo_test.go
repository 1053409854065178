package topo

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
	"github.com/gapmap/gapmap/geo/internal/grid"
	"github.com/paulmach/orb"
)

func geoms(areas []geo.Area) []orb.MultiPolygon {
	out := make([]orb.MultiPolygon, len(areas))
	for i := range areas {
		out[i] = areas[i].Geometry
	}
	return out
}

// edges counts each undirected edge of the simplified rings: on a grid
// whose cells tile the plane, an edge is either on the outer boundary
// (once) or shared by two neighbours walking it in opposite directions.
func edges(mps []orb.MultiPolygon) map[[2]orb.Point][]int {
	m := map[[2]orb.Point][]int{}
	for f, mp := range mps {
		for _, p := range mp {
			for _, r := range p {
				for i := 0; i+1 < len(r); i++ {
					a, b := r[i], r[i+1]
					if cmpPoint(a, b) > 0 {
						a, b = b, a
					}
					m[[2]orb.Point{a, b}] = append(m[[2]orb.Point{a, b}], f)
				}
			}
		}
	}
	return m
}

func TestSharedArcsStayShared(t *testing.T) {
	areas := grid.Areas(12, 9, 50, 105.5, 10.5, 0.05)
	top := Build(geoms(areas))
	for _, z := range []int{5, 8, 10, 12, 14} {
		simple := top.Simplify(PixelDegrees(z), Decimals(z))
		if len(simple) != len(areas) {
			t.Fatalf("zoom %d: %d features, want %d", z, len(simple), len(areas))
		}
		var in, out int
		for i := range simple {
			in += len(areas[i].Geometry[0][0])
			out += len(simple[i][0][0])
			if len(simple[i]) != 1 || len(simple[i][0]) != 1 || len(simple[i][0][0]) < 4 {
				t.Fatalf("zoom %d: area %d lost its ring: %v", z, i, simple[i])
			}
		}
		if out >= in {
			t.Errorf("zoom %d: %d points after, %d before", z, out, in)
		}
		// Every edge is used once (outer boundary) or by two different
		// areas: no edge of one neighbour is missing from the other.
		boundary := 0
		for e, fs := range edges(simple) {
			switch {
			case len(fs) == 1:
				boundary++
			case len(fs) == 2 && fs[0] != fs[1]:
			default:
				t.Fatalf("zoom %d: edge %v used by %v", z, e, fs)
			}
		}
		// Every shared arc is the same point sequence in both areas: the
		// boundary between horizontal neighbours (i,j) and (i+1,j).
		for j := range 9 {
			for i := range 11 {
				a, b := simple[j*12+i][0][0], simple[j*12+i+1][0][0]
				sa, sb := sharedRun(a, b), sharedRun(b, a)
				slices.Reverse(sb)
				if len(sa) < 2 || !slices.Equal(sa, sb) {
					t.Fatalf("zoom %d: areas %d,%d share %v and %v", z, j*12+i, j*12+i+1, sa, sb)
				}
			}
		}
		t.Logf("zoom %d: %d → %d points, %d outer edges", z, in, out, boundary)
	}
}

// sharedRun returns the longest run of consecutive points of ring a (in
// a's order, wrapping) that are also points of b.
func sharedRun(a, b orb.Ring) []orb.Point {
	in := map[orb.Point]bool{}
	for _, p := range b {
		in[p] = true
	}
	n := len(a) - 1
	start := 0
	for start < n && in[a[start]] {
		start++
	}
	var best, cur []orb.Point
	for k := 1; k <= n; k++ {
		p := a[(start+k)%n]
		if in[p] {
			cur = append(cur, p)
			if len(cur) > len(best) {
				best = slices.Clone(cur)
			}
		} else {
			cur = cur[:0]
		}
	}
	return best
}

func TestHolesAndMultiPolygons(t *testing.T) {
	// An island filling the hole of the area around it, and an area of
	// two parts.
	sq := func(x0, y0, s float64, n int) orb.Ring {
		var r orb.Ring
		for k := range n {
			r = append(r, orb.Point{x0 + s*float64(k)/float64(n), y0})
		}
		for k := range n {
			r = append(r, orb.Point{x0 + s, y0 + s*float64(k)/float64(n)})
		}
		for k := range n {
			r = append(r, orb.Point{x0 + s - s*float64(k)/float64(n), y0 + s})
		}
		for k := range n {
			r = append(r, orb.Point{x0, y0 + s - s*float64(k)/float64(n)})
		}
		return append(r, r[0])
	}
	hole := sq(105.2, 10.2, 0.2, 20)
	slices.Reverse(hole)
	island := sq(105.2, 10.2, 0.2, 20)
	outer := orb.MultiPolygon{{sq(105, 10, 0.6, 20), hole}}
	two := orb.MultiPolygon{{sq(106, 10, 0.1, 5)}, {sq(106.5, 10, 0.1, 5)}, {sq(106.8, 10, 0.0001, 5)}}
	top := Build([]orb.MultiPolygon{outer, {{island}}, two, nil})
	got := top.Simplify(PixelDegrees(8), Decimals(8))
	if len(got[0]) != 1 || len(got[0][0]) != 2 {
		t.Fatalf("outer: %v", got[0])
	}
	h := slices.Clone(got[0][0][1])
	slices.Reverse(h)
	if !sameRing(h, got[1][0][0]) {
		t.Errorf("hole %v and island %v differ", got[0][0][1], got[1][0][0])
	}
	if len(got[0][0][0]) != 5 || len(got[1][0][0]) != 5 {
		t.Errorf("squares kept %d and %d points, want 5 (corners)", len(got[0][0][0]), len(got[1][0][0]))
	}
	if len(got[2]) != 2 {
		t.Errorf("two parts and a sub-pixel one: %d parts kept, want 2", len(got[2]))
	}
	if got[3] != nil {
		t.Errorf("empty geometry: %v", got[3])
	}
	if len(Build(nil).Simplify(1, 3)) != 0 {
		t.Error("empty layer")
	}
}

// sameRing reports whether a and b are the same closed ring from
// possibly different starts.
func sameRing(a, b orb.Ring) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	n := len(a) - 1
	s := slices.Index(b[:n], a[0])
	if s < 0 {
		return false
	}
	for k := range n {
		if a[k] != b[(s+k)%n] {
			return false
		}
	}
	return true
}

func TestNamesUntouched(t *testing.T) {
	areas := grid.Areas(3, 3, 40, 106, 11, 0.02)
	areas[4].Name = "Ấp Phước Lợi – Xã Hòa Hội"
	simple := Build(geoms(areas)).Simplify(PixelDegrees(9), Decimals(9))
	a := areas[4]
	a.Geometry = simple[4]
	b, err := export.AreaFeature(nil, export.WithID, &geo.AreaScore{Code: a.Code, Name: a.Name, Level: a.Level}, &a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"Ấp Phước Lợi – Xã Hòa Hội"`)) {
		t.Errorf("name changed: %s", b)
	}
}

// BenchmarkProvinceView simplifies 10k grid hamlets of 200 vertices for
// zoom 8 and encodes them as the areas layer does, reporting the bytes of
// the collection plain and gzipped.
func BenchmarkProvinceView(b *testing.B) {
	areas := grid.Areas(100, 100, 50, 102, 8.5, 0.05)
	for _, simplify := range []bool{false, true} {
		name := "full"
		if simplify {
			name = "zoom8"
		}
		b.Run(name, func(b *testing.B) {
			var plain, zipped int
			for b.Loop() {
				mps := geoms(areas)
				if simplify {
					mps = Build(mps).Simplify(PixelDegrees(8), Decimals(8))
				}
				var buf bytes.Buffer
				buf.WriteString(`{"type":"FeatureCollection","features":[`)
				var f []byte
				for i := range areas {
					a := areas[i]
					a.Geometry = mps[i]
					var err error
					f, err = export.AreaFeature(f[:0], export.WithID, &geo.AreaScore{Code: a.Code, Name: a.Name, Level: a.Level}, &a)
					if err != nil {
						b.Fatal(err)
					}
					if i > 0 {
						buf.WriteByte(',')
					}
					buf.WriteByte('\n')
					buf.Write(f)
				}
				buf.WriteString("\n]}\n")
				var z bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
				zw.Write(buf.Bytes())
				zw.Close()
				plain, zipped = buf.Len(), z.Len()
			}
			b.ReportMetric(float64(plain), "bytes/resp")
			b.ReportMetric(float64(zipped), "gzip-bytes/resp")
		})
	}
}

// BenchmarkSimplify10k cuts 10k grid hamlets of 200 vertices into arcs
// and simplifies them for zoom 8, as the first zoomed request of a layer
// version does.
func BenchmarkSimplify10k(b *testing.B) {
	mps := geoms(grid.Areas(100, 100, 50, 102, 8.5, 0.05))
	var arcs int
	for b.Loop() {
		t := Build(mps)
		t.Simplify(PixelDegrees(8), Decimals(8))
		arcs = t.Arcs()
	}
	b.ReportMetric(float64(arcs), "arcs")
}

// BenchmarkBuildAndSimplify times, apart, cutting a grid of hamlets of
// 200 vertices into arcs (once per layer version) and simplifying it for
// zoom 8 (once per zoom); -benchmem gives what each allocates, and
// live-MB is the heap the topology holds.
func BenchmarkBuildAndSimplify(b *testing.B) {
	for _, n := range []int{100, 317} {
		mps := geoms(grid.Areas(n, n, 50, 102, 8.5, 0.05))
		b.Run(fmt.Sprintf("%dk/build", n*n/1000), func(b *testing.B) {
			var live float64
			for b.Loop() {
				runtime.GC()
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				t := Build(mps)
				runtime.GC()
				runtime.ReadMemStats(&m1)
				live = float64(m1.HeapAlloc-m0.HeapAlloc) / 1e6
				runtime.KeepAlive(t)
			}
			b.ReportMetric(live, "live-MB")
		})
		t := Build(mps)
		b.Run(fmt.Sprintf("%dk/simplify8", n*n/1000), func(b *testing.B) {
			for b.Loop() {
				t.Simplify(PixelDegrees(8), Decimals(8))
			}
		})
	}
}
