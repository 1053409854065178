package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gapmap/gapmap/geo"
)

// biasedLevels returns n 4G reports whose levels come from one smooth
// distribution, sent with probability 1 when weak (below −110 dBm) and
// 1/bias otherwise; every fifth sent report is a four-carrier survey kept
// when any carrier is weak.
func biasedLevels(seed uint64, n int, bias float64, surveys bool) []geo.Obs {
	rng := rand.New(rand.NewPCG(seed, 7))
	level := func() float32 { return float32(math.Round(-104 + rng.NormFloat64()*9)) }
	var obs []geo.Obs
	for len(obs) < n {
		at := int64(len(obs))
		if surveys && rng.IntN(5) == 0 {
			var b []geo.Obs
			weak := false
			lon := rng.Float64()
			for _, c := range geo.Carriers {
				o := geo.Obs{Carrier: c, Tech: geo.Tech4G, SignalDBm: level(), DownMbps: float32(math.NaN()), Reporter: 1, At: at, Lon: lon, Lat: 1}
				weak = weak || o.SignalDBm < -110
				b = append(b, o)
			}
			if weak || rng.Float64() < 1/bias {
				obs = append(obs, b...)
			}
			continue
		}
		o := geo.Obs{Carrier: geo.Viettel, Tech: geo.Tech4G, SignalDBm: level(), DownMbps: float32(math.NaN()), Reporter: 2, At: at, Lon: rng.Float64(), Lat: 2}
		if o.SignalDBm < -110 || rng.Float64() < 1/bias {
			obs = append(obs, o)
		}
	}
	return obs
}

func TestJumpBias(t *testing.T) {
	for _, bias := range []float64{2, 4, 6} {
		for _, surveys := range []bool{false, true} {
			obs := biasedLevels(uint64(bias), 40000, bias, surveys)
			e, ok := jumpBias(obs, geo.DefaultRules())
			t.Logf("bias %g, surveys %v: estimate %.2f (%.2f–%.2f) from %d reports", bias, surveys, e.bias, e.low, e.high, e.reports)
			if !ok {
				t.Fatalf("bias %g: no estimate from %d reports", bias, e.reports)
			}
			if math.Abs(e.bias-bias)/bias > 0.2 {
				t.Errorf("bias %g, surveys %v: estimate %.2f, want within 20%%", bias, surveys, e.bias)
			}
			if !(e.low <= e.bias && e.bias <= e.high) || e.high-e.low > bias {
				t.Errorf("bias %g: interval %.2f–%.2f around %.2f", bias, e.low, e.high, e.bias)
			}
		}
	}
	// Unbiased reports: no jump.
	if e, ok := jumpBias(biasedLevels(9, 40000, 1, false), geo.DefaultRules()); !ok || e.bias > 1.25 {
		t.Errorf("no bias: estimate %.2f (%v), want about 1", e.bias, ok)
	}
	// Too few reports near the threshold: no estimate.
	if _, ok := jumpBias(biasedLevels(3, 500, 4, false), geo.DefaultRules()); ok {
		t.Error("500 reports gave an estimate; want none")
	}
}
