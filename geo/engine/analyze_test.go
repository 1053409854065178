package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/internal/geotest"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func ptr(v float64) *float64 { return &v }

// plantedCase is one commune with a cluster of Viettel weak reports from
// three reporters on three days, one isolated weak report, and good
// reports spread over the rest.
func plantedCase(t *testing.T) Input {
	t.Helper()
	areas := []geo.Area{{
		Code: "80001", Name: "Xã Mỹ Lệ", ParentCode: "80", Level: geo.LevelCommune, Vintage: "2025",
		Population: 8000, Geometry: geotest.Square(106.40, 10.50, 106.44, 10.54),
		Props: map[string]any{"province_name": "Tỉnh Tây Ninh"},
	}}
	rng := rand.New(rand.NewPCG(1, 2))
	day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	rs := geo.NewReporters()
	var obs []geo.Obs
	add := func(r geo.Report) { obs = append(obs, r.ToObs(rs)) }
	for i := range 12 {
		add(geo.Report{
			Lat: 10.51 + (rng.Float64()-0.5)*0.004, Lon: 106.41 + (rng.Float64()-0.5)*0.004,
			ObservedAt: day.Add(time.Duration(i%3) * 24 * time.Hour), Carrier: geo.Viettel,
			Tech: []geo.Tech{geo.TechNone, geo.Tech3G, geo.Tech2G}[i%3], NoService: i%3 == 0,
			Reporter: []string{"a", "b", "c"}[i%3],
		})
	}
	add(geo.Report{Lat: 10.535, Lon: 106.435, ObservedAt: day, Carrier: geo.Viettel, Tech: geo.TechNone, NoService: true, Reporter: "d"})
	for i := range 30 {
		// Good reports on a grid over the square, away from the cluster.
		lon := 106.402 + float64(i%6)*0.007
		lat := 10.502 + float64(i/6)*0.008
		if math.Hypot(lon-106.41, lat-10.51) < 0.006 {
			lat += 0.012
		}
		add(geo.Report{Lat: lat, Lon: lon, ObservedAt: day.Add(time.Duration(i) * time.Hour),
			Carrier: geo.Viettel, Tech: geo.Tech4G, SignalDBm: ptr(-85), Reporter: "e"})
	}
	teams := []geo.Team{{ID: "t1", Name: "Tổ CNS ấp 1", AreaCode: "80001", Members: 6, HouseholdsReached: 300}}
	return Input{Areas: areas, Obs: obs, Reporters: rs, Teams: teams}
}

func TestAnalyzePlanted(t *testing.T) {
	in := plantedCase(t)
	res, err := Analyze(context.Background(), in, geo.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var vt []geo.Hole
	for _, h := range res.Holes {
		if h.Carrier != geo.Viettel {
			t.Errorf("unexpected %s hole %s (only Viettel has reports)", h.Carrier, h.ID)
			continue
		}
		vt = append(vt, h)
	}
	if len(vt) != 1 {
		t.Fatalf("Viettel holes = %d, want 1 (the cluster; the lone report is not enough)", len(vt))
	}
	h := vt[0]
	if !planar.MultiPolygonContains(h.Geometry, orb.Point{106.41, 10.51}) {
		t.Error("hole does not cover the cluster at (106.41, 10.51)")
	}
	if planar.MultiPolygonContains(h.Geometry, orb.Point{106.435, 10.535}) {
		t.Error("hole covers the isolated report at (106.435, 10.535)")
	}
	if h.Weak != 12 || h.Reporters != 3 {
		t.Errorf("hole evidence: weak=%d reporters=%d, want 12 and 3", h.Weak, h.Reporters)
	}
	if h.Rank != 1 || len(h.Areas) != 1 || h.Areas[0].Code != "80001" || h.Areas[0].Name != "Xã Mỹ Lệ" {
		t.Errorf("hole rank/areas = %d %+v", h.Rank, h.Areas)
	}
	if math.Abs(h.Areas[0].Km2-h.AreaKm2) > 0.02*h.AreaKm2 {
		t.Errorf("hole inside the commune: %.3f km² in area, hole %.3f km²", h.Areas[0].Km2, h.AreaKm2)
	}
	if h.Severity <= 0 || h.Severity > 1 || h.Confidence <= 0 || h.Confidence > 1 {
		t.Errorf("severity %.3f confidence %.3f, want in (0, 1]", h.Severity, h.Confidence)
	}

	if len(res.Areas) != 2 {
		t.Fatalf("areas = %d, want the commune and its province roll-up", len(res.Areas))
	}
	a, p := res.Areas[0], res.Areas[1]
	if a.Reports != 43 || a.Weak != 13 {
		t.Errorf("commune reports/weak = %d/%d, want 43/13", a.Reports, a.Weak)
	}
	if a.Households != 2222 || !a.HouseholdsEstimated {
		t.Errorf("households = %d (estimated %v), want 8000/3.6 = 2222 estimated", a.Households, a.HouseholdsEstimated)
	}
	if a.Reach.Teams != 1 || a.Reach.Members != 6 || math.Abs(a.Reach.MembersPer1000HH-6.0/2222*1000) > 1e-9 {
		t.Errorf("reach = %+v", a.Reach)
	}
	if !a.Reach.Low || a.Action != geo.ActionTeam {
		t.Errorf("action = %s (reach low %v), want team: 2.7 members per 1,000 households is below 8 and the hole is small", a.Action, a.Reach.Low)
	}
	if p.Code != "80" || p.Name != "Tỉnh Tây Ninh" || p.Level != geo.LevelProvince || p.Children != 1 || p.Reports != 43 {
		t.Errorf("roll-up = %+v", p)
	}
	if math.Abs(a.Carriers[0].HoleKm2-h.AreaKm2) > 0.02*h.AreaKm2 {
		t.Errorf("commune Viettel hole km² = %.3f, want ≈ hole area %.3f", a.Carriers[0].HoleKm2, h.AreaKm2)
	}
	if res.Summary.Outside != 0 || res.Summary.Reports != 43 {
		t.Errorf("summary = %+v", res.Summary)
	}
}

func TestAnalyzeDeterministic(t *testing.T) {
	in := plantedCase(t)
	r1, err := Analyze(context.Background(), in, geo.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	in2 := plantedCase(t)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(in2.Obs), func(i, j int) { in2.Obs[i], in2.Obs[j] = in2.Obs[j], in2.Obs[i] })
	r2, err := Analyze(context.Background(), in2, geo.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Holes) != len(r2.Holes) {
		t.Fatalf("holes %d vs %d after shuffling the input", len(r1.Holes), len(r2.Holes))
	}
	for i := range r1.Holes {
		if r1.Holes[i].ID != r2.Holes[i].ID || !slices.Equal(r1.Holes[i].CellIDs, r2.Holes[i].CellIDs) {
			t.Errorf("hole %d differs after shuffling: %s vs %s", i, r1.Holes[i].ID, r2.Holes[i].ID)
		}
	}
}

func TestAnalyzeOneReportIsNeverAHole(t *testing.T) {
	rs := geo.NewReporters()
	r := geo.Report{Lat: 10.52, Lon: 106.42, ObservedAt: time.Now(), Carrier: geo.MobiFone, Tech: geo.TechNone, NoService: true, Reporter: "x"}
	in := Input{
		Areas:     []geo.Area{{Code: "A", Geometry: geotest.Square(106.40, 10.50, 106.44, 10.54)}},
		Obs:       []geo.Obs{r.ToObs(rs)},
		Reporters: rs,
	}
	res, err := Analyze(context.Background(), in, geo.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Holes) != 0 {
		t.Errorf("holes = %d from one report, want 0", len(res.Holes))
	}
	if res.Areas[0].WeakShare != 1 || res.Areas[0].WeakLow > 0.25 {
		t.Errorf("1 of 1 weak: share %.2f, lower bound %.2f (want 1 and ≈0.21)", res.Areas[0].WeakShare, res.Areas[0].WeakLow)
	}
}

func TestAnalyzeOutsideKept(t *testing.T) {
	rs := geo.NewReporters()
	in := Input{Areas: []geo.Area{{Code: "A", Geometry: geotest.Square(0, 0, 1, 1)}}, Reporters: rs}
	for _, p := range []orb.Point{{0.5, 0.5}, {2, 2}, {-1, 0.5}} {
		r := geo.Report{Lon: p[0], Lat: p[1], ObservedAt: time.Now(), Carrier: geo.Viettel, Tech: geo.Tech4G}
		in.Obs = append(in.Obs, r.ToObs(rs))
	}
	res, err := Analyze(context.Background(), in, geo.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Reports != 3 || res.Summary.Outside != 2 || res.Areas[0].Reports != 1 {
		t.Errorf("reports %d outside %d in area %d, want 3, 2, 1", res.Summary.Reports, res.Summary.Outside, res.Areas[0].Reports)
	}
}

func TestMedian32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 200; n++ {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.IntN(20)) - 120 // many ties
		}
		s := slices.Clone(v)
		slices.Sort(s)
		want := math.NaN()
		if n > 0 {
			want = float64(s[n/2])
			if n%2 == 0 {
				want = (float64(s[n/2-1]) + float64(s[n/2])) / 2
			}
		}
		got := median32(v)
		if !(got == want || (math.IsNaN(got) && math.IsNaN(want))) {
			t.Fatalf("n=%d: median %v, want %v", n, got, want)
		}
	}
}
