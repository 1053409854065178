package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/gapmap/gapmap/geo"
	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"
	"github.com/tidwall/rtree"
)

// Vector tiles (Mapbox Vector Tile 2.1, one layer a tile named after the
// route) of the reports, holes and areas, at /tiles/{layer}/{z}/{x}/{y}.mvt,
// made from the published features in memory: the R-tree of the
// collection finds those in the tile, which are projected into it, and
// orb's encoding/mvt clips, simplifies and encodes them.
//
// Reports come in cells of 64 pixels of a 256-pixel tile below
// reportClusterZoom: a cell of several reports is one point at their mean
// place with how many they are and how many are weak or without service,
// so that a whole province shows at any zoom without a cap; a cell of one
// report, and every report from reportClusterZoom on, is that report with
// its figures. Each tile also holds the cells of a one-cell ring round
// it, the same as its neighbours hold, so a cluster drawn across a tile
// edge is whole on both sides.
//
// Access is the layers': the reports of the viewer's reach only (the
// route needs ReadReports), each hole as the holes policy shows it to the
// viewer (geo.Viewer.SeesHole: the public sees the outline properties of
// the layer's outline features), the areas to all.
//
// Tiles are cached per publication, by layer, view, filter and tile. A
// publication passes a cached tile on to the next when no feature that
// changed between them (an area or hole encoded again, added or gone; a
// report added) touches the tile with its buffer; the others are made
// again on their next request.

const (
	tileExtent = mvt.DefaultExtent
	// tileMaxZoom is the finest zoom served.
	tileMaxZoom = 22
	// reportCell is the side of a reports cell in tile units: 64 pixels
	// of a 256-pixel tile, 4 cells a tile side (room for a cluster's
	// ring and number between its neighbours).
	reportCell = 1024
	// reportClusterZoom is the zoom from which every report is its own
	// feature.
	reportClusterZoom = 16
	// reportBuffer is how far past the tile edge single reports are
	// taken (8 pixels), so a dot on the edge is drawn whole.
	reportBuffer = 128
	// polygonBuffer is how far past the tile edge polygons are kept
	// before clipping (4 pixels), so outlines do not show at tile edges.
	polygonBuffer = 64
	// polygonTolerance is how far (in tile units, a sixteenth of a
	// pixel) Douglas–Peucker may move an outline; below slimZoom,
	// polygonToleranceLow (a quarter of a pixel), where a hamlet is a
	// few pixels and most of its points are closer than that. Each
	// outline is simplified alone, so neighbours' common edges may part
	// by up to twice that: half a pixel at most below slimZoom, which a
	// map does not show as a sliver.
	polygonTolerance    = 1.0
	polygonToleranceLow = 4.0
	// mimeMVT is the media type of a vector tile.
	mimeMVT = "application/vnd.mapbox-vector-tile"
)

// Bounds on the tile cache: the tiles kept, and their bytes (plain and
// gzipped). Past either, the least recently used quarter goes.
const (
	tileCacheEntries = 8192
	tileCacheBytes   = 96 << 20
)

// tileRoutes are the vector tile routes.
func (s *Server) tileRoutes() []route {
	return []route{
		{method: "GET", path: "/tiles/areas/{z}/{x}/{y}.mvt", h: s.handleTile("areas")},
		{method: "GET", path: "/tiles/holes/{z}/{x}/{y}.mvt", h: s.handleTile("holes")},
		{method: "GET", path: "/tiles/reports/{z}/{x}/{y}.mvt", access: geo.ReadReports, h: s.handleTile("reports")},
	}
}

// tileKey names a cached tile: the layer, who it is for (see tileView),
// the filter (tileQuery.key) and the tile.
type tileKey struct {
	layer, view, filter string
	tile                maptile.Tile
}

// tileQuery is a tile request's filter: the layer query's, without a
// window, limit or zoom (the tile is all three).
type tileQuery struct{ layerQuery }

// parseTileQuery reads the filter of a tile of layer: carrier, tech,
// from and to for reports, carrier for holes, level for areas, as the
// layers take them.
func parseTileQuery(layer, raw string) (tileQuery, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return tileQuery{}, badField("query", "malformed query string")
	}
	for _, k := range []string{"bbox", "limit", "zoom"} {
		if q.Has(k) {
			return tileQuery{}, badField(k, "not used by tiles: the tile is the window, at its zoom")
		}
	}
	lq, field, reason := parseLayerQuery(layer, q)
	if field != "" {
		return tileQuery{}, badField(field, reason)
	}
	return tileQuery{lq}, nil
}

// key is the filter as a cache key.
func (q tileQuery) key() string {
	var from, to int64
	if !q.from.IsZero() {
		from = q.from.Unix()
	}
	if !q.to.IsZero() {
		to = q.to.Unix()
	}
	return fmt.Sprintf("%d/%d/%t/%d/%d/%d/%s", q.carrier, q.tech, q.hasTech, from, to, q.level, q.props.key())
}

// parseTile reads z, x and y: a zoom from 0 to tileMaxZoom and a column
// and row of that zoom.
func parseTile(vars map[string]string) (maptile.Tile, error) {
	z, err := strconv.Atoi(vars["z"])
	if err != nil || z < 0 || z > tileMaxZoom {
		return maptile.Tile{}, badField("z", "must be an integer from 0 to "+strconv.Itoa(tileMaxZoom))
	}
	n := 1 << z
	t := maptile.Tile{Z: maptile.Zoom(z)}
	for _, k := range []string{"x", "y"} {
		v, err := strconv.Atoi(vars[k])
		if err != nil || v < 0 || v >= n {
			return maptile.Tile{}, badField(k, fmt.Sprintf("must be an integer from 0 to %d at zoom %d", n-1, z))
		}
		if k == "x" {
			t.X = uint32(v)
		} else {
			t.Y = uint32(v)
		}
	}
	return t, nil
}

// tileView is how one viewer sees one layer's tiles: key names it among
// the cached tiles, and the holes view, for holes, says how much of each
// hole it sees.
type tileView struct {
	key   string
	holes *holesView
	reach *geo.Viewer // reports: whose reach limits them (nil: none)
}

// tileViewOf returns v's view of layer in catalog c: the reports of its
// reach (all for admins and reviewers, a staff scope's otherwise), the
// holes as holesView shows them (ErrUnauthenticated when the public sees
// none), the areas as everyone sees them.
func (s *Server) tileViewOf(c *ogcCatalog, layer string, v *geo.Viewer) (tileView, error) {
	switch layer {
	case "reports":
		if v.CoversAll() {
			return tileView{key: "all"}, nil
		}
		return tileView{key: "scope:" + strings.Join(v.Scope, ","), reach: v}, nil
	case "holes":
		hv, err := s.holesView(c, v)
		if err != nil {
			return tileView{}, err
		}
		key := hv.key
		if hv.see != nil {
			// Carriers see their own holes in full, staff those touching
			// their scope: the view is theirs.
			key += "|" + string(v.Role) + ":" + v.Carrier.String() + ":" + strings.Join(v.Scope, ",")
		}
		return tileView{key: key, holes: &hv}, nil
	}
	return tileView{key: "public"}, nil
}

func (s *Server) handleTile(layer string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t, err := parseTile(mux.Vars(r))
		if err != nil {
			return err
		}
		q, err := parseTileQuery(layer, r.URL.RawQuery)
		if err != nil {
			return err
		}
		st := s.cur.load()
		p := PrincipalFrom(r.Context())
		view, err := s.tileViewOf(st.cat, layer, &p.Viewer)
		if err != nil {
			return err
		}
		e, err := s.tiles.get(st.cat, tileKey{layer: layer, view: view.key, filter: q.key(), tile: t},
			func() ([]byte, error) { return s.buildTile(st.cat, layer, view, q, t) })
		if err != nil {
			return fmt.Errorf("tile %s %d/%d/%d: %w", layer, t.Z, t.X, t.Y, err)
		}
		h := w.Header()
		h.Set("Content-Type", mimeMVT)
		h.Set("Vary", "Accept-Encoding, Cookie, Authorization")
		// Revalidated each time (a publication may change it), and kept
		// out of shared caches unless everyone sees it alike.
		if layer == "areas" || p.Anonymous() {
			h.Set("Cache-Control", "no-cache")
		} else {
			h.Set("Cache-Control", "private, no-cache")
		}
		h.Set("ETag", e.etag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && slices.Contains(strings.Split(strings.ReplaceAll(inm, " ", ""), ","), e.etag) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		body := e.raw
		if len(body) > 0 && acceptsGzip(r) {
			body = s.tiles.gzipOf(e)
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
		return nil
	}
}

// buildTile makes tile t of layer from catalog c for view and q: the
// encoded tile, empty when no feature is in it.
func (s *Server) buildTile(c *ogcCatalog, layer string, view tileView, q tileQuery, t maptile.Tile) ([]byte, error) {
	var l *mvt.Layer
	var err error
	switch layer {
	case "reports":
		l = reportsTile(c, &s.tiles.places, view, q, t)
	case "holes":
		l, err = holesTile(c, view.holes, q, t)
	case "areas":
		l = areasTile(c, q, t)
	}
	if err != nil || len(l.Features) == 0 {
		return nil, err
	}
	if keep := tileProps(layer, q.props, t.Z); keep != nil {
		for _, f := range l.Features {
			for k := range f.Properties {
				if !keep(k) {
					delete(f.Properties, k)
				}
			}
		}
	}
	return mvt.Marshal(mvt.Layers{l})
}

// tileProps returns which properties the features of a tile of layer at
// zoom z keep (nil: all they have), as the layers pick them
// (properties= a list or "*", see props.go): those ps names, all of
// them for "*", and without properties= the areas' map properties
// below slimZoom (areaMapProps), everything else.
func tileProps(layer string, ps *propSelect, z maptile.Zoom) func(string) bool {
	switch {
	case ps != nil && ps.all:
		return nil
	case ps != nil:
		return ps.has
	case layer == "areas" && slimAreas(int(z)):
		return func(k string) bool { return areaMapProps[k] }
	}
	return nil
}

// tileCandidates returns the features of col whose bounds touch b, in
// their order in col (so a tile does not depend on the tree's shape).
func tileCandidates(col *ogcCollection, b orb.Bound) []int32 {
	var cand []int32
	if col.wide(b) {
		for i := range col.features {
			if f := &col.features[i]; f.hasGeom && f.bound.Intersects(b) {
				cand = append(cand, int32(i))
			}
		}
		return cand
	}
	cand = col.touching(cand, b)
	slices.Sort(cand)
	return cand
}

// covered is the part of c's extent that window b covers (1 for a
// collection without one).
func (c *ogcCollection) covered(b orb.Bound) float64 {
	if !c.hasBBox {
		return 1
	}
	w := math.Min(b.Max[0], c.bbox.Max[0]) - math.Max(b.Min[0], c.bbox.Min[0])
	h := math.Min(b.Max[1], c.bbox.Max[1]) - math.Max(b.Min[1], c.bbox.Min[1])
	area := (c.bbox.Max[0] - c.bbox.Min[0]) * (c.bbox.Max[1] - c.bbox.Min[1])
	switch {
	case w < 0 || h < 0:
		return 0
	case area == 0:
		return 1
	}
	return w * h / area
}

// subPixel reports whether bound b (lon/lat) is smaller than a pixel of
// a 256-pixel tile at zoom z both ways: too small to see, left out.
func subPixel(b orb.Bound, z maptile.Zoom) bool {
	x0, y0 := worldXY(orb.Point{b.Min[0], b.Max[1]}, z)
	x1, y1 := worldXY(orb.Point{b.Max[0], b.Min[1]}, z)
	const pixel = tileExtent / 256
	return x1-x0 < pixel && y1-y0 < pixel
}

// tileBound is the lon/lat bound of t with a buffer of buf tile units.
func tileBound(t maptile.Tile, buf float64) orb.Bound {
	return t.Bound(buf / tileExtent)
}

// worldXY is where p is at zoom z, in tile units from the world's north
// west corner (a tile is tileExtent a side).
func worldXY(p orb.Point, z maptile.Zoom) (int64, int64) {
	f := maptile.Fraction(p, z)
	return int64(math.Floor(f[0] * tileExtent)), int64(math.Floor(f[1] * tileExtent))
}

// reportCellAgg sums the reports of one cell: their number, how many are
// weak with some service and how many have none, and the sum of their
// places (integers, so that the mean does not depend on the order).
type reportCellAgg struct {
	n, weak, none  int
	sumX, sumY     int64
	first          int32 // the report, when n is 1
	firstX, firstY int64
}

// reportsTile makes the reports of tile t that view and q let through:
// single reports, or cells of several (see the comment at the top).
func reportsTile(c *ogcCatalog, places *reportPlaces, view tileView, q tileQuery, t maptile.Tile) *mvt.Layer {
	st := c.st
	col := c.cols["reports"]
	l := &mvt.Layer{Name: "reports", Version: 2, Extent: tileExtent}
	cluster := t.Z < reportClusterZoom
	buf := float64(reportBuffer)
	if cluster {
		buf = reportCell
	}
	var from, to int64 = math.MinInt64, math.MaxInt64
	if !q.from.IsZero() {
		from = q.from.Unix()
	}
	if !q.to.IsZero() {
		to = q.to.Unix()
	}
	ox, oy := int64(t.X)*tileExtent, int64(t.Y)*tileExtent
	// Cells of the tile and the ring round it, by their column and row.
	c0x, c0y := ox/reportCell-1, oy/reportCell-1
	const side = tileExtent/reportCell + 2
	var cells [side * side]*reportCellAgg
	b := tileBound(t, buf)
	xy := places.of(col, st.obs)
	shift := 20 - int(t.Z) // from 32-bit fractions of the world to tile units at t.Z
	// Over a window of more than a fiftieth of the reports' extent the
	// places are scanned (8 bytes a report, in order), over a smaller one
	// the index finds the candidates.
	var cand []int32
	wide := shift >= 0 && col.covered(b) > 0.02
	if !wide {
		cand = col.touching(cand, b)
		if !cluster {
			slices.Sort(cand) // the features in report order; cells do not depend on it
		}
	}
	lo, hi := ox-int64(buf), ox+tileExtent+int64(buf)
	loY, hiY := oy-int64(buf), oy+tileExtent+int64(buf)
	n := len(st.obs)
	if !wide {
		n = len(cand)
	}
	for k := range n {
		i := int32(k)
		if !wide {
			i = cand[k]
		}
		var x, y int64
		if shift >= 0 {
			x, y = int64(xy[2*i]>>shift), int64(xy[2*i+1]>>shift)
		} else {
			x, y = worldXY(orb.Point{st.obs[i].Lon, st.obs[i].Lat}, t.Z)
		}
		if x < lo || x >= hi || y < loY || y >= hiY {
			continue
		}
		o := &st.obs[i]
		if o.At < from || o.At > to || (view.reach != nil && !view.reach.Covers(o.Area)) ||
			(q.carrier != geo.CarrierUnknown && o.Carrier != q.carrier) || (q.hasTech && o.Tech != q.tech) {
			continue
		}
		if !cluster {
			l.Features = append(l.Features, reportPoint(st, int(i), x-ox, y-oy))
			continue
		}
		cx, cy := x/reportCell-c0x, y/reportCell-c0y
		if cx < 0 || cx >= side || cy < 0 || cy >= side {
			continue
		}
		a := cells[cy*side+cx]
		if a == nil {
			a = &reportCellAgg{first: i, firstX: x, firstY: y}
			cells[cy*side+cx] = a
		}
		a.n++
		a.sumX += x
		a.sumY += y
		switch reportClass(o) {
		case classWeak:
			a.weak++
		case classNone:
			a.none++
		}
	}
	for _, a := range cells {
		if a == nil {
			continue
		}
		if a.n == 1 {
			l.Features = append(l.Features, reportPoint(st, int(a.first), a.firstX-ox, a.firstY-oy))
			continue
		}
		n := int64(a.n)
		f := geojson.NewFeature(orb.Point{float64(floorDiv(a.sumX, n) - ox), float64(floorDiv(a.sumY, n) - oy)})
		f.Properties = geojson.Properties{"reports": a.n, "weak": a.weak, "no_service": a.none}
		l.Features = append(l.Features, f)
	}
	return l
}

// reportPlaces holds where each report of a reports log is in web
// mercator, as 32-bit fractions of the world (x, then y from the north),
// so that a tile finds its reports without a logarithm each: the place at
// zoom z in tile units is the fraction shifted right by 20 - z. Reports
// are only appended to a log, so the places grow with it; another log
// starts them again.
type reportPlaces struct {
	mu  sync.Mutex
	log *reportLog
	xy  []uint32
}

// of returns the places of the reports obs of col (at least len(obs)
// pairs), computing those not yet known.
func (rp *reportPlaces) of(col *ogcCollection, obs []geo.Obs) []uint32 {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.log != col.log {
		rp.log, rp.xy = col.log, nil
	}
	for i := len(rp.xy) / 2; i < len(obs); i++ {
		f := maptile.Fraction(orb.Point{obs[i].Lon, obs[i].Lat}, 0)
		rp.xy = append(rp.xy, frac32(f[0]), frac32(f[1]))
	}
	return rp.xy[:2*len(obs)]
}

// frac32 is a fraction of the world in [0, 1) as a 32-bit fixed-point
// number, rounded down as the tile units are.
func frac32(f float64) uint32 {
	return uint32(min(max(math.Floor(f*(1<<32)), 0), 1<<32-1))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// What a report says.
const (
	classUsable = iota
	classWeak   // weak, with some service
	classNone   // no service at all
)

func reportClass(o *geo.Obs) int {
	switch {
	case o.Flags&geo.FlagNoService != 0 || o.Tech == geo.TechNone:
		return classNone
	case o.Flags&geo.FlagWeak != 0:
		return classWeak
	}
	return classUsable
}

// reportPoint is report i of st as a tile feature at (x, y) in tile
// units: its id, time, carrier, technology and levels (none unknown), and
// as a cell of one, reports 1 and whether it is weak or without service
// (weak, no_service: 0 or 1). Reporters are never in a tile.
func reportPoint(st *state, i int, x, y int64) *geojson.Feature {
	o := &st.obs[i]
	cls := reportClass(o)
	p := geojson.Properties{
		"id":          st.ids[i],
		"observed_at": time.Unix(o.At, 0).UTC().Format(time.RFC3339),
		"carrier":     o.Carrier.String(),
		"tech":        o.Tech.String(),
		"source":      o.Source.String(),
		"reports":     1,
		"weak":        b2i(cls == classWeak),
		"no_service":  b2i(cls == classNone),
	}
	if v := float64(o.SignalDBm); !math.IsNaN(v) && !math.IsInf(v, 0) {
		p["signal_dbm"] = v
	}
	if v := float64(o.DownMbps); !math.IsNaN(v) && !math.IsInf(v, 0) {
		p["download_mbps"] = v
	}
	f := geojson.NewFeature(orb.Point{float64(x), float64(y)})
	f.Properties = p
	return f
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// shareStep is the precision of the shares in an areas tile below
// slimZoom: a thousandth (0.1 percentage point), ten times finer than
// the page prints them and twenty times finer than its narrowest colour
// class. Shares unique to each area made most of a low-zoom tile's
// bytes (each a float64 of its own in the tile's value table, and a
// larger index in every feature's tags); rounded, the areas share a
// thousand values at most.
const shareStep = 1000

// roundShare rounds a share in [0, 1] to the nearest 1/shareStep,
// keeping a share above 0 above 0 and one below 1 below 1 (no data yet,
// observed_share 0, stays told apart from a little).
func roundShare(v float64) float64 {
	r := math.Round(v*shareStep) / shareStep
	switch {
	case r == 0 && v > 0:
		r = 1.0 / shareStep
	case r == 1 && v < 1:
		r = float64(shareStep-1) / shareStep
	}
	return r
}

// areasTile makes the leaf areas of c touching t, with the figures the
// map styles with (the whole area is at /api/v1/areas/{code}); an area
// smaller than a pixel is left out. Below slimZoom the shares are
// rounded to a thousandth (roundShare).
func areasTile(c *ogcCatalog, q tileQuery, t maptile.Tile) *mvt.Layer {
	round := slimAreas(int(t.Z))
	res := c.st.result
	col := c.cols["areas"]
	l := &mvt.Layer{Name: "areas", Version: 2, Extent: tileExtent}
	for _, i := range tileCandidates(col, tileBound(t, polygonBuffer)) {
		sc := &res.Areas[col.leaf[i]]
		if q.level != geo.LevelUnknown && sc.Level != q.level || subPixel(col.features[i].bound, t.Z) {
			continue
		}
		p := geojson.Properties{
			"code": sc.Code, "name": sc.Name, "parent_code": sc.ParentCode, "level": sc.Level.String(),
			"population": sc.Population, "households": sc.Households, "reports": sc.Reports, "weak": sc.Weak,
			"action": string(sc.Action), "rank": sc.Rank,
		}
		nums := map[string]float64{
			"weak_share": sc.WeakShare, "observed_share": sc.ObservedShare, "hole_share": sc.HoleShare,
			"dead_share": sc.DeadShare, "reached_share": sc.Reach.ReachedShare, "priority": sc.Priority,
		}
		for _, cs := range sc.Carriers {
			nums[cs.Carrier.String()+"_hole_share"] = cs.HoleShare
		}
		for k, v := range nums {
			if math.IsNaN(v) || math.IsInf(v, 0) { // unknown: left out
				continue
			}
			if round && strings.HasSuffix(k, "_share") {
				v = roundShare(v)
			}
			p[k] = v
		}
		f := geojson.NewFeature(projectPolygons(c.areas[sc.Index].Geometry, t))
		f.Properties = p
		l.Features = append(l.Features, f)
	}
	polygonLayer(l, t.Z)
	return l
}

// holesTile makes the holes touching t as hv shows them: for each, the
// properties of the feature the holes layer gives the viewer (an
// outline's, or a hole's in full), and its outline; a hole smaller than
// a pixel is left out.
func holesTile(c *ogcCatalog, hv *holesView, q tileQuery, t maptile.Tile) (*mvt.Layer, error) {
	col := hv.col
	var full []ogcFeature
	if hv.substitutes() {
		full = hv.full.features
	}
	holes := c.st.result.Holes
	l := &mvt.Layer{Name: "holes", Version: 2, Extent: tileExtent}
	for _, i := range tileCandidates(col, tileBound(t, polygonBuffer)) {
		if q.carrier != geo.CarrierUnknown && geo.Carrier(col.features[i].key) != q.carrier || subPixel(col.features[i].bound, t.Z) {
			continue
		}
		b, ok := hv.pick(int(i), col.features, full)
		if !ok {
			continue
		}
		p, err := featureProperties(b)
		if err != nil {
			return nil, err
		}
		h := int(i)
		if col.holePos != nil {
			h = int(col.holePos[i])
		}
		f := geojson.NewFeature(projectPolygons(holes[h].Geometry, t))
		f.Properties = p
		l.Features = append(l.Features, f)
	}
	polygonLayer(l, t.Z)
	return l, nil
}

// featureProperties decodes the properties of an encoded feature, which
// come last (see package export), so that a tile carries what the layer
// shows the viewer; unknown (null) figures are left out, lists stay JSON.
func featureProperties(b []byte) (geojson.Properties, error) {
	const key = `,"properties":`
	k := bytes.LastIndex(b, []byte(key))
	if k < 0 || len(b) < k+len(key)+1 {
		return nil, fmt.Errorf("api: a feature without properties: %.80s", b)
	}
	var p geojson.Properties
	if err := json.Unmarshal(b[k+len(key):len(b)-1], &p); err != nil {
		return nil, fmt.Errorf("api: feature properties: %w", err)
	}
	for k, v := range p {
		switch v := v.(type) {
		case nil:
			delete(p, k)
		case []any:
			j, _ := json.Marshal(v) // decoded from JSON: encodes
			p[k] = string(j)
		}
	}
	return p, nil
}

// projectPolygons returns mp (lon/lat) in the units of tile t, whole
// units as the tile holds them, without the repeated points that
// rounding makes (most of them, at low zooms).
func projectPolygons(mp orb.MultiPolygon, t maptile.Tile) orb.MultiPolygon {
	ox, oy := int64(t.X)*tileExtent, int64(t.Y)*tileExtent
	out := make(orb.MultiPolygon, 0, len(mp))
	for _, p := range mp {
		q := make(orb.Polygon, 0, len(p))
		for _, r := range p {
			pr := make(orb.Ring, 0, min(len(r), 64))
			for _, pt := range r {
				x, y := worldXY(pt, t.Z)
				v := orb.Point{float64(x - ox), float64(y - oy)}
				if n := len(pr); n == 0 || pr[n-1] != v {
					pr = append(pr, v)
				}
			}
			if len(pr) >= 4 {
				q = append(q, pr)
			} else if len(q) == 0 {
				break // the outer ring is gone: the polygon with it
			}
		}
		if len(q) > 0 {
			out = append(out, q)
		}
	}
	return out
}

// polygonLayer clips l's outlines (in tile units of a tile at zoom z) to
// the tile and its buffer, simplifies them to a sixteenth of a pixel (a
// quarter below slimZoom, see polygonTolerance), drops what is left
// smaller than a tile unit and orients the rings as the specification
// wants (outer rings of positive area in tile coordinates, holes
// negative).
func polygonLayer(l *mvt.Layer, z maptile.Zoom) {
	tol := polygonTolerance
	if slimAreas(int(z)) {
		tol = polygonToleranceLow
	}
	ls := mvt.Layers{l}
	ls.Clip(orb.Bound{Min: orb.Point{-polygonBuffer, -polygonBuffer}, Max: orb.Point{tileExtent + polygonBuffer, tileExtent + polygonBuffer}})
	ls.Simplify(simplify.DouglasPeucker(tol))
	ls.RemoveEmpty(1, 1)
	for _, f := range l.Features {
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			orient(g)
		case orb.MultiPolygon:
			for _, p := range g {
				orient(p)
			}
		}
	}
}

func orient(p orb.Polygon) {
	for k, r := range p {
		want := orb.CCW // positive area: an outer ring
		if k > 0 {
			want = orb.CW
		}
		if o := r.Orientation(); o != 0 && o != want {
			r.Reverse()
		}
	}
}

// tileEntry is one cached tile. It is made once (make), by whoever asks
// first; its gzip too.
type tileEntry struct {
	once sync.Once
	raw  []byte
	err  error
	etag string
	// bound is the lon/lat bound of what the tile shows, its buffer
	// included: a change touching it makes the tile stale.
	bound orb.Bound

	gzOnce sync.Once
	gz     []byte

	used uint64 // the cache's clock at the last use
}

// tileCache holds the tiles of the current catalog.
type tileCache struct {
	mu    sync.Mutex
	cat   *ogcCatalog
	m     map[tileKey]*tileEntry
	clock uint64
	bytes int // of the tiles made, plain and gzipped

	places reportPlaces
}

// entryBound is the bound a tile of layer shows (see tileEntry.bound).
func entryBound(layer string, t maptile.Tile) orb.Bound {
	switch {
	case layer != "reports":
		return tileBound(t, polygonBuffer)
	case t.Z < reportClusterZoom:
		return tileBound(t, reportCell)
	}
	return tileBound(t, reportBuffer)
}

// get returns the tile of key for catalog c, made by build when it is not
// cached. Tiles of a catalog that is no longer the cache's are made and
// not kept.
func (tc *tileCache) get(c *ogcCatalog, key tileKey, build func() ([]byte, error)) (*tileEntry, error) {
	tc.mu.Lock()
	e := &tileEntry{}
	cached := tc.cat == c
	if cached {
		tc.clock++
		if old := tc.m[key]; old != nil {
			e = old
		} else {
			e.bound = entryBound(key.layer, key.tile)
			if len(tc.m) >= tileCacheEntries || tc.bytes > tileCacheBytes {
				tc.evict()
			}
			if tc.m == nil {
				tc.m = map[tileKey]*tileEntry{}
			}
			tc.m[key] = e
		}
		e.used = tc.clock
	}
	tc.mu.Unlock()
	e.once.Do(func() {
		e.raw, e.err = build()
		h := fnv.New64a()
		h.Write(e.raw)
		e.etag = fmt.Sprintf(`"%016x"`, h.Sum64())
		if cached {
			tc.count(len(e.raw))
		}
	})
	return e, e.err
}

// count adds n bytes to what the cached tiles hold.
func (tc *tileCache) count(n int) {
	tc.mu.Lock()
	tc.bytes += n
	tc.mu.Unlock()
}

// gzipOf returns e's bytes gzipped, compressing them the first time.
func (tc *tileCache) gzipOf(e *tileEntry) []byte {
	e.gzOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed) // a valid level cannot fail
		zw.Write(e.raw)
		zw.Close()
		e.gz = b.Bytes()
		tc.count(len(e.gz))
	})
	return e.gz
}

// evict drops the least recently used quarter of the tiles; tc.mu is
// held.
func (tc *tileCache) evict() {
	es := make([]*tileEntry, 0, len(tc.m))
	for _, e := range tc.m {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b *tileEntry) int { return int64Cmp(int64(a.used), int64(b.used)) })
	cut := es[len(es)/4].used
	tc.bytes = 0
	for k, e := range tc.m {
		if e.used <= cut {
			delete(tc.m, k)
		} else {
			tc.bytes += len(e.raw) + len(e.gz)
		}
	}
}

func int64Cmp(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// advance makes next the cache's catalog after prev: the tiles of prev
// that no change between the two touches stay, the others go. A cache
// that was not prev's starts empty.
func (tc *tileCache) advance(prev, next *ogcCatalog) {
	var d map[string]*dirtySet
	if prev != nil {
		d = changes(prev, next)
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	old := tc.m
	keep := tc.cat == prev && prev != nil
	tc.cat, tc.m, tc.bytes = next, map[tileKey]*tileEntry{}, 0
	if !keep {
		return
	}
	for k, e := range old {
		if ds := d[k.layer]; ds.touches(e.bound) {
			continue
		}
		tc.m[k] = e
		tc.bytes += len(e.raw) + len(e.gz)
	}
}

// dirtySet is the bounds of what changed in a layer between two
// catalogs; all: everything did.
type dirtySet struct {
	all    bool
	bounds []orb.Bound
	tree   *rtree.RTreeG[struct{}] // over bounds, when there are many
}

func (d *dirtySet) add(b orb.Bound) { d.bounds = append(d.bounds, b) }

// done indexes the bounds when there are many.
func (d *dirtySet) done() {
	if len(d.bounds) > 32 {
		d.tree = &rtree.RTreeG[struct{}]{}
		for _, b := range d.bounds {
			d.tree.Insert(b.Min, b.Max, struct{}{})
		}
	}
}

// touches reports whether a change touches b (nil: none changed).
func (d *dirtySet) touches(b orb.Bound) bool {
	switch {
	case d == nil:
		return false
	case d.all:
		return true
	case d.tree != nil:
		hit := false
		d.tree.Search(b.Min, b.Max, func(_, _ [2]float64, _ struct{}) bool {
			hit = true
			return false
		})
		return hit
	}
	for _, x := range d.bounds {
		if x.Intersects(b) {
			return true
		}
	}
	return false
}

// changes returns, by tile layer, what changed from catalog prev to next:
// the areas and holes encoded again, added or gone, and the reports
// added; everything, when the boundaries changed or reports left (a
// rejection: the reports were encoded anew).
func changes(prev, next *ogcCatalog) map[string]*dirtySet {
	all := &dirtySet{all: true}
	if !sameSlice(prev.areas, next.areas) {
		return map[string]*dirtySet{"areas": all, "holes": all, "reports": all}
	}
	d := map[string]*dirtySet{"areas": {}, "holes": {}, "reports": {}}
	pa, na := prev.cols["areas"].features, next.cols["areas"].features
	if len(pa) != len(na) {
		d["areas"] = all
	} else {
		for i := range na {
			if !sameBytes(pa[i].json, na[i].json) {
				d["areas"].add(pa[i].bound)
				d["areas"].add(na[i].bound)
			}
		}
	}
	for _, key := range []string{"holes", outlineKey} {
		pc, nc := prev.cols[key], next.cols[key]
		if pc == nil || nc == nil {
			continue
		}
		diffFeatures(d["holes"], pc.features, nc.features)
	}
	pcr, ncr := prev.cols["reports"], next.cols["reports"]
	if m := pcr.size(); ncr.size() < m || m > 0 && (pcr.log != ncr.log || !sameSlice(pcr.obs, ncr.obs[:m])) {
		// Reports are only appended to a log; a new log is a new start.
		d["reports"] = all
	} else {
		for i := m; i < ncr.size(); i++ {
			d["reports"].add(orb.Point{ncr.obs[i].Lon, ncr.obs[i].Lat}.Bound())
		}
	}
	for _, ds := range d {
		ds.done()
	}
	return d
}

// diffFeatures adds to d the bounds of the features of a that are not in
// b (the same bytes) and of those of b not in a.
func diffFeatures(d *dirtySet, a, b []ogcFeature) {
	in := func(fs []ogcFeature) map[*byte]bool {
		m := make(map[*byte]bool, len(fs))
		for i := range fs {
			m[unsafe.SliceData(fs[i].json)] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	for i := range a {
		if !inb[unsafe.SliceData(a[i].json)] && a[i].hasGeom {
			d.add(a[i].bound)
		}
	}
	for i := range b {
		if !ina[unsafe.SliceData(b[i].json)] && b[i].hasGeom {
			d.add(b[i].bound)
		}
	}
}

// sameBytes reports whether a and b are the same encoding (features are
// never modified once encoded, so the same array is the same bytes).
func sameBytes(a, b []byte) bool { return sameSlice(a, b) }
