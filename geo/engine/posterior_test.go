package engine

import (
	"math"
	"testing"
)

func TestBetaCDF(t *testing.T) {
	tests := []struct {
		name       string
		x, a, b, p float64
	}{
		// Values by numerical integration of the Beta density.
		{"uniform", 0.3, 1, 1, 0.3},
		{"symmetric half", 0.5, 7.5, 7.5, 0.5},
		{"Beta(2,5) at 0.2", 0.2, 2, 5, 0.34464},
		{"Beta(0.5,0.5) at 0.1", 0.1, 0.5, 0.5, 0.204833},
		{"Beta(30.5,70.5) at 0.4", 0.4, 30.5, 70.5, 0.980761},
		{"large, continued fraction", 0.3, 3e4, 7e4, 0.500367},
		{"larger, normal approximation", 0.3, 6e4, 14e4, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := betaCDF(tc.x, tc.a, tc.b); math.Abs(got-tc.p) > 5e-4 {
				t.Errorf("betaCDF(%g, %g, %g) = %.6f, want %.6f", tc.x, tc.a, tc.b, got, tc.p)
			}
		})
	}
}

func TestWeakPosterior(t *testing.T) {
	// Many weak reports, bias 4: surely weak; a few weak among many good:
	// surely not; little evidence: uncertain.
	// 95 weak of 100 at bias 4 stand for 23.75 weak places to 5 good:
	// a corrected share of about 0.83.
	sure, lo, hi := weakPosterior(95, 100, 4, 0.4)
	if sure < 0.99 || !(lo < 0.83 && 0.83 < hi) {
		t.Errorf("95 of 100 weak: P %.3f, interval %.2f–%.2f", sure, lo, hi)
	}
	if p, _, _ := weakPosterior(5, 100, 4, 0.4); p > 0.01 {
		t.Errorf("5 of 100 weak: P %.3f, want about 0", p)
	}
	if p, _, _ := weakPosterior(3, 4, 4, 0.4); p < 0.1 || p > 0.9 {
		t.Errorf("3 of 4 weak: P %.3f, want uncertain", p)
	}
	// A higher bias makes the same reports less sure.
	p2, _, _ := weakPosterior(12, 20, 2, 0.4)
	p6, _, _ := weakPosterior(12, 20, 6, 0.4)
	if !(p2 > p6) {
		t.Errorf("bias 2: P %.3f, bias 6: P %.3f; want the first larger", p2, p6)
	}
}
