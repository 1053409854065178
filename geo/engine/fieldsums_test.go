package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFieldSumsExact adds random evidence to fieldSums and to plain
// hexAccs side by side, from small sums to sums past 48 bits (which move
// into big) and counts past 32 (which saturate), and checks that every
// weak and good sum comes back exact.
func TestFieldSumsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const cells = 64
	var s fieldSums
	s.grow(cells)
	want := make([]hexAcc, cells)
	for range 20000 {
		j := int32(rng.IntN(cells))
		// Mostly one report's evidence at a kernel weight; now and then
		// a cell many times heavier, so some cells pass 48 bits.
		b := hexAcc{weak: rng.Int64N(evidenceScale + 1), n: 1}
		b.good = evidenceScale - b.weak
		w := rng.Int64N(kernelScale) + 1
		if j%8 == 0 {
			w <<= 20
		}
		s.addScaled(j, b, w)
		want[j].addScaled(b, w)
		got := s.get(j)
		if got.weak != want[j].weak || got.good != want[j].good || got.n != min(want[j].n, math.MaxUint32) {
			t.Fatalf("cell %d: got %+v, want %+v", j, got, want[j])
		}
	}
	big := 0
	for j := range int32(cells) {
		if want[j].weak >= sums48 || want[j].good > sums48 {
			big++
			if _, ok := s.big[j]; !ok {
				t.Errorf("cell %d: sums %+v past 48 bits, not in big", j, want[j])
			}
		}
	}
	if big == 0 {
		t.Fatal("no cell passed 48 bits: the test does not reach big")
	}
	if len(s.big) != big {
		t.Errorf("%d cells in big, %d past 48 bits", len(s.big), big)
	}
	// Exactly at the edge: the largest sums 48 bits hold stay packed.
	var e fieldSums
	e.grow(2)
	e.set(0, hexAcc{weak: sums48 - 1, good: sums48, n: math.MaxUint32})
	e.set(1, hexAcc{weak: sums48, good: 0, n: 1})
	if got := e.get(0); got != (hexAcc{weak: sums48 - 1, good: sums48, n: math.MaxUint32}) {
		t.Errorf("edge sums: got %+v", got)
	}
	if _, ok := e.big[0]; ok {
		t.Error("sums that fit 48 bits went into big")
	}
	if got := e.get(1); got != (hexAcc{weak: sums48, good: 0, n: 1}) {
		t.Errorf("weak of all ones: got %+v", got)
	}
}
