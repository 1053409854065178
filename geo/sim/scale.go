package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/gapmap/gapmap/geo"
	gridareas "github.com/gapmap/gapmap/geo/internal/grid"
)

// ScaleOptions describes a national-scale synthetic data set (see Scale).
type ScaleOptions struct {
	Seed int64
	// Hamlets is the number of hamlets, rounded up to a square grid;
	// 0 means 10,000.
	Hamlets int
	// Reports is the number of reports; 0 means 100 per hamlet.
	Reports int
	// Vertices is about how many vertices each hamlet has; 0 means 200.
	Vertices int
}

// Scale returns hamlets and reports for measuring the service at national
// scale, with no radio truth: a square grid of hamlets about 1.2 km
// across whose shared edges wind with smooth noise, grouped 4 × 4 into
// communes, one team each; and reports clustered around villages (one a
// hamlet on average, placed at random), a third of which sit in weak
// spots where 80% of the reports are weak, with repeating reporters and
// one report in 30 from a drive test. The same options give the same
// world.
func Scale(opt ScaleOptions) (*World, error) {
	if opt.Hamlets == 0 {
		opt.Hamlets = 10_000
	}
	if opt.Vertices == 0 {
		opt.Vertices = 200
	}
	if opt.Reports == 0 {
		opt.Reports = 100 * opt.Hamlets
	}
	if opt.Hamlets < 0 || opt.Reports < 0 || opt.Vertices < 8 {
		return nil, fmt.Errorf("scale: hamlets %d, reports %d, vertices %d: hamlets and reports must not be negative, vertices at least 8",
			opt.Hamlets, opt.Reports, opt.Vertices)
	}
	n := int(math.Ceil(math.Sqrt(float64(opt.Hamlets))))
	const cell = 0.011 // degrees, about 1.2 km
	x0, y0 := 106.3-float64(n)*cell/2, 10.6-float64(n)*cell/2
	areas := gridareas.Areas(n, n, opt.Vertices/4, x0, y0, cell)
	rng := newRand(opt.Seed, streamProvince)
	for i := range areas {
		gi, gj := i%n, i/n
		a := &areas[i]
		a.Code = fmt.Sprintf("H%03d%03d", gi, gj)
		a.Name = fmt.Sprintf("Ấp %d-%d", gi, gj)
		a.ParentCode = fmt.Sprintf("X%03d%03d", gi/4, gj/4)
		a.Vintage = "2025"
		a.Population = 600 + rng.Int64N(1800)
		a.Households = a.Population / 4
	}
	w := &World{Areas: areas, synthetic: true}
	for i := range areas {
		a := &areas[i]
		w.Teams = append(w.Teams, geo.Team{
			ID: "T" + a.Code[1:], Name: "Tổ công nghệ số " + a.Name, AreaCode: a.Code,
			Members: 4 + rng.IntN(9),
		})
	}

	rr := newRand(opt.Seed, streamReports)
	type village struct{ lon, lat, weak float64 }
	vs := make([]village, max(1, len(areas)))
	span := float64(n) * cell
	for i := range vs {
		vs[i] = village{x0 + rr.Float64()*span, y0 + rr.Float64()*span, 0.05}
		if i%3 == 0 {
			vs[i].weak = 0.8
		}
	}
	end := DefaultEnd
	w.Reports = make([]geo.Report, opt.Reports)
	for i := range w.Reports {
		vi := rr.IntN(len(vs))
		v := vs[vi]
		sig := -95 + rr.NormFloat64()*6
		if rr.Float64() < v.weak {
			sig = -115 + rr.NormFloat64()*5
		}
		// A reading the report rules accept: a tail 5σ out would be
		// rejected on import (10M reports hold a few).
		sig = min(max(math.Round(sig), -140), -20)
		r := geo.Report{
			ID:         fmt.Sprintf("s%08d", i+1),
			Lon:        round6(v.lon + rr.NormFloat64()*0.004),
			Lat:        round6(v.lat + rr.NormFloat64()*0.004),
			ObservedAt: end.Add(-time.Duration(rr.Int64N(180*86400)) * time.Second),
			Carrier:    geo.Carriers[rr.IntN(len(geo.Carriers))],
			Tech:       geo.Tech4G,
			SignalDBm:  &sig,
			Source:     geo.SourceApp,
			Reporter:   fmt.Sprintf("u%d-%d", vi, rr.IntN(20)),
		}
		if i%30 == 0 {
			r.Source = geo.SourceDriveTest
		}
		w.Reports[i] = r
	}
	return w, nil
}
