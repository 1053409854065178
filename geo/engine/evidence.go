package engine

import (
	"math"

	"github.com/gapmap/gapmap/geo"
)

// evidence returns how strongly one observation says that its carrier's
// mobile broadband is unusable at its location (0 = clearly usable, 1 =
// clearly not), and whether it is a biased sample.
//
// A level is converted with the chance that the long-term signal there is
// below the threshold given one noisy measurement (fast fading and phone
// differences, SignalSigmaDB); a fall-back to 2G/3G or no service at all
// is strong evidence; a 4G report with neither level nor speed is weak
// evidence that things are fine, since the phone held 4G.
func evidence(p geo.HoleParams, r geo.Rules, o *geo.Obs) float64 {
	if o.Flags&geo.FlagNoService != 0 || o.Tech == geo.TechNone {
		return 1
	}
	switch o.Tech {
	case geo.Tech2G, geo.Tech3G:
		if r.LegacyIsWeak {
			return p.LegacyEvidence
		}
	}
	if o.HasSignal() {
		t := r.Threshold(o.Tech)
		z := (t - float64(o.SignalDBm)) / p.SignalSigmaDB
		return normCDF(z)
	}
	if d := float64(o.DownMbps); !math.IsNaN(d) {
		min := r.Download4GMinMbps
		if o.Tech == geo.Tech5G {
			min = r.Download5GMinMbps
		}
		if d < min {
			return p.SlowEvidence
		}
		return 1 - p.SlowEvidence
	}
	if o.Tech == geo.TechUnknown {
		return p.UnknownEvidence
	}
	return p.BareBroadbandEvidence
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// Wilson returns the Wilson score interval for k successes in n trials at
// 95% confidence. With n = 0 it returns (0, 1).
func Wilson(k, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	nf := float64(n)
	p := float64(k) / nf
	den := 1 + z*z/nf
	c := p + z*z/(2*nf)
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	lo = (c - h) / den
	hi = (c + h) / den
	return math.Max(0, lo), math.Min(1, hi)
}
