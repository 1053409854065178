package engine

import (
	"context"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/internal/geotest"
)

// TestLiveMatchesAnalyze builds a Live from most reports, adds the rest
// one at a time, and compares it with Analyze over all of them: area
// counts must be equal, and the holes of every carrier and the dead zones
// the same cells (up to float rounding at the threshold).
func TestLiveMatchesAnalyze(t *testing.T) {
	areas := geotest.GridAreas(8, 8, 12, 105.8, 10.2, 0.3/8)
	all := provinceObs(20000, 105.8, 10.2, 0.3)
	cfg := geo.DefaultConfig()
	cfg.Holes.EstimateBias = false // the bias is fixed when a Live is built
	const late = 400
	live := newLateLive(t, areas, all, late, cfg)
	for i, o := range all[len(all)-late:] {
		live.Add(o)
		if i%37 == 0 {
			live.Result() // holes are redrawn in between, too
		}
	}
	got := live.Result()
	want, err := Analyze(context.Background(), Input{Areas: areas, Obs: slices.Clone(all)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Areas) != len(want.Areas) {
		t.Fatalf("%d area scores, want %d", len(got.Areas), len(want.Areas))
	}
	for i := range want.Areas {
		g, w := got.Areas[i], want.Areas[i]
		if g.Code != w.Code || g.Reports != w.Reports || g.Weak != w.Weak {
			t.Errorf("area %s: %d reports %d weak, want %s %d %d", g.Code, g.Reports, g.Weak, w.Code, w.Reports, w.Weak)
		}
		for k := range w.Carriers {
			if g.Carriers[k].Reports != w.Carriers[k].Reports || g.Carriers[k].Weak != w.Carriers[k].Weak {
				t.Errorf("area %s %s: counts differ", g.Code, w.Carriers[k].Carrier)
			}
		}
	}
	if got.Summary.Reports != len(all) {
		t.Errorf("summary: %d reports, want %d", got.Summary.Reports, len(all))
	}
	cells := func(r *geo.Result, c geo.Carrier) map[uint64]bool {
		m := map[uint64]bool{}
		for _, h := range r.Holes {
			if h.Carrier == c {
				for _, id := range h.CellIDs {
					m[id] = true
				}
			}
		}
		return m
	}
	for _, c := range append(slices.Clone(geo.Carriers), geo.CarrierAll) {
		g, w := cells(got, c), cells(want, c)
		diff := 0
		for id := range g {
			if !w[id] {
				diff++
			}
		}
		for id := range w {
			if !g[id] {
				diff++
			}
		}
		t.Logf("%s: %d hole cells live, %d batch, %d differ", c, len(g), len(w), diff)
		if len(w) == 0 && c != geo.CarrierAll {
			t.Errorf("%s: the batch found no holes; the test data should have some", c)
		}
		if float64(diff) > math.Max(2, 0.01*float64(len(w))) {
			t.Errorf("%s: %d of %d hole cells differ", c, diff, len(w))
		}
	}
	gh, wh := got.Summary.Holes, want.Summary.Holes
	for k, v := range wh {
		if d := gh[k] - v; d < -1 || d > 1 {
			t.Errorf("%s: %d holes live, %d batch", k, gh[k], v)
		}
	}
}

// checkLive compares every hole of res, a Live's Result, field by field
// with the holes built from scratch from the Live's flagged cells, as
// Analyze builds them, and checks that the Live's cell-to-hole maps hold
// exactly the holes' cells.
func checkLive(t *testing.T, l *Live, res *geo.Result) {
	t.Helper()
	var want []geo.Hole
	for s := range nCarriers + 1 {
		for _, comp := range components(l.flagged[s]) {
			if h, ok := componentHole(l.f, s, comp, l.obs, l.cfg); ok {
				want = append(want, h)
			}
		}
	}
	addCellInfo(l.info, want, l.ix)
	measureHoles(want, l.info)
	fillHoleAreas(want, l.ix, l.info, l.cfg, l.land)
	outlineHoles(want, l.info)
	rankHoles(want)
	if len(want) != len(res.Holes) {
		t.Fatalf("%d holes, want %d", len(res.Holes), len(want))
	}
	byID := map[string]geo.Hole{}
	for _, h := range res.Holes {
		byID[h.ID] = h
	}
	for i := range want {
		g, w := byID[want[i].ID], want[i]
		if math.IsNaN(g.MedianSignalDBm) && math.IsNaN(w.MedianSignalDBm) {
			g.MedianSignalDBm, w.MedianSignalDBm = 0, 0
		}
		if !reflect.DeepEqual(g, w) {
			gv, wv := reflect.ValueOf(g), reflect.ValueOf(w)
			for f := range gv.NumField() {
				if !reflect.DeepEqual(gv.Field(f).Interface(), wv.Field(f).Interface()) {
					if gv.Type().Field(f).Name != "Rank" {
						t.Fatalf("hole %s field %s: got %v want %v", w.ID, gv.Type().Field(f).Name, gv.Field(f).Interface(), wv.Field(f).Interface())
					}
				}
			}
			continue
		}
	}
	for s := range nCarriers + 1 {
		n := 0
		for _, h := range res.Holes {
			if slotOf(h.Carrier) == s {
				n += len(h.CellIDs)
			}
		}
		if n != len(l.holeOf[s]) {
			t.Fatalf("slot %d: holeOf has %d cells, holes %d", s, len(l.holeOf[s]), n)
		}
	}
}

// TestLiveHolesExact adds reports one at a time, asking for a Result
// every few, and checks each (see checkLive): holes that split, shrink,
// grow and merge are rebuilt, and outlined, exactly as from scratch.
func TestLiveHolesExact(t *testing.T) {
	areas := geotest.GridAreas(8, 8, 12, 105.8, 10.2, 0.3/8)
	all := provinceObs(20000, 105.8, 10.2, 0.3)
	cfg := geo.DefaultConfig()
	const late = 600
	live := newLateLive(t, areas, all, late, cfg)
	for i, o := range all[len(all)-late:] {
		live.Add(o)
		if i%4 == 0 {
			checkLive(t, live, live.Result())
		}
	}
	checkLive(t, live, live.Result())
}

// newLateLive builds a Live over all but the last late observations, which
// the test then adds one at a time.
func newLateLive(t *testing.T, areas []geo.Area, all []geo.Obs, late int, cfg geo.Config) *Live {
	t.Helper()
	live, err := NewLive(context.Background(), Input{Areas: areas, Obs: slices.Clone(all[:len(all)-late])}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return live
}
