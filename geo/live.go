package geo

import (
	"context"
	"slices"
	"sync"

	"github.com/paulmach/orb"
)

// Live is an analysis kept up to date as reports arrive. NewLive runs the
// whole engine once; Add then changes only what one report touches: its
// area's counts, the evidence of the cells around it, the judgement of
// those cells, and the holes and dead zones that contain them, which are
// rebuilt from their flagged cells. Nothing else is recomputed.
//
// Two things are fixed when NewLive runs and refreshed only by a new
// NewLive: each carrier's report bias (estimated from drive tests over
// the whole province) and the per-carrier cell statistics (Result.Cells).
// A Live is safe for concurrent use.
type Live struct {
	mu    sync.Mutex
	cfg   Config
	ix    *Index
	areas []Area
	teams []TeamOut
	nTeam int
	obs   []Obs
	tally obsTally
	f     *hexField
	acc   *areaAccum
	info  map[uint64]*cellInfo
	land  []float64
	cells []CellStat
	bias  map[string]float64

	// flagged[s] are the cells judged weak for carrier slot s; flagged
	// [nCarriers] are the dead-zone cells.
	flagged [nCarriers + 1]map[uint64]bool
	// holes by key, and, per slot, which hole each of its cells is in.
	holes  map[int]*Hole
	holeOf [nCarriers + 1]map[uint64]int
	next   int
	// pending lists, per slot, cells that changed sides since the last
	// flush; refreshing, holes that took reports without changing shape.
	pending    [nCarriers + 1][]uint64
	refreshing [nCarriers + 1]map[int]bool
	near       map[uint64][]uint64 // see neighbours
}

// NewLive analyses in like Analyze and keeps what it needs to take more
// reports. It owns in.Obs from then on.
func NewLive(ctx context.Context, in Input, cfg Config) (*Live, error) {
	ix, cells, f, err := analyzeStart(ctx, in, cfg, func(string) {})
	if err != nil {
		return nil, err
	}
	obs := in.Obs
	l := &Live{cfg: cfg, ix: ix, areas: in.Areas, obs: obs, nTeam: len(in.Teams), cells: cells, f: f,
		holes: map[int]*Hole{}, near: map[uint64][]uint64{}, bias: f.biasByCarrier(), land: areaLand(ix), info: map[uint64]*cellInfo{}}
	l.f.extra = map[uint64][]int32{}
	flagged, dead := flagAll(l.f, cfg.Holes)
	for s := range nCarriers {
		l.flagged[s] = flagged[s]
	}
	l.flagged[nCarriers] = dead
	for s := range l.holeOf {
		l.holeOf[s] = map[uint64]int{}
		l.refreshing[s] = map[int]bool{}
	}
	l.acc = newAreaAccum(ix, in.Areas, cfg)
	l.acc.addObs(obs)
	l.acc.trackSignals()
	l.tally = newObsTally(obs)
	l.teams = l.acc.addTeams(in.Teams)
	var holes []Hole
	for s := range nCarriers + 1 {
		for _, comp := range components(l.flagged[s]) {
			if h, ok := componentHole(l.f, s, comp, obs, cfg); ok {
				holes = append(holes, h)
			}
		}
	}
	l.addHoles(holes)
	for i := range holes {
		l.acc.addHole(&holes[i], l.info, 1)
	}
	return l, ctx.Err()
}

// addHoles measures new holes and counts them in. Their outlines are
// drawn when a Result asks for them (see Result), so a report that
// reshapes a large hole does not pay for its polygon. The areas' land in
// holes is counted by the caller (see add).
func (l *Live) addHoles(holes []Hole) {
	addCellInfo(l.info, holes, l.ix)
	measureHoles(holes, l.info)
	fillHoleAreas(holes, l.ix, l.info, l.cfg, l.land)
	for i := range holes {
		h := &holes[i]
		k := l.next
		l.next++
		l.holes[k] = h
		s := slotOf(h.Carrier)
		for _, c := range h.CellIDs {
			l.holeOf[s][c] = k
		}
	}
}

// removeHole takes a hole out and returns its cells.
func (l *Live) removeHole(k int) []uint64 {
	h := l.holes[k]
	s := slotOf(h.Carrier)
	for _, c := range h.CellIDs {
		delete(l.holeOf[s], c)
	}
	delete(l.holes, k)
	return h.CellIDs
}

// slotOf is carrierSlot with dead zones in slot nCarriers.
func slotOf(c Carrier) int {
	if c == CarrierAll {
		return nCarriers
	}
	return carrierSlot(c)
}

// Add takes one more report, in its compact form (see Report.ToObs). It
// reports whether any cell changed sides (in or out of a hole or dead
// zone); the holes themselves are redrawn at the next Result.
func (l *Live) Add(o Obs) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.add(o)
}

// add takes one observation; the caller holds mu.
func (l *Live) add(o Obs) bool {
	o.Area = int32(l.ix.Locate(o.Lon, o.Lat))
	if l.cfg.Rules.IsWeak(&o) {
		o.Flags |= FlagWeak
	}
	l.obs = append(l.obs, o)
	l.f.obs = l.obs
	i := int32(len(l.obs) - 1)
	l.tally.add(&l.obs[i])
	l.acc.addOne(&l.obs[i])
	s := carrierSlot(o.Carrier)
	if s < 0 {
		return false
	}
	cell := CellAt(o.Lon, o.Lat, l.cfg.Holes.Res)
	l.f.extra[cell] = append(l.f.extra[cell], i)
	l.f.add(&l.obs[i], s, cell, l.cfg.Rules)

	// Re-judge every cell whose estimate the report can have moved, for
	// its carrier and for dead zones. The holes those cells hold or touch
	// are rebuilt when a Result is asked for (flush), once for all the
	// reports taken since.
	affected := l.f.reach(cell)
	changed := false
	for _, slot := range []int{s, nCarriers} {
		flipped := false
		for _, c := range affected {
			var now bool
			if slot < nCarriers {
				_, now = l.f.judge(slot, c)
			} else {
				now = l.anyFlagged(c) && l.f.isDead(c, l.cfg.Holes)
			}
			if now == l.flagged[slot][c] {
				continue
			}
			changed, flipped = true, true
			if now {
				l.flagged[slot][c] = true
			} else {
				delete(l.flagged[slot], c)
			}
			l.pending[slot] = append(l.pending[slot], c)
		}
		if k, ok := l.holeOf[slot][cell]; ok && !flipped {
			l.refreshing[slot][k] = true // same cells, new evidence
		}
	}
	return changed
}

// flush rebuilds the holes around the cells that changed sides since the
// last flush, and refreshes the evidence of holes that only took reports.
// The caller holds mu.
func (l *Live) flush() {
	for slot := range l.pending {
		cells := l.pending[slot]
		stale := map[int]bool{}
		for _, c := range cells {
			// A cell that left a hole may have split it or emptied it.
			if k, ok := l.holeOf[slot][c]; ok && !l.flagged[slot][c] {
				stale[k] = true
			}
		}
		seeds := slices.Clone(cells)
		for k := range stale {
			seeds = append(seeds, l.holes[k].CellIDs...)
		}
		// The other holes the groups reach are still whole and connected;
		// they are taken in whole and go too (a new cell may join two).
		comps := l.regroup(slot, seeds, stale)
		for k := range l.refreshing[slot] {
			if _, ok := l.holes[k]; ok && !stale[k] {
				l.refresh(k, slot)
			}
		}
		l.pending[slot], l.refreshing[slot] = nil, map[int]bool{}
		if len(stale) == 0 && len(comps) == 0 {
			continue
		}
		keys := make([]int, 0, len(stale))
		for k := range stale {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		was := map[uint64]bool{}
		for _, k := range keys {
			for _, c := range l.removeHole(k) {
				was[c] = true
			}
		}
		var holes []Hole
		for _, comp := range comps {
			if h, ok := componentHole(l.f, slot, comp, l.obs, l.cfg); ok {
				holes = append(holes, h)
			}
		}
		l.addHoles(holes)
		// Count only the cells that joined or left holes.
		for i := range holes {
			for _, c := range holes[i].CellIDs {
				if was[c] {
					delete(was, c)
				} else {
					l.acc.addCell(slot, c, l.info[c], 1)
				}
			}
		}
		left := make([]uint64, 0, len(was))
		for c := range was {
			left = append(left, c)
		}
		slices.Sort(left) // a fixed order keeps the sums reproducible
		for _, c := range left {
			l.acc.addCell(slot, c, l.info[c], -1)
		}
	}
}

// regroup returns the connected groups (H3 neighbours) of slot's flagged
// cells that hold seeds (seeds outside the set are ignored), each sorted.
// Holes not in broken lost no cell since they were built,
// so each is still connected and, having been a whole group then, gained
// neighbours only among the cells that changed sides, which are seeds:
// such a hole is taken in whole when reached, without walking its cells,
// and the groups that reach it are joined. Every hole the groups hold is
// added to broken.
func (l *Live) regroup(slot int, seeds []uint64, broken map[int]bool) [][]uint64 {
	set, holeOf := l.flagged[slot], l.holeOf[slot]
	whole := func(c uint64) (int, bool) {
		k, ok := holeOf[c]
		return k, ok && !broken[k]
	}
	// group[c] is 1 + the group that walked c; taken[k] the group that
	// took whole hole k. up joins groups (union–find).
	group := map[uint64]int{}
	taken := map[int]int{}
	var comps [][]uint64
	var up []int
	root := func(g int) int {
		for up[g] != g {
			up[g] = up[up[g]]
			g = up[g]
		}
		return g
	}
	join := func(a, b int) {
		if a, b = root(a), root(b); a != b {
			up[max(a, b)] = min(a, b)
		}
	}
	slices.Sort(seeds)
	var queue []uint64
	for _, start := range seeds {
		if !set[start] || group[start] > 0 {
			continue
		}
		if k, ok := whole(start); ok {
			if _, done := taken[k]; done {
				continue
			}
		}
		g := len(comps)
		comps, up = append(comps, nil), append(up, g)
		visit := func(c uint64) {
			if k, ok := whole(c); ok {
				if h, done := taken[k]; done {
					join(g, h)
				} else {
					taken[k] = g
					comps[g] = append(comps[g], l.holes[k].CellIDs...)
				}
				return
			}
			if h := group[c]; h > 0 {
				join(g, h-1)
				return
			}
			group[c] = g + 1
			comps[g] = append(comps[g], c)
			queue = append(queue, c)
		}
		queue = queue[:0]
		visit(start)
		for q := 0; q < len(queue); q++ {
			for _, n := range l.neighbours(queue[q]) {
				if set[n] {
					visit(n)
				}
			}
		}
	}
	for k := range taken {
		broken[k] = true
	}
	var out [][]uint64
	for g := range comps {
		if r := root(g); r != g {
			comps[r] = append(comps[r], comps[g]...)
			comps[g] = nil
		}
	}
	for g := range comps {
		if root(g) == g {
			slices.Sort(comps[g])
			out = append(out, comps[g])
		}
	}
	return out
}

// refresh recomputes a hole's evidence and priority over the same cells.
func (l *Live) refresh(k, slot int) {
	old := l.holes[k]
	h, ok := componentHole(l.f, slot, old.CellIDs, l.obs, l.cfg)
	if !ok {
		return // evidence only grows with reports; keep it as it was
	}
	h.Geometry, h.Centroid, h.AreaKm2 = old.Geometry, old.Centroid, old.AreaKm2
	h.Areas, h.Population, h.Households = old.Areas, old.Population, old.Households
	h.Priority = h.Households * h.Severity * h.Confidence
	*old = h
}

// neighbours returns the cells around c, remembered: the same hole cells
// are walked again whenever a hole is rebuilt.
func (l *Live) neighbours(c uint64) []uint64 {
	if n, ok := l.near[c]; ok {
		return n
	}
	n := cellDisk(c, 1)[1]
	l.near[c] = n
	return n
}

// anyFlagged reports whether cell is in some carrier's flagged set.
func (l *Live) anyFlagged(c uint64) bool {
	for s := range nCarriers {
		if l.flagged[s][c] {
			return true
		}
	}
	return false
}

// Result returns the analysis as it stands; the caller may keep it.
func (l *Live) Result() *Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flush()
	res := &Result{Cells: l.cells, Teams: l.teams, ReportBias: l.bias}
	res.Areas = l.acc.scores()
	var todo []*Hole
	for _, h := range l.holes {
		if h.Geometry == nil {
			todo = append(todo, h)
		}
	}
	parallel(len(todo), func(lo, hi int) {
		for _, h := range todo[lo:hi] {
			h.Geometry = cellsToMultiPolygon(h.CellIDs, func(c uint64) orb.Ring { return l.info[c].ring })
		}
	})
	res.Holes = make([]Hole, 0, len(l.holes))
	for _, h := range l.holes {
		res.Holes = append(res.Holes, *h)
	}
	rankHoles(res.Holes)
	res.Summary = summarize(res, len(l.areas), l.tally, l.nTeam)
	return res
}

// Len is the number of reports taken.
func (l *Live) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.obs)
}

// add spreads one observation's evidence into the cells around cell, as
// buildField and buildWide do for the first ones.
func (f *hexField) add(o *Obs, s int, cell uint64, r Rules) {
	e := f.p.evidence(r, o)
	w := 1.0
	if o.Flags&FlagWeak != 0 && o.Source != SourceDriveTest {
		w = 1 / f.bias[s]
	}
	src := hexAcc{weak: float32(w * e), good: float32(w * (1 - e)), n: 1}
	for d, ring := range cellDisk(cell, f.p.Rings) {
		for _, c := range ring {
			j := f.cellIndexOf(c)
			f.smooth[s][j].addScaled(src, f.weights[d])
			if d <= f.p.FineRings {
				f.fine[s][j].addScaled(src, f.fineWeights[d])
			}
		}
	}
	for k, wide := range f.wide {
		pc := CellParent(cell, f.p.Res-1-k)
		for d, ring := range cellDisk(pc, f.p.WideRings) {
			for _, c := range ring {
				a := wide[c]
				if a == nil {
					a = &[nCarriers]hexAcc{}
					wide[c] = a
				}
				a[s].addScaled(src, f.wideWeights[d])
			}
		}
	}
}

func (a *hexAcc) addScaled(b hexAcc, w float32) {
	a.weak += w * b.weak
	a.good += w * b.good
	a.n += w * b.n
}

// cellIndexOf returns cell's position in the field, adding it.
func (f *hexField) cellIndexOf(c uint64) int32 {
	if j, ok := f.idx[c]; ok {
		return j
	}
	j := int32(len(f.cells))
	f.idx[c] = j
	f.cells = append(f.cells, c)
	for s := range nCarriers {
		f.smooth[s] = append(f.smooth[s], hexAcc{})
		f.fine[s] = append(f.fine[s], hexAcc{})
	}
	return j
}

// reach returns every cell at the evidence resolution whose estimate a
// report in cell can change: those within Rings of it, and the cells
// under the wide cells its evidence reaches.
func (f *hexField) reach(cell uint64) []uint64 {
	seen := map[uint64]bool{}
	var out []uint64
	add := func(c uint64) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, ring := range cellDisk(cell, f.p.Rings) {
		for _, c := range ring {
			add(c)
		}
	}
	var down func(c uint64, res int)
	down = func(c uint64, res int) {
		if res == f.p.Res {
			add(c)
			return
		}
		for _, ch := range cellChildren(c, res+1) {
			down(ch, res+1)
		}
	}
	for k := range f.wide {
		res := f.p.Res - 1 - k
		for _, ring := range cellDisk(CellParent(cell, res), f.p.WideRings) {
			for _, c := range ring {
				down(c, res)
			}
		}
	}
	slices.Sort(out)
	return out
}
