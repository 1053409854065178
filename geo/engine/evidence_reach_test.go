package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/gapmap/gapmap/geo/internal/geotest"
)

// km converts kilometres east and north of (106.3, 10.5) to lon, lat.
func km(x, y float64) (lon, lat float64) {
	const lat0 = 10.5
	return 106.3 + x/(111.32*math.Cos(lat0*math.Pi/180)), lat0 + y/110.57
}

// kmSquare is the area from (x0, y0) to (x1, y1) km.
func kmSquare(code, name string, x0, y0, x1, y1 float64) geo.Area {
	a, b := km(x0, y0)
	c, d := km(x1, y1)
	return geo.Area{Code: code, Name: name, Level: geo.LevelHamlet, ParentCode: "X1", Population: 800, Geometry: geotest.Square(a, b, c, d)}
}

// surveys scatters n four-carrier surveys over (x0, y0)–(x1, y1) km, by
// six reporters over 30 days, with levels around dBm.
func surveys(rng *rand.Rand, n int, x0, y0, x1, y1, dBm float64) []geo.Obs {
	end := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC).Unix()
	var out []geo.Obs
	for i := range n {
		lon, lat := km(x0+rng.Float64()*(x1-x0), y0+rng.Float64()*(y1-y0))
		at := end - int64(rng.IntN(30))*86400 - int64(i)
		who := uint32(1 + rng.IntN(6))
		for _, c := range geo.Carriers {
			out = append(out, geo.Obs{Lon: lon, Lat: lat, At: at, Carrier: c, Tech: geo.Tech4G, Reporter: who, Area: -1,
				SignalDBm: float32(math.Round(dBm + rng.NormFloat64()*4)), DownMbps: float32(math.NaN())})
		}
	}
	return out
}

// TestTwoWeakHamletsApart is the hand-made case: two weak 2×2 km hamlets
// 3.5 km apart with nothing reported between them (land that is loaded as
// an area, but unobserved), a good hamlet beside each. The dead zones must
// be two, not one joining both across the gap; together at most twice the
// land the evidence covers (8 km²); and the gap and the good hamlets must
// lie in no hole or dead zone.
func TestTwoWeakHamletsApart(t *testing.T) {
	areas := []geo.Area{
		kmSquare("G1", "Ấp Tốt Một", -2, 0, 0, 2),
		kmSquare("W1", "Ấp Yếu Một", 0, 0, 2, 2),
		kmSquare("GAP", "Cánh đồng", 2, 0, 5.5, 2),
		kmSquare("W2", "Ấp Yếu Hai", 5.5, 0, 7.5, 2),
		kmSquare("G2", "Ấp Tốt Hai", 7.5, 0, 9.5, 2),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var obs []geo.Obs
	obs = append(obs, surveys(rng, 250, -2, 0, 0, 2, -90)...)
	obs = append(obs, surveys(rng, 250, 0, 0, 2, 2, -121)...)
	obs = append(obs, surveys(rng, 250, 5.5, 0, 7.5, 2, -121)...)
	obs = append(obs, surveys(rng, 250, 7.5, 0, 9.5, 2, -90)...)
	res, err := Analyze(context.Background(), Input{Areas: areas, Obs: obs}, geo.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ix := index.New(areas)
	inArea := func(code string, h *geo.Hole) int {
		n := 0
		for _, c := range h.CellIDs {
			p := index.CellCenter(c)
			if i := ix.Locate(p[0], p[1]); i >= 0 && areas[i].Code == code {
				n++
			}
		}
		return n
	}
	var dead []geo.Hole
	perCarrier := map[geo.Carrier]int{}
	for _, h := range res.Holes {
		if h.Carrier == geo.CarrierAll {
			dead = append(dead, h)
		} else {
			perCarrier[h.Carrier]++
		}
		for _, code := range []string{"G1", "G2"} {
			if n := inArea(code, &h); n > 0 {
				t.Errorf("%s hole %s: %d cells in good hamlet %s", h.Carrier, h.ID, n, code)
			}
		}
		// The gap's middle, 1.2 km from the nearest report, is beyond the
		// support distance.
		for _, c := range h.CellIDs {
			p := index.CellCenter(c)
			x0, _ := km(3.2, 0)
			x1, _ := km(4.3, 0)
			if p[0] > x0 && p[0] < x1 {
				t.Errorf("%s hole %s reaches into the middle of the unreported gap", h.Carrier, h.ID)
				break
			}
		}
	}
	if len(dead) != 2 {
		t.Fatalf("%d dead zones, want 2 (one per weak hamlet)", len(dead))
	}
	total := dead[0].AreaKm2 + dead[1].AreaKm2
	t.Logf("dead zones %.2f + %.2f km², holes per carrier %v", dead[0].AreaKm2, dead[1].AreaKm2, perCarrier)
	if total > 16 {
		t.Errorf("dead zones cover %.1f km², want at most 16 (twice the 8 km² of evidence)", total)
	}
	if total < 4 {
		t.Errorf("dead zones cover %.1f km², want most of the 8 km² of weak hamlets", total)
	}
	for _, c := range geo.Carriers {
		if perCarrier[c] != 2 {
			t.Errorf("%s: %d holes, want 2", c, perCarrier[c])
		}
	}
	// The gap is unobserved land; the reported hamlets are observed.
	for _, a := range res.Areas {
		switch a.Code {
		case "GAP":
			if a.ObservedShare > 0.5 {
				t.Errorf("gap: observed share %.2f, want most of it unobserved", a.ObservedShare)
			}
		case "G1", "W1", "W2", "G2":
			if a.ObservedShare < 0.9 {
				t.Errorf("%s: observed share %.2f, want nearly all", a.Code, a.ObservedShare)
			}
		}
	}
}

// TestHalfReportedHamlet: a 4×2 km hamlet whose reports all lie in its
// western half. About half its land is observed (observed_share), the
// unobserved land lies in the eastern half, and the tasks the hamlet's
// team gets point into that half.
func TestHalfReportedHamlet(t *testing.T) {
	areas := []geo.Area{kmSquare("H", "Ấp Nửa", 0, 0, 4, 2)}
	areas[0].Households = 400
	rng := rand.New(rand.NewPCG(3, 4))
	obs := surveys(rng, 300, 0, 0, 1.6, 2, -88)
	lon, lat := km(1, 1)
	teams := []geo.Team{{ID: "T1", Name: "Tổ CNS ấp Nửa", AreaCode: "H", Members: 6, Lon: lon, Lat: lat, HasLocation: true}}
	res, err := Analyze(context.Background(), Input{Areas: areas, Obs: obs, Teams: teams}, geo.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	share := res.Areas[0].ObservedShare
	t.Logf("observed share %.2f", share)
	if share < 0.3 || share > 0.75 {
		t.Errorf("observed share %.2f, want about half", share)
	}
	var all *geo.Unobserved
	for i := range res.Unobserved {
		if res.Unobserved[i].Carrier == geo.CarrierAll {
			all = &res.Unobserved[i]
		}
	}
	if all == nil || all.AreaKm2 < 2 || all.AreaKm2 > 6 || len(all.Geometry) == 0 {
		t.Fatalf("unobserved land for all carriers %+v, want about 4 km² with an outline", all)
	}
	mid, _ := km(2, 1)
	if c := all.Geometry.Bound().Center(); c[0] < mid {
		t.Errorf("unobserved land centred at %.4f, want east of %.4f", c[0], mid)
	}
	if len(res.Tasks) != geo.DefaultConfig().TasksPerTeam {
		t.Fatalf("%d tasks, want %d", len(res.Tasks), geo.DefaultConfig().TasksPerTeam)
	}
	for _, tk := range res.Tasks {
		t.Logf("task %d %s %s %s at %.4f,%.4f: %.1f households, score %.2f", tk.Rank, tk.Place, tk.Why, tk.Carrier, tk.Lon, tk.Lat, tk.Households, tk.Score)
		if tk.Team != "T1" || tk.Area != "H" || tk.State != geo.TaskOpen {
			t.Errorf("task %+v: want team T1 in area H, open", tk)
		}
		edge, _ := km(1.6, 1)
		if tk.Lon < edge || tk.Why != geo.TaskUnobserved || tk.Carrier != geo.CarrierAll {
			t.Errorf("task %s at lon %.4f (%s, %s), want unobserved land for all carriers east of %.4f", tk.Place, tk.Lon, tk.Why, tk.Carrier, edge)
		}
	}
	// A Live proposes the same tasks.
	live, err := NewLive(context.Background(), Input{Areas: areas, Obs: obs, Teams: teams}, geo.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if got := live.Tasks(); !slices.Equal(got, res.Tasks) {
		t.Errorf("a Live proposes %v, Analyze %v", got, res.Tasks)
	}
}

// TestHolesClippedToAreas: weak reports along a province's edge make a
// hole that stays inside the areas: every hole cell's centre lies in an
// area, and the outline ends within a cell of the edge, not kilometres
// past it.
func TestHolesClippedToAreas(t *testing.T) {
	areas := []geo.Area{kmSquare("E", "Ấp Biên", 0, 0, 3, 3)}
	rng := rand.New(rand.NewPCG(5, 6))
	obs := surveys(rng, 250, 2.2, 0, 3, 3, -122)
	obs = append(obs, surveys(rng, 250, 0, 0, 1.5, 3, -88)...)
	res, err := Analyze(context.Background(), Input{Areas: areas, Obs: obs}, geo.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Holes) == 0 {
		t.Fatal("no hole along the edge")
	}
	ix := index.New(areas)
	east, _ := km(3.25, 0)
	for _, h := range res.Holes {
		for _, c := range h.CellIDs {
			if p := index.CellCenter(c); ix.Locate(p[0], p[1]) < 0 {
				t.Errorf("%s %s: cell %s centred outside every area", h.Carrier, h.ID, index.CellString(c))
			}
		}
		if b := h.Geometry.Bound(); b.Max[0] > east {
			t.Errorf("%s %s reaches lon %.4f, past the edge (%.4f)", h.Carrier, h.ID, b.Max[0], east)
		}
	}
}
