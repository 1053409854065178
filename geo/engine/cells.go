package engine

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
)

// cellIndex groups observations by hex cell and carrier without a map per
// cell: one sorted array of 64-bit keys, 8 bytes per observation. A key
// packs, from the top:
//
//	[coarse cell (7 + 3·coarse bits)][carrier slot (2)][finer digits (3·(fine−coarse))][observation index]
//
// so that, once sorted, one carrier's observations in one coarse cell are
// contiguous, and within them those of each fine cell. The coarse cells
// carry the per-carrier statistics (CellStat), the fine cells the hole
// evidence.
type cellIndex struct {
	coarse, fine int
	fd           uint // bits of the finer digits
	idxBits      uint
	keys         []uint64
}

// cellBits returns the meaningful bits of an H3 cell at resolution res:
// the base cell and res digits.
func cellBits(cell uint64, res int) uint64 {
	return cell >> (3 * (15 - res)) & (1<<(7+3*res) - 1)
}

// cellFromBits is the inverse of cellBits.
func cellFromBits(bits uint64, res int) uint64 {
	low := uint(3 * (15 - res))
	return 1<<59 | uint64(res)<<52 | bits<<low | (1<<low - 1)
}

// newCellIndex computes every observation's fine cell (in parallel: the
// H3 call dominates) and sorts the keys.
func newCellIndex(obs []geo.Obs, coarse, fine int) (*cellIndex, error) {
	ci := &cellIndex{coarse: coarse, fine: fine, fd: uint(3 * (fine - coarse))}
	used := uint(7+3*coarse) + 2 + ci.fd
	ci.idxBits = 64 - used
	if ci.idxBits < 63 && len(obs) >= 1<<ci.idxBits {
		return nil, fmt.Errorf("geo: %d reports are too many for cell resolutions %d/%d (at most %d)", len(obs), coarse, fine, 1<<ci.idxBits)
	}
	keys := make([]uint64, len(obs))
	index.Parallel(len(obs), func(lo, hi int) {
		// Reports of several carriers from one spot (a team testing every
		// SIM) usually come together: reuse the cell of the one before.
		var plon, plat float64
		var pbits uint64
		have := false
		for i := lo; i < hi; i++ {
			o := &obs[i]
			s := carrierSlot(o.Carrier)
			if s < 0 {
				keys[i] = math.MaxUint64
				continue
			}
			if !have || o.Lon != plon || o.Lat != plat {
				plon, plat, have = o.Lon, o.Lat, true
				pbits = cellBits(index.CellAt(o.Lon, o.Lat, fine), fine)
			}
			bits := pbits
			digits := bits & (1<<ci.fd - 1)
			keys[i] = (bits>>ci.fd)<<(2+ci.fd+ci.idxBits) | uint64(s)<<(ci.fd+ci.idxBits) | digits<<ci.idxBits | uint64(i)
		}
	})
	// Each key ends in its observation's index, rising with its place:
	// sorting by the bits above it, stably, is sorting the keys.
	index.SortHigh(keys, 64-ci.idxBits)
	n := sort.Search(len(keys), func(i int) bool { return keys[i] == math.MaxUint64 })
	ci.keys = keys[:n]
	return ci, nil
}

// obs returns the observation index in key k.
func (ci *cellIndex) obs(k uint64) int32 { return int32(k & (1<<ci.idxBits - 1)) }

// slot returns the carrier slot in key k.
func (ci *cellIndex) slot(k uint64) int { return int(k>>(ci.fd+ci.idxBits)) & 3 }

// fineGroup identifies k's fine cell and carrier; coarseGroup its coarse
// cell and carrier.
func (ci *cellIndex) fineGroup(k uint64) uint64   { return k >> ci.idxBits }
func (ci *cellIndex) coarseGroup(k uint64) uint64 { return k >> (ci.fd + ci.idxBits) }

// fineCell and coarseCell return k's cells as H3 indexes.
func (ci *cellIndex) fineCell(k uint64) uint64 {
	coarse := k >> (2 + ci.fd + ci.idxBits)
	digits := k >> ci.idxBits & (1<<ci.fd - 1)
	return cellFromBits(coarse<<ci.fd|digits, ci.fine)
}

func (ci *cellIndex) coarseCell(k uint64) uint64 {
	return cellFromBits(k>>(2+ci.fd+ci.idxBits), ci.coarse)
}

// span is a range [lo, hi) of cellIndex.keys.
type span struct{ lo, hi int32 }

// runs calls fn for each maximal run of keys with equal group(key).
func runs(keys []uint64, group func(uint64) uint64, fn func(lo, hi int)) {
	for lo := 0; lo < len(keys); {
		g := group(keys[lo])
		hi := lo + 1
		for hi < len(keys) && group(keys[hi]) == g {
			hi++
		}
		fn(lo, hi)
		lo = hi
	}
}

// biasTable counts, in one coarse cell for one carrier, ordinary reports
// weak (a) and not (b), and drive tests weak (c) and not (d).
type biasTable struct{ a, b, c, d float64 }

// coarseStats summarises each carrier's reports per coarse cell, and
// collects per-cell tables for estimating the report bias.
func (ci *cellIndex) coarseStats(obs []geo.Obs) ([]geo.CellStat, [nCarriers][]biasTable) {
	var out []geo.CellStat
	var tabs [nCarriers][]biasTable
	var reps []uint64
	var days []int64
	var sig []float32
	runs(ci.keys, ci.coarseGroup, func(lo, hi int) {
		k0 := ci.keys[lo]
		st := geo.CellStat{Cell: ci.coarseCell(k0), Carrier: geo.Carriers[ci.slot(k0)]}
		reps, days, sig = reps[:0], days[:0], sig[:0]
		var children uint8
		var t biasTable
		for _, k := range ci.keys[lo:hi] {
			o := &obs[ci.obs(k)]
			st.Reports++
			weak := o.Flags&geo.FlagWeak != 0
			if weak {
				st.Weak++
			}
			switch {
			case o.Source == geo.SourceDriveTest && weak:
				t.c++
			case o.Source == geo.SourceDriveTest:
				t.d++
			case weak:
				t.a++
			default:
				t.b++
			}
			reps = append(reps, reporterKey(o))
			days = append(days, o.At/86400)
			if o.HasSignal() {
				sig = append(sig, o.SignalDBm)
			}
			if ci.fd > 0 {
				children |= 1 << (k >> (ci.idxBits + ci.fd - 3) & 7)
			}
		}
		st.WeakLow, _ = Wilson(st.Weak, st.Reports)
		st.Reporters = countDistinct(reps)
		st.Days = countDistinct(days)
		st.Children = popcount8(children)
		st.MedianSignalDBm = median32(sig)
		out = append(out, st)
		s := ci.slot(k0)
		tabs[s] = append(tabs[s], t)
	})
	// Order by carrier, then cell, as documented.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Carrier != out[j].Carrier {
			return out[i].Carrier < out[j].Carrier
		}
		return out[i].Cell < out[j].Cell
	})
	return out, tabs
}

func countDistinct[T int64 | uint64](v []T) int {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	n := 1
	for i := 1; i < len(v); i++ {
		if v[i] != v[i-1] {
			n++
		}
	}
	return n
}

func popcount8(x uint8) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}

// cellInfo is what the scoring needs about a cell in a hole: its area
// and centre, and the areas containing seven sample points that each
// stand for about a seventh of the cell (-1 outside every area): the
// centre and the points halfway from it to each vertex. Its boundary is
// not kept: an outline asks H3 for it again (see Live.outline), which
// costs less than holding a ring per hole cell through the analysis.
type cellInfo struct {
	km2    float64
	centre orb.Point
	in     [7]int32
	topo   *cellTopo // a Live's, once a large hole has held the cell
}

// earthRadiusKm is the mean Earth radius (IUGG).
const earthRadiusKm = 6371.0088

// newCellInfo derives a cell's figures from its boundary with one call
// into H3; the area is the boundary's area in a local equirectangular
// projection, within 0.1% of the spherical area at these sizes.
func newCellInfo(c uint64, ix *index.Index) cellInfo {
	ring := index.CellBoundary(c)
	n := len(ring) - 1 // closed ring
	var cx, cy float64
	for _, p := range ring[:n] {
		cx += p[0]
		cy += p[1]
	}
	cx, cy = cx/float64(n), cy/float64(n)
	k := math.Pi / 180 * earthRadiusKm
	kx := k * math.Cos(cy*math.Pi/180)
	var a2 float64
	for i := 0; i < n; i++ {
		p, q := ring[i], ring[i+1]
		a2 += ((p[0]-cx)*kx)*((q[1]-cy)*k) - ((q[0]-cx)*kx)*((p[1]-cy)*k)
	}
	inf := cellInfo{km2: math.Abs(a2) / 2, centre: orb.Point{cx, cy}}
	inf.in[0] = int32(ix.Locate(cx, cy))
	for i := 0; i < 6 && i < n; i++ {
		inf.in[i+1] = int32(ix.Locate((cx+ring[i][0])/2, (cy+ring[i][1])/2))
	}
	if n == 5 { // a pentagon: the seventh sample is the centre again
		inf.in[6] = inf.in[0]
	}
	return inf
}

// addCellsInfo adds to m the cells it does not hold yet.
func addCellsInfo(m map[uint64]*cellInfo, all []uint64, ix *index.Index) {
	cells := slices.Clone(all)
	slices.Sort(cells)
	cells = slices.Compact(cells)
	if len(m) > 0 {
		cells = slices.DeleteFunc(cells, func(c uint64) bool { _, ok := m[c]; return ok })
	}
	infos := make([]cellInfo, len(cells))
	index.Parallel(len(cells), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			infos[i] = newCellInfo(cells[i], ix)
		}
	})
	for i, c := range cells {
		m[c] = &infos[i]
	}
}
