package sim_test

import (
	"testing"

	"github.com/gapmap/gapmap/geo/internal/geotest"
	"github.com/gapmap/gapmap/geo/sim"
)

// TestAccuracyAcrossBias pins the analysis's accuracy where real uploads
// are: no drive tests, and people reporting weak signal 2, 4 or 6 times
// more often than good, over 20 contiguous real 2025 communes of Tây Ninh
// with 1,500 reports each, on a seed the method was not tuned on. Holes
// and dead zones must keep their precision (the floors are the figures
// measured, less a margin) whatever the bias, and the holes' precision
// must not swing with it: the bias is estimated, not assumed. Skipped
// without ../shared.
func TestAccuracyAcrossBias(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates three provinces")
	}
	communes := geotest.ReadCommunes(t, "communes_2025_tay_ninh_80.geojson")
	areas, err := sim.NearestContiguous(communes, min(20, len(communes)))
	if err != nil {
		t.Fatal(err)
	}
	const (
		holesP = 0.62 // holes pooled over the four carriers (measured 0.70–0.73)
		holesR = 0.48 // (0.57–0.61)
		deadP  = 0.45 // all-carrier dead zones (0.57–0.75)
		swing  = 0.10 // most the holes' precision may move across bias (0.03)
	)
	lo, hi := 1.0, 0.0
	for _, bias := range []float64{2, 4, 6} {
		w, err := sim.Generate(sim.Options{Seed: 17, Areas: areas, Reports: 1500 * len(areas), ReportBias: bias, DriveShare: sim.NoDriveTests})
		if err != nil {
			t.Fatal(err)
		}
		a := sim.Summarize(sim.Evaluate(w.Truth, detect(t, w)))
		t.Logf("bias %g: holes P %.2f R %.2f F1 %.2f; dead zones P %.2f R %.2f F1 %.2f (%.1f km² claimed)",
			bias, a.Holes.Precision, a.Holes.Recall, a.Holes.F1, a.DeadZones.Precision, a.DeadZones.Recall, a.DeadZones.F1, a.DeadZones.PredKm2)
		if a.Holes.Precision < holesP || a.Holes.Recall < holesR {
			t.Errorf("bias %g: holes precision %.2f, recall %.2f; want at least %.2f and %.2f", bias, a.Holes.Precision, a.Holes.Recall, holesP, holesR)
		}
		if a.DeadZones.PredKm2 > 0 && a.DeadZones.Precision < deadP {
			t.Errorf("bias %g: dead zones precision %.2f, want at least %.2f", bias, a.DeadZones.Precision, deadP)
		}
		lo, hi = min(lo, a.Holes.Precision), max(hi, a.Holes.Precision)
	}
	if hi-lo > swing {
		t.Errorf("holes precision moves from %.2f to %.2f across bias 2–6, more than %.2f", lo, hi, swing)
	}
}
