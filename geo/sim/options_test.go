package sim_test

import (
	"errors"
	"math"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/sim"
)

// smallWorld is the synthetic province on a coarse truth raster (quick to
// build) with opt's report settings.
func smallWorld(t *testing.T, opt sim.Options) *sim.World {
	t.Helper()
	opt.Seed, opt.Reports, opt.TruthCellM = 21, 8000, 250
	w, err := sim.Generate(opt)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", opt, err)
	}
	return w
}

func countSource(w *sim.World, s geo.Source) int {
	n := 0
	for i := range w.Reports {
		if w.Reports[i].Source == s {
			n++
		}
	}
	return n
}

func TestDriveShare(t *testing.T) {
	def := smallWorld(t, sim.Options{})
	none := smallWorld(t, sim.Options{DriveShare: sim.NoDriveTests})
	many := smallWorld(t, sim.Options{DriveShare: 0.2})

	nDef := countSource(def, geo.SourceDriveTest)
	t.Logf("drive-test reports: default %d, none %d, 0.2 → %d of %d", nDef, countSource(none, geo.SourceDriveTest), countSource(many, geo.SourceDriveTest), len(many.Reports))
	// The default is today's 3% (fewer only where a road crosses water).
	if want := 0.03 * float64(len(def.Reports)); float64(nDef) < 0.8*want || float64(nDef) > want+4 {
		t.Errorf("default: %d drive-test reports, want about %.0f", nDef, want)
	}
	if got := def.Conditions().DriveShare; got != sim.DefaultDriveShare {
		t.Errorf("default Conditions().DriveShare = %v, want %v", got, sim.DefaultDriveShare)
	}
	if n := countSource(none, geo.SourceDriveTest); n != 0 {
		t.Errorf("NoDriveTests: %d drive-test reports, want none", n)
	}
	if c := none.Conditions(); c.DriveShare != 0 || c.DriveTestReports != 0 {
		t.Errorf("NoDriveTests: Conditions() drive share %v, %d drive-test reports; want 0, 0", c.DriveShare, c.DriveTestReports)
	}
	if len(none.Reports) != len(def.Reports) {
		t.Errorf("NoDriveTests: %d reports, want the %d asked", len(none.Reports), len(def.Reports))
	}
	// Only the drive tests change: the people's reports are drawn from a
	// stream of their own, so without drive tests the same reports come
	// first and more of them fill the place of the drive tests.
	ordinary := len(def.Reports) - nDef
	for i := 0; i < ordinary; i++ {
		a, b := &def.Reports[i], &none.Reports[i]
		if a.Lon != b.Lon || a.Lat != b.Lat || a.Carrier != b.Carrier || a.Source != b.Source || !a.ObservedAt.Equal(b.ObservedAt) {
			t.Fatalf("report %d differs without drive tests: %+v, was %+v", i, *b, *a)
		}
	}
	if n := float64(countSource(many, geo.SourceDriveTest)); n < 0.16*float64(len(many.Reports)) || n > 0.2*float64(len(many.Reports))+4 {
		t.Errorf("DriveShare 0.2: %v drive-test reports of %d, want about 20%%", n, len(many.Reports))
	}
	if a, b := def.Truth.WeakKm2(geo.CarrierAll), none.Truth.WeakKm2(geo.CarrierAll); a != b {
		t.Errorf("the truth changed with the drive share: dead zones %v km², was %v", b, a)
	}

	for _, bad := range []float64{-0.5, 1.5, math.NaN()} {
		_, err := sim.Generate(sim.Options{Seed: 1, Reports: 100, TruthCellM: 1000, DriveShare: bad})
		var fe *geo.FieldError
		if bad != bad { // NaN
			if err == nil {
				t.Errorf("DriveShare NaN: no error")
			}
			continue
		}
		if !errors.As(err, &fe) || fe.Field != "drive_share" {
			t.Errorf("DriveShare %v: error %v, want a FieldError on drive_share", bad, err)
		}
	}
}

// TestReportBias: the more weak-signal users out-report good-signal ones,
// the larger the weak share of reports; and the odds that what one person
// sends at one time (a reading, or a four-carrier survey) shows a weak
// carrier grow in proportion to the bias.
func TestReportBias(t *testing.T) {
	rules := geo.DefaultRules()
	var share, batchOdds []float64
	biases := []float64{2, 4, 6}
	for _, b := range biases {
		w := smallWorld(t, sim.Options{ReportBias: b, DriveShare: sim.NoDriveTests})
		if got := w.Conditions().ReportBias; got != b {
			t.Errorf("bias %v: Conditions().ReportBias = %v", b, got)
		}
		type sent struct {
			who string
			at  int64
		}
		batches := map[sent]bool{} // whether any reading is weak
		weak := 0
		for i := range w.Reports {
			r := &w.Reports[i]
			o := r.ToObs(nil)
			k := sent{r.Reporter, r.ObservedAt.Unix()}
			batches[k] = batches[k] || rules.IsWeak(&o)
			if rules.IsWeak(&o) {
				weak++
			}
		}
		share = append(share, float64(weak)/float64(len(w.Reports)))
		nw := 0
		for _, weak := range batches {
			if weak {
				nw++
			}
		}
		batchOdds = append(batchOdds, float64(nw)/float64(len(batches)-nw))
	}
	t.Logf("weak share of reports at bias %v: %.3f; odds of a weak batch %.3f", biases, share, batchOdds)
	for k := 1; k < len(share); k++ {
		if share[k] <= share[k-1]+0.02 {
			t.Errorf("weak share %.3f at bias %v is not clearly above %.3f at bias %v", share[k], biases[k], share[k-1], biases[k-1])
		}
	}
	// Thousands of batches of each kind: each ratio is within ±15% of b/2.
	for k, b := range biases {
		want := b / biases[0]
		if r := batchOdds[k] / batchOdds[0]; math.Abs(r-want) > 0.15*want {
			t.Errorf("odds of a weak batch at bias %v / at bias %v = %.2f, want about %.0f", b, biases[0], r, want)
		}
	}
}
