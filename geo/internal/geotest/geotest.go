// Package geotest holds test fixtures shared by the geo packages: synthetic
// area grids, squares, random observations and the real 2025 commune
// boundaries from ../shared/data. It is imported by tests only.
package geotest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/internal/grid"
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

// GridAreas returns nx × ny areas on a jittered grid (see grid.Areas).
func GridAreas(nx, ny, perSide int, x0, y0, s float64) []geo.Area {
	return grid.Areas(nx, ny, perSide, x0, y0, s)
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
