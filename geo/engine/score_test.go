package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestRankSort checks that rankSort, started from any order — sorted,
// nearly sorted, reversed, shuffled — gives the order a stable sort by
// priority then code gives from the areas' own order, ties included.
func TestRankSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 50, 3000} {
		prio := make([]float64, n)
		code := make([]string, n)
		for i := range n {
			prio[i] = float64(rng.IntN(20)) // many ties
			code[i] = fmt.Sprintf("%05d", rng.IntN(max(1, n/2)))
		}
		less := func(x, y int) bool {
			if prio[x] != prio[y] {
				return prio[x] > prio[y]
			}
			if code[x] != code[y] {
				return code[x] < code[y]
			}
			return x < y
		}
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		sort.SliceStable(want, func(i, j int) bool {
			a, b := want[i], want[j]
			if prio[a] != prio[b] {
				return prio[a] > prio[b]
			}
			return code[a] < code[b]
		})
		starts := map[string][]int{"sorted": slices.Clone(want), "reversed": slices.Clone(want), "shuffled": slices.Clone(want), "nearly": slices.Clone(want)}
		slices.Reverse(starts["reversed"])
		rng.Shuffle(n, func(i, j int) { s := starts["shuffled"]; s[i], s[j] = s[j], s[i] })
		for k := 0; k+1 < n; k += 97 {
			s := starts["nearly"]
			s[k], s[k+1] = s[k+1], s[k]
		}
		for name, idx := range starts {
			rankSort(idx, less)
			if !slices.Equal(idx, want) {
				t.Errorf("n=%d, from %s: %v, want %v", n, name, idx[:min(n, 10)], want[:min(n, 10)])
			}
		}
	}
}
