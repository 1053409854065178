package engine

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// Input is what an analysis runs over.
type Input struct {
	// Areas are the boundaries (validated). Index, when non-nil, must
	// have been built over exactly these areas.
	Areas []geo.Area
	Index *index.Index
	// Obs are the reports in compact form, in the order received; Analyze
	// fills in Area and FlagWeak, unless Located says they are set: each
	// Area from Index (or −1 outside every area) and FlagWeak by the
	// configuration's rules, as a caller that has already located and
	// classified every report for its own checks can do, so that nothing
	// is located twice.
	Obs       []geo.Obs
	Located   bool
	Reporters *geo.Reporters
	Teams     []geo.Team
	// Progress, when set, is told each stage as it starts.
	Progress func(stage string)
}

// Analyze runs the whole engine: assignment, classification, cell
// statistics, holes and dead zones, area scores with roll-ups, team reach,
// action categories and priorities. It is NewLive followed by Result: one
// analysis, whether it runs once or is kept up to date. It returns
// ctx.Err() if cancelled and a FieldErrors (ErrInvalid) for an invalid
// configuration.
func Analyze(ctx context.Context, in Input, cfg geo.Config) (*geo.Result, error) {
	l, err := newLive(ctx, in, cfg, false)
	if err != nil {
		return nil, err
	}
	if in.Progress != nil {
		in.Progress("outline holes and score areas")
	}
	// Nothing is added to l: the evidence field and the flagged cells go
	// as soon as the tasks have read them. Collecting then sets the next
	// collection's goal from what is left (about half), rather than from
	// the field's peak, which the tasks' and outlines' garbage would
	// otherwise fill again.
	l.mu.Lock()
	tasks := l.tasks(func() {
		l.release()
		runtime.GC()
	})
	l.mu.Unlock()
	res := l.ResultWithOutlines()
	res.Tasks = tasks
	return res, ctx.Err()
}

// areaLand returns each area's land in km² (its polygons' geodesic area).
func areaLand(ix *index.Index) []float64 {
	land := make([]float64, ix.Len())
	for i := range land {
		land[i] = orbgeo.Area(ix.Area(i).Geometry) / 1e6
	}
	return land
}

// analyzeStart runs the stages Analyze and NewLive share: it indexes the areas
// (unless in has an index), assigns and classifies the observations,
// computes the per-carrier cell statistics and builds the evidence field.
func analyzeStart(ctx context.Context, in Input, cfg geo.Config, stage func(string)) (*index.Index, []geo.CellStat, *hexField, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, nil, err
	}
	ix := in.Index
	if ix == nil {
		stage("index areas")
		ix = index.New(in.Areas)
	}
	// The reports of one survey come one after another, as sent (see
	// jumpBias).
	var jump *biasEstimate
	if cfg.Holes.EstimateBias {
		if e, ok := jumpBias(in.Obs, cfg.Rules); ok {
			jump = &e
		} else {
			jump = &biasEstimate{reports: e.reports}
		}
	}
	if in.Located && in.Index == nil {
		return nil, nil, nil, fmt.Errorf("engine: located reports need the index they were located with")
	}
	if !in.Located {
		stage("assign reports to areas")
		ix.Assign(in.Obs)
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		cfg.Rules.Classify(in.Obs)
	}
	stage("hex cells")
	ci, err := newCellIndex(in.Obs, cfg.CellRes, cfg.Holes.Res)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	cells, tabs := ci.coarseStats(in.Obs)
	stage("evidence field")
	field := buildField(in.Obs, ci, tabs, cfg.Rules, cfg.Holes, ix, jump)
	cellPosteriors(cells, field.bias, cfg.Holes.Threshold)
	return ix, cells, field, ctx.Err()
}

// cellPosteriors sets how sure each cell is, with the carriers' report
// bias now known. The posterior is a pure function of the cell's counts
// and its carrier's bias, and most cells share their counts with many
// others: each distinct (carrier, weak, reports) is computed once, the
// distinct ones in parallel.
func cellPosteriors(cells []geo.CellStat, bias [nCarriers]float64, threshold float64) {
	key := func(c *geo.CellStat) uint64 {
		return uint64(carrierSlot(c.Carrier))<<62 | uint64(uint32(c.Weak))<<31 | uint64(uint32(c.Reports))
	}
	slot := make(map[uint64]int32)
	var distinct []int32 // a cell with each distinct key
	at := make([]int32, len(cells))
	for i := range cells {
		c := &cells[i]
		if carrierSlot(c.Carrier) < 0 {
			at[i] = -1
			continue
		}
		k := key(c)
		j, ok := slot[k]
		if !ok {
			j = int32(len(distinct))
			slot[k] = j
			distinct = append(distinct, int32(i))
		}
		at[i] = j
	}
	type post struct{ prob, p05, p95 float64 }
	posts := make([]post, len(distinct))
	index.Parallel(len(distinct), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			c := &cells[distinct[j]]
			p := &posts[j]
			p.prob, p.p05, p.p95 = weakPosterior(c.Weak, c.Reports, bias[carrierSlot(c.Carrier)], threshold)
		}
	})
	for i := range cells {
		if j := at[i]; j >= 0 {
			c := &cells[i]
			c.ProbWeak, c.Share05, c.Share95 = posts[j].prob, posts[j].p05, posts[j].p95
		}
	}
}

// biasFromByCarrier says how each carrier's report bias was found, by
// carrier name.
func (f *hexField) biasFromByCarrier() map[string]geo.BiasEstimate {
	m := map[string]geo.BiasEstimate{}
	for s, c := range geo.Carriers {
		m[c.String()] = f.biasFrom[s]
	}
	return m
}

// biasByCarrier is the report bias used per carrier, by carrier name.
func (f *hexField) biasByCarrier() map[string]float64 {
	m := map[string]float64{}
	for s, c := range geo.Carriers {
		m[c.String()] = f.bias[s]
	}
	return m
}

// measureHole sets h's area and centroid from its cells' information
// (infos[i] is that of h.CellIDs[i]).
func measureHole(h *geo.Hole, infos []*cellInfo) {
	var x, y float64
	h.AreaKm2 = 0
	for _, inf := range infos {
		h.AreaKm2 += inf.km2
		x += inf.centre[0]
		y += inf.centre[1]
	}
	h.Centroid = orb.Point{x / float64(len(infos)), y / float64(len(infos))}
}

// cellInfos returns the information of cells, in their order.
func cellInfos(cells []uint64, info map[uint64]*cellInfo) []*cellInfo {
	out := make([]*cellInfo, len(cells))
	for i, c := range cells {
		out[i] = info[c]
	}
	return out
}

// reporterKey identifies a reporter for the "distinct reporters" counts:
// named reporters by name, anonymous ones by day (two anonymous reports on
// one day may well be the same person).
func reporterKey(o *geo.Obs) uint64 {
	if o.Reporter != 0 {
		return uint64(o.Reporter)
	}
	return 1<<40 | uint64(o.At/86400)
}

// median32 returns the median of v (reordering it), NaN when empty.
func median32(v []float32) float64 {
	n := len(v)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return float64(nth32(v, n/2))
	}
	hi := nth32(v, n/2)
	// After selecting the n/2-th, everything before it is no greater: the
	// other middle value is their maximum.
	lo := slices.Max(v[:n/2])
	return (float64(lo) + float64(hi)) / 2
}

// nth32 reorders v so that v[k] is the value a sort would put there, with
// no greater value before it and no smaller after (quickselect, median of
// three pivots), and returns it. Linear on average, where a sort is
// n log n: the province's median is taken over every report.
func nth32(v []float32, k int) float32 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// Median of three as pivot, moved to hi.
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[mid] < v[hi] {
			v[mid], v[hi] = v[hi], v[mid]
		}
		p := v[hi]
		i := lo
		for j := lo; j < hi; j++ {
			if v[j] < p {
				v[i], v[j] = v[j], v[i]
				i++
			}
		}
		v[i], v[hi] = v[hi], v[i]
		switch {
		case k < i:
			hi = i - 1
		case k > i:
			lo = i + 1
		default:
			return v[k]
		}
	}
	return v[k]
}

// flagAll returns, per carrier slot, the cells judged weak, and the
// dead-zone cells.
func flagAll(f *hexField, p geo.HoleParams) ([nCarriers]map[uint64]bool, map[uint64]bool) {
	var flagged [nCarriers]map[uint64]bool
	index.Each(nCarriers, func(s int) { flagged[s] = f.flagged(s) })
	// Holes are clipped to the loaded areas: a cell whose centre lies in
	// no area is in no hole. The weak cells of every carrier are looked
	// up once, in parallel, and remembered (see hexField.isInside).
	n := 0
	for s := range nCarriers {
		n += len(flagged[s])
	}
	weak := make([]uint64, 0, n)
	for s := range nCarriers {
		for cell := range flagged[s] {
			weak = append(weak, cell)
		}
	}
	slices.Sort(weak)
	weak = slices.Compact(weak)
	in := make([]bool, len(weak))
	index.Parallel(len(weak), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			known, ok := f.inside[weak[i]]
			if !ok {
				known = f.locate(weak[i])
			}
			in[i] = known
		}
	})
	if len(f.inside) == 0 {
		f.inside = make(map[uint64]bool, len(weak))
	}
	for i, cell := range weak {
		f.inside[cell] = in[i]
	}
	index.Each(nCarriers, func(s int) {
		for cell := range flagged[s] {
			if !f.inside[cell] {
				delete(flagged[s], cell)
			}
		}
	})
	// Dead zones lie inside some carrier's hole: each such cell is tested
	// once, in parallel.
	cand := weak[:0]
	for i, cell := range weak {
		if in[i] {
			cand = append(cand, cell)
		}
	}
	isDead := make([]bool, len(cand))
	index.Parallel(len(cand), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			isDead[i] = f.isDead(cand[i], p)
		}
	})
	dead := map[uint64]bool{}
	for i, c := range cand {
		if isDead[i] {
			dead[c] = true
		}
	}
	return flagged, dead
}

// isDead reports whether a cell in some carrier's hole is a dead zone:
// weak for every carrier that can be judged there (at least
// DeadMinCarriers of them), and weak over all carriers' reports pooled.
func (f *hexField) isDead(cell uint64, p geo.HoleParams) bool {
	j := f.position(cell)
	judged, weak := 0, 0
	for c := range nCarriers {
		if v, _, ok := f.shareOfAt(cell, j, c); ok {
			judged++
			if v > p.DeadThreshold {
				weak++
			}
		}
	}
	if judged < p.DeadMinCarriers || weak != judged {
		return false
	}
	v, _, ok := f.shareOfAt(cell, j, nCarriers)
	return p.DeadPooled == 0 || (ok && v > p.DeadPooled)
}

// finishHole sets the figures of a hole with enough evidence from its
// counts (Reports, Weak, Reporters set), the number of its weak reports
// with no service, the first and last of their times, and the median
// signal level.
func finishHole(h *geo.Hole, comp []uint64, noService int, first, last int64, median, bias float64, cfg geo.Config) {
	h.ID = holeID(h.Carrier, comp)
	h.WeakShare = float64(h.Weak) / float64(h.Reports)
	h.WeakLow, _ = Wilson(h.Weak, h.Reports)
	h.MedianSignalDBm = median
	h.FirstObserved = time.Unix(first, 0).UTC()
	h.LastObserved = time.Unix(last, 0).UTC()
	// Severity: how bad service is inside, from three equal parts — the
	// weak share's lower bound, the share of weak reports with no service
	// at all, and how far the median level is below the 4G threshold
	// (20 dB below counts fully; no levels counts as half).
	depth := 0.5
	if !math.IsNaN(h.MedianSignalDBm) {
		depth = clamp01((cfg.Rules.RSRPMinDBm + 10 - h.MedianSignalDBm) / 30)
	}
	h.Severity = (h.WeakLow + float64(noService)/float64(h.Weak) + depth) / 3
	// Confidence grows with independent evidence: weak reports and
	// distinct reporters, each saturating.
	h.Confidence = (1 - math.Exp(-float64(h.Weak)/8)) * (1 - math.Exp(-float64(h.Reporters)/3))
	h.ProbWeak, h.Share05, h.Share95 = weakPosterior(h.Weak, h.Reports, bias, cfg.Holes.Threshold)
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

// areaKm is fillHoleArea's scratch space: km² per area index, and the
// areas touched, in the order first touched.
type areaKm struct {
	km      []float64
	touched []bool
	idx     []int
}

func newAreaKm(n int) *areaKm {
	return &areaKm{km: make([]float64, n), touched: make([]bool, n)}
}

// fillHoleArea does fillHoleAreas for one hole, from its cells'
// information (infos[i] is that of h.CellIDs[i]). It leaves km cleared.
func fillHoleArea(h *geo.Hole, infos []*cellInfo, ix *index.Index, cfg geo.Config, land []float64, km *areaKm) {
	idx := km.idx[:0]
	for _, inf := range infos {
		for _, i := range inf.in {
			if i >= 0 {
				if !km.touched[i] {
					km.touched[i] = true
					idx = append(idx, int(i))
				}
				km.km[i] += inf.km2 / 7
			}
		}
	}
	sort.Slice(idx, func(a, b int) bool {
		if km.km[idx[a]] != km.km[idx[b]] {
			return km.km[idx[a]] > km.km[idx[b]]
		}
		return ix.Area(idx[a]).Code < ix.Area(idx[b]).Code
	})
	share := cfg.Share(h.Carrier)
	h.Areas = nil // a new slice: a Live's earlier results may hold the old
	if len(idx) > 0 {
		h.Areas = make([]geo.AreaRef, 0, len(idx))
	}
	h.Population, h.Households = 0, 0
	for _, i := range idx {
		ar := ix.Area(i)
		h.Areas = append(h.Areas, geo.AreaRef{Code: ar.Code, Name: ar.Name, Km2: km.km[i]})
		if land[i] > 0 {
			frac := math.Min(1, km.km[i]/land[i])
			h.Population += float64(ar.Population) * frac * share
			h.Households += float64(households(ar, cfg)) * frac * share
		}
		km.km[i], km.touched[i] = 0, false
	}
	km.idx = idx[:0]
	h.Priority = h.Households * h.Severity * h.Confidence
}

// households returns the area's households, estimated from population
// when not given.
func households(a *geo.Area, cfg geo.Config) int64 {
	if a.Households > 0 {
		return a.Households
	}
	return int64(math.Round(float64(a.Population) / cfg.HouseholdSize))
}

// holeLess orders holes by carrier, then priority (highest first), then
// ID.
func holeLess(a, b *geo.Hole) bool {
	if a.Carrier != b.Carrier {
		return a.Carrier < b.Carrier
	}
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return a.ID < b.ID
}

// numberHoles sets the ranks of holes in holeLess order.
func numberHoles(holes []geo.Hole) {
	rank := 0
	for i := range holes {
		if i == 0 || holes[i].Carrier != holes[i-1].Carrier {
			rank = 0
		}
		rank++
		holes[i].Rank = rank
	}
}

// obsTally is what the summary says about the observations, kept up to
// date by a Live as reports arrive.
type obsTally struct {
	reports, weak, outside int
	first, last            int64
}

func newObsTally(obs []geo.Obs) obsTally {
	t := obsTally{first: math.MaxInt64, last: math.MinInt64}
	for i := range obs {
		t.add(&obs[i])
	}
	return t
}

func (t *obsTally) add(o *geo.Obs) {
	t.reports++
	if o.Flags&geo.FlagWeak != 0 {
		t.weak++
	}
	if o.Area < 0 {
		t.outside++
	}
	t.first, t.last = min(t.first, o.At), max(t.last, o.At)
}

func summarize(res *geo.Result, areas int, t obsTally, teams int) geo.Summary {
	s := geo.Summary{Areas: areas, Reports: t.reports, Weak: t.weak, Outside: t.outside, Teams: teams,
		Holes: map[string]int{}, HoleKm2: map[string]float64{}, Actions: map[geo.Action]int{}}
	if t.reports > 0 {
		s.FirstObserved = time.Unix(t.first, 0).UTC()
		s.LastObserved = time.Unix(t.last, 0).UTC()
	}
	for _, c := range append(slices.Clone(geo.Carriers), geo.CarrierAll) {
		s.Holes[c.String()] = 0
		s.HoleKm2[c.String()] = 0
	}
	for _, h := range res.Holes {
		s.Holes[h.Carrier.String()]++
		s.HoleKm2[h.Carrier.String()] += h.AreaKm2
	}
	for _, a := range res.Areas {
		if a.Index >= 0 {
			s.Actions[a.Action]++
		}
	}
	return s
}
