package engine

import "math"

// weakPosterior is how sure the evidence makes a place weak. Of reports
// reports, weak say weak; each weak one counts 1/bias (people with weak
// service report bias times more often), so the corrected share of weak
// service has a Beta(weak/bias + ½, reports − weak + ½) posterior
// (Jeffreys' prior). It returns the probability that the share exceeds
// threshold, and the share's 5% and 95% quantiles.
func weakPosterior(weak, reports int, bias, threshold float64) (prob, p05, p95 float64) {
	if reports <= 0 {
		return 0, 0, 1
	}
	a := float64(weak)/math.Max(bias, 1) + 0.5
	b := float64(reports-weak) + 0.5
	prob = 1 - betaCDF(threshold, a, b)
	return prob, betaQuantile(0.05, a, b), betaQuantile(0.95, a, b)
}

// betaCDF is the regularized incomplete beta function I_x(a, b): the
// Beta(a, b) distribution function, by its continued fraction (Lentz's
// method), with a normal approximation for very large a + b.
func betaCDF(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	if a+b > 1e5 {
		m := a / (a + b)
		sd := math.Sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)))
		return 0.5 * math.Erfc(-(x-m)/(sd*math.Sqrt2))
	}
	lga, _ := math.Lgamma(a)
	lgb, _ := math.Lgamma(b)
	lgab, _ := math.Lgamma(a + b)
	front := math.Exp(lgab - lga - lgb + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaFraction(x, a, b) / a
	}
	return 1 - front*betaFraction(1-x, b, a)/b
}

// betaFraction evaluates the continued fraction of the incomplete beta
// function by Lentz's method: each term aa updates the running
// numerator c and denominator d, and the value h by their ratio.
func betaFraction(x, a, b float64) float64 {
	const tiny = 1e-300
	guard := func(v float64) float64 {
		if math.Abs(v) < tiny {
			return tiny
		}
		return v
	}
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1/guard(1-qab*x/qap)
	h := d
	// step takes term aa and returns the factor it multiplies h by.
	step := func(aa float64) float64 {
		d = 1 / guard(1+aa*d)
		c = guard(1 + aa/c)
		return d * c
	}
	for m := 1; m <= 10000; m++ {
		fm := float64(m)
		m2 := 2 * fm
		h *= step(fm * (b - fm) * x / ((qam + m2) * (a + m2)))
		del := step(-(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2)))
		h *= del
		if math.Abs(del-1) < 1e-13 {
			break
		}
	}
	return h
}

// betaQuantile inverts betaCDF in x by bisection (to 1e-9).
func betaQuantile(p, a, b float64) float64 {
	lo, hi := 0.0, 1.0
	for range 60 {
		mid := (lo + hi) / 2
		if betaCDF(mid, a, b) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
