package sim_test

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/sim"
	"github.com/paulmach/orb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestSummarizePlanted: Viettel's holes found exactly, the other carriers'
// not at all, half of the dead zone found.
func TestSummarizePlanted(t *testing.T) {
	tr := plantedTruth(t)
	half := plantedWeak[geo.CarrierAll]
	half.I1 = half.I0 + (half.I1-half.I0)/2
	holes := map[geo.Carrier][]orb.MultiPolygon{
		geo.Viettel:    {rectPolygon(plantedWeak[geo.Viettel])},
		geo.CarrierAll: {rectPolygon(half)},
	}
	a := sim.Summarize(sim.Evaluate(tr, holes))
	var truth float64
	for _, c := range geo.Carriers {
		truth += tr.WeakKm2(c)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	check := func(name string, s sim.Score, p, r, f1 float64) {
		t.Helper()
		if !near(s.Precision, p) || !near(s.Recall, r) || !near(s.F1, f1) {
			t.Errorf("%s: precision %v recall %v F1 %v, want %v %v %v", name, s.Precision, s.Recall, s.F1, p, r, f1)
		}
	}
	if len(a.Carriers) != len(geo.Carriers) {
		t.Fatalf("%d carrier scores, want %d", len(a.Carriers), len(geo.Carriers))
	}
	for i, s := range a.Carriers {
		if s.Carrier != geo.Carriers[i] {
			t.Errorf("carrier score %d is %v, want %v", i, s.Carrier, geo.Carriers[i])
		}
	}
	// Pooled: every flagged km² is weak; Viettel's weak land of all four.
	r := tr.WeakKm2(geo.Viettel) / truth
	check("holes (pooled)", a.Holes, 1, r, 2*r/(1+r))
	if !near(a.Holes.TruthKm2, truth) || !near(a.Holes.PredKm2, tr.WeakKm2(geo.Viettel)) {
		t.Errorf("holes (pooled): truth %v km², predicted %v km²; want %v, %v", a.Holes.TruthKm2, a.Holes.PredKm2, truth, tr.WeakKm2(geo.Viettel))
	}
	// Mean: precision 1 everywhere (nothing flagged wrongly), recall and
	// F1 1 for Viettel and 0 for the other three.
	check("carrier mean", a.CarrierMean, 1, 0.25, 0.25)
	check("dead zones", a.DeadZones, 1, 0.5, 2*0.5/1.5)
	if a.DeadZones.Carrier != geo.CarrierAll {
		t.Errorf("dead zones carrier %v, want all", a.DeadZones.Carrier)
	}
}

func readFixtureRuns(t *testing.T) []sim.Run {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "runs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runs, err := sim.ReadRuns(f)
	if err != nil {
		t.Fatalf("ReadRuns: %v", err)
	}
	return runs
}

func TestAccuracyTable(t *testing.T) {
	runs := readFixtureRuns(t)
	if len(runs) != 5 {
		t.Fatalf("%d runs in the fixture, want 5", len(runs))
	}
	rows, err := sim.AccuracyTable(runs)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		label     string
		bias      float64
		seeds     []int64
		holesP    sim.Range
		meanR     sim.Range
		deadF1Min float64
		perArea   float64
	}
	f1 := func(p, r float64) float64 { return 2 * p * r / (p + r) }
	wants := []want{
		// Labels in order of first appearance, biases ascending.
		{"dense", 2, []int64{11}, sim.Range{Mean: 0.75, Min: 0.75}, sim.Range{Mean: 0.80, Min: 0.80}, f1(0.45, 0.85), 2000},
		{"dense", 6, []int64{11, 12}, sim.Range{Mean: 0.70, Min: 0.60}, sim.Range{Mean: 0.78, Min: 0.68}, f1(0.40, 0.80), 2000},
		{"sparse", 2, []int64{11, 12}, sim.Range{Mean: 0.80, Min: 0.70}, sim.Range{Mean: 0.52, Min: 0.42}, f1(0.50, 0.30), 937.5},
	}
	if len(rows) != len(wants) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(wants), rows)
	}
	const eps = 1e-5 // the fixture's F1 values are rounded to 6 places
	near := func(a, b float64) bool { return math.Abs(a-b) < eps }
	for i, w := range wants {
		r := rows[i]
		if r.Label != w.label || r.ReportBias != w.bias || !slices.Equal(r.Seeds, w.seeds) || r.Runs != len(w.seeds) {
			t.Errorf("row %d: %s bias %v seeds %v (%d runs), want %s bias %v seeds %v", i, r.Label, r.ReportBias, r.Seeds, r.Runs, w.label, w.bias, w.seeds)
		}
		if !near(r.Holes.Precision.Mean, w.holesP.Mean) || !near(r.Holes.Precision.Min, w.holesP.Min) {
			t.Errorf("row %d: holes precision %+v, want %+v", i, r.Holes.Precision, w.holesP)
		}
		if !near(r.CarrierMean.Recall.Mean, w.meanR.Mean) || !near(r.CarrierMean.Recall.Min, w.meanR.Min) {
			t.Errorf("row %d: carrier mean recall %+v, want %+v", i, r.CarrierMean.Recall, w.meanR)
		}
		if !near(r.DeadZones.F1.Min, w.deadF1Min) {
			t.Errorf("row %d: dead zones F1 min %v, want %v", i, r.DeadZones.F1.Min, w.deadF1Min)
		}
		if !near(r.ReportsPerArea, w.perArea) {
			t.Errorf("row %d: reports per area %v, want %v", i, r.ReportsPerArea, w.perArea)
		}
	}

	var b bytes.Buffer
	if err := sim.WriteAccuracyMarkdown(&b, rows); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "accuracy-table.md")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	md, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(b.Bytes(), md) {
		t.Errorf("Markdown table differs from %s:\n%s\nwant:\n%s", golden, b.Bytes(), md)
	}

	// The same run twice (appended twice to the file) is refused.
	if _, err := sim.AccuracyTable(append(runs, runs[0])); err == nil || !strings.Contains(err.Error(), "seed 11 appears twice") {
		t.Errorf("a run given twice: error %v, want one naming seed 11", err)
	}
}

func TestReadRunsRejects(t *testing.T) {
	good := `{"label":"x","accuracy":{"carriers":[{"carrier":"viettel","precision":1}]}}`
	in := strings.Join([]string{
		good,
		"",
		`{"label":"x","accuracy":{"carriers":[]}}`,
		`not json`,
		`{"accuracy":{"carriers":[{"carrier":"viettel"}]}}`,
		`{"label":"x","accuracy":{"carriers":[{"carrier":"nokia"}]}}`,
		good,
	}, "\n")
	_, err := sim.ReadRuns(strings.NewReader(in))
	var fes geo.FieldErrors
	if !errors.As(err, &fes) {
		t.Fatalf("ReadRuns: %v, want FieldErrors", err)
	}
	type got struct {
		row   int
		field string
	}
	var gs []got
	for _, fe := range fes {
		gs = append(gs, got{fe.Row, fe.Field})
	}
	want := []got{{3, "accuracy.carriers"}, {4, ""}, {5, "label"}, {6, ""}}
	if !slices.Equal(gs, want) {
		t.Errorf("rejected rows and fields %v, want %v (%v)", gs, want, err)
	}
	runs, err := sim.ReadRuns(strings.NewReader(good + "\n\n" + good))
	if err != nil || len(runs) != 2 {
		t.Errorf("two good lines: %d runs, %v; want 2, nil", len(runs), err)
	}
}
