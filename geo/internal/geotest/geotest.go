// Package geotest holds test fixtures shared by the geo packages: synthetic
// area grids, squares, random observations and the real 2025 commune
// boundaries from ../shared/data. It is imported by tests only.
package geotest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Square is the axis-aligned square (x0, y0)–(x1, y1) as a MultiPolygon.
func Square(x0, y0, x1, y1 float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
}

// SharedData returns the shared data folder beside the project root
// (../shared/data), skipping the test when it is absent.
func SharedData(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no go.mod above the test: shared data not found")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "data")
	if _, err := os.Stat(d); err != nil {
		tb.Skipf("real boundary data not available: %v", err)
	}
	return d
}

// GridAreas returns nx × ny areas on a jittered grid of cells of size s
// degrees from (x0, y0), each edge subdivided into perSide segments with
// smooth noise shared by both neighbours, so neighbours share edges
// exactly and each polygon has 4·perSide vertices.
func GridAreas(nx, ny, perSide int, x0, y0, s float64) []geo.Area {
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

// ReadCommunes loads a real 2025 commune file from ../shared/data,
// skipping the test when it is absent.
func ReadCommunes(tb testing.TB, name string) []geo.Area {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(SharedData(tb), "vn-communes-2025", name))
	if err != nil {
		tb.Skipf("real boundary data not available: %v", err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		tb.Fatal(err)
	}
	var areas []geo.Area
	for _, f := range fc.Features {
		a := geo.Area{Code: fmt.Sprint(f.Properties["code"]), Name: fmt.Sprint(f.Properties["name"]), Level: geo.LevelCommune}
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			a.Geometry = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			a.Geometry = g
		}
		if p, ok := f.Properties["population"].(float64); ok {
			a.Population = int64(p)
		}
		areas = append(areas, a)
	}
	return areas
}

// RandomObs returns n observations uniformly spread over bd (fixed seed).
func RandomObs(bd orb.Bound, n int) []geo.Obs {
	rng := rand.New(rand.NewPCG(3, 4))
	obs := make([]geo.Obs, n)
	for i := range obs {
		obs[i] = geo.Obs{Lon: bd.Min[0] + rng.Float64()*(bd.Max[0]-bd.Min[0]), Lat: bd.Min[1] + rng.Float64()*(bd.Max[1]-bd.Min[1]), Area: -1}
	}
	return obs
}
