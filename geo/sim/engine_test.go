package sim_test

import (
	"context"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
	"github.com/gapmap/gapmap/geo/internal/geotest"
	"github.com/gapmap/gapmap/geo/sim"
	"github.com/paulmach/orb"
)

// detect runs the engine with its defaults on a world's reports and
// returns its holes by carrier.
func detect(t *testing.T, w *sim.World) map[geo.Carrier][]orb.MultiPolygon {
	t.Helper()
	rs := geo.NewReporters()
	obs := make([]geo.Obs, len(w.Reports))
	for i := range w.Reports {
		obs[i] = w.Reports[i].ToObs(rs)
	}
	res, err := engine.Analyze(context.Background(), engine.Input{Areas: w.Areas, Obs: obs, Reporters: rs, Teams: w.Teams}, geo.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	out := map[geo.Carrier][]orb.MultiPolygon{}
	for _, h := range res.Holes {
		out[h.Carrier] = append(out[h.Carrier], h.Geometry)
	}
	return out
}

// TestEngineAccuracy pins the engine's hole accuracy on the default
// synthetic province (60,000 reports): F1 at least the floors measured
// when the method was tuned, less a margin, and better than the naive
// per-cell weak-share baseline for every carrier and for dead zones.
func TestEngineAccuracy(t *testing.T) {
	w := defaultWorld(t)
	got := sim.Evaluate(w.Truth, detect(t, w))
	naive := sim.Evaluate(w.Truth, sim.NaiveHoles(w.Reports, geo.DefaultRules(), 8, 5, 0.6))
	floor := map[geo.Carrier]float64{
		geo.Viettel: 0.62, geo.VinaPhone: 0.72, geo.MobiFone: 0.74, geo.Vietnamobile: 0.76, geo.CarrierAll: 0.55,
	}
	for i, s := range got {
		t.Logf("%-12s precision %.3f recall %.3f F1 %.3f (naive F1 %.3f)", s.Carrier, s.Precision, s.Recall, s.F1, naive[i].F1)
		if s.F1 < floor[s.Carrier] {
			t.Errorf("%s: F1 %.3f, want at least %.2f", s.Carrier, s.F1, floor[s.Carrier])
		}
		if s.F1 <= naive[i].F1 {
			t.Errorf("%s: F1 %.3f does not beat the naive baseline's %.3f", s.Carrier, s.F1, naive[i].F1)
		}
	}
}

// TestLiveMatchesAnalyzeOnProvince: a Live built from the simulated
// province's reports but the last 300, then given those one by one, holds
// exactly the analysis Analyze makes of all of them: the same holes and
// dead zones cell for cell, outline for outline, and the same area
// scores, to the last bit.
func TestLiveMatchesAnalyzeOnProvince(t *testing.T) {
	liveMatchesAnalyze(t, defaultWorld(t), 300)
}

// TestLiveMatchesAnalyzeOnCommunes is the same over real 2025 communes
// (the first 25 of Tây Ninh), skipped when ../shared is absent.
func TestLiveMatchesAnalyzeOnCommunes(t *testing.T) {
	areas := geotest.ReadCommunes(t, "communes_2025_tay_ninh_80.geojson")
	w, err := sim.Generate(sim.Options{Seed: 3, Areas: areas[:min(25, len(areas))], Reports: 20000})
	if err != nil {
		t.Fatal(err)
	}
	liveMatchesAnalyze(t, w, 300)
}

func liveMatchesAnalyze(t *testing.T, w *sim.World, late int) {
	t.Helper()
	cfg := geo.DefaultConfig()
	cfg.Holes.EstimateBias = false // the bias is fixed when a Live is built
	rs := geo.NewReporters()
	n := len(w.Reports) - late
	obs := make([]geo.Obs, n)
	for i := range obs {
		obs[i] = w.Reports[i].ToObs(rs)
	}
	live, err := engine.NewLive(context.Background(), engine.Input{Areas: w.Areas, Obs: obs, Teams: w.Teams}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := n; i < len(w.Reports); i++ {
		live.Add(w.Reports[i].ToObs(rs))
		if i%50 == 0 {
			live.Result()
		}
	}
	got := live.ResultWithOutlines()
	all := make([]geo.Obs, len(w.Reports))
	rs2 := geo.NewReporters()
	for i := range all {
		all[i] = w.Reports[i].ToObs(rs2)
	}
	want, err := engine.Analyze(context.Background(), engine.Input{Areas: w.Areas, Obs: all, Teams: w.Teams}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	holes := map[geo.Carrier]int{}
	for _, h := range want.Holes {
		holes[h.Carrier]++
	}
	t.Logf("%d areas, %d reports, holes by carrier: %v", len(w.Areas), len(w.Reports), holes)
	if len(want.Holes) == 0 {
		t.Fatal("no holes: the test world should have some")
	}
	for _, d := range geotest.DiffResults(got, want, false, 10) {
		t.Error(d)
	}
}
