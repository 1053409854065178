package engine

import (
	"math"
	"testing"
)

func TestWilson(t *testing.T) {
	tests := []struct {
		name   string
		k, n   int
		lo, hi float64
	}{
		// Values from the closed form, checked against statsmodels'
		// proportion_confint(method="wilson").
		{"1 of 1 is not 100%", 1, 1, 0.2065, 1},
		{"0 of 0", 0, 0, 0, 1},
		{"5 of 10", 5, 10, 0.2366, 0.7634},
		{"0 of 20", 0, 20, 0, 0.1611},
		{"90 of 100", 90, 100, 0.8256, 0.9448},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := Wilson(tc.k, tc.n)
			if math.Abs(lo-tc.lo) > 5e-4 || math.Abs(hi-tc.hi) > 5e-4 {
				t.Errorf("Wilson(%d, %d) = (%.4f, %.4f), want (%.4f, %.4f)", tc.k, tc.n, lo, hi, tc.lo, tc.hi)
			}
		})
	}
}
