package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
)

func TestCellIndexKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	obs := make([]geo.Obs, 5000)
	for i := range obs {
		obs[i] = geo.Obs{Lon: 106 + rng.Float64()*0.05, Lat: 10.5 + rng.Float64()*0.05, Carrier: geo.Carriers[rng.IntN(4)]}
	}
	obs[17].Carrier = geo.CarrierAll // not a carrier's own report: left out
	ci, err := newCellIndex(obs, 8, 9)
	if err != nil {
		t.Fatal(err)
	}
	if len(ci.keys) != len(obs)-1 {
		t.Fatalf("keys = %d, want %d", len(ci.keys), len(obs)-1)
	}
	seen := map[int32]bool{}
	for i, k := range ci.keys {
		j := ci.obs(k)
		seen[j] = true
		o := &obs[j]
		if want := index.CellAt(o.Lon, o.Lat, 9); ci.fineCell(k) != want {
			t.Fatalf("key %d: fine cell %x, want %x", i, ci.fineCell(k), want)
		}
		if want := index.CellParent(index.CellAt(o.Lon, o.Lat, 9), 8); ci.coarseCell(k) != want { // the H3 parent, not the res-8 cell of the point
			t.Fatalf("key %d: coarse cell %x, want %x", i, ci.coarseCell(k), want)
		}
		if geo.Carriers[ci.slot(k)] != o.Carrier {
			t.Fatalf("key %d: carrier %v, want %v", i, geo.Carriers[ci.slot(k)], o.Carrier)
		}
		if i > 0 && ci.coarseGroup(k) < ci.coarseGroup(ci.keys[i-1]) {
			t.Fatal("keys not grouped by coarse cell and carrier")
		}
	}
	if seen[17] || len(seen) != len(obs)-1 {
		t.Errorf("observations covered: %d", len(seen))
	}
	// Coarse statistics count every report once.
	stats, _ := ci.coarseStats(obs)
	total := 0
	for _, s := range stats {
		total += s.Reports
		if s.Children < 1 || s.Children > 7 {
			t.Errorf("cell %x: children = %d", s.Cell, s.Children)
		}
	}
	if total != len(obs)-1 {
		t.Errorf("coarse stats count %d reports, want %d", total, len(obs)-1)
	}
}

func TestNewCellInfo(t *testing.T) {
	// One area covering the whole neighbourhood, so every sample is in it.
	sq := orb.Ring{{106, 10}, {107, 10}, {107, 11}, {106, 11}, {106, 10}}
	ix := index.New([]geo.Area{{Code: "A", Geometry: orb.MultiPolygon{{sq}}}})
	for _, res := range []int{8, 9, 10} {
		c := index.CellAt(106.4, 10.5, res)
		inf := newCellInfo(c, ix)
		if want := index.CellAreaKm2(c); math.Abs(inf.km2-want)/want > 0.002 {
			t.Errorf("res %d: area %.6f km², H3 says %.6f", res, inf.km2, want)
		}
		if got := index.CellAt(inf.centre[0], inf.centre[1], res); got != c {
			t.Errorf("res %d: centre %v lies in %s, not %s", res, inf.centre, index.CellString(got), index.CellString(c))
		}
		for k, a := range inf.in {
			if a != 0 {
				t.Errorf("res %d: sample %d in area %d, want 0", res, k, a)
			}
		}
	}
	out := newCellInfo(index.CellAt(105.5, 10.5, 9), ix)
	for k, a := range out.in {
		if a != -1 {
			t.Errorf("cell outside every area: sample %d in area %d, want -1", k, a)
		}
	}
}
