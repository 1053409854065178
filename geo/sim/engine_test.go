package sim_test

import (
	"context"
	"math"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
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
// province's reports but the last 300, then given those one by one, finds
// the same holes and dead zones as Analyze over all of them.
func TestLiveMatchesAnalyzeOnProvince(t *testing.T) {
	w := defaultWorld(t)
	cfg := geo.DefaultConfig()
	cfg.Holes.EstimateBias = false // the bias is fixed when a Live is built
	const late = 300
	rs := geo.NewReporters()
	n := len(w.Reports) - late
	obs := make([]geo.Obs, n)
	for i := range obs {
		obs[i] = w.Reports[i].ToObs(rs)
	}
	live, err := engine.NewLive(context.Background(), engine.Input{Areas: w.Areas, Obs: obs}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := n; i < len(w.Reports); i++ {
		live.Add(w.Reports[i].ToObs(rs))
	}
	got := live.Result()
	all := make([]geo.Obs, len(w.Reports))
	rs2 := geo.NewReporters()
	for i := range all {
		all[i] = w.Reports[i].ToObs(rs2)
	}
	want, err := engine.Analyze(context.Background(), engine.Input{Areas: w.Areas, Obs: all}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(append([]geo.Carrier{}, geo.Carriers...), geo.CarrierAll) {
		var gk, wk float64
		gn, wn := 0, 0
		for _, h := range got.Holes {
			if h.Carrier == c {
				gk += h.AreaKm2
				gn++
			}
		}
		for _, h := range want.Holes {
			if h.Carrier == c {
				wk += h.AreaKm2
				wn++
			}
		}
		t.Logf("%-12s live %3d holes %7.2f km², batch %3d holes %7.2f km²", c, gn, gk, wn, wk)
		if math.Abs(gk-wk) > 0.01*wk+0.05 || gn != wn {
			t.Errorf("%s: live %d holes %.2f km², batch %d holes %.2f km²", c, gn, gk, wn, wk)
		}
	}
	for i := range want.Areas {
		if got.Areas[i].Reports != want.Areas[i].Reports || math.Abs(got.Areas[i].DeadShare-want.Areas[i].DeadShare) > 1e-6 {
			t.Errorf("area %s: live %d reports dead share %.4f, batch %d %.4f", want.Areas[i].Code,
				got.Areas[i].Reports, got.Areas[i].DeadShare, want.Areas[i].Reports, want.Areas[i].DeadShare)
		}
		for k, wc := range want.Areas[i].Carriers {
			g, w := got.Areas[i].Carriers[k].MedianSignalDBm, wc.MedianSignalDBm
			if g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
				t.Errorf("area %s %s: live median %v dBm, batch %v", want.Areas[i].Code, wc.Carrier, g, w)
			}
		}
	}
}
