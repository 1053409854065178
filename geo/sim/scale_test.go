package sim_test

import (
	"reflect"
	"testing"

	"github.com/gapmap/gapmap/geo/index"
	"github.com/gapmap/gapmap/geo/sim"
)

func TestScale(t *testing.T) {
	opt := sim.ScaleOptions{Seed: 3, Hamlets: 90, Reports: 5000}
	w, err := sim.Scale(opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Areas) != 100 || len(w.Teams) != 100 || len(w.Reports) != 5000 {
		t.Fatalf("%d areas, %d teams, %d reports; want 100 (90 rounded up to 10×10), 100, 5000", len(w.Areas), len(w.Teams), len(w.Reports))
	}
	codes := map[string]bool{}
	for i := range w.Areas {
		a := &w.Areas[i]
		if err := a.Validate(); err != nil {
			t.Fatalf("area %s: %v", a.Code, err)
		}
		if n := len(a.Geometry[0][0]); n != 201 {
			t.Fatalf("area %s: %d positions, want 201", a.Code, n)
		}
		if codes[a.Code] || a.ParentCode == "" {
			t.Fatalf("area %s: duplicate code or no commune", a.Code)
		}
		codes[a.Code] = true
	}
	// Every report falls in some hamlet or close outside the grid.
	ix := index.New(w.Areas)
	in := 0
	for _, r := range w.Reports {
		if ix.Locate(r.Lon, r.Lat) >= 0 {
			in++
		}
	}
	if in < 4000 {
		t.Errorf("%d of 5000 reports inside the hamlets", in)
	}
	again, _ := sim.Scale(opt)
	if !reflect.DeepEqual(w.Reports[:50], again.Reports[:50]) || !reflect.DeepEqual(w.Areas[7], again.Areas[7]) {
		t.Error("the same options gave another world")
	}
	if _, err := sim.Scale(sim.ScaleOptions{Hamlets: -1}); err == nil {
		t.Error("negative hamlets accepted")
	}
}
