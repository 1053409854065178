package engine

import (
	"math"
	"slices"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
)

// holeStats is a hole's evidence kept as counts, so that a Live can add
// and take away cells and reports without rescanning the hole: what
// buildHole (and componentHole for dead zones) count, with the distinct
// reporters, days and resolution-9 cells counted by multiplicity, and the
// signal levels and weak reports' times kept sorted for the median and
// the first and last.
type holeStats struct {
	car                      geo.Carrier
	reports, weak, noService int
	// carWeak counts weak reports per carrier slot (for dead zones).
	carWeak   [nCarriers]int
	reporters map[uint64]int32
	days      map[int64]int32
	spread    map[uint64]int32 // resolution-9 cell → weak reports in it
	signals   []float32        // sorted
	weakAt    []int64          // sorted
	spreadRes int
	// bias is the report bias the hole's evidence is corrected by.
	bias float64
	// gathering says signals and weakAt are being gathered unsorted
	// (scanHoleStats sorts them at the end).
	gathering bool
}

func newHoleStats(car geo.Carrier, p geo.HoleParams) *holeStats {
	return &holeStats{car: car, reporters: map[uint64]int32{}, days: map[int64]int32{},
		spread: map[uint64]int32{}, spreadRes: min(9, p.Res)}
}

// scanHoleStats counts the reports in cells.
func scanHoleStats(f *hexField, car geo.Carrier, cells []uint64) *holeStats {
	st := newHoleStats(car, f.p)
	st.bias = f.biasOf(car)
	// Gathered unsorted and sorted once: inserting into sorted slices one
	// at a time costs the square of a large hole's reports.
	st.gathering = true
	for _, c := range cells {
		st.cell(f, c, 1)
	}
	st.gathering = false
	slices.Sort(st.signals)
	slices.Sort(st.weakAt)
	return st
}

// cell adds (sign 1) or takes away (sign −1) the reports in cell c.
func (st *holeStats) cell(f *hexField, c uint64, sign int) {
	var parent uint64
	f.each(c, st.car, func(o *geo.Obs) {
		if parent == 0 && o.Flags&geo.FlagWeak != 0 {
			parent = index.CellParent(c, st.spreadRes)
		}
		st.obs(o, parent, sign)
	})
}

// obs adds (sign 1) or takes away (sign −1) one report, in the
// resolution-9 cell parent (needed only when it is weak).
func (st *holeStats) obs(o *geo.Obs, parent uint64, sign int) {
	st.reports += sign
	if o.HasSignal() {
		if st.gathering {
			st.signals = append(st.signals, o.SignalDBm)
		} else {
			st.signals = sortedMove(st.signals, o.SignalDBm, sign)
		}
	}
	if o.Flags&geo.FlagWeak == 0 {
		return
	}
	st.weak += sign
	if s := carrierSlot(o.Carrier); s >= 0 {
		st.carWeak[s] += sign
	}
	if o.Flags&geo.FlagNoService != 0 || o.Tech == geo.TechNone {
		st.noService += sign
	}
	count(st.reporters, reporterKey(o), sign)
	count(st.days, o.At/86400, sign)
	count(st.spread, parent, sign)
	if st.gathering {
		st.weakAt = append(st.weakAt, o.At)
	} else {
		st.weakAt = sortedMove(st.weakAt, o.At, sign)
	}
}

// count adds sign to m[k], deleting k at zero.
func count[K comparable](m map[K]int32, k K, sign int) {
	if n := m[k] + int32(sign); n != 0 {
		m[k] = n
	} else {
		delete(m, k)
	}
}

// sortedMove inserts (sign 1) or removes (sign −1) one v in sorted s.
func sortedMove[T float32 | int64](s []T, v T, sign int) []T {
	i, found := slices.BinarySearch(s, v)
	if sign > 0 {
		return slices.Insert(s, i, v)
	}
	if !found {
		panic("geo: holeStats: removing a value it does not hold")
	}
	return slices.Delete(s, i, i+1)
}

// hole makes the hole of cells (sorted) from the counts, as componentHole
// would, and reports whether its evidence is enough. Its areas and
// outline are left to the caller.
func (st *holeStats) hole(cells []uint64, cfg geo.Config) (geo.Hole, bool) {
	p := cfg.Holes
	if st.car == geo.CarrierAll {
		n := 0
		for _, w := range st.carWeak {
			if w > 0 {
				n++
			}
		}
		if n < p.DeadMinCarriers {
			return geo.Hole{}, false
		}
	}
	h := geo.Hole{Carrier: st.car, Cells: len(cells), CellIDs: cells, MedianSignalDBm: math.NaN(),
		Reports: st.reports, Weak: st.weak, Reporters: len(st.reporters)}
	if h.Weak < p.MinWeakReports || h.Reporters < p.MinReporters || len(st.days) < p.MinDays || len(st.spread) < p.MinCells {
		return h, false
	}
	median := math.NaN()
	if n := len(st.signals); n > 0 {
		if n%2 == 1 {
			median = float64(st.signals[n/2])
		} else {
			median = (float64(st.signals[n/2-1]) + float64(st.signals[n/2])) / 2
		}
	}
	finishHole(&h, cells, st.noService, st.weakAt[0], st.weakAt[len(st.weakAt)-1], median, st.bias, cfg)
	return h, true
}
