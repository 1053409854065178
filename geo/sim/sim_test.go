package sim_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gapmap/gapmap/data"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/sim"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// allCarriers is geo.Carriers then geo.CarrierAll, the order Evaluate
// returns scores in.
var allCarriers = append(append([]geo.Carrier(nil), geo.Carriers...), geo.CarrierAll)

var (
	defaultOnce sync.Once
	defaultW    *sim.World
	defaultWErr error
)

// defaultWorld is Generate(Options{Seed: 1}), the default synthetic
// province, built once and shared (it takes about a second).
func defaultWorld(t *testing.T) *sim.World {
	t.Helper()
	defaultOnce.Do(func() { defaultW, defaultWErr = sim.Generate(sim.Options{Seed: 1}) })
	if defaultWErr != nil {
		t.Fatalf("Generate(seed 1): %v", defaultWErr)
	}
	return defaultW
}

// outputs writes every file a world produces, by name.
func outputs(t *testing.T, w *sim.World) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"reports.csv":         func(b *bytes.Buffer) error { return w.WriteReportsCSV(b) },
		"areas.geojson":       func(b *bytes.Buffer) error { return w.WriteAreasGeoJSON(b) },
		"teams.csv":           func(b *bytes.Buffer) error { return w.WriteTeamsCSV(b) },
		"towers.geojson":      func(b *bytes.Buffer) error { return w.WriteTowersGeoJSON(b) },
		"truth.json":          func(b *bytes.Buffer) error { return w.Truth.WriteJSON(b) },
		"truth_holes.geojson": func(b *bytes.Buffer) error { return w.Truth.HolesGeoJSON(b) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
		if b.Len() == 0 {
			t.Fatalf("write %s: empty", name)
		}
		out[name] = b.Bytes()
	}
	return out
}

func TestGenerateDeterministic(t *testing.T) {
	gen := func(seed int64) *sim.World {
		w, err := sim.Generate(sim.Options{Seed: seed, Reports: 3000})
		if err != nil {
			t.Fatalf("Generate(seed %d): %v", seed, err)
		}
		return w
	}
	// Generate concurrently: it must not share state between calls either.
	var ws [3]*sim.World
	var wg sync.WaitGroup
	for i, seed := range []int64{7, 7, 8} {
		wg.Go(func() { ws[i] = gen(seed) })
	}
	wg.Wait()
	a, b, c := outputs(t, ws[0]), outputs(t, ws[1]), outputs(t, ws[2])
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("seed 7 twice: %s differs", name)
		}
	}
	if len(ws[0].Reports) == 0 {
		t.Fatal("seed 7: no reports")
	}
	if bytes.Equal(a["reports.csv"], c["reports.csv"]) {
		t.Error("seeds 7 and 8 gave the same reports")
	}
}

func TestTruthRoundTrip(t *testing.T) {
	tr := defaultWorld(t).Truth
	var buf bytes.Buffer
	if err := tr.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := sim.ReadTruth(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("ReadTruth: %v", err)
	}
	if got.LandKm2() != tr.LandKm2() || got.LandKm2() == 0 {
		t.Errorf("LandKm2 = %v, want %v (non-zero)", got.LandKm2(), tr.LandKm2())
	}
	for _, c := range allCarriers {
		if got.WeakKm2(c) != tr.WeakKm2(c) {
			t.Errorf("WeakKm2(%v) = %v, want %v", c, got.WeakKm2(c), tr.WeakKm2(c))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// Points over the raster and a margin around it.
	lon0, lat0 := tr.OriginLon, tr.OriginLat
	spanX, spanY := float64(tr.Width)*tr.DXDeg, float64(tr.Height)*tr.DYDeg
	nLand := 0
	for k := 0; k < 1000; k++ {
		lon := lon0 - 0.05*spanX + 1.1*spanX*rng.Float64()
		lat := lat0 - 0.05*spanY + 1.1*spanY*rng.Float64()
		for _, c := range allCarriers {
			w1, l1 := tr.WeakAt(c, lon, lat)
			w2, l2 := got.WeakAt(c, lon, lat)
			if w1 != w2 || l1 != l2 {
				t.Fatalf("WeakAt(%v, %v, %v) = %v, %v after round trip, want %v, %v", c, lon, lat, w2, l2, w1, l1)
			}
			if c == geo.Viettel && l1 {
				nLand++
			}
		}
	}
	if nLand < 100 {
		t.Errorf("only %d of 1000 points on land: the test checks little", nLand)
	}
	var again bytes.Buffer
	if err := got.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Error("WriteJSON(ReadTruth(WriteJSON(t))) differs from WriteJSON(t)")
	}
}

func TestReadTruthRejects(t *testing.T) {
	// A valid 3×3 truth; each case breaks one field.
	valid := func() map[string]any {
		b := base64.StdEncoding.EncodeToString([]byte{0xff, 0x01})
		z := base64.StdEncoding.EncodeToString([]byte{0, 0})
		return map[string]any{
			"version": 1, "origin_lon": 106.0, "origin_lat": 10.0, "dx_deg": 0.001, "dy_deg": 0.001,
			"width": 3, "height": 3, "cell_m": 100, "threshold_dbm": -110, "land": b,
			"weak": map[string]any{"viettel": z, "vinaphone": z, "mobifone": z, "vietnamobile": z},
		}
	}
	tests := []struct {
		name   string
		break_ func(m map[string]any)
		want   string // substring of the error
	}{
		{"valid", func(map[string]any) {}, ""},
		{"bad base64 in land", func(m map[string]any) { m["land"] = "!!not base64!!" }, "land"},
		{"land of wrong length", func(m map[string]any) { m["land"] = base64.StdEncoding.EncodeToString([]byte{1, 2, 3}) }, "land"},
		{"weak.mobifone of wrong length", func(m map[string]any) {
			m["weak"].(map[string]any)["mobifone"] = base64.StdEncoding.EncodeToString([]byte{1})
		}, "weak.mobifone"},
		{"missing weak.viettel", func(m map[string]any) { delete(m["weak"].(map[string]any), "viettel") }, "weak.viettel"},
		{"version 2", func(m map[string]any) { m["version"] = 2 }, "version"},
		{"zero width", func(m map[string]any) { m["width"] = 0 }, "width"},
		{"negative dy_deg", func(m map[string]any) { m["dy_deg"] = -0.001 }, "dy_deg"},
		{"not JSON", nil, "truth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []byte
			if tt.break_ == nil {
				in = []byte("{not json")
			} else {
				m := valid()
				tt.break_(m)
				var err error
				if in, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			_, err := sim.ReadTruth(bytes.NewReader(in))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ReadTruth = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Errorf("ReadTruth = nil, want an error naming %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("ReadTruth = %q, want it to name %q", err, tt.want)
			}
		})
	}
}

// cellRect is a rectangle of raster cells [I0, I1) × [J0, J1).
type cellRect struct{ I0, I1, J0, J1 int }

func (r cellRect) has(i, j int) bool { return i >= r.I0 && i < r.I1 && j >= r.J0 && j < r.J1 }

// planted is a hand-made 100×100 truth of 0.001° cells at (106°E, 10°N),
// all land, each carrier weak in its own rectangle, so the dead zone is
// their intersection.
const (
	plantedW, plantedH = 100, 100
	plantedLon0        = 106.0
	plantedLat0        = 10.0
	plantedD           = 0.001
)

var plantedWeak = map[geo.Carrier]cellRect{
	geo.Viettel:      {10, 40, 20, 60},
	geo.VinaPhone:    {20, 60, 30, 70},
	geo.MobiFone:     {14, 50, 25, 65},
	geo.Vietnamobile: {24, 44, 10, 80},
	geo.CarrierAll:   {24, 40, 30, 60}, // the intersection of the four
}

// pack packs cells where in(i, j) into the truth file's bitmap form: bits
// LSB first, row-major from the south-west cell, base64 (std).
func pack(in func(i, j int) bool) string {
	p := make([]byte, (plantedW*plantedH+7)/8)
	for j := 0; j < plantedH; j++ {
		for i := 0; i < plantedW; i++ {
			if in(i, j) {
				k := j*plantedW + i
				p[k/8] |= 1 << (k % 8)
			}
		}
	}
	return base64.StdEncoding.EncodeToString(p)
}

func plantedTruthJSON() []byte {
	weak := map[string]string{}
	for _, c := range geo.Carriers {
		weak[c.String()] = pack(plantedWeak[c].has)
	}
	b, err := json.Marshal(map[string]any{
		"version": 1, "origin_lon": plantedLon0, "origin_lat": plantedLat0,
		"dx_deg": plantedD, "dy_deg": plantedD, "width": plantedW, "height": plantedH,
		"cell_m": 110, "threshold_dbm": -110,
		"land": pack(func(int, int) bool { return true }),
		"weak": weak,
	})
	if err != nil {
		panic(err)
	}
	return b
}

func plantedTruth(t *testing.T) *sim.Truth {
	t.Helper()
	tr, err := sim.ReadTruth(bytes.NewReader(plantedTruthJSON()))
	if err != nil {
		t.Fatalf("ReadTruth(planted): %v", err)
	}
	return tr
}

// rectPolygon is the lon/lat rectangle covering cells r exactly.
func rectPolygon(r cellRect) orb.MultiPolygon {
	x0, x1 := plantedLon0+float64(r.I0)*plantedD, plantedLon0+float64(r.I1)*plantedD
	y0, y1 := plantedLat0+float64(r.J0)*plantedD, plantedLat0+float64(r.J1)*plantedD
	return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
}

func TestPlantedTruthFileFormat(t *testing.T) {
	tr := plantedTruth(t)
	if tr.Width != plantedW || tr.Height != plantedH {
		t.Fatalf("size %d×%d, want %d×%d", tr.Width, tr.Height, plantedW, plantedH)
	}
	// Every cell centre answers as planted: this pins the bit order.
	for j := 0; j < plantedH; j++ {
		for i := 0; i < plantedW; i++ {
			lon, lat := plantedLon0+(float64(i)+0.5)*plantedD, plantedLat0+(float64(j)+0.5)*plantedD
			for _, c := range allCarriers {
				weak, land := tr.WeakAt(c, lon, lat)
				if !land || weak != plantedWeak[c].has(i, j) {
					t.Fatalf("WeakAt(%v) in cell (%d, %d) = %v, %v; want %v, true", c, i, j, weak, land, plantedWeak[c].has(i, j))
				}
			}
		}
	}
	// Areas: a cell at 10°N is about 0.1095 km × 0.1106 km.
	if land := tr.LandKm2(); math.Abs(land-121.1) > 0.5 {
		t.Errorf("LandKm2 = %v, want about 121.1", land)
	}
	for _, c := range allCarriers {
		r := plantedWeak[c]
		n := float64((r.I1 - r.I0) * (r.J1 - r.J0))
		want := tr.LandKm2() * n / (plantedW * plantedH)
		if got := tr.WeakKm2(c); math.Abs(got-want) > 0.01*want {
			t.Errorf("WeakKm2(%v) = %v, want about %v", c, got, want)
		}
	}
	// Writing it back gives the same bitmaps.
	var buf bytes.Buffer
	if err := tr.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var a, b struct {
		Land string            `json:"land"`
		Weak map[string]string `json:"weak"`
	}
	if err := json.Unmarshal(buf.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(plantedTruthJSON(), &b); err != nil {
		t.Fatal(err)
	}
	if a.Land != b.Land {
		t.Error("land bitmap changed on WriteJSON")
	}
	for k, v := range b.Weak {
		if a.Weak[k] != v {
			t.Errorf("weak.%s bitmap changed on WriteJSON", k)
		}
	}
}

func TestEvaluatePlanted(t *testing.T) {
	tr := plantedTruth(t)
	const eps = 1e-9
	near := func(a, b float64) bool { return math.Abs(a-b) < eps }
	type want struct{ p, r, f1 float64 }
	check := func(t *testing.T, holes map[geo.Carrier][]orb.MultiPolygon, wantFor func(geo.Carrier) want) {
		t.Helper()
		scores := sim.Evaluate(tr, holes)
		if len(scores) != len(allCarriers) {
			t.Fatalf("%d scores, want %d", len(scores), len(allCarriers))
		}
		for i, s := range scores {
			if s.Carrier != allCarriers[i] {
				t.Errorf("score %d is for %v, want %v", i, s.Carrier, allCarriers[i])
			}
			w := wantFor(s.Carrier)
			if !near(s.Precision, w.p) || !near(s.Recall, w.r) || !near(s.F1, w.f1) {
				t.Errorf("%v: precision %v recall %v F1 %v, want %v %v %v", s.Carrier, s.Precision, s.Recall, s.F1, w.p, w.r, w.f1)
			}
		}
	}
	t.Run("exact rectangles", func(t *testing.T) {
		holes := map[geo.Carrier][]orb.MultiPolygon{}
		for _, c := range allCarriers {
			holes[c] = []orb.MultiPolygon{rectPolygon(plantedWeak[c])}
		}
		check(t, holes, func(geo.Carrier) want { return want{1, 1, 1} })
	})
	t.Run("left half of each rectangle", func(t *testing.T) {
		holes := map[geo.Carrier][]orb.MultiPolygon{}
		for _, c := range allCarriers {
			half := plantedWeak[c] // every width is even
			half.I1 = half.I0 + (half.I1-half.I0)/2
			holes[c] = []orb.MultiPolygon{rectPolygon(half)}
		}
		check(t, holes, func(geo.Carrier) want { return want{1, 0.5, 2 * 0.5 / 1.5} })
	})
	t.Run("twice the size half outside", func(t *testing.T) {
		holes := map[geo.Carrier][]orb.MultiPolygon{}
		for _, c := range allCarriers {
			r := plantedWeak[c]
			r.I1 += r.I1 - r.I0 // extends east, out of c's weak cells
			holes[c] = []orb.MultiPolygon{rectPolygon(r)}
		}
		check(t, holes, func(geo.Carrier) want { return want{0.5, 1, 2 * 0.5 / 1.5} })
	})
	t.Run("no holes", func(t *testing.T) {
		check(t, nil, func(geo.Carrier) want { return want{1, 0, 0} })
	})
	t.Run("truth holes GeoJSON scores perfectly", func(t *testing.T) {
		var buf bytes.Buffer
		if err := tr.HolesGeoJSON(&buf); err != nil {
			t.Fatal(err)
		}
		holes, err := sim.ReadHolesGeoJSON(&buf)
		if err != nil {
			t.Fatalf("ReadHolesGeoJSON: %v", err)
		}
		if len(holes) != len(allCarriers) {
			t.Errorf("holes for %d carriers, want %d", len(holes), len(allCarriers))
		}
		check(t, holes, func(geo.Carrier) want { return want{1, 1, 1} })
	})
}

// TestTruthHolesRoundTripDefault is TestEvaluatePlanted's last case on the
// generated province, where weak areas are ragged.
func TestTruthHolesRoundTripDefault(t *testing.T) {
	tr := defaultWorld(t).Truth
	var buf bytes.Buffer
	if err := tr.HolesGeoJSON(&buf); err != nil {
		t.Fatal(err)
	}
	holes, err := sim.ReadHolesGeoJSON(&buf)
	if err != nil {
		t.Fatalf("ReadHolesGeoJSON: %v", err)
	}
	for _, s := range sim.Evaluate(tr, holes) {
		if _, ok := holes[s.Carrier]; !ok {
			continue
		}
		if math.Abs(s.F1-1) > 1e-9 {
			t.Errorf("%v: F1 %v (precision %v, recall %v), want 1", s.Carrier, s.F1, s.Precision, s.Recall)
		}
	}
}

func TestDefaultWorldRealistic(t *testing.T) {
	w := defaultWorld(t)
	tr := w.Truth
	land := tr.LandKm2()
	if land <= 0 {
		t.Fatalf("LandKm2 = %v", land)
	}
	share := map[geo.Carrier]float64{}
	for _, c := range allCarriers {
		share[c] = tr.WeakKm2(c) / land
		t.Logf("%-12v weak %.1f%% of land", c, 100*share[c])
	}
	for _, c := range geo.Carriers {
		if share[c] < 0.02 || share[c] > 0.40 {
			t.Errorf("%v weak share %.3f, want between 0.02 and 0.40", c, share[c])
		}
		if c != geo.Viettel && share[c] <= share[geo.Viettel] {
			t.Errorf("%v weak share %.3f is not above Viettel's %.3f", c, share[c], share[geo.Viettel])
		}
	}
	if s := share[geo.CarrierAll]; s < 0.005 || s > 0.06 {
		t.Errorf("dead zone share %.4f, want between 0.005 and 0.06", s)
	}

	for _, a := range w.Areas {
		if !strings.Contains(a.Name, "(mô phỏng)") {
			t.Errorf("area %s name %q lacks \"(mô phỏng)\"", a.Code, a.Name)
		}
	}

	if len(w.Reports) != 60000 {
		t.Errorf("%d reports, want 60000", len(w.Reports))
	}
	rules := geo.DefaultRules()
	weak := 0
	sources := map[geo.Source]int{}
	for i := range w.Reports {
		o := w.Reports[i].ToObs(nil)
		if rules.IsWeak(&o) {
			weak++
		}
		sources[w.Reports[i].Source]++
	}
	ws := float64(weak) / float64(len(w.Reports))
	t.Logf("weak reports %.1f%%, sources %v", 100*ws, sources)
	if ws < 0.10 || ws > 0.60 {
		t.Errorf("weak report share %.3f, want between 0.10 and 0.60", ws)
	}
	for _, s := range []geo.Source{geo.SourceStaff, geo.SourceTeam, geo.SourceApp, geo.SourceDriveTest} {
		if sources[s] == 0 {
			t.Errorf("no reports from source %v", s)
		}
	}

	if len(w.Teams) == 0 {
		t.Error("no teams")
	}
	for _, tm := range w.Teams {
		if tm.Members < 4 || tm.Members > 12 {
			t.Errorf("team %s has %d members, want 4–12", tm.ID, tm.Members)
		}
	}
}

func TestOutputsReadByGapmap(t *testing.T) {
	w := defaultWorld(t)
	ctx := context.Background()
	dir := t.TempDir()
	out := outputs(t, w)
	for _, name := range []string{"reports.csv", "areas.geojson", "teams.csv"} {
		if err := os.WriteFile(filepath.Join(dir, name), out[name], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nonASCII := func(s string) bool { return utf8.ValidString(s) && len(s) != utf8.RuneCountInString(s) }

	t.Run("reports", func(t *testing.T) {
		var got []*geo.Report
		sum, err := ingest.ReadReports(ctx, bytes.NewReader(out["reports.csv"]), ingest.ReportFormat("reports.csv"),
			ingest.ReportOptions{Now: sim.DefaultEnd.Add(24 * time.Hour)},
			func(_ int, r *geo.Report) error { got = append(got, r); return nil })
		if err != nil {
			t.Fatalf("ReadReports: %v", err)
		}
		if sum.Rejected != 0 {
			t.Errorf("%d rows rejected, first: %v", sum.Rejected, sum.Errors[:min(3, len(sum.Errors))])
		}
		if sum.Accepted != len(w.Reports) || len(got) != len(w.Reports) {
			t.Fatalf("accepted %d (%d handed over), want %d", sum.Accepted, len(got), len(w.Reports))
		}
		vi := 0
		for i, g := range got {
			r := &w.Reports[i]
			if g.ID != r.ID || g.Reporter != r.Reporter || g.Note != r.Note ||
				g.Carrier != r.Carrier || g.Tech != r.Tech || g.Source != r.Source || g.NoService != r.NoService ||
				g.Lat != r.Lat || g.Lon != r.Lon || !g.ObservedAt.Equal(r.ObservedAt) {
				t.Fatalf("report %d: read back %+v, wrote %+v", i, *g, *r)
			}
			if nonASCII(r.Reporter) || nonASCII(r.Note) {
				vi++
			}
		}
		t.Logf("%d reports with Vietnamese text", vi)
	})

	t.Run("areas", func(t *testing.T) {
		set, err := data.ReadAreas(ctx, filepath.Join(dir, "areas.geojson"), data.AreaOptions{})
		if err != nil {
			t.Fatalf("ReadAreas: %v", err)
		}
		if len(set.Errors) != 0 {
			t.Errorf("%d areas rejected, first: %v", len(set.Errors), set.Errors[0])
		}
		if len(set.Areas) != len(w.Areas) {
			t.Fatalf("read %d areas, want %d", len(set.Areas), len(w.Areas))
		}
		vi := 0
		for i, a := range set.Areas {
			b := &w.Areas[i]
			if a.Code != b.Code || a.Name != b.Name || a.ParentCode != b.ParentCode || a.Population != b.Population {
				t.Errorf("area %d: read %q %q parent %q pop %d, wrote %q %q parent %q pop %d",
					i, a.Code, a.Name, a.ParentCode, a.Population, b.Code, b.Name, b.ParentCode, b.Population)
			}
			if nonASCII(b.Name) {
				vi++
			}
		}
		if vi == 0 {
			t.Error("no area name has Vietnamese letters: the round trip checks nothing")
		}
	})

	t.Run("teams", func(t *testing.T) {
		teams, errs, err := data.ReadTeams(ctx, filepath.Join(dir, "teams.csv"))
		if err != nil {
			t.Fatalf("ReadTeams: %v", err)
		}
		if len(errs) != 0 {
			t.Errorf("%d teams rejected, first: %v", len(errs), errs[0])
		}
		if len(teams) != len(w.Teams) {
			t.Fatalf("read %d teams, want %d", len(teams), len(w.Teams))
		}
		for i, a := range teams {
			b := w.Teams[i]
			if a != b {
				t.Errorf("team %d: read %+v, wrote %+v", i, a, b)
			}
		}
		if !nonASCII(w.Teams[0].Name) {
			t.Errorf("team name %q has no Vietnamese letters", w.Teams[0].Name)
		}
	})
}

func TestNaiveHolesBaseline(t *testing.T) {
	w := defaultWorld(t)
	holes := sim.NaiveHoles(w.Reports, geo.DefaultRules(), 8, 5, 0.6)
	for _, s := range sim.Evaluate(w.Truth, holes) {
		t.Logf("%-12v precision %.2f recall %.2f F1 %.2f", s.Carrier, s.Precision, s.Recall, s.F1)
		if s.F1 < 0.2 || s.F1 > 0.8 {
			t.Errorf("%v: naive F1 %.3f, want between 0.2 and 0.8", s.Carrier, s.F1)
		}
	}
	// Holes lie on land: sample points inside each carrier's holes.
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range allCarriers {
		for _, mp := range holes[c] {
			b := mp.Bound()
			in, land := 0, 0
			for k := 0; k < 20000 && in < 2000; k++ {
				p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
				if !planar.MultiPolygonContains(mp, p) {
					continue
				}
				in++
				if _, l := w.Truth.WeakAt(c, p[0], p[1]); l {
					land++
				}
			}
			if in == 0 {
				t.Errorf("%v: no sample fell inside the holes", c)
				continue
			}
			if f := float64(land) / float64(in); f < 0.9 {
				t.Errorf("%v: %.2f of the holes' area is on land, want at least 0.9", c, f)
			}
		}
	}
}
