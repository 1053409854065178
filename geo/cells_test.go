package geo

import (
	"math/rand/v2"
	"testing"
)

func TestCellIndexKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	obs := make([]Obs, 5000)
	for i := range obs {
		obs[i] = Obs{Lon: 106 + rng.Float64()*0.05, Lat: 10.5 + rng.Float64()*0.05, Carrier: Carriers[rng.IntN(4)]}
	}
	obs[17].Carrier = CarrierAll // not a carrier's own report: left out
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
		if want := CellAt(o.Lon, o.Lat, 9); ci.fineCell(k) != want {
			t.Fatalf("key %d: fine cell %x, want %x", i, ci.fineCell(k), want)
		}
		if want := CellParent(CellAt(o.Lon, o.Lat, 9), 8); ci.coarseCell(k) != want { // the H3 parent, not the res-8 cell of the point
			t.Fatalf("key %d: coarse cell %x, want %x", i, ci.coarseCell(k), want)
		}
		if Carriers[ci.slot(k)] != o.Carrier {
			t.Fatalf("key %d: carrier %v, want %v", i, Carriers[ci.slot(k)], o.Carrier)
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
