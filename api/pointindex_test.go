package api

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// TestPointIndexMatchesScan: the reports' point index finds, for random
// windows (small, wide, outside, degenerate, on reports), the reports a
// scan finds and those an R-tree of their points does, with reports
// appended past the index.
func TestPointIndexMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 100, 5000} {
		obs := make([]geo.Obs, 0, n+n/3+3)
		for i := range n + n/3 + 3 {
			var o geo.Obs
			switch i % 4 {
			case 0: // clustered
				o.Lon, o.Lat = 106+r.NormFloat64()*0.01, 10.5+r.NormFloat64()*0.01
			case 1: // on a coarse lattice, so that reports share places and edges
				o.Lon, o.Lat = 105.5+float64(r.IntN(20))*0.05, 10+float64(r.IntN(20))*0.05
			default:
				o.Lon, o.Lat = 105.5+r.Float64(), 10+r.Float64()
			}
			obs = append(obs, o)
		}
		p := newPointIndex(obs[:n])
		var tree rtree.RTreeG[int32]
		for i := range obs {
			tree.Insert([2]float64{obs[i].Lon, obs[i].Lat}, [2]float64{obs[i].Lon, obs[i].Lat}, int32(i))
		}
		boxes := []orb.Bound{
			{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}},
			{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}},
			{Min: orb.Point{math.Inf(-1), math.Inf(-1)}, Max: orb.Point{math.Inf(1), math.Inf(1)}},
			{Min: orb.Point{106.2, 10.2}, Max: orb.Point{106.1, 10.3}}, // empty: min past max
		}
		for range 300 {
			x, y := 105.4+r.Float64()*1.2, 9.9+r.Float64()*1.2
			w, h := r.Float64()*r.Float64()*0.5, r.Float64()*r.Float64()*0.5
			boxes = append(boxes, orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + w, y + h}})
		}
		for k := 0; k < len(obs); k += max(1, len(obs)/50) {
			o := obs[k] // a report on a corner, and a window of one point
			boxes = append(boxes, orb.Bound{Min: orb.Point{o.Lon, o.Lat}, Max: orb.Point{o.Lon + 0.01, o.Lat + 0.01}},
				orb.Bound{Min: orb.Point{o.Lon, o.Lat}, Max: orb.Point{o.Lon, o.Lat}})
		}
		for _, m := range []int{n, len(obs)} {
			for _, b := range boxes {
				var want, fromTree []int32
				for i := range obs[:m] {
					if b.Min[0] <= obs[i].Lon && obs[i].Lon <= b.Max[0] && b.Min[1] <= obs[i].Lat && obs[i].Lat <= b.Max[1] {
						want = append(want, int32(i))
					}
				}
				tree.Search(b.Min, b.Max, func(_, _ [2]float64, i int32) bool {
					if int(i) < m {
						fromTree = append(fromTree, i)
					}
					return true
				})
				slices.Sort(fromTree)
				got := p.within(nil, obs[:m], b)
				slices.Sort(got)
				if !slices.Equal(got, want) || !slices.Equal(fromTree, want) {
					t.Fatalf("%d reports indexed of %d, window %v: index %d, tree %d, scan %d reports",
						n, m, b, len(got), len(fromTree), len(want))
				}
			}
		}
	}
}

// TestPointIndexStale: the index is built again once the reports past it
// are more than a few thousand and a thirty-second of those in it.
func TestPointIndexStale(t *testing.T) {
	p := &pointIndex{n: 1 << 20}
	if p.stale(1<<20 + 4096) {
		t.Error("stale after 4096 reports appended to 1M")
	}
	if !p.stale(1<<20 + 4096 + 1<<15 + 1) {
		t.Error("not stale after 36,865 reports appended to 1M")
	}
}

// TestIDIndexMatchesMap: the id index finds what a map from id to the
// last position added finds, for the first n features, as it grows.
func TestIDIndexMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ids []string
	idAt := func(i int) string { return ids[i] }
	x := newIDIndex(0)
	m := map[string]int{}
	for i := range 3000 {
		id := fmt.Sprintf("r%d", r.IntN(2500)) // some added again
		ids = append(ids, id)
		x.add(i, idAt)
		m[id] = i
		if i%97 != 0 {
			continue
		}
		for _, n := range []int{i + 1, i / 2} {
			for k := range 2600 {
				q := fmt.Sprintf("r%d", k)
				want, ok := m[q]
				ok = ok && want < n
				got, gok := x.find(q, n, idAt)
				if gok != ok || ok && got != want {
					t.Fatalf("after %d ids, first %d: %s found at %d (%v), want %d (%v)", i+1, n, q, got, gok, want, ok)
				}
			}
		}
	}
	if len(x.slots) < 2*len(m) || len(x.slots) > 8*len(m) {
		t.Errorf("%d slots for %d ids", len(x.slots), len(m))
	}
}
