package engine

import (
	"cmp"
	"iter"
	"math"
	"slices"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

// Measurement tasks. The land cells (see landGrid) are the places a team
// can be sent to: each is judged once for what a measurement there would
// change, and each team is offered the best places in its area and in the
// land just around it, a few hundred metres apart.
//
// What a place is worth, its weight (see taskWeight) times the households
// living there plus one (an empty field still counts), halved beyond the
// team's own area, and divided by one plus a quarter of its distance in
// km from the team's base (its area's centre when the team has no
// location), so nearer places come first among equals:
//   - hole_edge: land no report of a carrier reaches, beside that
//     carrier's hole (or, for every carrier, beside a dead zone): a report
//     there moves the hole's edge, and with it the land and households a
//     carrier is asked to cover;
//   - near_threshold: a judged place whose estimated weak share is
//     within taskMargin of the threshold: a few reports decide it;
//   - unobserved: land no report reaches yet, for any carrier or for one.

// taskMargin is how close to the threshold a weak share is near it.
const taskMargin = 0.1

// taskNearRings is how far past its area's edge a team is sent, in land
// cells (about 350 m each with the defaults).
const taskNearRings = 2

// taskWeight is the worth of a place by why it is proposed, for every
// carrier at once or for one.
func taskWeight(why geo.TaskWhy, all bool) float64 {
	w := map[geo.TaskWhy]float64{geo.TaskHoleEdge: 3, geo.TaskNearThreshold: 1.5, geo.TaskUnobserved: 1}[why]
	if all {
		w *= 2
	}
	return w
}

// placeTask is what one land cell asks for: why, of which carrier slot,
// and its worth before households.
type placeTask struct {
	why    geo.TaskWhy
	slot   int
	weight float64
}

// Tasks proposes, for each team, up to cfg.TasksPerTeam places to measure
// next, ranked by worth (see the comment above), in the order of the
// teams. Their State is open; the service keeps when each was proposed
// and done.
func (l *Live) Tasks() []geo.Task {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tasks(func() {})
}

// tasks is Tasks. The evidence field is read first, for the places near a
// threshold; fieldDone is called as soon as it is no longer needed
// (Analyze lets it go there, before the rest of the work).
func (l *Live) tasks(fieldDone func()) []geo.Task {
	per := l.cfg.TasksPerTeam
	g := l.land9
	if per <= 0 || len(g.cells) == 0 || len(l.teams) == 0 {
		fieldDone()
		return nil
	}
	l.flush()
	near := l.nearThreshold()
	fieldDone()
	// The land in and beside each slot's holes.
	holeLand := besideHoles(g.res, func(yield func(*geo.Hole) bool) {
		for _, h := range l.holes {
			if !yield(&h.Hole) {
				return
			}
		}
	})
	// What each land cell asks for, and its households.
	want := make([]placeTask, len(g.cells))
	homes := make([]float64, len(g.cells))
	index.Parallel(len(g.cells), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			want[k] = l.placeTask(k, &holeLand, near[k])
			a := g.area[k]
			if land := l.land[a]; land > 0 {
				homes[k] = l.households(int(a)) * landKm2(g.land[k]) / land
			}
		}
	})
	// The land cells of each area worth measuring, and those of other
	// areas within taskNearRings of it.
	byArea := make([][]int32, l.ix.Len())
	nearBy := make([][]int32, l.ix.Len())
	others := make([][]int32, len(g.cells))
	index.Parallel(len(g.cells), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			if want[k].weight == 0 {
				continue
			}
			for _, ring := range index.CellDisk(g.cells[k], taskNearRings)[1:] {
				for _, n := range ring {
					if j, ok := g.pos[n]; ok && g.area[j] != g.area[k] && !slices.Contains(others[k], g.area[j]) {
						others[k] = append(others[k], g.area[j])
					}
				}
			}
		}
	})
	for k, a := range g.area {
		if want[k].weight == 0 {
			continue
		}
		byArea[a] = append(byArea[a], int32(k))
		for _, o := range others[k] {
			nearBy[o] = append(nearBy[o], int32(k))
		}
	}
	var out []geo.Task
	for ti := range l.teams {
		t := &l.teams[ti]
		area := t.Area
		if area < 0 && t.HasLocation {
			area = l.ix.Locate(t.Lon, t.Lat)
		}
		if area < 0 || area >= len(byArea) {
			continue
		}
		out = append(out, l.teamTasks(t, area, byArea[area], nearBy[area], want, homes, per)...)
	}
	return out
}

// besideHoles returns, per slot, the land cells (at resolution res) under
// the holes and the ring around each: the same whatever order the holes
// come in.
func besideHoles(res int, holes iter.Seq[*geo.Hole]) [nCarriers + 1]map[uint64]bool {
	var out, done [nCarriers + 1]map[uint64]bool
	for s := range out {
		out[s], done[s] = map[uint64]bool{}, map[uint64]bool{}
	}
	for h := range holes {
		s := slotOf(h.Carrier)
		for _, c := range h.CellIDs {
			p := index.CellParent(c, res)
			if done[s][p] {
				continue
			}
			done[s][p] = true
			out[s][p] = true
			for _, n := range index.CellNeighbours(nil, p) {
				out[s][n] = true
			}
		}
	}
	return out
}

// households is area i's households, or its population over the
// household size.
func (l *Live) households(i int) float64 {
	a := l.ix.Area(i)
	if a.Households > 0 {
		return float64(a.Households)
	}
	return float64(a.Population) / l.cfg.HouseholdSize
}

// placeTask judges land cell k: hole_edge or unobserved when some slot
// cannot judge it (all carriers before one), else near_threshold when a
// carrier's share is close to its threshold; zero weight when a
// measurement there would change nothing. beside[s] holds the land in and
// around slot s's holes, and near the slots (a bit each) whose weak share
// there is near its threshold (see nearThreshold).
func (l *Live) placeTask(k int, beside *[nCarriers + 1]map[uint64]bool, near uint8) placeTask {
	g := l.land9
	c := g.cells[k]
	best := placeTask{}
	consider := func(why geo.TaskWhy, s int) {
		if w := taskWeight(why, s == nCarriers); w > best.weight {
			best = placeTask{why: why, slot: s, weight: w}
		}
	}
	if !g.seen[nCarriers][k] {
		why := geo.TaskUnobserved
		if slices.ContainsFunc(beside[:], func(m map[uint64]bool) bool { return m[c] }) {
			why = geo.TaskHoleEdge
		}
		consider(why, nCarriers)
		return best
	}
	for s := range nCarriers {
		if !g.seen[s][k] {
			why := geo.TaskUnobserved
			if beside[s][c] {
				why = geo.TaskHoleEdge
			}
			consider(why, s)
		}
	}
	if best.weight > 0 {
		return best
	}
	for s := range nCarriers {
		if near&(1<<s) != 0 {
			consider(geo.TaskNearThreshold, s)
		}
	}
	return best
}

// nearThreshold returns, per land cell that every carrier's reports
// reach, a bit for each carrier slot whose estimated weak share there
// (at the cell's centre child) is within taskMargin of its threshold:
// what placeTask asks of the evidence field.
func (l *Live) nearThreshold() []uint8 {
	g := l.land9
	near := make([]uint8, len(g.cells))
	index.Parallel(len(g.cells), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			if !g.seen[nCarriers][k] || slices.ContainsFunc(g.seen[:nCarriers], func(seen []bool) bool { return !seen[k] }) {
				continue
			}
			centre := index.CellCenterChild(g.cells[k])
			for s := range nCarriers {
				if share, thr, ok := l.f.shareOf(centre, s); ok && math.Abs(share-thr) <= taskMargin {
					near[k] |= 1 << s
				}
			}
		}
	})
	return near
}

// teamTasks picks team t's places among the land cells worth measuring
// of its area (own) and those within taskNearRings of it (near): the
// worthiest first, none beside one already picked.
func (l *Live) teamTasks(t *geo.TeamOut, area int, own, near []int32, want []placeTask, homes []float64, per int) []geo.Task {
	g := l.land9
	type cand struct {
		k     int32
		score float64
	}
	base := orb.Point{t.Lon, t.Lat}
	if !t.HasLocation {
		base, _ = planar.CentroidArea(l.ix.Area(area).Geometry)
	}
	worth := func(k int32, w float64) float64 {
		d := orbgeo.Distance(base, index.CellCenter(g.cells[k])) / 1000
		return w * (1 + homes[k]) / (1 + d/4)
	}
	cands := make([]cand, 0, len(own)+len(near))
	for _, k := range own {
		cands = append(cands, cand{k, worth(k, want[k].weight)})
	}
	// The land just past the area's edge, at half worth.
	for _, k := range near {
		cands = append(cands, cand{k, worth(k, want[k].weight/2)})
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(g.cells[a.k], g.cells[b.k])
	})
	var out []geo.Task
	taken := map[uint64]bool{}
	for _, cd := range cands {
		if len(out) == per {
			break
		}
		c := g.cells[cd.k]
		if taken[c] {
			continue
		}
		for _, n := range slices.Concat(index.CellDisk(c, 1)...) {
			taken[n] = true
		}
		w := want[cd.k]
		car := geo.CarrierAll
		if w.slot < nCarriers {
			car = geo.Carriers[w.slot]
		}
		a := l.ix.Area(int(g.area[cd.k]))
		p := index.CellCenter(c)
		place := index.CellString(c)
		out = append(out, geo.Task{
			ID: t.ID + "/" + place, Team: t.ID, TeamName: t.Name, Area: a.Code, AreaName: a.Name,
			Place: place, Cell: c, Lon: p[0], Lat: p[1], Carrier: car, Why: w.why,
			Households: math.Round(homes[cd.k]*10) / 10, Score: math.Round(cd.score*1000) / 1000,
			Rank: len(out) + 1, State: geo.TaskOpen,
		})
	}
	return out
}
