package engine

import (
	"context"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/gapmap/gapmap/geo/internal/geotest"
)

// TestLiveMatchesAnalyze builds a Live from most reports, adds the rest
// one at a time (asking for Results in between), and compares it with
// Analyze over all of them, and Analyze with the batch method built from
// scratch (batchAnalyze): all three must be the same to the last bit —
// every hole cell, outline and figure, every area score, the summary.
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
	got := live.ResultWithOutlines()
	want, err := Analyze(context.Background(), Input{Areas: areas, Obs: slices.Clone(all)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := batchAnalyze(context.Background(), Input{Areas: areas, Obs: slices.Clone(all)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	holes := map[geo.Carrier]int{}
	for _, h := range want.Holes {
		holes[h.Carrier]++
	}
	for _, c := range geo.Carriers {
		if holes[c] == 0 {
			t.Errorf("%s: no holes; the test data should have some", c)
		}
	}
	t.Logf("holes by carrier: %v", holes)
	for _, d := range geotest.DiffResults(got, want, false, 10) {
		t.Errorf("live after adds vs Analyze: %s", d)
	}
	for _, d := range geotest.DiffResults(want, batch, true, 10) {
		t.Errorf("Analyze vs the batch method: %s", d)
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
	outlineHoles(want)
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

// TestLocatedInputSame: reports located and classified by the caller
// (Input.Located, Live.AddLocated) give the very analysis Analyze makes
// when it locates them itself.
func TestLocatedInputSame(t *testing.T) {
	areas := geotest.GridAreas(6, 6, 12, 105.8, 10.2, 0.2/6)
	all := provinceObs(8000, 105.8, 10.2, 0.2)
	cfg := geo.DefaultConfig()
	cfg.Holes.EstimateBias = false // the bias is fixed when a Live is built
	ix := index.New(areas)
	want, err := Analyze(context.Background(), Input{Areas: areas, Index: ix, Obs: slices.Clone(all)}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	located := slices.Clone(all)
	ix.Assign(located)
	cfg.Rules.Classify(located)
	const late = 50
	live, err := NewLive(context.Background(), Input{Areas: areas, Index: ix, Obs: slices.Clone(located[:len(located)-late]), Located: true}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range located[len(located)-late:] {
		live.AddLocated(o)
	}
	got := live.ResultWithOutlines()
	for _, d := range geotest.DiffResults(got, want, false, 5) {
		t.Error(d)
	}
	if _, err := NewLive(context.Background(), Input{Areas: areas, Obs: located, Located: true}, cfg); err == nil {
		t.Error("located reports without their index: no error")
	}
}
