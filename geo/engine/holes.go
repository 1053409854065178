package engine

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
)

// carrierSlot maps a carrier to 0..3 (−1 for others).
func carrierSlot(c geo.Carrier) int {
	if c >= geo.Viettel && c <= geo.Vietnamobile {
		return int(c - geo.Viettel)
	}
	return -1
}

const nCarriers = 4

// hexAcc accumulates evidence in one cell for one carrier: weak and good
// are the summed evidence for and against (bias-corrected), n the number of
// reports.
//
// The sums are kept in fixed point, so that they do not depend on the
// order in which reports arrive: integer sums are exact, so a Live that
// takes reports one at a time holds the very evidence that a fresh
// analysis of the same reports computes, to the last bit. A report's
// evidence is counted in 1/evidenceScale units (see contribution); a
// kernel weight in 1/kernelScale units. In the raw per-cell sums weak and
// good are in evidence units and n is a plain count; every smoothed or
// pooled accumulator (fine, smooth, wide) is a raw sum times a kernel
// weight, so weak and good are in evidenceScale·kernelScale units and n in
// kernelScale units. An int64 then holds 2³¹ reports' worth of evidence.
type hexAcc struct{ weak, good, n int64 }

const (
	evidenceScale = 1 << 20
	kernelScale   = 1 << 12
)

// addScaled adds w times b to a.
func (a *hexAcc) addScaled(b hexAcc, w int64) {
	a.weak += w * b.weak
	a.good += w * b.good
	a.n += w * b.n
}

// add adds b to a.
func (a *hexAcc) add(b hexAcc) {
	a.weak += b.weak
	a.good += b.good
	a.n += b.n
}

// fieldSums is one carrier's hexAcc at one scale for every cell of the
// field, in 16 bytes a cell rather than 24: weak and good in 48 bits
// each, n in 32, saturating at 2³²−1 kernel units (about a million
// reports, where it is only ever compared with thresholds of a few
// reports, and evidence only grows). A cell whose weak or good sum
// outgrows 48 bits (the full weight of some 65,000 reports in one
// kernel) is kept whole in big instead, its weak bits all ones, so every
// sum stays exact.
//
// The cells are held in pages of sumsPage: the field grows a chunk of
// cells at a time, to a size known only at the end, and pages grow it
// without copying what is there and with less than a page to spare (a
// slice grown by append would copy the sums each time and end with up
// to a quarter of them spare, and trimming it copies them again).
type fieldSums struct {
	pages []*[sumsPage][4]uint32
	big   map[int32]hexAcc
}

// sumsPage is the number of cells in a page of fieldSums (512 KiB).
const (
	sumsPageBits = 15
	sumsPage     = 1 << sumsPageBits
)

// sums48 is the largest sum 48 bits hold, and the weak bits of a cell
// kept in big.
const sums48 = 1<<48 - 1

// weakBits are the weak sum's 48 bits of a packed cell e.
func weakBits(e *[4]uint32) uint64 { return uint64(e[0]) | uint64(e[1]&0xFFFF)<<32 }

// entry is cell j's packed sums.
func (s *fieldSums) entry(j int32) *[4]uint32 {
	return &s.pages[j>>sumsPageBits][j&(sumsPage-1)]
}

// get returns cell j's sums.
func (s *fieldSums) get(j int32) hexAcc {
	e := s.entry(j)
	weak := weakBits(e)
	if weak == sums48 {
		return s.big[j]
	}
	return hexAcc{weak: int64(weak), good: int64(uint64(e[1]>>16) | uint64(e[2])<<16), n: int64(e[3])}
}

// addScaled adds w times b to cell j's sums.
func (s *fieldSums) addScaled(j int32, b hexAcc, w int64) {
	a := s.get(j)
	a.addScaled(b, w)
	s.set(j, a)
}

// set stores a as cell j's sums.
func (s *fieldSums) set(j int32, a hexAcc) {
	e := s.entry(j)
	if a.weak >= sums48 || a.good > sums48 || weakBits(e) == sums48 {
		if s.big == nil {
			s.big = map[int32]hexAcc{}
		}
		a.n = min(a.n, math.MaxUint32)
		s.big[j] = a
		e[0], e[1] = math.MaxUint32, e[1]|0xFFFF
		return
	}
	weak, good := uint64(a.weak), uint64(a.good)
	e[0] = uint32(weak)
	e[1] = uint32(weak>>32) | uint32(good)<<16
	e[2] = uint32(good >> 16)
	e[3] = uint32(min(a.n, math.MaxUint32))
}

// grow gives the sums room for n cells, the new ones empty.
func (s *fieldSums) grow(n int) {
	for len(s.pages)*sumsPage < n {
		s.pages = append(s.pages, new([sumsPage][4]uint32))
	}
}

// ratio is the weak share of a's evidence.
func (a hexAcc) ratio() float64 { return float64(a.weak) / float64(a.weak+a.good) }

// contribution is one report's raw evidence for carrier slot s, in
// evidence units (see hexAcc). Inverse-probability weighting: a report
// whose sender experienced weak service was bias times more likely to be
// sent, so it stands for 1/bias of a place; drive tests sample good and
// bad alike.
func (f *hexField) contribution(o *geo.Obs, s int, r geo.Rules) hexAcc {
	e := evidence(f.p, r, o)
	w := 1.0
	if o.Flags&geo.FlagWeak != 0 && o.Source != geo.SourceDriveTest {
		w = 1 / f.bias[s]
	}
	return hexAcc{
		weak: int64(math.Round(w * e * evidenceScale)),
		good: int64(math.Round(w * (1 - e) * evidenceScale)),
		n:    1,
	}
}

// hexField is the evidence grid: the cells that have reports and the cells
// near them, with smoothed evidence per carrier.
type hexField struct {
	p      geo.HoleParams
	ci     *cellIndex
	obs    []geo.Obs
	cells  []uint64  // all cells (data cells first)
	idx    cellTable // the positions of cells
	nData  int
	spans  [][nCarriers]span    // per data cell: its keys in ci, per carrier
	smooth [nCarriers]fieldSums // per cell
	fine   [nCarriers]fieldSums // per cell, the narrow kernel
	// wide[k] holds the wide-scale estimate per cell k+1 resolutions
	// coarser than Res.
	wide []wideLevel
	// up[k][j] is the position in wide[k] of the ancestor of cell j,
	// found when the field was built, or −1 when it was not there (a
	// wide cell made later, by Live, is looked up by cell).
	up       [][]int32
	bias     [nCarriers]float64
	biasFrom [nCarriers]geo.BiasEstimate
	// extra lists, per cell, the observations added after the field was
	// built (see Live), which the cell index does not hold.
	extra map[uint64][]int32
	// ix is the areas' index, and inside says, for the cells looked up so
	// far, whether a cell's centre lies in an area (see isInside).
	ix     *index.Index
	inside map[uint64]bool
	// Kernel weights by ring (in kernel units): local, fine and wide.
	weights, fineWeights, wideWeights []int64
}

// buildField bins observations into evidence cells and smooths them over
// neighbouring cells. tabs are the per-cell tables for estimating the
// report bias from drive tests (see estimateBias); jump, when not nil,
// is the estimate from the jump at the weak threshold (see jumpBias), used
// where drive tests are too few.
func buildField(obs []geo.Obs, ci *cellIndex, tabs [nCarriers][]biasTable, r geo.Rules, p geo.HoleParams, ix *index.Index, jump *biasEstimate) *hexField {
	f := &hexField{p: p, ci: ci, obs: obs, ix: ix, inside: map[uint64]bool{}}
	// The report bias: from drive tests where a carrier has enough, else
	// from the jump at the weak threshold (all carriers' reports
	// together), else the parameter.
	for c := range nCarriers {
		f.bias[c] = p.ReportBias
		f.biasFrom[c] = geo.BiasEstimate{Bias: p.ReportBias, Method: "default"}
		if !p.EstimateBias {
			continue
		}
		if k, n, ok := estimateBias(tabs[c]); ok {
			f.bias[c] = k
			f.biasFrom[c] = geo.BiasEstimate{Bias: k, Method: "drive_tests", Reports: n}
		} else if jump != nil && jump.bias > 0 {
			f.bias[c] = jump.bias
			f.biasFrom[c] = geo.BiasEstimate{Bias: jump.bias, Method: "threshold_jump", Reports: jump.reports, Low: jump.low, High: jump.high}
		} else if jump != nil {
			f.biasFrom[c].Reports = jump.reports
		}
	}
	// Data cells, with the span of each carrier's observations.
	runs(ci.keys, ci.fineGroup, func(lo, hi int) {
		k := ci.keys[lo]
		cell := ci.fineCell(k)
		j, ok := f.idx.find(f.cells, cell)
		if !ok {
			j = int32(len(f.cells))
			f.cells = append(f.cells, cell)
			f.idx.add(f.cells)
			f.spans = append(f.spans, [nCarriers]span{})
		}
		f.spans[j][ci.slot(k)] = span{int32(lo), int32(hi)}
	})
	f.nData = len(f.cells)
	// The raw sums are needed only to build the smoothed and wide ones.
	var raw [nCarriers][]hexAcc
	for c := range nCarriers {
		raw[c] = make([]hexAcc, f.nData)
	}
	index.Parallel(f.nData, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			for s := range nCarriers {
				sp := f.spans[j][s]
				a := &raw[s][j]
				for _, key := range ci.keys[sp.lo:sp.hi] {
					a.add(f.contribution(&obs[ci.obs(key)], s, r))
				}
			}
		}
	})
	// Spread each data cell's evidence over its neighbourhood with Gaussian
	// weights by ring. Neighbourhoods are computed in parallel a chunk at
	// a time (the H3 calls dominate) and merged in order, so memory stays
	// bounded and the result does not depend on scheduling.
	f.weights = gaussian(p.Rings, p.Bandwidth)
	f.fineWeights = gaussian(p.FineRings, p.FineBandwidth)
	f.wideWeights = gaussian(p.WideRings, p.WideBandwidth)
	weights, fineWeights := f.weights, f.fineWeights
	for c := range nCarriers {
		f.smooth[c].grow(f.nData)
		f.fine[c].grow(f.nData)
	}
	const chunk = 8192
	disks := make([][][]uint64, chunk)
	var js []int32 // per chunk: the number of each disk cell, in disk order
	var at []int   // per chunk: where each data cell's disk starts in js
	var added recentCells
	for base := 0; base < f.nData; base += chunk {
		n := min(chunk, f.nData-base)
		index.Parallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				disks[i] = index.CellDisk(f.cells[base+i], p.Rings)
			}
		})
		// Number the cells in order, then spread the evidence: each
		// carrier's sums are its own, so two workers take two carriers
		// each. The cells numbered already (most of them: neighbouring
		// disks overlap) are looked up in parallel; the rest are numbered
		// in disk order on one thread, so the numbering does not depend on
		// scheduling.
		at = at[:0]
		k := 0
		for i := range n {
			at = append(at, k)
			for _, ring := range disks[i] {
				k += len(ring)
			}
		}
		js = slices.Grow(js[:0], k)[:k]
		index.Parallel(n, func(lo, hi int) {
			var seen recentCells
			for i := lo; i < hi; i++ {
				k := at[i]
				for _, ring := range disks[i] {
					for _, cell := range ring {
						js[k] = seen.lookup(&f.idx, f.cells, cell)
						k++
					}
				}
			}
		})
		k = 0
		for i := range n {
			for _, ring := range disks[i] {
				for _, cell := range ring {
					if js[k] < 0 {
						js[k] = added.number(&f.idx, f.cells, cell, func() []uint64 {
							f.cells = append(f.cells, cell)
							return f.cells
						})
					}
					k++
				}
			}
		}
		for c := range nCarriers {
			f.smooth[c].grow(len(f.cells))
			f.fine[c].grow(len(f.cells))
		}
		index.Each(2, func(w int) {
			for c := w * nCarriers / 2; c < (w+1)*nCarriers/2; c++ {
				smooth, fine, raw := &f.smooth[c], &f.fine[c], raw[c][base:]
				k := 0
				for i := range n {
					src := raw[i]
					for d, ring := range disks[i] {
						if src.n == 0 {
							k += len(ring)
							continue
						}
						wt, fw := weights[d], int64(0)
						if d <= p.FineRings {
							fw = fineWeights[d]
						}
						for _, j := range js[k : k+len(ring)] {
							smooth.addScaled(j, src, wt)
							if d <= p.FineRings {
								fine.addScaled(j, src, fw)
							}
						}
						k += len(ring)
					}
				}
			}
		})
		clear(disks[:n])
	}
	f.buildWide(&raw)
	return f
}

// recentCells remembers the positions of cells looked up lately in a
// map from cell to position. Cells come in H3 order (data cells, and
// their ancestors), so one cell's disk shares most of its cells with the
// disks before it: most lookups are answered here, from a few kilobytes
// that stay in cache, rather than from a map of millions of cells.
type recentCells [1 << 12]recentCell

// recentCell is a cell remembered and its position.
type recentCell struct {
	cell uint64
	j    int32
}

// entry is where cell is remembered.
func (r *recentCells) entry(cell uint64) *recentCell {
	return &r[(cell*0x9E3779B97F4A7C15)>>52]
}

// lookup returns cell's position in cells (indexed by t), or −1 when t
// does not hold it (not remembered: the caller adds it).
func (r *recentCells) lookup(t *cellTable, cells []uint64, cell uint64) int32 {
	e := r.entry(cell)
	if e.cell == cell {
		return e.j
	}
	j, ok := t.find(cells, cell)
	if !ok {
		return -1
	}
	e.cell, e.j = cell, j
	return j
}

// number returns cell's position in cells (indexed by t), numbering it
// len(cells) when t does not hold it yet: then add appends it to cells
// (and makes room for it beside) and returns the longer list.
func (r *recentCells) number(t *cellTable, cells []uint64, cell uint64, add func() []uint64) int32 {
	if j := r.lookup(t, cells, cell); j >= 0 {
		return j
	}
	j := int32(len(cells))
	t.add(add())
	e := r.entry(cell)
	e.cell, e.j = cell, j
	return j
}

// gaussian returns Gaussian weights, in kernel units (see hexAcc), for
// rings 0…rings with the given bandwidth in rings.
func gaussian(rings int, bw float64) []int64 {
	w := make([]int64, rings+1)
	for d := range w {
		w[d] = int64(math.Round(math.Exp(-float64(d*d)/(2*bw*bw)) * kernelScale))
	}
	return w
}

// wideLevel is one wide scale: its cells, their positions and their
// per-carrier estimates. The estimates are held by value, not one
// allocation a cell, so that a national field is not millions of small
// objects for the collector to walk.
type wideLevel struct {
	pos   cellTable // the positions of cells
	cells []uint64
	acc   [][nCarriers]hexAcc
}

// at returns the estimate of cell, or nil when the level has none. The
// pointer is good until the level grows (see addCell).
func (w *wideLevel) at(cell uint64) *[nCarriers]hexAcc {
	if k, ok := w.pos.find(w.cells, cell); ok {
		return &w.acc[k]
	}
	return nil
}

// addCell returns the position of cell, adding it with no evidence.
func (w *wideLevel) addCell(cell uint64) int32 {
	k, ok := w.pos.find(w.cells, cell)
	if !ok {
		k = int32(len(w.cells))
		w.pos.add(w.grow(cell))
	}
	return k
}

// grow appends cell, with no evidence, and returns the cells (for pos,
// which the caller tells).
func (w *wideLevel) grow(cell uint64) []uint64 {
	w.cells = append(w.cells, cell)
	w.acc = append(w.acc, [nCarriers]hexAcc{})
	return w.cells
}

// buildWide pools the data cells' evidence into their ancestors 1 …
// WideLevels resolutions coarser and spreads it over WideRings rings at
// each level, then notes each field cell's ancestor at every level (see
// up). Cells are visited in order so sums do not depend on map order.
func (f *hexField) buildWide(raw *[nCarriers][]hexAcc) {
	p := f.p
	weights := f.wideWeights
	f.wide = make([]wideLevel, p.WideLevels)
	f.up = make([][]int32, p.WideLevels)
	for k := range p.WideLevels {
		res := p.Res - 1 - k
		var par cellTable
		var keys []uint64
		var sums [][nCarriers]hexAcc
		var recent recentCells // the data cells come grouped by ancestor
		for j := 0; j < f.nData; j++ {
			pc := index.CellParent(f.cells[j], res)
			i := recent.number(&par, keys, pc, func() []uint64 {
				keys = append(keys, pc)
				sums = append(sums, [nCarriers]hexAcc{})
				return keys
			})
			for c := range nCarriers {
				sums[i][c].add(raw[c][j])
			}
		}
		order := make([]int32, len(keys))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) })
		// A ring of WideRings rings around each ancestor adds about as
		// many cells again as there are ancestors.
		w := wideLevel{pos: newCellTable(len(keys) * 2)}
		recent = recentCells{}
		for _, i := range order {
			src := &sums[i]
			for d, ring := range index.CellDisk(keys[i], p.WideRings) {
				wt := weights[d]
				for _, cell := range ring {
					dst := &w.acc[recent.number(&w.pos, w.cells, cell, func() []uint64 { return w.grow(cell) })]
					for c := range nCarriers {
						dst[c].addScaled(src[c], wt)
					}
				}
			}
		}
		f.wide[k] = w
		up := make([]int32, len(f.cells))
		index.Parallel(len(f.cells), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				up[j] = -1
				if i, ok := w.pos.find(w.cells, index.CellParent(f.cells[j], res)); ok {
					up[j] = i
				}
			}
		})
		f.up[k] = up
	}
}

// wideOf returns the estimate at wide level k over cell (at the evidence
// resolution; j its position in the field, or −1), or nil.
func (f *hexField) wideOf(k int, cell uint64, j int32) *[nCarriers]hexAcc {
	if j >= 0 && int(j) < len(f.up[k]) {
		if i := f.up[k][j]; i >= 0 {
			return &f.wide[k].acc[i]
		}
	}
	return f.wide[k].at(index.CellParent(cell, f.p.Res-1-k))
}

// judge says whether cell (at the evidence resolution) can be judged for
// carrier slot c and, if so, whether it is weak, from the finest scale
// with enough evidence: LocalMinReports at every scale but the coarsest,
// MinEvidence there.
func (f *hexField) judge(c int, cell uint64) (judged, weak bool) {
	return f.judgeAt(c, cell, f.position(cell))
}

// position is cell's position in f.cells, or −1 when the field does not
// hold it.
func (f *hexField) position(cell uint64) int32 {
	if j, ok := f.idx.find(f.cells, cell); ok {
		return j
	}
	return -1
}

// judgeAt is judge for a cell whose position in f.cells is known (j, or
// −1 when the field does not hold it).
func (f *hexField) judgeAt(c int, cell uint64, j int32) (judged, weak bool) {
	share, thr, ok := f.shareOfAt(cell, j, c)
	return ok, ok && share > thr
}

// pick returns a's accumulator for carrier slot c, or for c = nCarriers
// all carriers' summed.
func pick(a *[nCarriers]hexAcc, c int) hexAcc {
	if c < nCarriers {
		return a[c]
	}
	var s hexAcc
	for c := range a {
		s.add(a[c])
	}
	return s
}

// pickAt is pick for the accumulators of cell j in v (fine or smooth).
func pickAt(v *[nCarriers]fieldSums, j int32, c int) hexAcc {
	if c < nCarriers {
		return v[c].get(j)
	}
	var s hexAcc
	for c := range v {
		s.add(v[c].get(j))
	}
	return s
}

// shareOf reads the accumulator of carrier slot c (nCarriers: all
// carriers pooled, see pick) from the finest scale with enough evidence:
// FineMinReports at the fine scale, LocalMinReports at every other scale
// but the coarsest, MinEvidence there.
//
// A cell is judged only where the carrier's own reports reach it (see
// supported); elsewhere it is unobserved, whatever the wider scales say.
func (f *hexField) shareOf(cell uint64, c int) (share float64, threshold float64, ok bool) {
	return f.shareOfAt(cell, f.position(cell), c)
}

// shareOfAt is shareOf for a cell whose position in f.cells is known (j,
// or −1 when the field does not hold it).
func (f *hexField) shareOfAt(cell uint64, j int32, c int) (share float64, threshold float64, ok bool) {
	if !f.supportedBy(f.wideOf(0, cell, j), c) {
		return 0, 0, false
	}
	if j >= 0 {
		if a := pickAt(&f.fine, j, c); f.enough(a, -1) {
			return a.ratio(), f.p.FineThreshold, true
		}
		if a := pickAt(&f.smooth, j, c); f.enough(a, 0) {
			return a.ratio(), f.p.Threshold, true
		}
	}
	for k := range f.wide {
		if w := f.wideOf(k, cell, j); w != nil {
			if a := pick(w, c); f.enough(a, k+1) {
				return a.ratio(), f.p.Threshold, true
			}
		}
	}
	return 0, 0, false
}

// isInside says whether cell's centre lies in one of the areas: holes are
// clipped to the loaded areas, so no hole spills past a province's edge.
// It remembers the answer; not safe for concurrent use.
func (f *hexField) isInside(cell uint64) bool {
	in, ok := f.inside[cell]
	if !ok {
		in = f.locate(cell)
		f.inside[cell] = in
	}
	return in
}

// locate looks cell's centre up in the areas.
func (f *hexField) locate(cell uint64) bool {
	c := index.CellCenter(cell)
	return f.ix.Locate(c[0], c[1]) >= 0
}

// supportedBy says whether the cells under a wide cell, w being its
// first wide estimate (nil: none), have enough of carrier slot c's own
// reports near them to be judged at all: SupportMinReports,
// kernel-weighted, in that estimate (the reports pooled into the cells'
// parent one resolution coarser and spread over WideRings rings of
// those). That is the support distance: with the defaults (resolution-9
// parents, ≈350 m apart, 2 rings, bandwidth 1.2 rings, 0.4 reports) one
// report in the parent or the ring around it (within about 550 m), or
// two reports two rings away (about 900 m). Beyond it a place is
// unobserved, never a hole: the coarser scale only estimates the share of
// places that are supported.
func (f *hexField) supportedBy(w *[nCarriers]hexAcc, c int) bool {
	return w != nil && float64(pick(w, c).n) >= f.p.SupportMinReports*kernelScale
}

// enough says whether a is enough evidence to judge a cell by at scale
// level: −1 the fine scale, 0 the local one, k+1 wide level k.
func (f *hexField) enough(a hexAcc, level int) bool {
	if level < 0 {
		return float64(a.n) >= f.p.FineMinReports*kernelScale && a.weak+a.good > 0
	}
	min := f.p.LocalMinReports
	if level == len(f.wide) {
		min = f.p.MinEvidence
	}
	return float64(a.n) >= min*kernelScale && a.weak+a.good > 0
}

// flagged returns the cells judged weak for carrier slot c: the field's
// cells, and the cells under supported wide cells (see supportedBy) that a
// wide estimate judges weak — no cell beyond the support distance.
func (f *hexField) flagged(c int) map[uint64]bool {
	out := map[uint64]bool{}
	for j, cell := range f.cells {
		if ok, weak := f.judgeAt(c, cell, int32(j)); ok && weak {
			out[cell] = true
		}
	}
	var kids [7]uint64
	w0 := &f.wide[0]
	for i, pc := range w0.cells {
		a := &w0.acc[i]
		if !f.supportedBy(a, c) {
			continue
		}
		// A cell beyond the field is judged by a wide estimate: this one
		// when it has enough evidence, else a coarser one. Only a weak
		// estimate can flag it.
		if f.enough(pick(a, c), 1) && pick(a, c).ratio() <= f.p.Threshold {
			continue
		}
		// Children of different wide cells are different cells: only
		// those the field does not hold are left to judge.
		for _, ch := range index.CellChildrenInto(kids[:0], pc) {
			if _, in := f.idx.find(f.cells, ch); in {
				continue
			}
			if ok, weak := f.judgeAt(c, ch, -1); ok && weak {
				out[ch] = true
			}
		}
	}
	return out
}

// each calls fn for every observation of carrier car (CarrierAll: any
// carrier) in data cell cell.
func (f *hexField) each(cell uint64, car geo.Carrier, fn func(*geo.Obs)) {
	if j, ok := f.idx.find(f.cells, cell); ok && int(j) < f.nData {
		for s, sp := range f.spans[j] {
			if car != geo.CarrierAll && geo.Carriers[s] != car {
				continue
			}
			for _, k := range f.ci.keys[sp.lo:sp.hi] {
				fn(&f.obs[f.ci.obs(k)])
			}
		}
	}
	for _, i := range f.extra[cell] {
		if o := &f.obs[i]; car == geo.CarrierAll || o.Carrier == car {
			fn(o)
		}
	}
}

// estimateBias estimates, for one carrier, how much more often weak
// places are reported than good ones, by comparing the weak odds of
// ordinary reports with those of drive tests in the same coarse cells (a
// Mantel–Haenszel odds ratio over the per-cell tables). It needs a fair
// number of drive tests sharing cells with ordinary reports.
func estimateBias(tabs []biasTable) (float64, int, bool) {
	var num, den, drives float64
	for _, x := range tabs {
		n := x.a + x.b + x.c + x.d
		if x.a+x.b == 0 || x.c+x.d == 0 {
			continue
		}
		drives += x.c + x.d
		num += x.a * x.d / n
		den += x.b * x.c / n
	}
	if drives < 200 || den == 0 || num == 0 {
		return 0, int(drives), false
	}
	return math.Min(20, math.Max(1, num/den)), int(drives), true
}

// components groups flagged cells into connected regions (H3 neighbours).
func components(flagged map[uint64]bool) [][]uint64 {
	keys := make([]uint64, 0, len(flagged))
	for c, ok := range flagged {
		if ok {
			keys = append(keys, c)
		}
	}
	slices.Sort(keys)
	// A neighbour is found in the sorted cells, which says both whether
	// it is flagged and where its seen mark is: neighbours are mostly
	// near in H3 order, so the search stays in cache, unlike a map's.
	seen := make([]bool, len(keys))
	var out [][]uint64
	var nbs []uint64
	for si, start := range keys {
		if seen[si] {
			continue
		}
		comp := []uint64{start}
		seen[si] = true
		for q := 0; q < len(comp); q++ {
			nbs = index.CellNeighbours(nbs[:0], comp[q])
			for _, n := range nbs {
				if i, ok := slices.BinarySearch(keys, n); ok && !seen[i] {
					seen[i] = true
					comp = append(comp, n)
				}
			}
		}
		slices.Sort(comp)
		out = append(out, comp)
	}
	return out
}

// holeID derives a stable identifier from the carrier and the hole's
// first cell (cells sorted by index).
func holeID(c geo.Carrier, cells []uint64) string {
	return fmt.Sprintf("%s-%s", c, index.CellString(cells[0]))
}
