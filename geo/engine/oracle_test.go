package engine

import (
	"context"
	"math"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/gapmap/gapmap/geo/internal/geotest"
)

// The batch hole method: the analysis as it was written before it became
// one engine (Live). It builds every hole from scratch from the flagged
// cells, and serves only as a test oracle for the incremental holes.

// shapeHoles gives each hole its geometry (the union of its cells),
// area and centroid, from the cells' information.
func shapeHoles(holes []geo.Hole, info map[uint64]*cellInfo) {
	measureHoles(holes, info)
	outlineHoles(holes)
}

// measureHoles sets each hole's area and centroid.
func measureHoles(holes []geo.Hole, info map[uint64]*cellInfo) {
	for i := range holes {
		measureHole(&holes[i], cellInfos(holes[i].CellIDs, info))
	}
}

// outlineHoles sets each hole's geometry, in parallel.
func outlineHoles(holes []geo.Hole) {
	index.Parallel(len(holes), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			h := &holes[i]
			h.Geometry = index.CellsToMultiPolygon(h.CellIDs)
		}
	})
}

// detectHoles flags cells whose surroundings are estimated weak, groups
// them into regions, keeps the regions with enough evidence, and does the
// same for all-carrier dead zones.
func detectHoles(f *hexField, obs []geo.Obs, cfg geo.Config) []geo.Hole {
	flagged, dead := flagAll(f, cfg.Holes)
	// Carriers are independent: find their holes concurrently, then
	// concatenate in carrier order so the result does not depend on
	// scheduling.
	per := make([][]geo.Hole, nCarriers+1)
	index.Each(nCarriers+1, func(s int) {
		set := dead
		if s < nCarriers {
			set = flagged[s]
		}
		for _, comp := range components(set) {
			if h, ok := componentHole(f, s, comp, obs, cfg); ok {
				per[s] = append(per[s], h)
			}
		}
	})
	var holes []geo.Hole
	for _, hs := range per {
		holes = append(holes, hs...)
	}
	return holes
}

// componentHole makes a hole of a connected group of flagged cells of
// carrier slot s (nCarriers: dead zones) when its evidence is enough; a
// dead zone also needs weak reports from DeadMinCarriers carriers.
func componentHole(f *hexField, s int, comp []uint64, obs []geo.Obs, cfg geo.Config) (geo.Hole, bool) {
	if s < nCarriers {
		return buildHole(f, geo.Carriers[s], comp, obs, cfg)
	}
	carriers := map[geo.Carrier]bool{}
	for _, c := range comp {
		f.each(c, geo.CarrierAll, func(o *geo.Obs) {
			if o.Flags&geo.FlagWeak != 0 {
				carriers[o.Carrier] = true
			}
		})
	}
	if len(carriers) < cfg.Holes.DeadMinCarriers {
		return geo.Hole{}, false
	}
	return buildHole(f, geo.CarrierAll, comp, obs, cfg)
}

// buildHole computes a candidate hole's evidence and figures and reports
// whether it has enough evidence to be a hole.
func buildHole(f *hexField, car geo.Carrier, comp []uint64, obs []geo.Obs, cfg geo.Config) (geo.Hole, bool) {
	p := cfg.Holes
	h := geo.Hole{Carrier: car, Cells: len(comp), CellIDs: comp, MedianSignalDBm: math.NaN()}
	reporters := map[uint64]struct{}{}
	days := map[int64]struct{}{}
	// Spread is checked FCC-style on resolution-9 cells (or the evidence
	// resolution when coarser): weak reports must come from several.
	spreadRes := min(9, p.Res)
	weakCells := map[uint64]struct{}{}
	var signals []float32
	var noService int
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, c := range comp {
		cellWeak := false
		f.each(c, car, func(o *geo.Obs) {
			h.Reports++
			if o.HasSignal() {
				signals = append(signals, o.SignalDBm)
			}
			if o.Flags&geo.FlagWeak == 0 {
				return
			}
			h.Weak++
			cellWeak = true
			if o.Flags&geo.FlagNoService != 0 || o.Tech == geo.TechNone {
				noService++
			}
			reporters[reporterKey(o)] = struct{}{}
			days[o.At/86400] = struct{}{}
			first, last = min(first, o.At), max(last, o.At)
		})
		if cellWeak {
			weakCells[index.CellParent(c, spreadRes)] = struct{}{}
		}
	}
	h.Reporters = len(reporters)
	if h.Weak < p.MinWeakReports || h.Reporters < p.MinReporters || len(days) < p.MinDays || len(weakCells) < p.MinCells {
		return h, false
	}
	finishHole(&h, comp, noService, first, last, median32(signals), f.biasOf(car), cfg)
	return h, true
}

// fillHoleAreas lists, for every hole, the areas it touches and the
// population and households affected: the area's people in proportion to
// the share of its land inside the hole, times the carrier's subscriber
// share (1 for dead zones).
func fillHoleAreas(holes []geo.Hole, ix *index.Index, info map[uint64]*cellInfo, cfg geo.Config, land []float64) {
	km := newAreaKm(ix.Len())
	for hi := range holes {
		fillHoleArea(&holes[hi], cellInfos(holes[hi].CellIDs, info), ix, cfg, land, km)
	}
}

// rankHoles orders holes by carrier (dead zones last) then priority, and
// numbers them within each carrier.
func rankHoles(holes []geo.Hole) {
	sort.SliceStable(holes, func(i, j int) bool { return holeLess(&holes[i], &holes[j]) })
	numberHoles(holes)
}

// holeCellInfo computes cellInfo for every cell of every hole, once per
// cell, in parallel.
func holeCellInfo(holes []geo.Hole, ix *index.Index) map[uint64]*cellInfo {
	m := map[uint64]*cellInfo{}
	addCellInfo(m, holes, ix)
	return m
}

// addCellInfo adds to m the cells of holes it does not hold yet.
func addCellInfo(m map[uint64]*cellInfo, holes []geo.Hole, ix *index.Index) {
	var cells []uint64
	for _, h := range holes {
		cells = append(cells, h.CellIDs...)
	}
	addCellsInfo(m, cells, ix)
}

// addHoles measures how much of each area's land lies in holes, by the
// centres of each hole cell's seven children.
func (a *areaAccum) addHoles(holes []geo.Hole, info map[uint64]*cellInfo) {
	for i := range holes {
		a.addHole(&holes[i], cellInfos(holes[i].CellIDs, info), 1)
	}
}

// batchAnalyze is the analysis built from scratch by the batch method:
// every hole from its flagged cells, every area from all holes at once.
func batchAnalyze(ctx context.Context, in Input, cfg geo.Config) (*geo.Result, error) {
	ix, cells, field, err := analyzeStart(ctx, in, cfg, func(string) {})
	if err != nil {
		return nil, err
	}
	obs := in.Obs
	res := &geo.Result{Cells: cells, ReportBias: field.biasByCarrier(), ReportBiasFrom: field.biasFromByCarrier()}
	res.Holes = detectHoles(field, obs, cfg)
	info := holeCellInfo(res.Holes, ix)
	shapeHoles(res.Holes, info)
	a := newAreaAccum(ix, in.Areas, cfg)
	land := newLandGrid(ix, cfg.Holes.Res-1)
	land.supportAll(field, a)
	res.Unobserved = land.unobserved()
	land.outline(res.Unobserved)
	a.addObs(obs)
	a.addHoles(res.Holes, info)
	res.Teams = a.addTeams(in.Teams)
	res.Areas = a.scores()
	fillHoleAreas(res.Holes, ix, info, cfg, areaLand(ix))
	rankHoles(res.Holes)
	res.Summary = summarize(res, len(in.Areas), newObsTally(obs), len(in.Teams))
	return res, ctx.Err()
}

// BenchmarkAnalyzeVsBatch compares the one engine (Analyze: NewLive and
// Result) with the batch method on 1M reports over the stress province,
// in one run, so that the cost of keeping the analysis live is measured
// under the same conditions.
func BenchmarkAnalyzeVsBatch(b *testing.B) {
	areas := geotest.GridAreas(32, 32, 50, 105.8, 10.2, 0.9/32)
	base := provinceObs(1_000_000, 105.8, 10.2, 0.9)
	ix := index.New(areas)
	obs := make([]geo.Obs, len(base))
	for _, tc := range []struct {
		name string
		fn   func(context.Context, Input, geo.Config) (*geo.Result, error)
	}{{"engine", Analyze}, {"batch", batchAnalyze}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var cpu time.Duration
			for range b.N {
				b.StopTimer()
				copy(obs, base)
				b.StartTimer()
				t0 := cpuTime()
				if _, err := tc.fn(context.Background(), Input{Areas: areas, Index: ix, Obs: obs}, geo.DefaultConfig()); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - t0
			}
			// CPU time (user and system, all threads) is steadier than the
			// wall time on a shared machine.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
