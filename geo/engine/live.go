package engine

import (
	"context"
	"maps"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
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
	cfg   geo.Config
	ix    *index.Index
	areas []geo.Area
	teams []geo.TeamOut
	nTeam int
	obs   []geo.Obs
	tally obsTally
	f     *hexField
	acc   *areaAccum
	info  map[uint64]*cellInfo
	land  []float64
	cells []geo.CellStat
	bias  map[string]float64
	from  map[string]geo.BiasEstimate
	// land9 is the land grid of what is observed (see landGrid).
	land9 *landGrid

	// flagged[s] are the cells judged weak for carrier slot s; flagged
	// [nCarriers] are the dead-zone cells.
	flagged [nCarriers + 1]map[uint64]bool
	// holes by key, and, per slot, which hole each of its cells is in
	// (not kept when no report will be added).
	holes  map[int]*liveHole
	holeOf [nCarriers + 1]map[uint64]int
	next   int
	// pending lists, per slot, cells that changed sides since the last
	// flush; refreshing, holes that took reports without changing shape.
	pending    [nCarriers + 1][]uint64
	refreshing [nCarriers + 1]map[int]bool
	near       map[uint64][]uint64 // see neighbours
	// verts numbers cell vertices (rounded as cellsToMultiPolygon does)
	// and topo holds the cells of large holes with their vertices and
	// neighbours, to outline them without matching every edge (see
	// outline).
	verts map[[2]int64]int32
	topo  map[uint64]*cellTopo
	km    *areaKm // scratch for fillHoleArea
	// stamp numbers the Results, for cellTopo.mark.
	stamp uint64
}

// liveHole is a hole of a Live with what it needs to change the hole by
// the cells that join or leave it: its evidence as counts and its cells'
// information, in the order of its cells.
type liveHole struct {
	geo.Hole
	st    *holeStats
	infos []*cellInfo
}

// NewLive analyses in like Analyze and keeps what it needs to take more
// reports. It owns in.Obs from then on.
func NewLive(ctx context.Context, in Input, cfg geo.Config) (*Live, error) {
	return newLive(ctx, in, cfg, true)
}

// newLive is NewLive; keep says whether reports will be added (Analyze
// asks for one Result only, and skips what only adding needs).
func newLive(ctx context.Context, in Input, cfg geo.Config, keep bool) (*Live, error) {
	stage := func(s string) {
		if in.Progress != nil {
			in.Progress(s)
		}
	}
	ix, cells, f, err := analyzeStart(ctx, in, cfg, stage)
	if err != nil {
		return nil, err
	}
	obs := in.Obs
	l := &Live{cfg: cfg, ix: ix, areas: in.Areas, obs: obs, nTeam: len(in.Teams), cells: cells, f: f,
		holes: map[int]*liveHole{}, near: map[uint64][]uint64{}, bias: f.biasByCarrier(), from: f.biasFromByCarrier(), land: areaLand(ix), info: map[uint64]*cellInfo{},
		verts: map[[2]int64]int32{}, topo: map[uint64]*cellTopo{}, km: newAreaKm(ix.Len())}
	l.f.extra = map[uint64][]int32{}
	stage("weak cells")
	flagged, dead := flagAll(l.f, cfg.Holes)
	for s := range nCarriers {
		l.flagged[s] = flagged[s]
	}
	l.flagged[nCarriers] = dead
	for s := range l.holeOf {
		if keep {
			l.holeOf[s] = make(map[uint64]int, len(l.flagged[s]))
		}
		l.refreshing[s] = map[int]bool{}
	}
	stage("land grid and area counts")
	l.acc = newAreaAccum(ix, in.Areas, cfg)
	l.land9 = newLandGrid(ix, cfg.Holes.Res-1)
	l.land9.supportAll(l.f, l.acc)
	l.acc.addObs(obs)
	if keep {
		l.acc.trackSignals()
	}
	l.tally = newObsTally(obs)
	l.teams = l.acc.addTeams(in.Teams)
	stage("holes")
	// Each hole's evidence is counted on its own, in parallel; the holes
	// keep the order of their components.
	type component struct {
		slot  int
		cells []uint64
	}
	// Slots are independent: their components are found concurrently
	// and concatenated in slot order.
	var perSlot [nCarriers + 1][][]uint64
	index.Each(nCarriers+1, func(s int) { perSlot[s] = components(l.flagged[s]) })
	var comps []component
	for s, cs := range perSlot {
		for _, c := range cs {
			comps = append(comps, component{s, c})
		}
	}
	made := make([]*liveHole, len(comps))
	index.Each(min(len(comps), 4*runtime.GOMAXPROCS(0)), func(w int) {
		for i := w; i < len(comps); i += min(len(comps), 4*runtime.GOMAXPROCS(0)) {
			made[i] = l.newHole(comps[i].slot, comps[i].cells)
			if h := made[i]; h != nil && !keep {
				h.st = nil // its counts serve only to change it by reports
			}
		}
	})
	var holes []*liveHole
	for _, h := range made {
		if h != nil {
			holes = append(holes, h)
		}
	}
	l.addHoles(holes)
	for _, h := range holes {
		l.acc.addHole(&h.Hole, h.infos, 1)
	}
	return l, ctx.Err()
}

// release lets go of what only taking more reports needs: the evidence
// field and the flagged cells with their holes. Analyze asks for one
// Result and its tasks, and the field is the largest part of what a
// Live holds, so it goes before the outlines are drawn. A released Live
// gives its Result and nothing more.
func (l *Live) release() {
	l.f = nil
	l.flagged = [nCarriers + 1]map[uint64]bool{}
	l.holeOf = [nCarriers + 1]map[uint64]int{}
	l.near = nil
}

// newHole counts the evidence in cells (sorted, connected) of slot and
// returns their hole, or nil when the evidence is not enough.
func (l *Live) newHole(slot int, cells []uint64) *liveHole {
	car := geo.CarrierAll
	if slot < nCarriers {
		car = geo.Carriers[slot]
	}
	st := scanHoleStats(l.f, car, cells)
	h, ok := st.hole(cells, l.cfg)
	if !ok {
		return nil
	}
	return &liveHole{Hole: h, st: st}
}

// addHoles measures new holes and counts them in. Their outlines are
// drawn when a Result asks for them (see Result), so a report that
// reshapes a large hole does not pay for its polygon. The areas' land in
// holes is counted by the caller (see add).
func (l *Live) addHoles(holes []*liveHole) {
	var cells []uint64
	for _, h := range holes {
		cells = append(cells, h.CellIDs...)
	}
	addCellsInfo(l.info, cells, l.ix)
	// Each hole is measured on its own: in parallel when there are many,
	// each worker with its own scratch.
	workers := 1
	if len(cells) >= 1<<14 {
		workers = runtime.GOMAXPROCS(0)
	}
	index.Each(workers, func(w int) {
		km := l.km
		if w > 0 {
			km = newAreaKm(l.ix.Len())
		}
		for i := w; i < len(holes); i += workers {
			h := holes[i]
			h.infos = cellInfos(h.CellIDs, l.info)
			l.measure(h, km)
		}
	})
	for _, h := range holes {
		k := l.next
		l.next++
		l.holes[k] = h
		if holeOf := l.holeOf[slotOf(h.Carrier)]; holeOf != nil {
			for _, c := range h.CellIDs {
				holeOf[c] = k
			}
		}
	}
}

// measure sets a hole's area, centroid, areas, people and priority from
// its cells' information, and clears its outline; km is the scratch
// (l.km, or a worker's own).
func (l *Live) measure(h *liveHole, km *areaKm) {
	h.Geometry = nil
	measureHole(&h.Hole, h.infos)
	fillHoleArea(&h.Hole, h.infos, l.ix, l.cfg, l.land, km)
}

// slotOf is carrierSlot with dead zones in slot nCarriers.
func slotOf(c geo.Carrier) int {
	if c == geo.CarrierAll {
		return nCarriers
	}
	return carrierSlot(c)
}

// Add takes one more report, in its compact form (see Report.ToObs). It
// reports whether any cell changed sides (in or out of a hole or dead
// zone); the holes themselves are redrawn at the next Result.
func (l *Live) Add(o geo.Obs) bool {
	o.Area = int32(l.ix.Locate(o.Lon, o.Lat))
	o.Flags &^= geo.FlagWeak
	if l.cfg.Rules.IsWeak(&o) {
		o.Flags |= geo.FlagWeak
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.add(o)
}

// AddLocated is Add for an observation already located and classified
// (see Input.Located): its Area from the Live's index and FlagWeak by its
// rules. A caller that has located a report for its own checks (the
// service, for the viewer's scope) so locates it once.
func (l *Live) AddLocated(o geo.Obs) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.add(o)
}

// add takes one located and classified observation; the caller holds mu.
func (l *Live) add(o geo.Obs) bool {
	l.obs = append(l.obs, o)
	l.f.obs = l.obs
	i := int32(len(l.obs) - 1)
	l.tally.add(&l.obs[i])
	l.acc.addOne(&l.obs[i])
	s := carrierSlot(o.Carrier)
	if s < 0 {
		return false
	}
	cell := index.CellAt(o.Lon, o.Lat, l.cfg.Holes.Res)
	l.f.extra[cell] = append(l.f.extra[cell], i)
	sp := l.f.add(&l.obs[i], s, cell, l.cfg.Rules)
	if len(sp.wide) > 0 {
		l.land9.reached(l.f, sp.wide[0], l.acc)
	}
	var parent uint64 // cell's resolution-9 cell, for a weak report
	if l.obs[i].Flags&geo.FlagWeak != 0 {
		parent = index.CellParent(cell, min(9, l.cfg.Holes.Res))
	}

	// Re-judge every cell whose judgement the report can have changed
	// (see touched), for its carrier and for dead zones. The holes those
	// cells hold or touch are rebuilt when a Result is asked for (flush),
	// once for all the reports taken since.
	affected := l.f.touched(s, sp)
	changed := false
	for _, slot := range []int{s, nCarriers} {
		for _, c := range affected {
			var now bool
			if slot < nCarriers {
				_, now = l.f.judge(slot, c)
				now = now && l.f.isInside(c)
			} else {
				now = l.anyFlagged(c) && l.f.isDead(c, l.cfg.Holes)
			}
			if now == l.flagged[slot][c] {
				continue
			}
			changed = true
			if now {
				l.flagged[slot][c] = true
			} else {
				delete(l.flagged[slot], c)
			}
			l.pending[slot] = append(l.pending[slot], c)
		}
		// The hole holding cell took a report: it is counted in now,
		// and the hole's figures are refreshed at the next flush.
		if k, ok := l.holeOf[slot][cell]; ok {
			l.holes[k].st.obs(&l.obs[i], parent, 1)
			l.refreshing[slot][k] = true
		}
	}
	return changed
}

// flush rebuilds the holes around the cells that changed sides since the
// last flush, and refreshes the figures of holes that only took reports.
// The caller holds mu.
func (l *Live) flush() {
	for slot := range l.pending {
		cells := l.pending[slot]
		if len(cells) == 0 && len(l.refreshing[slot]) == 0 {
			continue
		}
		set, holeOf := l.flagged[slot], l.holeOf[slot]
		// gone lists, per hole, its cells that left: the hole may have
		// split or emptied.
		gone := map[int][]uint64{}
		seen := map[uint64]bool{}
		for _, c := range cells {
			if k, ok := holeOf[c]; ok && !set[c] && !seen[c] {
				seen[c] = true
				gone[k] = append(gone[k], c)
			}
		}
		// The other holes the groups reach are still whole and connected;
		// they are taken in whole (a new cell may join two).
		groups, broken := l.regroup(slot, cells, gone)
		for k := range l.refreshing[slot] {
			if h, ok := l.holes[k]; ok && !broken[k] {
				l.refresh(h)
			}
		}
		l.pending[slot], l.refreshing[slot] = nil, map[int]bool{}
		if len(broken) > 0 || len(groups) > 0 {
			l.rebuild(slot, groups, broken)
		}
	}
}

// rebuild replaces the broken holes of slot by the holes of groups (see
// regroup). A group that keeps a hole changes it by the cells that join
// and leave it: its counts, its cells' entries in holeOf and the areas'
// land in holes change by those cells only. Its figures are summed again
// over its cells' information, in order, as for a new hole, so that they
// are the same to the last bit; that pass reads no map.
func (l *Live) rebuild(slot int, groups []holeGroup, broken map[int]bool) {
	holeOf := l.holeOf[slot]
	var cells []uint64
	for _, g := range groups {
		cells = append(cells, g.cells...)
	}
	addCellsInfo(l.info, cells, l.ix)
	// The holes after: kept holes, with their groups, and new ones.
	type update struct {
		g *holeGroup
		h *liveHole
	}
	var kept []update
	var fresh []*liveHole
	keep := map[int]bool{}
	for i := range groups {
		g := &groups[i]
		if g.base < 0 {
			if h := l.newHole(slot, g.cells); h != nil {
				fresh = append(fresh, h)
			}
			continue
		}
		old := l.holes[g.base]
		st := old.st
		for _, c := range g.removed {
			st.cell(l.f, c, -1)
		}
		for _, c := range g.cells {
			st.cell(l.f, c, 1)
		}
		ids, infos := mergeCells(old.CellIDs, old.infos, g.removed, g.cells, l.info)
		if h, ok := st.hole(ids, l.cfg); ok {
			kept = append(kept, update{g, &liveHole{Hole: h, st: st, infos: infos}})
			keep[g.base] = true
		}
	}
	// Take out the cells that leave holes: all of a broken hole that is
	// not kept, those that leave a kept one. was holds them.
	was := map[uint64]bool{}
	for _, k := range slices.Sorted(maps.Keys(broken)) {
		if keep[k] {
			continue
		}
		for _, c := range l.holes[k].CellIDs {
			was[c] = true
			delete(holeOf, c)
		}
		delete(l.holes, k)
	}
	for _, u := range kept {
		for _, c := range u.g.removed {
			was[c] = true
			delete(holeOf, c)
		}
	}
	// Put in the cells that join holes, counting the land of those that
	// were in none.
	join := func(c uint64) {
		if was[c] {
			delete(was, c)
		} else {
			l.acc.addCell(slot, c, l.info[c], 1)
		}
	}
	for _, u := range kept {
		l.measure(u.h, l.km)
		l.holes[u.g.base] = u.h
		for _, c := range u.g.cells {
			holeOf[c] = u.g.base
			join(c)
		}
	}
	l.addHoles(fresh)
	for _, h := range fresh {
		for _, c := range h.CellIDs {
			join(c)
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

// mergeCells returns old's cells without removed and with added (all
// sorted), sorted, and their information: from oldInf (that of old, in
// order) or, for the added, from info.
func mergeCells(old []uint64, oldInf []*cellInfo, removed, added []uint64, info map[uint64]*cellInfo) ([]uint64, []*cellInfo) {
	n := max(0, len(old)-len(removed)+len(added))
	cells, infos := make([]uint64, 0, n), make([]*cellInfo, 0, n)
	i, r, a := 0, 0, 0
	for i < len(old) || a < len(added) {
		if a < len(added) && (i == len(old) || added[a] < old[i]) {
			cells, infos = append(cells, added[a]), append(infos, info[added[a]])
			a++
			continue
		}
		c := old[i]
		for r < len(removed) && removed[r] < c {
			r++
		}
		if r < len(removed) && removed[r] == c {
			i++
			continue
		}
		if a < len(added) && added[a] == c {
			a++ // already there
		}
		cells, infos = append(cells, c), append(infos, oldInf[i])
		i++
	}
	return cells, infos
}

// holeGroup is a group of flagged cells that makes a hole (see regroup):
// a new one of cells (base −1), or hole base without removed and with
// cells.
type holeGroup struct {
	base           int
	cells, removed []uint64 // sorted
}

// regroup returns the connected groups (H3 neighbours) of slot's flagged
// cells that hold seeds (seeds outside the set are ignored) or what is
// left of the holes in gone (hole → its cells that left), and the holes
// they replace. A group that holds holes, or what is left of them, keeps
// the largest: it lists the cells that join and leave that one.
//
// The groups are found without walking the holes. A hole that lost cells
// is split locally (see split) into parts that are each connected. A hole
// that lost none is still connected and, having been a whole group when
// it was built, gained flagged neighbours only among the cells that
// changed sides, which are seeds; so are the parts'. Such a hole or part
// is taken in whole when a walk from the seeds reaches it, and the groups
// that reach it are joined.
func (l *Live) regroup(slot int, seeds []uint64, gone map[int][]uint64) ([]holeGroup, map[int]bool) {
	set, holeOf := l.flagged[slot], l.holeOf[slot]
	// group[c] is 1 + the group that holds walked cell c (or a part of a
	// split hole); taken[k] the group that took hole k, or what is left of
	// it, and held[g] the holes group g took. up joins groups (union–find).
	group := map[uint64]int{}
	taken := map[int]int{}
	var comps [][]uint64
	var held [][]int
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
	newGroup := func(cells []uint64) int {
		g := len(comps)
		comps, held, up = append(comps, cells), append(held, nil), append(up, g)
		return g
	}
	stale := slices.Sorted(maps.Keys(gone))
	// left[k] lists (sorted) the cells that leave split hole k: those gone
	// and its parts. What is left of it is its other cells.
	left := map[int][]uint64{}
	for _, k := range stale {
		parts, rest := l.split(slot, k, gone[k])
		out := slices.Clone(gone[k])
		for _, p := range parts {
			g := newGroup(p)
			for _, c := range p {
				group[c] = g + 1
			}
			out = append(out, p...)
		}
		if rest {
			g := newGroup(nil)
			held[g], taken[k] = []int{k}, g
			slices.Sort(out)
			left[k] = out
		}
	}
	slices.Sort(seeds)
	var queue []uint64
	for _, start := range seeds {
		if !set[start] || group[start] > 0 {
			continue
		}
		if k, ok := holeOf[start]; ok {
			if _, done := taken[k]; done {
				continue
			}
		}
		g := newGroup(nil)
		visit := func(c uint64) {
			if h := group[c]; h > 0 {
				join(g, h-1)
				return
			}
			if k, ok := holeOf[c]; ok {
				if h, done := taken[k]; done {
					join(g, h)
				} else {
					taken[k] = g
					held[g] = append(held[g], k)
				}
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
	broken := map[int]bool{}
	for _, k := range stale {
		broken[k] = true
	}
	for k := range taken {
		broken[k] = true
	}
	for g := range comps {
		if r := root(g); r != g {
			comps[r] = append(comps[r], comps[g]...)
			held[r] = append(held[r], held[g]...)
			comps[g], held[g] = nil, nil
		}
	}
	var out []holeGroup
	for g := range comps {
		if root(g) != g || len(comps[g])+len(held[g]) == 0 {
			continue
		}
		if len(held[g]) == 0 {
			slices.Sort(comps[g])
			out = append(out, holeGroup{base: -1, cells: comps[g]})
			continue
		}
		// Keep the largest hole; the others' cells join it.
		size := func(k int) int { return len(l.holes[k].CellIDs) - len(left[k]) }
		slices.Sort(held[g])
		base := held[g][0]
		for _, k := range held[g][1:] {
			if size(k) > size(base) {
				base = k
			}
		}
		cells := comps[g]
		for _, k := range held[g] {
			if k == base {
				continue
			}
			gone := left[k] // nil for a hole taken in whole
			for _, c := range l.holes[k].CellIDs {
				if _, found := slices.BinarySearch(gone, c); !found {
					cells = append(cells, c)
				}
			}
		}
		slices.Sort(cells)
		out = append(out, holeGroup{base: base, cells: cells, removed: left[base]})
	}
	return out, broken
}

// split finds the parts hole k of slot falls into now that the cells in
// gone have left it. Every part touches a gone cell, so it walks from the
// hole's cells next to them, one walk per start, in turns, joining walks
// that meet, until at most one walk can still go on: the walks that ended
// have each found a whole part, which split returns (sorted); the one
// still going holds what is left of the hole (rest), which is not walked.
// The cost is that of the smaller parts, not of the hole.
func (l *Live) split(slot, k int, gone []uint64) (parts [][]uint64, rest bool) {
	set, holeOf := l.flagged[slot], l.holeOf[slot]
	in := func(c uint64) bool {
		h, ok := holeOf[c]
		return ok && h == k && set[c]
	}
	// A walk's cells are cells[:next] expanded, cells[next:] to expand.
	type walk struct {
		cells []uint64
		next  int
	}
	var walks []*walk
	var up []int
	label := map[uint64]int{}
	root := func(w int) int {
		for up[w] != w {
			up[w] = up[up[w]]
			w = up[w]
		}
		return w
	}
	for _, c := range gone {
		for _, n := range l.neighbours(c) {
			if _, ok := label[n]; !ok && in(n) {
				label[n] = len(walks)
				up = append(up, len(walks))
				walks = append(walks, &walk{cells: []uint64{n}})
			}
		}
	}
	// join merges walk b into a (the larger keeps the other's cells).
	join := func(a, b int) int {
		if len(walks[a].cells) < len(walks[b].cells) {
			a, b = b, a
		}
		wa, wb := walks[a], walks[b]
		cells := make([]uint64, 0, len(wa.cells)+len(wb.cells))
		cells = append(cells, wa.cells[:wa.next]...)
		cells = append(cells, wb.cells[:wb.next]...)
		cells = append(cells, wa.cells[wa.next:]...)
		cells = append(cells, wb.cells[wb.next:]...)
		wa.cells, wa.next = cells, wa.next+wb.next
		walks[b] = nil
		up[b] = a
		return a
	}
	going := make([]int, len(walks))
	for i := range going {
		going[i] = i
	}
	for len(going) > 1 {
		for _, w := range going {
			w = root(w)
			cur := walks[w]
			if cur.next == len(cur.cells) {
				continue
			}
			c := cur.cells[cur.next]
			cur.next++
			for _, n := range l.neighbours(c) {
				if o, ok := label[n]; ok {
					if o = root(o); o != w {
						w = join(w, o)
						cur = walks[w]
					}
				} else if in(n) {
					label[n] = w
					cur.cells = append(cur.cells, n)
				}
			}
		}
		// The walks still going, each once.
		next := going[:0]
		for _, w := range going {
			if root(w) == w && walks[w].next < len(walks[w].cells) {
				next = append(next, w)
			}
		}
		going = next
	}
	for w, cur := range walks {
		if cur == nil || root(w) != w {
			continue
		}
		if len(going) == 1 && going[0] == w {
			rest = true
			continue
		}
		slices.Sort(cur.cells)
		parts = append(parts, cur.cells)
	}
	return parts, rest
}

// refresh recomputes a hole's evidence and priority over the same cells
// from its counts.
func (l *Live) refresh(h *liveHole) {
	n, ok := h.st.hole(h.CellIDs, l.cfg)
	if !ok {
		return // evidence only grows with reports; keep it as it was
	}
	n.Geometry, n.Centroid, n.AreaKm2 = h.Geometry, h.Centroid, h.AreaKm2
	n.Areas, n.Population, n.Households = h.Areas, h.Population, h.Households
	n.Priority = n.Households * n.Severity * n.Confidence
	h.Hole = n
}

// neighbours returns the cells around c, remembered: the same hole cells
// are walked again whenever a hole is rebuilt.
func (l *Live) neighbours(c uint64) []uint64 {
	if n, ok := l.near[c]; ok {
		return n
	}
	n := index.CellDisk(c, 1)[1]
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

// Result returns the analysis as it stands; the caller may keep it. Its
// unobserved land has no outlines: they change with most reports in
// places not yet observed, and only maps need them (see
// ResultWithOutlines).
func (l *Live) Result() *geo.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.result()
}

// ResultWithOutlines is Result with the unobserved land's outlines
// drawn. An outline is drawn again only when its land changed since the
// last one, so successive results share the unchanged outlines.
func (l *Live) ResultWithOutlines() *geo.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	res := l.result()
	l.land9.outline(res.Unobserved)
	return res
}

func (l *Live) result() *geo.Result {
	l.flush()
	l.stamp++
	res := &geo.Result{Cells: l.cells, Teams: l.teams, ReportBias: l.bias, ReportBiasFrom: l.from}
	res.Areas = l.acc.scores()
	var todo []int
	for k, h := range l.holes {
		if h.Geometry == nil {
			todo = append(todo, k)
			// Large holes are outlined from their cells' topology once a
			// Result has been asked for; the first outlines them by
			// matching edges, which needs no topology (and Analyze asks
			// for one Result only).
			if len(h.CellIDs) >= outlineTopoMin && l.stamp > 1 {
				m, s := l.mark(k), slotOf(h.Carrier)
				for i, inf := range h.infos {
					if inf.topo == nil {
						l.addTopo(h.CellIDs[i])
					}
					inf.topo.mark[s] = m
				}
			}
		}
	}
	b := l.boundaries(todo)
	index.Parallel(len(todo), func(lo, hi int) {
		for _, k := range todo[lo:hi] {
			h := l.holes[k]
			h.Geometry = l.outline(k, h, b)
		}
	})
	// Sort the holes before copying them: a Hole is large to move. No two
	// have the same carrier and ID, so the order is that of rankHoles.
	order := make([]*geo.Hole, 0, len(l.holes))
	for _, h := range l.holes {
		order = append(order, &h.Hole)
	}
	slices.SortFunc(order, func(a, b *geo.Hole) int {
		switch {
		case holeLess(a, b):
			return -1
		case holeLess(b, a):
			return 1
		}
		return 0
	})
	res.Holes = make([]geo.Hole, len(order))
	for i, h := range order {
		res.Holes[i] = *h
	}
	numberHoles(res.Holes)
	res.Unobserved = l.land9.unobserved() // outlines: see ResultWithOutlines
	res.Summary = summarize(res, len(l.areas), l.tally, l.nTeam)
	return res
}

// outlineTopoMin is the size from which a hole is outlined from its
// cells' topology (see outline).
const outlineTopoMin = 64

// cellTopo is a hexagon's vertices (numbered in Live.verts), in its
// boundary's order, and the cell across each side: nb[i] shares the side
// from vid[i] to vid[i+1] (0 while that cell has no topology), and nbT[i]
// is that cell's topology. mark[s] is the hole of slot s the cell was in
// when a Result last outlined that hole (see Live.mark), so that outline
// tells a hole's cells without reading holeOf.
type cellTopo struct {
	ring orb.Ring // the cell's boundary
	vid  [6]int32
	nb   [6]uint64
	nbT  [6]*cellTopo
	inf  *cellInfo
	mark [nCarriers + 1]uint64
	ok   bool // a hexagon whose sides are matched; otherwise unused
}

// mark is cellTopo.mark for hole k in this Result.
func (l *Live) mark(k int) uint64 { return l.stamp<<32 | uint64(uint32(k)) }

// addTopo gives cell c (which has its cellInfo) its topology, once, and
// links it to its neighbours that have theirs.
func (l *Live) addTopo(c uint64) {
	if _, ok := l.topo[c]; ok {
		return
	}
	t := &cellTopo{inf: l.info[c], ring: index.CellBoundary(c)}
	l.topo[c] = t
	t.inf.topo = t
	r := t.ring
	if len(r) != 7 { // a pentagon or a cell with distortion vertices
		return
	}
	for i, p := range r[:6] {
		k := [2]int64{int64(math.Round(p[0] * 1e9)), int64(math.Round(p[1] * 1e9))}
		id, ok := l.verts[k]
		if !ok {
			id = int32(len(l.verts))
			l.verts[k] = id
		}
		t.vid[i] = id
		if slices.Contains(t.vid[:i], id) {
			return
		}
	}
	t.ok = true
	for _, n := range l.neighbours(c) {
		o := l.topo[n]
		if o == nil || !o.ok {
			continue
		}
		for i := range 6 {
			a, b := t.vid[i], t.vid[(i+1)%6]
			for j := range 6 {
				if o.vid[j] == b && o.vid[(j+1)%6] == a {
					t.nb[i], o.nb[j] = n, c
					t.nbT[i], o.nbT[j] = o, t
				}
			}
		}
	}
}

// boundaries holds the boundaries of the cells of some holes, computed
// once per cell for the outlines of one Result and then let go: a ring
// per hole cell is more than the analysis should hold throughout, and a
// cell is in the holes of several carriers.
type boundaries struct {
	cells []uint64 // sorted
	rings []orb.Ring
}

// boundaries computes, in parallel, the boundaries of the cells of holes
// todo that are not outlined from their topology (see outline).
func (l *Live) boundaries(todo []int) *boundaries {
	var cells []uint64
	for _, k := range todo {
		if h := l.holes[k]; !hasTopo(h) {
			cells = append(cells, h.CellIDs...)
		}
	}
	slices.Sort(cells)
	b := &boundaries{cells: slices.Compact(cells)}
	b.rings = make([]orb.Ring, len(b.cells))
	index.Parallel(len(b.cells), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b.rings[i] = index.CellBoundary(b.cells[i])
		}
	})
	return b
}

// ring returns c's boundary, from b when it holds c.
func (b *boundaries) ring(c uint64) orb.Ring {
	if i, ok := slices.BinarySearch(b.cells, c); ok {
		return b.rings[i]
	}
	return index.CellBoundary(c)
}

// hasTopo says whether h is a large hole whose every cell has its
// topology, so that outline follows the topology.
func hasTopo(h *liveHole) bool {
	if len(h.CellIDs) < outlineTopoMin {
		return false
	}
	for _, inf := range h.infos {
		if t := inf.topo; t == nil || !t.ok {
			return false
		}
	}
	return true
}

// outline draws hole k (h) as cellsToMultiPolygon would: the same rings,
// from the same vertices, in the same order. When every cell of a large
// hole has its topology, the boundary is the sides whose cell across is
// not in the hole (not marked for it: see cellTopo), found in one pass
// over the cells in order without matching edges; and a boundary vertex takes its position from the first
// cell in order that has it, as when cellsToMultiPolygon numbers the
// vertices. It only reads l; b holds the boundaries of h's cells.
func (l *Live) outline(k int, h *liveHole, b *boundaries) orb.MultiPolygon {
	ring := b.ring
	if !hasTopo(h) {
		return index.CellsToMultiPolygonWith(h.CellIDs, ring)
	}
	m, s := l.mark(k), slotOf(h.Carrier)
	in := func(t *cellTopo) bool { return t != nil && t.mark[s] == m }
	local := map[int32]int32{}
	var pts []orb.Point
	var next, starts []int32
	var set []bool // whether pts[i] is set
	id := func(v int32) int32 {
		if i, ok := local[v]; ok {
			return i
		}
		i := int32(len(pts))
		local[v] = i
		pts, next, set = append(pts, orb.Point{}), append(next, -1), append(set, false)
		return i
	}
	for ci, c := range h.CellIDs {
		t := h.infos[ci].topo
		for i := range 6 {
			if in(t.nbT[i]) {
				continue
			}
			a, b := id(t.vid[i]), id(t.vid[(i+1)%6])
			next[a] = b
			starts = append(starts, a)
			// The vertex is shared by this cell, the one across side i
			// (not in the hole) and the one across the side before.
			p := t.ring[i]
			if o := t.nbT[(i+5)%6]; in(o) && t.nb[(i+5)%6] < c {
				j := slices.Index(o.vid[:], t.vid[i])
				p = o.ring[j]
			}
			pts[a], set[a] = p, true
		}
	}
	if slices.Contains(set, false) {
		return index.CellsToMultiPolygonWith(h.CellIDs, ring)
	}
	return index.ChainRings(starts, next, pts)
}

// Len is the number of reports taken.
func (l *Live) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.obs)
}

// spread is what one report's evidence reached (see hexField.add): the
// cells around it at the evidence resolution, and per wide level k the
// wide cells (k+1 resolutions coarser) around its ancestor.
type spread struct {
	local []uint64
	wide  [][]uint64
}

// add spreads one observation's evidence into the cells around cell, as
// buildField and buildWide do for the first ones, and returns the cells it
// reached.
func (f *hexField) add(o *geo.Obs, s int, cell uint64, r geo.Rules) spread {
	src := f.contribution(o, s, r)
	var sp spread
	for d, ring := range index.CellDisk(cell, f.p.Rings) {
		for _, c := range ring {
			j := f.cellIndexOf(c)
			f.smooth[s].addScaled(j, src, f.weights[d])
			if d <= f.p.FineRings {
				f.fine[s].addScaled(j, src, f.fineWeights[d])
			}
		}
		sp.local = append(sp.local, ring...)
	}
	sp.wide = make([][]uint64, len(f.wide))
	for k := range f.wide {
		w := &f.wide[k]
		pc := index.CellParent(cell, f.p.Res-1-k)
		for d, ring := range index.CellDisk(pc, f.p.WideRings) {
			for _, c := range ring {
				w.acc[w.addCell(c)][s].addScaled(src, f.wideWeights[d])
			}
			sp.wide[k] = append(sp.wide[k], ring...)
		}
	}
	return sp
}

// cellIndexOf returns cell's position in the field, adding it.
func (f *hexField) cellIndexOf(c uint64) int32 {
	if j, ok := f.idx.find(f.cells, c); ok {
		return j
	}
	j := int32(len(f.cells))
	f.cells = append(f.cells, c)
	f.idx.add(f.cells)
	for s := range nCarriers {
		f.smooth[s].grow(len(f.cells))
		f.fine[s].grow(len(f.cells))
	}
	return j
}

// touched returns, sorted, the cells at the evidence resolution whose
// judgement for carrier slot s a report of s can have changed, sp being
// the cells its evidence reached: the cells around it, and the cells under
// the wide cells it reached, except those judged at a finer scale it did
// not reach. A cell is judged at the finest scale with enough evidence
// (see shareOf); evidence only grows, so when that scale and the finer
// ones did not change, neither did the judgement, nor whether the cell is
// dead (the evidence of all carriers pooled is enough at that scale or a
// finer one, none of which changed).
//
// A cell is taken when the walk reaches the finest wide level whose cell
// above it changed: from there down, a wide cell that did not change but
// has enough evidence judges every cell under it but those around the
// report, and a cell whose own evidence is enough is judged by it.
func (f *hexField) touched(s int, sp spread) []uint64 {
	out := slices.Clone(sp.local)
	var down func(c uint64, k int)
	down = func(c uint64, k int) { // c is at wide level k
		var kids [7]uint64
		for _, ch := range index.CellChildrenInto(kids[:0], c) {
			if k > 0 {
				if slices.Contains(sp.wide[k-1], ch) {
					continue // taken from there
				}
				if a := f.wide[k-1].at(ch); a != nil && f.enough(a[s], k) {
					continue
				}
				down(ch, k-1)
				continue
			}
			if slices.Contains(sp.local, ch) {
				continue
			}
			if j, ok := f.idx.find(f.cells, ch); ok && (f.enough(f.fine[s].get(j), -1) || f.enough(f.smooth[s].get(j), 0)) {
				continue
			}
			out = append(out, ch)
		}
	}
	for k := len(sp.wide) - 1; k >= 0; k-- {
		for _, c := range sp.wide[k] {
			down(c, k)
		}
	}
	slices.Sort(out)
	return out
}
