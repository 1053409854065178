package api

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Publishing an analysis is encoding what the layers and the OGC API serve
// from it: every feature once, as the bytes a response joins (see ogc.go).
// After a report most of that is what the previous analysis had, so a
// publication starts from the previous one: report features are appended
// (reports are only ever added), an area, hole or team feature is encoded
// again only when its value differs from the one it had, and every other
// feature keeps its bytes, its bounds and its simplified encodings.
// Whole layers, and their gzip, are joined from those bytes when first
// asked for (see wholelayer.go).

// publish makes next, a new analysis, the state served. prev is the state
// published before it (nil for none): next's features are encoded from
// prev's as described above. Publications are serialised; next must not
// be shared before this returns. The reports of next extend prev's when
// they begin with them; when they do not, the reports are encoded anew.
func (s *Server) publish(prev, next *state) error {
	s.ogc.mu.Lock()
	defer s.ogc.mu.Unlock()
	var pc *ogcCatalog
	if prev != nil {
		pc = prev.cat
	}
	cat, err := s.buildCatalog(pc, next)
	if err != nil {
		return err
	}
	next.cat = cat
	s.cur.store(next)
	s.tiles.advance(pc, cat)
	return nil
}

// publishStats counts the features a publication encoded, by collection
// (outlines: the holes' outline features, see publishOutlines).
type publishStats struct{ areas, holes, outlines, teams, reports, unobserved int }

func (p publishStats) total() int {
	return p.areas + p.holes + p.outlines + p.teams + p.reports + p.unobserved
}

// buildCatalog encodes st's collections, reusing prev's features where
// they did not change (prev nil: everything is encoded).
func (s *Server) buildCatalog(prev *ogcCatalog, st *state) (*ogcCatalog, error) {
	c := &ogcCatalog{st: st, areas: st.areas, cols: map[string]*ogcCollection{}, bodies: newLayerBodies(), shared: &s.ogc}
	for _, info := range ogcCollectionInfo {
		var p *ogcCollection
		var pst *state
		if prev != nil {
			p, pst = prev.cols[info.id], prev.st
		}
		var col *ogcCollection
		var err error
		switch info.id {
		case "areas":
			if prev != nil && !sameSlice(prev.areas, st.areas) {
				p = nil // other boundaries: nothing to reuse
			}
			col, err = s.publishAreas(p, pst, st, &c.stats)
		case "holes":
			col = publishHoles(p, pst, st.result, &c.stats)
		case "teams":
			col = publishTeams(p, pst, st.result, &c.stats)
		case "unobserved":
			col = publishUnobserved(p, pst, st.result, &c.stats)
		case "reports":
			col = publishReports(p, pst, st, &c.stats)
		}
		if err != nil {
			return nil, fmt.Errorf("api: publish %s: %w", info.id, err)
		}
		col.id, col.title, col.description = info.id, info.title, info.description
		c.cols[info.id] = col
	}
	if s.publicHoles == geo.HoleOutline {
		var p *ogcCollection
		var pst *state
		if prev != nil {
			p, pst = prev.cols[outlineKey], prev.st
		}
		col := publishOutlines(p, pst, st.result, &c.stats)
		col.id, col.title, col.description = "holes", ogcHolesTitle, ogcOutlineDescription
		c.cols[outlineKey] = col
	}
	return c, nil
}

// sameSlice reports whether a and b are the same slice of the same array.
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// share gives col prev's index, bounds and extent: col has the same
// features as prev, in the same places, though some may be re-encoded.
func (col *ogcCollection) share(prev *ogcCollection) {
	col.ids, col.tree, col.points = prev.ids, prev.tree, prev.points
	col.bbox, col.hasBBox, col.allGeom = prev.bbox, prev.hasBBox, prev.allGeom
	col.first, col.last = prev.first, prev.last
}

// index builds col's id index, R-tree, bounds and time extent from its
// features.
func (col *ogcCollection) index() {
	col.tree = &rtree.RTreeG[int32]{}
	col.ids = newIDIndex(len(col.features))
	col.allGeom = true
	col.hasBBox = false
	col.first, col.last = math.MaxInt64, math.MinInt64
	for i := range col.features {
		col.add(i)
	}
}

// add takes feature i into col's index, bounds and extent; the caller
// owns col.tree (nil for reports, see pointIndex) and col.ids.
func (col *ogcCollection) add(i int) {
	f := &col.features[i]
	col.ids.add(i, col.featureID)
	if f.hasGeom {
		if col.tree != nil {
			col.tree.Insert(f.bound.Min, f.bound.Max, int32(i))
		}
		if col.hasBBox {
			col.bbox = col.bbox.Union(f.bound)
		} else {
			col.bbox, col.hasBBox = f.bound, true
		}
	} else {
		col.allGeom = false
	}
	if f.from != math.MinInt64 {
		col.first = min(col.first, f.from)
	}
	if f.to != math.MaxInt64 {
		col.last = max(col.last, f.to)
	}
}

// publishAreas encodes the leaf areas of st; with prev (of state pst,
// over the same boundaries) an area whose score is unchanged keeps its
// feature. The areas come in the same order each time.
func (s *Server) publishAreas(prev *ogcCollection, pst *state, st *state, n *publishStats) (*ogcCollection, error) {
	res := st.result
	col := &ogcCollection{}
	for i := range res.Areas {
		if res.Areas[i].Index >= 0 {
			col.leaf = append(col.leaf, i)
		}
	}
	reuse := prev != nil && slices.Equal(prev.leaf, col.leaf)
	for _, i := range col.leaf {
		if !reuse {
			break
		}
		a, b := &pst.result.Areas[i], &res.Areas[i]
		reuse = a.Index == b.Index && a.Code == b.Code
	}
	col.features = make([]ogcFeature, len(col.leaf))
	if reuse {
		copy(col.features, prev.features)
		col.share(prev)
	}
	// The areas' boundaries are most of what a first publication
	// encodes (a restart serving the kept analysis): encoded in parallel.
	var mu sync.Mutex
	var firstErr error
	index.Parallel(len(col.leaf), func(lo, hi int) {
		var buf []byte
		encoded := 0
		for k := lo; k < hi; k++ {
			i := col.leaf[k]
			sc := &res.Areas[i]
			if reuse && sameScore(&pst.result.Areas[i], sc) {
				continue
			}
			a := &st.areas[sc.Index]
			var err error
			if buf, err = export.AreaFeature(buf[:0], export.WithID, sc, a); err != nil {
				mu.Lock()
				firstErr = cmp.Or(firstErr, err)
				mu.Unlock()
				return
			}
			encoded++
			col.features[k] = ogcFeature{id: sc.Code, bound: a.Geometry.Bound(), hasGeom: true,
				from: math.MinInt64, to: math.MaxInt64, json: bytes.Clone(buf), zoom: new(zoomCache)}
		}
		mu.Lock()
		n.areas += encoded
		mu.Unlock()
	})
	if firstErr != nil {
		return nil, firstErr
	}
	if !reuse {
		col.index()
	}
	return col, nil
}

// publishHoles encodes the holes of res; a hole of prev (of state pst)
// with the same ID and the same value keeps its feature.
func publishHoles(prev *ogcCollection, pst *state, res *geo.Result, n *publishStats) *ogcCollection {
	var old []geo.Hole
	if pst != nil {
		old = pst.result.Holes
	}
	col := &ogcCollection{timed: true}
	n.holes += publishByID(col, prev, old, res.Holes, func(h *geo.Hole) string { return h.ID }, sameHole,
		func(buf []byte, h *geo.Hole) ([]byte, ogcFeature) {
			buf = export.HoleFeature(buf, export.WithID, h)
			return buf, ogcFeature{id: h.ID, bound: h.Geometry.Bound(), hasGeom: true, key: int32(h.Carrier),
				from: unixOr(h.FirstObserved, math.MinInt64), to: unixOr(h.LastObserved, math.MaxInt64),
				zoom: new(zoomCache)}
		})
	return col
}

// publishOutlines encodes the outlines of the holes of res (see
// geo.HoleOutline) in the order of their carrier and ID, which tells
// nothing of their ranking; the outline of a hole of prev (of state pst)
// with the same ID and the same outline keeps its feature, so a hole whose
// evidence alone changed is not encoded again.
func publishOutlines(prev *ogcCollection, pst *state, res *geo.Result, n *publishStats) *ogcCollection {
	order := make([]int32, len(res.Holes))
	items := make([]*geo.Hole, len(res.Holes))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		ha, hb := &res.Holes[a], &res.Holes[b]
		if c := cmp.Compare(ha.Carrier, hb.Carrier); c != 0 {
			return c
		}
		return strings.Compare(ha.ID, hb.ID)
	})
	for k, i := range order {
		items[k] = &res.Holes[i]
	}
	var old []*geo.Hole
	if prev != nil {
		old = make([]*geo.Hole, len(prev.holePos))
		for k, i := range prev.holePos {
			old[k] = &pst.result.Holes[i]
		}
	}
	col := &ogcCollection{outline: true, holePos: order}
	n.outlines += publishByID(col, prev, old, items, func(h **geo.Hole) string { return (*h).ID },
		func(a, b **geo.Hole) bool { return sameOutline(*a, *b) },
		func(buf []byte, h **geo.Hole) ([]byte, ogcFeature) {
			buf = export.HoleOutlineFeature(buf, export.WithID, *h)
			return buf, ogcFeature{id: (*h).ID, bound: (*h).Geometry.Bound(), hasGeom: true, key: int32((*h).Carrier),
				from: math.MinInt64, to: math.MaxInt64, zoom: new(zoomCache)}
		})
	return col
}

// publishTeams encodes the teams of res; a team of prev (of state pst)
// with the same ID and the same value keeps its feature.
func publishTeams(prev *ogcCollection, pst *state, res *geo.Result, n *publishStats) *ogcCollection {
	var old []geo.TeamOut
	if pst != nil {
		old = pst.result.Teams
	}
	col := &ogcCollection{}
	n.teams += publishByID(col, prev, old, res.Teams, func(t *geo.TeamOut) string { return t.ID },
		func(a, b *geo.TeamOut) bool { return *a == *b },
		func(buf []byte, t *geo.TeamOut) ([]byte, ogcFeature) {
			buf = export.TeamFeature(buf, export.WithID, t)
			f := ogcFeature{id: t.ID, from: math.MinInt64, to: math.MaxInt64}
			if t.HasLocation {
				f.bound, f.hasGeom = orb.Point{t.Lon, t.Lat}.Bound(), true
			}
			return buf, f
		})
	return col
}

// publishUnobserved encodes the unobserved land of res, one feature per
// carrier and one for all; one whose outline and figures are those of
// prev (of state pst) keeps its feature. An outline is drawn again only
// when its land changed (see engine.Live.ResultWithOutlines), so the
// same outline is the same slice.
func publishUnobserved(prev *ogcCollection, pst *state, res *geo.Result, n *publishStats) *ogcCollection {
	var old []geo.Unobserved
	if pst != nil {
		old = pst.result.Unobserved
	}
	col := &ogcCollection{}
	n.unobserved += publishByID(col, prev, old, res.Unobserved, func(u *geo.Unobserved) string { return u.Carrier.String() },
		func(a, b *geo.Unobserved) bool {
			return a.Carrier == b.Carrier && a.Cells == b.Cells && sameFloat(a.AreaKm2, b.AreaKm2) && sameSlice(a.Geometry, b.Geometry)
		},
		func(buf []byte, u *geo.Unobserved) ([]byte, ogcFeature) {
			buf = export.UnobservedFeature(buf, export.WithID, u)
			f := ogcFeature{id: u.Carrier.String(), key: int32(u.Carrier), from: math.MinInt64, to: math.MaxInt64, zoom: new(zoomCache)}
			if len(u.Geometry) > 0 {
				f.bound, f.hasGeom = u.Geometry.Bound(), true
			}
			return buf, f
		})
	return col
}

// publishByID fills col's features from items: an item whose ID a feature
// of prev (made from old) holds, with the same value, keeps that feature;
// the others are encoded by encode (into the scratch buffer it is given,
// the feature's bytes are copied out). When every feature is kept in
// place, col shares prev's index. It returns how many it encoded.
func publishByID[T any](col, prev *ogcCollection, old, items []T, id func(*T) string, same func(a, b *T) bool,
	encode func([]byte, *T) ([]byte, ogcFeature)) int {
	col.features = make([]ogcFeature, len(items))
	kept := prev != nil && len(prev.features) == len(items)
	encoded := 0
	var buf []byte
	for i := range items {
		it := &items[i]
		if prev != nil {
			if j, ok := prev.find(id(it)); ok && same(&old[j], it) {
				col.features[i] = prev.features[j]
				kept = kept && j == i
				continue
			}
		}
		kept = false
		var f ogcFeature
		buf, f = encode(buf[:0], it)
		f.json = bytes.Clone(buf)
		col.features[i] = f
		encoded++
	}
	if kept {
		col.share(prev)
	} else {
		col.index()
	}
	return encoded
}

// reportLog is the storage a reports collection grows into, shared by the
// collections of successive publications: the features array (appended
// to in place while it has room) and the id index. Only the publisher
// (under ogcCache.mu) touches it. A report's feature is not kept
// encoded: it is made from the report (the state's Obs and ID, which the
// service holds anyway) when a response writes it, as cheap as copying
// it (see featureJSON); kept, the encodings of 1M reports took 0.4 GB.
type reportLog struct {
	// n is the length of the longest collection over the log: a
	// collection of n features may grow in place, a shorter one may not.
	// Only the publisher writes it, under mu.
	n   int
	ids *idIndex
	// newest holds the encodings of the reports a whole reports layer
	// last joined (the newest MaxLimit), by position, so that the next
	// one joins the same bytes and reuses their gzip (see wholelayer.go).
	mu     sync.Mutex
	newest map[int][]byte
}

// encodedFrom returns the encodings of c's features from lo on, kept in
// c's log for the next call; those before lo are dropped from it.
func (c *ogcCollection) encodedFrom(lo int) [][]byte {
	l := c.log
	l.mu.Lock()
	defer l.mu.Unlock()
	next := make(map[int][]byte, c.size()-lo)
	out := make([][]byte, c.size()-lo)
	for i := lo; i < c.size(); i++ {
		b, ok := l.newest[i]
		if !ok {
			b = c.featureJSON(i)
		}
		next[i], out[i-lo] = b, b
	}
	if c.size() >= l.n {
		// Only the longest collection over the log keeps what it joined:
		// an older one's newest are not the log's.
		l.newest = next
	}
	return out
}

// featureJSON returns the encoding of feature i of c; the caller must
// not modify it.
func (c *ogcCollection) featureJSON(i int) []byte {
	if c.obs != nil {
		return export.ReportFeature(make([]byte, 0, 512), c.rids[i], &c.obs[i])
	}
	return c.features[i].json
}

// publishReports encodes the reports of st: the features of prev (of state
// pst) and those of the reports added since, when st's reports begin with
// pst's; all of them otherwise.
func publishReports(prev *ogcCollection, pst *state, st *state, n *publishStats) *ogcCollection {
	if prev == nil || prev.log.n != prev.size() || !extendsReports(pst, st) {
		col := &ogcCollection{timed: true, allGeom: true, first: math.MaxInt64, last: math.MinInt64,
			log: &reportLog{ids: newIDIndex(len(st.obs))}}
		col.ids = col.log.ids
		col.appendReports(st, 0, n)
		col.points = newPointIndex(col.obs)
		return col
	}
	col := *prev
	if len(st.obs) > prev.size() {
		col.appendReports(st, prev.size(), n)
		if col.points.stale(len(col.obs)) {
			col.points = newPointIndex(col.obs) // prev's readers keep theirs
		}
	}
	return &col
}

// appendReports takes st's reports from the from-th on into col: into
// its id index, bounds and time extent (see add), the features being
// the reports themselves (see featureAt).
func (col *ogcCollection) appendReports(st *state, from int, n *publishStats) {
	l := col.log
	ids := col.ids
	ids.mu.Lock()
	defer ids.mu.Unlock()
	idAt := func(j int) string { return st.ids[j] }
	for i := from; i < len(st.obs); i++ {
		o := &st.obs[i]
		ids.add(i, idAt)
		if b := (orb.Point{o.Lon, o.Lat}).Bound(); col.hasBBox {
			col.bbox = col.bbox.Union(b)
		} else {
			col.bbox, col.hasBBox = b, true
		}
		if o.At != math.MinInt64 {
			col.first = min(col.first, o.At)
		}
		if o.At != math.MaxInt64 {
			col.last = max(col.last, o.At)
		}
		n.reports++
	}
	m := len(st.obs)
	col.obs, col.rids = st.obs[:m:m], st.ids[:m:m]
	// A whole layer being joined reads n (see encodedFrom).
	l.mu.Lock()
	l.n = m
	l.mu.Unlock()
}

// extendsReports reports whether the reports of st begin with those of
// prev. The server's reports are append-only, so the same arrays hold
// the same reports; other arrays are compared.
func extendsReports(prev, st *state) bool {
	m := len(prev.obs)
	if len(st.obs) < m || len(st.ids) < m || len(prev.ids) != m {
		return false
	}
	if sameSlice(prev.ids, st.ids[:m]) && sameSlice(prev.obs, st.obs[:m]) {
		return true
	}
	for i := range m {
		if prev.ids[i] != st.ids[i] || !sameObs(&prev.obs[i], &st.obs[i]) {
			return false
		}
	}
	return true
}

// find returns the position of the feature with the given id.
func (col *ogcCollection) find(id string) (int, bool) {
	col.ids.mu.RLock()
	defer col.ids.mu.RUnlock()
	return col.ids.find(id, col.size(), col.featureID)
}

// featureID is the id of feature i of col.
func (col *ogcCollection) featureID(i int) string {
	if col.log != nil {
		return col.rids[i]
	}
	return col.features[i].id
}

// Values compared between analyses. Numbers are compared by their bits,
// so that an unknown (NaN) figure equals itself; a compare that says
// "changed" when nothing did only costs an encoding.

func sameFloat(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

func sameObs(a, b *geo.Obs) bool {
	return sameFloat(a.Lon, b.Lon) && sameFloat(a.Lat, b.Lat) && a.At == b.At &&
		math.Float32bits(a.SignalDBm) == math.Float32bits(b.SignalDBm) &&
		math.Float32bits(a.DownMbps) == math.Float32bits(b.DownMbps) &&
		a.Reporter == b.Reporter && a.Area == b.Area && a.Carrier == b.Carrier && a.Tech == b.Tech &&
		a.Source == b.Source && a.Flags == b.Flags
}

func sameScore(a, b *geo.AreaScore) bool {
	return a.Code == b.Code && a.Name == b.Name && a.ParentCode == b.ParentCode && a.Level == b.Level &&
		a.Vintage == b.Vintage && sameFloat(a.ObservedShare, b.ObservedShare) && a.Index == b.Index && a.Children == b.Children && sameFloat(a.LandKm2, b.LandKm2) &&
		a.Population == b.Population && a.Households == b.Households &&
		a.HouseholdsEstimated == b.HouseholdsEstimated && a.Reports == b.Reports && a.Weak == b.Weak &&
		sameFloat(a.WeakShare, b.WeakShare) && sameFloat(a.WeakLow, b.WeakLow) &&
		slices.EqualFunc(a.Carriers, b.Carriers, sameCarrierStats) &&
		sameFloat(a.HoleKm2, b.HoleKm2) && sameFloat(a.HoleShare, b.HoleShare) &&
		sameFloat(a.DeadKm2, b.DeadKm2) && sameFloat(a.DeadShare, b.DeadShare) &&
		sameFloat(a.PopulationAffected, b.PopulationAffected) && sameFloat(a.HouseholdsAffected, b.HouseholdsAffected) &&
		sameReach(&a.Reach, &b.Reach) && a.Action == b.Action && sameFloat(a.Priority, b.Priority) && a.Rank == b.Rank
}

func sameCarrierStats(a, b geo.CarrierStats) bool {
	return a.Carrier == b.Carrier && a.Reports == b.Reports && a.Weak == b.Weak &&
		sameFloat(a.WeakShare, b.WeakShare) && sameFloat(a.WeakLow, b.WeakLow) &&
		sameFloat(a.MedianSignalDBm, b.MedianSignalDBm) && sameFloat(a.HoleKm2, b.HoleKm2) &&
		sameFloat(a.HoleShare, b.HoleShare) && sameFloat(a.ObservedShare, b.ObservedShare)
}

func sameReach(a, b *geo.TeamReach) bool {
	return a.Teams == b.Teams && a.Members == b.Members && sameFloat(a.MembersPer1000HH, b.MembersPer1000HH) &&
		a.HouseholdsReached == b.HouseholdsReached && sameFloat(a.ReachedShare, b.ReachedShare) &&
		sameFloat(a.NearestTeamKm, b.NearestTeamKm) && a.Low == b.Low
}

func sameHole(a, b *geo.Hole) bool {
	// The figures first, the lists last: a hole that did not change
	// shares its lists with the one before, which then compare at once.
	return a.ID == b.ID && a.Carrier == b.Carrier &&
		a.Centroid == b.Centroid && sameFloat(a.AreaKm2, b.AreaKm2) && a.Cells == b.Cells &&
		sameFloat(a.Population, b.Population) && sameFloat(a.Households, b.Households) &&
		a.Reports == b.Reports && a.Weak == b.Weak && a.Reporters == b.Reporters &&
		sameFloat(a.WeakShare, b.WeakShare) && sameFloat(a.WeakLow, b.WeakLow) &&
		sameFloat(a.MedianSignalDBm, b.MedianSignalDBm) &&
		a.FirstObserved.Equal(b.FirstObserved) && a.LastObserved.Equal(b.LastObserved) &&
		sameFloat(a.Severity, b.Severity) && sameFloat(a.Confidence, b.Confidence) &&
		sameFloat(a.ProbWeak, b.ProbWeak) && sameFloat(a.Share05, b.Share05) && sameFloat(a.Share95, b.Share95) &&
		sameFloat(a.Priority, b.Priority) && a.Rank == b.Rank && a.Life == b.Life &&
		(sameSlice(a.CellIDs, b.CellIDs) || slices.Equal(a.CellIDs, b.CellIDs)) &&
		(sameSlice(a.Areas, b.Areas) || slices.EqualFunc(a.Areas, b.Areas, sameAreaRef)) &&
		sameGeometry(a.Geometry, b.Geometry)
}

// sameOutline reports whether holes a and b have the same outline
// feature (see export.HoleOutlineFeature).
func sameOutline(a, b *geo.Hole) bool {
	return a.ID == b.ID && a.Carrier == b.Carrier && a.Life.State == b.Life.State &&
		sameFloat(a.AreaKm2, b.AreaKm2) &&
		(sameSlice(a.Areas, b.Areas) ||
			slices.EqualFunc(a.Areas, b.Areas, func(x, y geo.AreaRef) bool { return x.Code == y.Code && x.Name == y.Name })) &&
		sameGeometry(a.Geometry, b.Geometry)
}

func sameAreaRef(a, b geo.AreaRef) bool {
	return a.Code == b.Code && a.Name == b.Name && sameFloat(a.Km2, b.Km2)
}

// sameGeometry reports whether a and b have the same points: at once
// when they are one slice (an unchanged hole keeps its outline).
func sameGeometry(a, b orb.MultiPolygon) bool {
	if sameSlice(a, b) {
		return true
	}
	return slices.EqualFunc(a, b, func(p, q orb.Polygon) bool {
		return slices.EqualFunc(p, q, func(r, s orb.Ring) bool { return slices.Equal(r, s) })
	})
}
