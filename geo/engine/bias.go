package engine

import (
	"math"

	"github.com/gapmap/gapmap/geo"
)

// How the report bias is estimated without drive tests: from the jump in
// the number of reports at the weak-signal threshold.
//
// People report more often when their phone shows weak service: a level
// just below the 4G threshold (−110 dBm) is weak, one just above is not,
// and the places where these two levels are read are alike. So without
// the bias the number of reports per dBm would run smoothly through the
// threshold; with it, the count jumps by the bias factor as the level
// crosses below. jumpBias fits, by Poisson maximum likelihood, a count per
// 1-dB bin within jumpHalfWidthDB of the threshold that follows one smooth
// curve (log-quadratic in the level) on both sides, times the bias below,
// and reads the bias and its 95% interval off the fit (a regression
// discontinuity). Only single reports with a 4G/5G level count: not drive
// tests (sampled without regard to service), not reports of several
// carriers from one spot and moment (a dual-SIM survey is sent when any of
// its carriers is weak, which blurs each carrier's jump), not reports with
// no service or a slow speed test (weak whatever the level).
const (
	jumpHalfWidthDB = 6
	jumpMinReports  = 1000
)

// biasEstimate is a report-bias estimate and what it rests on.
type biasEstimate struct {
	bias, low, high float64
	reports         int
}

// jumpBias estimates the report bias from obs, in the order received (see
// above); ok is false when too few reports have a level near the
// threshold.
func jumpBias(obs []geo.Obs, r geo.Rules) (est biasEstimate, ok bool) {
	thr := r.Threshold(geo.Tech4G)
	// Reports sent together (a survey) share their reporter, time and
	// place, and come one after another as sent: obs must be in the order
	// received.
	near := func(o *geo.Obs) bool {
		if o.Source == geo.SourceDriveTest || o.Flags&geo.FlagNoService != 0 || !o.HasSignal() {
			return false
		}
		if o.Tech != geo.Tech4G && o.Tech != geo.Tech5G && o.Tech != geo.TechUnknown {
			return false
		}
		x := float64(o.SignalDBm) - thr
		return x >= -jumpHalfWidthDB && x < jumpHalfWidthDB
	}
	same := func(a, b *geo.Obs) bool {
		return a.Reporter == b.Reporter && a.At == b.At && a.Lon == b.Lon && a.Lat == b.Lat
	}
	const bins = 2 * jumpHalfWidthDB
	var count [bins]float64
	n := 0
	for i := range obs {
		o := &obs[i]
		if !near(o) || i > 0 && same(o, &obs[i-1]) || i+1 < len(obs) && same(o, &obs[i+1]) {
			continue
		}
		if d := float64(o.DownMbps); !math.IsNaN(d) && d < r.Download4GMinMbps {
			continue
		}
		b := int(math.Floor(float64(o.SignalDBm)-thr)) + jumpHalfWidthDB
		if b >= 0 && b < bins {
			count[b]++
			n++
		}
	}
	below, above := 0.0, 0.0
	for b, c := range count {
		if b < jumpHalfWidthDB {
			below += c
		} else {
			above += c
		}
	}
	if n < jumpMinReports || below < 100 || above < 100 {
		return biasEstimate{reports: n}, false
	}
	// Poisson regression log μ_b = β0 + β1·x + β2·x² + β3·[x < 0] by
	// Newton's method, x the bin's centre in dB from the threshold (scaled
	// by the half-width to keep the system well conditioned).
	var beta [4]float64
	beta[0] = math.Log(float64(n) / bins)
	var info [4][4]float64
	for range 50 {
		var grad [4]float64
		info = [4][4]float64{}
		for b, y := range count {
			x := (float64(b-jumpHalfWidthDB) + 0.5) / jumpHalfWidthDB
			f := [4]float64{1, x, x * x, 0}
			if b < jumpHalfWidthDB {
				f[3] = 1
			}
			mu := math.Exp(beta[0] + beta[1]*f[1] + beta[2]*f[2] + beta[3]*f[3])
			for i := range 4 {
				grad[i] += (y - mu) * f[i]
				for j := range 4 {
					info[i][j] += mu * f[i] * f[j]
				}
			}
		}
		step, ok := solve4(info, grad)
		if !ok {
			return biasEstimate{reports: n}, false
		}
		done := true
		for i := range 4 {
			beta[i] += step[i]
			done = done && math.Abs(step[i]) < 1e-10
		}
		if done {
			break
		}
	}
	// The variance of β3 is the last diagonal entry of the inverse of the
	// information matrix.
	e3, ok := solve4(info, [4]float64{0, 0, 0, 1})
	if !ok || !(e3[3] > 0) {
		return biasEstimate{reports: n}, false
	}
	se := math.Sqrt(e3[3])
	clampBias := func(v float64) float64 { return math.Min(20, math.Max(1, v)) }
	return biasEstimate{
		bias:    clampBias(math.Exp(beta[3])),
		low:     clampBias(math.Exp(beta[3] - 1.96*se)),
		high:    clampBias(math.Exp(beta[3] + 1.96*se)),
		reports: n,
	}, true
}

// solve4 solves a·x = b by Gaussian elimination with partial pivoting.
func solve4(a [4][4]float64, b [4]float64) ([4]float64, bool) {
	for i := range 4 {
		p := i
		for r := i + 1; r < 4; r++ {
			if math.Abs(a[r][i]) > math.Abs(a[p][i]) {
				p = r
			}
		}
		if a[p][i] == 0 {
			return b, false
		}
		a[i], a[p] = a[p], a[i]
		b[i], b[p] = b[p], b[i]
		for r := range 4 {
			if r == i {
				continue
			}
			f := a[r][i] / a[i][i]
			for k := i; k < 4; k++ {
				a[r][k] -= f * a[i][k]
			}
			b[r] -= f * b[i]
		}
	}
	var x [4]float64
	for i := range 4 {
		x[i] = b[i] / a[i][i]
	}
	return x, true
}

// biasOf is the report bias for carrier car's evidence (for CarrierAll,
// the mean over the carriers).
func (f *hexField) biasOf(car geo.Carrier) float64 {
	if s := carrierSlot(car); s >= 0 {
		return f.bias[s]
	}
	sum := 0.0
	for _, b := range f.bias {
		sum += b
	}
	return sum / nCarriers
}
