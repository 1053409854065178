package index

import (
	"slices"
	"testing"

	"github.com/gapmap/gapmap/geo/internal/geotest"
	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// polygonCells returns the cells at resolution res whose centres lie in
// mp (H3's polygon fill), in no particular order.
func polygonCells(mp orb.MultiPolygon, res int) []uint64 {
	var out []uint64
	loop := func(r orb.Ring) h3.GeoLoop {
		l := make(h3.GeoLoop, 0, len(r))
		for _, p := range r {
			l = append(l, h3.LatLng{Lat: p[1], Lng: p[0]})
		}
		return l
	}
	for _, poly := range mp {
		if len(poly) == 0 || len(poly[0]) < 4 {
			continue
		}
		gp := h3.GeoPolygon{GeoLoop: loop(poly[0])}
		for _, h := range poly[1:] {
			gp.Holes = append(gp.Holes, loop(h))
		}
		for _, c := range h3.PolygonToCells(gp, res) {
			out = append(out, uint64(c))
		}
	}
	return out
}

// TestAreaCells: the cells AreaCells finds by sampling are those H3's
// polygon fill gives (the same centre-in-polygon rule), for areas of
// hundreds of vertices.
func TestAreaCells(t *testing.T) {
	areas := geotest.GridAreas(4, 4, 50, 105.8, 10.2, 0.05)
	ix := New(areas)
	for i := range areas {
		for _, res := range []int{8, 9} {
			got := ix.AreaCells(i, res)
			want := polygonCells(areas[i].Geometry, res)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("area %d res %d: %d cells, H3 fills %d", i, res, len(got), len(want))
			}
		}
	}
}
