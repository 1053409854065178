package sim_test

import (
	"context"
	"testing"

	"github.com/gapmap/gapmap/geo"
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
	res, err := geo.Analyze(context.Background(), geo.Input{Areas: w.Areas, Obs: obs, Reporters: rs, Teams: w.Teams}, geo.DefaultConfig())
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
