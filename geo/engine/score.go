package engine

import (
	"math"
	"slices"
	"sort"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

// areaNode accumulates one area's figures: an input area, or a roll-up
// for a parent code that was not loaded.
type areaNode struct {
	code, name, parent, vintage string
	level                       geo.Level
	index                       int // input index, −1 for roll-ups
	up                          int // parent node, −1 for none
	depth                       int
	children                    int

	land float64 // km²
	// landCells is the number of land cells of the area, observed[s] how
	// many of them are observed for carrier slot s (nCarriers: any).
	landCells int32
	observed  [nCarriers + 1]int32
	// Land in holes, in dead zones and in each carrier's holes, in
	// landUnit (see landUnits): integers, so that adding and removing hole
	// cells in any order leaves the sums a fresh analysis computes.
	hole, dead int64
	carHole    [nCarriers]int64
	pop, hh    int64
	hhEst      bool
	centroid   orb.Point
	centroidW  float64

	reports, weak int
	car           [nCarriers]struct{ reports, weak int }
	signals       [nCarriers][]float32

	teams, members  int
	reached         int64
	reachedReported bool
}

type areaAccum struct {
	ix    *index.Index
	cfg   geo.Config
	nodes []areaNode
	// leafNode maps an input area to its node (the same index).
	byCode  map[string]int // vintage + "\x00" + code → node
	teamPts []orb.Point
	// cover counts, per hole cell, the carrier holes covering it.
	cover map[uint64]int32
	// sorted holds, per node and carrier, the signals of the node and of
	// every node below it, in order, so that scores reads each median
	// without rolling the signals up and selecting again. Only a Live
	// keeps it (see trackSignals): it scores after every few reports.
	sorted [][nCarriers][]float32
	// What scores computes once and keeps, since it does not change with
	// reports and holes: the nodes in roll-up order (deepest first), each
	// node's distance to the nearest team (nil until the teams are placed
	// and scored), and room for the nodes' working copy.
	order   []int
	nearKm  []float64
	scratch []areaNode
	// ranked is, per level, the nodes in the order of the last ranking:
	// one report moves few areas, so the next ranking starts from it.
	ranked map[geo.Level][]int
}

// rankSort sorts idx by less, a total order. idx is mostly sorted
// already (the last ranking), so it is sorted by insertion, which moves
// only what changed, unless that grows past a few moves per element:
// then it is sorted afresh.
func rankSort(idx []int, less func(x, y int) bool) {
	moves := 0
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && less(idx[j], idx[j-1]); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
			if moves++; moves > 4*len(idx) {
				slices.SortFunc(idx, func(x, y int) int {
					switch {
					case less(x, y):
						return -1
					case less(y, x):
						return 1
					}
					return 0
				})
				return
			}
		}
	}
}

func codeKey(vintage, code string) string { return vintage + "\x00" + code }

func newAreaAccum(ix *index.Index, areas []geo.Area, cfg geo.Config) *areaAccum {
	a := &areaAccum{ix: ix, cfg: cfg, byCode: map[string]int{}, cover: map[uint64]int32{}}
	a.nodes = make([]areaNode, len(areas), len(areas)+16)
	for i := range areas {
		ar := &areas[i]
		n := &a.nodes[i]
		n.code, n.name, n.parent, n.vintage = ar.Code, ar.Name, ar.ParentCode, ar.Vintage
		n.level, n.index, n.up = ar.Level, i, -1
		n.land = orbgeo.Area(ar.Geometry) / 1e6
		n.pop = ar.Population
		n.hh = ar.Households
		if n.hh == 0 && n.pop > 0 {
			n.hh, n.hhEst = households(ar, cfg), true
		}
		c, _ := planar.CentroidArea(ar.Geometry)
		n.centroid, n.centroidW = c, n.land
		if _, dup := a.byCode[codeKey(ar.Vintage, ar.Code)]; !dup {
			a.byCode[codeKey(ar.Vintage, ar.Code)] = i
		}
	}
	// Link parents, creating roll-ups for codes that were not loaded.
	for i := 0; i < len(a.nodes); i++ {
		n := &a.nodes[i]
		if n.parent == "" || n.parent == n.code {
			continue
		}
		k := codeKey(n.vintage, n.parent)
		p, ok := a.byCode[k]
		if !ok {
			p = len(a.nodes)
			a.byCode[k] = p
			lvl := geo.LevelUnknown
			if n.level != geo.LevelUnknown && n.level < geo.LevelProvince {
				lvl = n.level + 1
				if lvl == geo.LevelDistrict && n.vintage != "" && n.vintage >= "2025" {
					lvl = geo.LevelProvince // two-level system since 1 July 2025
				}
			}
			name := n.parent
			if i < len(areas) {
				name = parentName(&areas[i], lvl)
			}
			a.nodes = append(a.nodes, areaNode{code: n.parent, name: name, vintage: n.vintage, level: lvl, index: -1, up: -1})
			n = &a.nodes[i]
		}
		n.up = p
	}
	// Depths, guarding against cycles in bad parent codes.
	for i := range a.nodes {
		d, j := 0, a.nodes[i].up
		for j >= 0 && d <= len(a.nodes) {
			d++
			j = a.nodes[j].up
		}
		if d > len(a.nodes) {
			a.nodes[i].up = -1
			d = 0
		}
		a.nodes[i].depth = d
	}
	return a
}

// parentName names a roll-up from the child's properties when they carry
// it (the 2025 commune files have province_name), else uses the code.
func parentName(child *geo.Area, lvl geo.Level) string {
	keys := []string{"parent_name"}
	switch lvl {
	case geo.LevelProvince:
		keys = append(keys, "province_name")
	case geo.LevelDistrict:
		keys = append(keys, "district_name")
	case geo.LevelCommune:
		keys = append(keys, "commune_name")
	}
	for _, k := range keys {
		if s, ok := child.Props[k].(string); ok && s != "" {
			return s
		}
	}
	return child.ParentCode
}

func (a *areaAccum) addObs(obs []geo.Obs) {
	// Count first so the signal lists are allocated once, at their size.
	counts := make([][nCarriers]int32, len(a.nodes))
	for i := range obs {
		if o := &obs[i]; o.Area >= 0 && o.HasSignal() {
			if s := carrierSlot(o.Carrier); s >= 0 {
				counts[o.Area][s]++
			}
		}
	}
	for i := range counts {
		for s, c := range counts[i] {
			if c > 0 {
				a.nodes[i].signals[s] = make([]float32, 0, c)
			}
		}
	}
	for i := range obs {
		a.addOne(&obs[i])
	}
}

// addHole adds (sign 1) or removes (sign −1) one hole's land, infos
// being its cells' information in the order of its cells. Land in any
// carrier's hole counts once however many carriers' holes cover it: cover
// counts them per cell.
func (a *areaAccum) addHole(h *geo.Hole, infos []*cellInfo, sign int64) {
	s := slotOf(h.Carrier)
	for i, c := range h.CellIDs {
		a.addCell(s, c, infos[i], sign)
	}
}

// addCell adds (sign 1) or removes (sign −1) one hole cell of carrier
// slot s (nCarriers: a dead zone).
func (a *areaAccum) addCell(s int, c uint64, inf *cellInfo, sign int64) {
	if s == nCarriers {
		a.sample(inf, func(n *areaNode, u int64) { n.dead += sign * u })
		return
	}
	a.sample(inf, func(n *areaNode, u int64) { n.carHole[s] += sign * u })
	before := a.cover[c]
	after := before + int32(sign)
	if (before == 0) != (after == 0) {
		a.sample(inf, func(n *areaNode, u int64) { n.hole += sign * u })
	}
	if after == 0 {
		delete(a.cover, c)
	} else {
		a.cover[c] = after
	}
}

// trackSignals starts keeping sorted (see areaAccum) from the signals
// taken so far; addOne keeps it up to date.
func (a *areaAccum) trackSignals() {
	a.sorted = make([][nCarriers][]float32, len(a.nodes))
	for i := range a.nodes {
		for s := range nCarriers {
			for j := range a.above(i) {
				a.sorted[j][s] = append(a.sorted[j][s], a.nodes[i].signals[s]...)
			}
		}
	}
	for i := range a.sorted {
		for s := range nCarriers {
			slices.Sort(a.sorted[i][s])
		}
	}
}

// above yields node i and its ancestors.
func (a *areaAccum) above(i int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for d := 0; i >= 0 && d <= len(a.nodes); d++ {
			if !yield(i) {
				return
			}
			i = a.nodes[i].up
		}
	}
}

// addOne counts one more observation (see addObs).
func (a *areaAccum) addOne(o *geo.Obs) {
	if o.Area < 0 {
		return
	}
	n := &a.nodes[o.Area]
	n.reports++
	weak := o.Flags&geo.FlagWeak != 0
	if weak {
		n.weak++
	}
	if s := carrierSlot(o.Carrier); s >= 0 {
		n.car[s].reports++
		if weak {
			n.car[s].weak++
		}
		if o.HasSignal() {
			n.signals[s] = append(n.signals[s], o.SignalDBm)
			if a.sorted != nil {
				for j := range a.above(int(o.Area)) {
					v := a.sorted[j][s]
					k, _ := slices.BinarySearch(v, o.SignalDBm)
					a.sorted[j][s] = slices.Insert(v, k, o.SignalDBm)
				}
			}
		}
	}
}

func (a *areaAccum) sample(inf *cellInfo, add func(*areaNode, int64)) {
	u := landUnits(inf.km2 / 7)
	for _, i := range inf.in {
		if i >= 0 {
			add(&a.nodes[i], u)
		}
	}
}

// landUnit is the unit of the areas' land in holes: 10⁻¹² km² (a square
// micrometre); an int64 holds 9·10⁶ km² of it.
const landUnit = 1e-12

// landUnits is km (km²) in landUnit, rounded.
func landUnits(km float64) int64 { return int64(math.Round(km / landUnit)) }

// landKm2 is u landUnit in km².
func landKm2(u int64) float64 { return float64(u) * landUnit }

// addTeams places each team in its area (by code, else by location) and
// returns them with their area.
func (a *areaAccum) addTeams(teams []geo.Team) []geo.TeamOut {
	a.nearKm = nil
	out := make([]geo.TeamOut, len(teams))
	byCode := a.firstByCode()
	for ti, t := range teams {
		out[ti] = geo.TeamOut{Team: t, Area: -1}
		node := -1
		if t.AreaCode != "" {
			if i, ok := byCode[t.AreaCode]; ok {
				node = i
			}
		}
		if node < 0 && t.HasLocation {
			node = a.ix.Locate(t.Lon, t.Lat)
		}
		if node >= 0 {
			n := &a.nodes[node]
			out[ti].AreaName = n.name
			if n.index >= 0 {
				out[ti].Area = n.index
			}
			if out[ti].AreaCode == "" {
				out[ti].AreaCode = n.code
			}
			n.teams++
			n.members += t.Members
			n.reached += t.HouseholdsReached
			if t.HouseholdsReached > 0 {
				n.reachedReported = true
			}
		}
		switch {
		case t.HasLocation:
			a.teamPts = append(a.teamPts, orb.Point{t.Lon, t.Lat})
		case node >= 0:
			a.teamPts = append(a.teamPts, a.nodes[node].centroid)
		}
	}
	return out
}

// firstByCode maps each code, in any vintage (teams carry no vintage),
// to its first node: the first loaded wins.
func (a *areaAccum) firstByCode() map[string]int {
	m := make(map[string]int, len(a.nodes))
	for i := range a.nodes {
		if _, ok := m[a.nodes[i].code]; !ok {
			m[a.nodes[i].code] = i
		}
	}
	return m
}

// median is the median signal of node i for carrier slot s: from sorted
// when it is kept, else of the rolled-up signals (reordering them).
func (a *areaAccum) median(i, s int, rolled []float32) float64 {
	if a.sorted == nil {
		return median32(rolled)
	}
	v := a.sorted[i][s]
	n := len(v)
	switch {
	case n == 0:
		return math.NaN()
	case n%2 == 1:
		return float64(v[n/2])
	}
	return (float64(v[n/2-1]) + float64(v[n/2])) / 2
}

// scores rolls figures up to parents and computes every score. It works
// on a copy, so the accumulator can take more observations and holes and
// be scored again.
func (a *areaAccum) scores() []geo.AreaScore {
	nodes := append(a.scratch[:0], a.nodes...)
	a.scratch = nodes
	for i := range nodes {
		for s := range nCarriers {
			if a.sorted != nil {
				nodes[i].signals[s] = nil // the medians come from sorted
				continue
			}
			// Appends during the roll-up must not write into the
			// accumulator's own arrays.
			nodes[i].signals[s] = slices.Clip(nodes[i].signals[s])
		}
	}
	if a.order == nil {
		a.order = make([]int, len(nodes))
		for i := range a.order {
			a.order[i] = i
		}
		order := a.order
		sort.SliceStable(order, func(i, j int) bool { return nodes[order[i]].depth > nodes[order[j]].depth })
	}
	for _, i := range a.order {
		n := &nodes[i]
		if n.up < 0 {
			continue
		}
		p := &nodes[n.up]
		p.children++
		p.reports += n.reports
		p.weak += n.weak
		for s := range nCarriers {
			p.car[s].reports += n.car[s].reports
			p.car[s].weak += n.car[s].weak
			p.signals[s] = append(p.signals[s], n.signals[s]...)
			p.carHole[s] += n.carHole[s]
		}
		p.hole += n.hole
		p.dead += n.dead
		p.landCells += n.landCells
		for s := range n.observed {
			p.observed[s] += n.observed[s]
		}
		p.teams += n.teams
		p.members += n.members
		p.reached += n.reached
		p.reachedReported = p.reachedReported || n.reachedReported
		if p.index < 0 {
			p.land += n.land
			p.pop += n.pop
			p.hh += n.hh
			p.hhEst = p.hhEst || n.hhEst
			if n.centroidW > 0 {
				w := p.centroidW + n.centroidW
				p.centroid = orb.Point{
					(p.centroid[0]*p.centroidW + n.centroid[0]*n.centroidW) / w,
					(p.centroid[1]*p.centroidW + n.centroid[1]*n.centroidW) / w,
				}
				p.centroidW = w
			}
		}
	}
	// The centroids rolled up from land, which does not change: the
	// distances to the teams are those of the last time.
	if a.nearKm == nil {
		tf := newTeamFinder(a.teamPts)
		a.nearKm = make([]float64, len(nodes))
		for i := range nodes {
			a.nearKm[i] = tf.nearestKm(nodes[i].centroid)
		}
	}
	rp := a.cfg.Reach
	out := make([]geo.AreaScore, len(nodes))
	cars := make([]geo.CarrierStats, nCarriers*len(nodes))
	var share [nCarriers]float64
	for k, c := range geo.Carriers {
		share[k] = a.cfg.Share(c)
	}
	for i := range nodes {
		n := &nodes[i]
		s := geo.AreaScore{
			Code: n.code, Name: n.name, ParentCode: n.parent, Level: n.level, Vintage: n.vintage, Index: n.index,
			Children: n.children, LandKm2: n.land, Population: n.pop, Households: n.hh,
			HouseholdsEstimated: n.hhEst, Reports: n.reports, Weak: n.weak,
			HoleKm2: math.Min(landKm2(n.hole), n.land), DeadKm2: math.Min(landKm2(n.dead), n.land),
		}
		if n.reports > 0 {
			s.WeakShare = float64(n.weak) / float64(n.reports)
		}
		s.WeakLow, _ = Wilson(n.weak, n.reports)
		if n.land > 0 {
			s.HoleShare = s.HoleKm2 / n.land
			s.DeadShare = s.DeadKm2 / n.land
		}
		if n.landCells > 0 {
			s.ObservedShare = float64(n.observed[nCarriers]) / float64(n.landCells)
		}
		affected := 0.0
		s.Carriers = cars[i*nCarriers : (i+1)*nCarriers : (i+1)*nCarriers]
		for k, c := range geo.Carriers {
			cs := geo.CarrierStats{Carrier: c, Reports: n.car[k].reports, Weak: n.car[k].weak,
				MedianSignalDBm: a.median(i, k, n.signals[k]), HoleKm2: math.Min(landKm2(n.carHole[k]), n.land)}
			if cs.Reports > 0 {
				cs.WeakShare = float64(cs.Weak) / float64(cs.Reports)
			}
			cs.WeakLow, _ = Wilson(cs.Weak, cs.Reports)
			if n.land > 0 {
				cs.HoleShare = cs.HoleKm2 / n.land
			}
			if n.landCells > 0 {
				cs.ObservedShare = float64(n.observed[k]) / float64(n.landCells)
			}
			affected += share[k] * cs.HoleShare
			s.Carriers[k] = cs
		}
		affected = math.Min(1, math.Max(affected, s.DeadShare))
		s.PopulationAffected = float64(n.pop) * affected
		s.HouseholdsAffected = float64(n.hh) * affected

		r := geo.TeamReach{Teams: n.teams, Members: n.members, HouseholdsReached: n.reached,
			MembersPer1000HH: math.NaN(), ReachedShare: math.NaN()}
		if n.hh > 0 {
			r.MembersPer1000HH = float64(n.members) / float64(n.hh) * 1000
			if n.reachedReported {
				r.ReachedShare = math.Min(1, float64(n.reached)/float64(n.hh))
			}
		}
		r.NearestTeamKm = a.nearKm[i]
		r.Low = n.teams == 0 ||
			(!math.IsNaN(r.MembersPer1000HH) && r.MembersPer1000HH < rp.MinMembersPer1000HH) ||
			(!math.IsNaN(r.ReachedShare) && r.ReachedShare < rp.MinReachedShare) ||
			(!math.IsNaN(r.NearestTeamKm) && r.NearestTeamKm > rp.MaxNearestKm)
		s.Reach = r
		gap := affected >= rp.GapShare
		switch {
		case gap && r.Low:
			s.Action = geo.ActionBoth
		case gap:
			s.Action = geo.ActionCarrier
		case r.Low:
			s.Action = geo.ActionTeam
		default:
			s.Action = geo.ActionOK
		}
		// Priority: households without usable signal, plus a fifth of the
		// households not yet reached where team reach is low — a household
		// cut off from the network weighs five times one merely not yet
		// visited.
		s.Priority = s.HouseholdsAffected
		if r.Low {
			unreached := float64(n.hh)
			if !math.IsNaN(r.ReachedShare) {
				unreached *= 1 - r.ReachedShare
			}
			s.Priority += 0.2 * unreached
		}
		out[i] = s
	}
	// Rank within each level: by priority, highest first, then by code
	// (then by place, so the order is total and any sort gives it).
	if a.ranked == nil {
		a.ranked = map[geo.Level][]int{}
		for i := range out {
			a.ranked[out[i].Level] = append(a.ranked[out[i].Level], i)
		}
	}
	for _, idx := range a.ranked {
		rankSort(idx, func(x, y int) bool {
			a, b := &out[x], &out[y]
			if a.Priority != b.Priority {
				return a.Priority > b.Priority
			}
			if a.Code != b.Code {
				return a.Code < b.Code
			}
			return x < y
		})
		for r, i := range idx {
			out[i].Rank = r + 1
		}
	}
	return out
}
