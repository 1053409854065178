package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// OGC API - Features - Part 1: Core, under /ogc, after pg_featureserv.
//
// The four collections are the map layers. Their features are serialised
// when an analysis is published, one []byte per feature, and only those
// that changed since the previous publication (see publish.go), so a page
// of items is a slice and a join.
//
// Choices where the standard leaves room:
//   - limit defaults to 100, and a page holds at most 10000 features
//     whatever limit asks; a limit below 1 or a negative offset is a 400.
//   - f=json and f=geojson are accepted (both give the one encoding each
//     resource has); any other f is a 400.
//   - datetime filters reports by observed_at and holes by the overlap of
//     [first_observed, last_observed]; areas and teams have no time and
//     ignore it (it is still validated).
//   - reports are listed in insertion order (oldest first), so that pages
//     stay put while reports are added; the reports layer lists newest
//     first.
//   - links are absolute, built on the configured base URL or else on the
//     listener's address, never on the request's Host (see rootURL).

const (
	ogcDefaultLimit = 100
	ogcCRS84        = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	ogcTRS          = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
	mimeGeoJSON     = "application/geo+json"
	mimeJSON        = "application/json"
	mimeOpenAPI     = "application/vnd.oai.openapi+json;version=3.0"
)

var ogcConformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
}

// ogcCollectionInfo describes a collection; the order is the listing's.
var ogcCollectionInfo = []struct{ id, title, description string }{
	{"areas", "Areas", "Hamlets and other areas with their weak-signal scores, holes, team reach and priority"},
	{"holes", ogcHolesTitle, "Coverage holes per carrier, and dead zones (carrier \"all\"), ranked by priority"},
	{"reports", "Signal reports", "Signal reports as points; the reporter is never shown"},
	{"teams", "Digital technology teams", "Community digital technology teams at their base"},
	{"unobserved", "Unobserved land", "Land inside the areas where no judgement can be made yet: per carrier (its own reports do not reach it) and for all carriers (carrier \"all\": no reports reach it)"},
}

// The holes as those who may not see their evidence see them (see
// holes.go): a collection of outlines, kept in the catalog under
// outlineKey.
const (
	ogcHolesTitle         = "Coverage holes"
	ogcOutlineDescription = "Where each carrier's coverage holes, and the dead zones (carrier \"all\"), are: " +
		"outline, carrier, state, size and areas; their evidence and ranking are for the carrier and the province"
	outlineKey = "holes/outline"
)

// ogcFeature is one feature of a collection.
type ogcFeature struct {
	id      string
	bound   orb.Bound // CRS84
	hasGeom bool
	// from and to are the feature's time span in Unix seconds (reports:
	// from == to); meaningful when the collection is timed.
	from, to int64
	json     []byte // {"type":"Feature","id":...}, shared while the feature is unchanged
	// key is what access is checked against: a report's area index, a
	// hole's carrier.
	key int32
	// zoom holds an area's or a hole's simplified encodings (see zoom.go).
	zoom *zoomCache
}

// ogcCollection is one collection's features for one state. It is not
// modified once published.
type ogcCollection struct {
	id, title, description string
	timed                  bool
	features               []ogcFeature
	ids                    *idIndex
	bbox                   orb.Bound
	hasBBox                bool
	// allGeom is true when every feature has a geometry.
	allGeom bool
	// tree indexes the features' bounds for window queries; a reports
	// collection's points index them instead.
	tree   *rtree.RTreeG[int32]
	points *pointIndex
	// leaf maps an areas feature to its position in the result's Areas.
	leaf        []int
	first, last int64 // time extent when timed and non-empty
	// log is what a reports collection grows into (see publish.go).
	log *reportLog
	// obs and rids are a reports collection's reports and their ids: its
	// features are made from them when read (see feature), and encoded
	// when written (see featureJSON), not kept.
	obs  []geo.Obs
	rids []string
	// outline is true for the holes' outline features (see holes.go),
	// whose i-th is the hole holePos[i] of the state's result; nil
	// holePos: the i-th feature is the i-th hole.
	outline bool
	holePos []int32
}

// ogcCatalog is every collection built from one state.
type ogcCatalog struct {
	st *state
	// areas are the boundaries the areas features were encoded from.
	areas []geo.Area
	cols  map[string]*ogcCollection
	// stats counts the features encoded for this catalog; the others
	// were the previous catalog's.
	stats publishStats
	// simplified caches per-zoom simplified features (see zoom.go).
	mu         sync.Mutex
	simplified map[string][]ogcFeature
	topos      map[string]*layerTopo
	zoomBodies map[string]*layerBody
	// bodies hold each whole layer, made on first request from the
	// segments in shared (see wholelayer.go).
	bodies map[string]*layerBody
	// schema holds the collections' properties (see schema.go).
	schema schemaCache
	shared *ogcCache
	// areasOnce makes areasOf, the indexes of the areas each hole
	// touches, on first use (see holeAreas).
	areasOnce sync.Once
	areasOf   [][]int32
}

// ogcCache is what publications share: one runs at a time (mu), and the
// segments of whole layers are kept for the next (see wholelayer.go).
type ogcCache struct {
	mu    sync.Mutex
	segMu sync.Mutex
	segs  map[string]layerSegments
	// topos are the layers' topologies, kept while their geometries
	// stay the same (see zoom.go).
	topoMu sync.Mutex
	topos  map[string]*layerTopo
}

// ogcCatalog returns the catalog of the current state.
func (s *Server) ogcCatalog() *ogcCatalog { return s.cur.load().cat }

func unixOr(t time.Time, def int64) int64 {
	if t.IsZero() {
		return def
	}
	return t.Unix()
}

// ogcRoutes are the OGC API - Features routes under /ogc. They are open
// to all; the reports collection is checked per request (see
// ogcCollectionOf) and its items, like the holes a carrier sees, are
// filtered by the principal (see visible).
func (s *Server) ogcRoutes() []route {
	return []route{
		{method: "GET", path: "/ogc", h: s.handleOGCLanding},
		{method: "GET", path: "/ogc/conformance", h: s.handleOGCConformance},
		{method: "GET", path: "/ogc/collections", h: s.handleOGCCollections},
		{method: "GET", path: "/ogc/collections/{collectionId}", h: s.handleOGCCollection},
		{method: "GET", path: "/ogc/collections/{collectionId}/items", h: s.handleOGCItems},
		{method: "GET", path: "/ogc/collections/{collectionId}/schema", h: s.handleOGCSchema(false)},
		{method: "GET", path: "/ogc/collections/{collectionId}/queryables", h: s.handleOGCSchema(true)},
		{method: "GET", path: "/ogc/collections/{collectionId}/items/{featureId}", h: s.handleOGCItem},
	}
}

// ogcAccess is the permission reading a collection needs.
func ogcAccess(id string) geo.Permission {
	if id == "reports" {
		return geo.ReadReports
	}
	return geo.Anyone
}

// visible reports whether v may see feature f of c (see visibility).
func (c *ogcCollection) visible(v *geo.Viewer, f *ogcFeature) bool {
	vis := c.visibility(v)
	return vis == nil || vis(f.key)
}

// visibility returns the test of which features of c v may see — the
// reports its scope covers — or nil when v sees them all (the common
// case, kept out of the scan). What v sees of the holes is a holesView's.
func (c *ogcCollection) visibility(v *geo.Viewer) func(key int32) bool {
	if c.id == "reports" && !v.CoversAll() {
		return v.Covers
	}
	return nil
}

// size is the number of features of c.
func (c *ogcCollection) size() int {
	if c.log != nil {
		return len(c.obs)
	}
	return len(c.features)
}

// featureAt returns feature i of c: in c's features, or for a report
// made in buf from the report.
func (c *ogcCollection) featureAt(i int, buf *ogcFeature) *ogcFeature {
	if c.log == nil {
		return &c.features[i]
	}
	o := &c.obs[i]
	*buf = ogcFeature{id: c.rids[i], bound: orb.Point{o.Lon, o.Lat}.Bound(), hasGeom: true, from: o.At, to: o.At, key: o.Area}
	return buf
}

// ogcLink is a link of an OGC document.
type ogcLink struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// ogcBase is the URL of /ogc that r's links are built on (see rootURL).
func (s *Server) ogcBase(r *http.Request) string { return s.rootURL(r) + "/ogc" }

// rootURL is the URL of the service's root for r's links, without a
// trailing slash: the configured base URL (Options.BaseURL), else the
// address the connection reached the listener at, else "" (links are
// then paths, as for a request that came through no listener). Neither
// the request's Host nor a proxy's X-Forwarded-Host or X-Forwarded-Proto
// make it: a client cannot make the service hand out links to elsewhere.
func (s *Server) rootURL(r *http.Request) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	if !ok || a.Zone != "" { // a zone would need escaping in a URL: paths will do
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + a.String()
}

// CheckBaseURL checks a base URL for Options.BaseURL: an absolute http
// or https URL, with a path prefix or none, without user, query or
// fragment. It returns the URL without a trailing slash ("" stays "").
func CheckBaseURL(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("base URL %q: want an absolute http or https URL without query, such as https://gapmap.example.vn", v)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// checkFormat checks the f parameter: an error when it is not one of
// ours.
func checkFormat(q url.Values) error {
	if !q.Has("f") {
		return nil
	}
	switch q.Get("f") {
	case "json", "geojson":
		return nil
	}
	return badField("f", "must be json or geojson")
}

// ogcQuery parses and checks the request's query.
func ogcQuery(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badField("query", "malformed query string")
	}
	return q, checkFormat(q)
}

func writeJSONType(w http.ResponseWriter, ctype string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(append(b, '\n'))
	return nil
}

func (s *Server) handleOGCLanding(w http.ResponseWriter, r *http.Request) error {
	if _, err := ogcQuery(r); err != nil {
		return err
	}
	base, root := s.ogcBase(r), s.rootURL(r)
	return writeJSONType(w, mimeJSON, struct {
		Title       string    `json:"title"`
		Description string    `json:"description"`
		Links       []ogcLink `json:"links"`
	}{
		Title:       "gapmap",
		Description: "Weak mobile-signal areas, coverage holes, signal reports and digital technology teams as OGC API - Features",
		Links: []ogcLink{
			{Href: base, Rel: "self", Type: mimeJSON, Title: "This document"},
			{Href: root + "/api/v1/openapi.json", Rel: "service-desc", Type: mimeOpenAPI, Title: "The API definition"},
			{Href: base + "/conformance", Rel: "conformance", Type: mimeJSON, Title: "Conformance classes"},
			{Href: base + "/collections", Rel: "data", Type: mimeJSON, Title: "Collections"},
		},
	})
}

func (s *Server) handleOGCConformance(w http.ResponseWriter, r *http.Request) error {
	if _, err := ogcQuery(r); err != nil {
		return err
	}
	return writeJSONType(w, mimeJSON, struct {
		ConformsTo []string `json:"conformsTo"`
	}{ogcConformance})
}

// ogcCollectionDoc is a collection's description.
type ogcCollectionDoc struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Extent      *ogcExtent `json:"extent,omitempty"`
	ItemType    string     `json:"itemType"`
	CRS         []string   `json:"crs"`
	Links       []ogcLink  `json:"links"`
}

type ogcExtent struct {
	Spatial *struct {
		BBox [][4]float64 `json:"bbox"`
		CRS  string       `json:"crs"`
	} `json:"spatial,omitempty"`
	Temporal *struct {
		Interval [][2]*string `json:"interval"`
		TRS      string       `json:"trs"`
	} `json:"temporal,omitempty"`
}

func (c *ogcCollection) doc(base string) ogcCollectionDoc {
	href := base + "/collections/" + url.PathEscape(c.id)
	d := ogcCollectionDoc{ID: c.id, Title: c.title, Description: c.description, ItemType: "feature",
		CRS: []string{ogcCRS84},
		Links: []ogcLink{
			{Href: href, Rel: "self", Type: mimeJSON, Title: "This collection"},
			{Href: href + "/items", Rel: "items", Type: mimeGeoJSON, Title: c.title},
			{Href: href + "/schema", Rel: "describedby", Type: mimeSchema, Title: "The schema of the features"},
			{Href: href + "/queryables", Rel: relQueryable, Type: mimeSchema, Title: "The queryables"},
		}}
	var ext ogcExtent
	if c.hasBBox {
		ext.Spatial = &struct {
			BBox [][4]float64 `json:"bbox"`
			CRS  string       `json:"crs"`
		}{[][4]float64{{c.bbox.Min[0], c.bbox.Min[1], c.bbox.Max[0], c.bbox.Max[1]}}, ogcCRS84}
	}
	if c.timed && c.first <= c.last {
		a := time.Unix(c.first, 0).UTC().Format(time.RFC3339)
		b := time.Unix(c.last, 0).UTC().Format(time.RFC3339)
		ext.Temporal = &struct {
			Interval [][2]*string `json:"interval"`
			TRS      string       `json:"trs"`
		}{[][2]*string{{&a, &b}}, ogcTRS}
	}
	if ext.Spatial != nil || ext.Temporal != nil {
		d.Extent = &ext
	}
	return d
}

func (s *Server) handleOGCCollections(w http.ResponseWriter, r *http.Request) error {
	if _, err := ogcQuery(r); err != nil {
		return err
	}
	cat := s.ogcCatalog()
	base := s.ogcBase(r)
	out := struct {
		Links       []ogcLink          `json:"links"`
		Collections []ogcCollectionDoc `json:"collections"`
	}{Links: []ogcLink{{Href: base + "/collections", Rel: "self", Type: mimeJSON, Title: "This document"}}}
	p := PrincipalFrom(r.Context())
	for _, info := range ogcCollectionInfo {
		if c, _, err := s.viewCollection(cat, &p.Viewer, info.id); err == nil {
			out.Collections = append(out.Collections, c.doc(base))
		}
	}
	return writeJSONType(w, mimeJSON, out)
}

// ogcCollectionOf finds the request's collection as the viewer sees it
// (see viewCollection).
func (s *Server) ogcCollectionOf(r *http.Request) (*ogcCollection, *holesView, error) {
	return s.viewCollection(s.ogcCatalog(), &PrincipalFrom(r.Context()).Viewer, mux.Vars(r)["collectionId"])
}

// viewCollection returns the collection id of cat as v sees it, with, for
// the holes, how v sees each (nil for the others): ErrNotFound when there
// is none, and v's Check when it may not read it.
func (s *Server) viewCollection(cat *ogcCatalog, v *geo.Viewer, id string) (*ogcCollection, *holesView, error) {
	c := cat.cols[id]
	if c == nil || c.id != id {
		return nil, nil, geo.NewError(geo.ErrNotFound, "no collection "+strconv.Quote(id))
	}
	if err := v.Check(ogcAccess(id)); err != nil {
		return nil, nil, err
	}
	if id != "holes" {
		return c, nil, nil
	}
	hv, err := s.holesView(cat, v)
	if err != nil {
		return nil, nil, err
	}
	return hv.col, &hv, nil
}

func (s *Server) handleOGCCollection(w http.ResponseWriter, r *http.Request) error {
	if _, err := ogcQuery(r); err != nil {
		return err
	}
	c, _, err := s.ogcCollectionOf(r)
	if err != nil {
		return err
	}
	return writeJSONType(w, mimeJSON, c.doc(s.ogcBase(r)))
}

// itemsQuery is an items request's paging and filter.
type itemsQuery struct {
	limit, offset int
	bbox          *orb.Bound
	from, to      int64 // Unix seconds, inclusive; MinInt64/MaxInt64 when open
	hasTime       bool
}

// parseItemsQuery validates q and returns the field at fault and why when
// it is wrong. Unknown parameters are ignored.
func parseItemsQuery(q url.Values) (iq itemsQuery, field, reason string) {
	iq = itemsQuery{limit: ogcDefaultLimit, from: math.MinInt64, to: math.MaxInt64}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 {
			return iq, "limit", "must be a positive integer"
		}
		// Above the most a page holds, the page is that long: the
		// standard lets a server return fewer features than asked.
		iq.limit = min(n, MaxLimit)
	}
	if q.Has("offset") {
		n, err := strconv.Atoi(q.Get("offset"))
		if err != nil || n < 0 {
			return iq, "offset", "must be an integer of 0 or more"
		}
		iq.offset = n
	}
	if q.Has("bbox") {
		b, reason := parseBBox(q.Get("bbox"))
		if reason != "" {
			return iq, "bbox", reason
		}
		iq.bbox = &b
	}
	if q.Has("datetime") {
		from, to, reason := parseDatetime(q.Get("datetime"))
		if reason != "" {
			return iq, "datetime", reason
		}
		iq.from, iq.to, iq.hasTime = from, to, true
	}
	return iq, "", ""
}

// parseDatetime parses an RFC 3339 instant or an interval "a/b" whose
// ends may be open (".." or empty) into inclusive bounds in whole Unix
// seconds, the precision of observed_at: a start is rounded up and an end
// down, so an instant with a fraction of a second matches nothing.
func parseDatetime(v string) (from, to int64, reason string) {
	const want = "want an RFC 3339 time such as 2025-07-01T00:00:00Z, or an interval start/end with .. for an open end"
	parts := strings.Split(v, "/")
	switch {
	case len(parts) == 1 && !isOpen(v):
		parts = append(parts, v)
	case len(parts) != 2 || isOpen(parts[0]) && isOpen(parts[1]):
		return 0, 0, want
	}
	from, to = math.MinInt64, math.MaxInt64
	var ta, tb time.Time
	var err error
	if !isOpen(parts[0]) {
		if ta, err = time.Parse(time.RFC3339Nano, parts[0]); err != nil {
			return 0, 0, want
		}
		from = ta.Unix()
		if ta.Nanosecond() != 0 {
			from++
		}
	}
	if !isOpen(parts[1]) {
		if tb, err = time.Parse(time.RFC3339Nano, parts[1]); err != nil {
			return 0, 0, want
		}
		to = tb.Unix()
	}
	if !ta.IsZero() && !tb.IsZero() && tb.Before(ta) {
		return 0, 0, "interval ends before it starts"
	}
	return from, to, ""
}

func isOpen(s string) bool { return s == "" || s == ".." }

// wide reports whether window b covers a quarter or more of the
// collection's extent, where scanning every feature beats searching the
// R-tree and sorting what it finds.
func (c *ogcCollection) wide(b orb.Bound) bool {
	if !c.hasBBox {
		return true
	}
	w := math.Min(b.Max[0], c.bbox.Max[0]) - math.Max(b.Min[0], c.bbox.Min[0])
	h := math.Min(b.Max[1], c.bbox.Max[1]) - math.Max(b.Min[1], c.bbox.Min[1])
	if w <= 0 || h <= 0 {
		return false
	}
	return w*h >= 0.25*(c.bbox.Max[0]-c.bbox.Min[0])*(c.bbox.Max[1]-c.bbox.Min[1])
}

// touching appends to cand the features of c whose bounds touch b, edges
// included, in no set order.
func (c *ogcCollection) touching(cand []int32, b orb.Bound) []int32 {
	if c.points != nil {
		return c.points.within(cand, c.obs, b)
	}
	c.tree.Search(b.Min, b.Max, func(_, _ [2]float64, i int32) bool {
		cand = append(cand, i)
		return true
	})
	return cand
}

// coveredBy reports whether every feature of c lies in bbox (nil: no
// bbox, which every feature passes).
func (c *ogcCollection) coveredBy(bbox *orb.Bound) bool {
	if bbox == nil {
		return true
	}
	return c.allGeom && (!c.hasBBox || bbox.Contains(c.bbox.Min) && bbox.Contains(c.bbox.Max))
}

// match reports whether f passes q's filters.
func (c *ogcCollection) match(f *ogcFeature, q *itemsQuery) bool {
	if q.bbox != nil && (!f.hasGeom || !f.bound.Intersects(*q.bbox)) {
		return false
	}
	if q.hasTime && c.timed && (f.to < q.from || f.from > q.to) {
		return false
	}
	return true
}

func (s *Server) handleOGCItems(w http.ResponseWriter, r *http.Request) error {
	q, err := ogcQuery(r)
	if err != nil {
		return err
	}
	iq, field, reason := parseItemsQuery(q)
	if field != "" {
		return badField(field, reason)
	}
	c, hv, err := s.ogcCollectionOf(r)
	if err != nil {
		return err
	}
	vis := c.visibility(&PrincipalFrom(r.Context()).Viewer)
	full := hv.fullFeatures()
	matched := 0
	page := make([][]byte, 0, min(iq.limit, c.size()))
	var rf ogcFeature
	visit := func(i int) {
		f := c.featureAt(i, &rf)
		if !c.match(f, &iq) || vis != nil && !vis(f.key) {
			return
		}
		b := c.featureJSON(i)
		if hv != nil {
			var ok bool
			if b, ok = hv.pick(i, c.features, full); !ok {
				return
			}
		}
		if matched >= iq.offset && len(page) < iq.limit {
			page = append(page, b)
		}
		matched++
	}
	if vis == nil && (hv == nil || hv.see == nil) && !(iq.hasTime && c.timed) && c.coveredBy(iq.bbox) {
		// Every feature matches: the page is a slice, no scan needed.
		matched = c.size()
		for i := iq.offset; i < matched && len(page) < iq.limit; i++ {
			page = append(page, c.featureJSON(i))
		}
	} else if iq.bbox != nil && !c.wide(*iq.bbox) {
		// The R-tree finds the candidates; they are visited in feature
		// order so pages are stable. A wide window scans instead.
		cand := c.touching(nil, *iq.bbox)
		slices.Sort(cand)
		for _, i := range cand {
			visit(int(i))
		}
	} else {
		for i := range c.size() {
			visit(i)
		}
	}
	self := s.ogcBase(r) + "/collections/" + url.PathEscape(c.id) + "/items"
	links := []ogcLink{{Href: pageHref(self, q, iq.offset, iq.limit), Rel: "self", Type: mimeGeoJSON, Title: "This document"}}
	if iq.offset+len(page) < matched {
		links = append(links, ogcLink{Href: pageHref(self, q, iq.offset+iq.limit, iq.limit), Rel: "next", Type: mimeGeoJSON, Title: "Next page"})
	}
	if iq.offset > 0 {
		links = append(links, ogcLink{Href: pageHref(self, q, max(0, iq.offset-iq.limit), iq.limit), Rel: "prev", Type: mimeGeoJSON, Title: "Previous page"})
	}
	lb, err := json.Marshal(links)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", mimeGeoJSON)
	body := getBody(w)
	defer body.release()
	bw := body.Writer
	var num [20]byte
	bw.WriteString(`{"type":"FeatureCollection","numberMatched":`)
	bw.Write(strconv.AppendInt(num[:0], int64(matched), 10))
	bw.WriteString(`,"numberReturned":`)
	bw.Write(strconv.AppendInt(num[:0], int64(len(page)), 10))
	bw.WriteString(`,"timeStamp":"`)
	bw.Write(time.Now().UTC().AppendFormat(num[:0], time.RFC3339))
	bw.WriteString(`","links":`)
	bw.Write(lb)
	bw.WriteString(`,"features":[`)
	for i, f := range page {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		bw.Write(f)
	}
	bw.WriteString("\n]}\n")
	body.finish(w) // a client that went away is no server error
	return nil
}

func pageHref(self string, q url.Values, offset, limit int) string {
	v := make(url.Values, len(q)+2)
	for k, vs := range q {
		v[k] = slices.Clone(vs)
	}
	v.Set("offset", strconv.Itoa(offset))
	v.Set("limit", strconv.Itoa(limit))
	return self + "?" + v.Encode()
}

func (s *Server) handleOGCItem(w http.ResponseWriter, r *http.Request) error {
	if _, err := ogcQuery(r); err != nil {
		return err
	}
	c, hv, err := s.ogcCollectionOf(r)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["featureId"]
	i, ok := c.find(id)
	var rf ogcFeature
	ok = ok && c.visible(&PrincipalFrom(r.Context()).Viewer, c.featureAt(i, &rf))
	var f []byte
	if ok {
		f = c.featureJSON(i)
		if hv != nil {
			f, ok = hv.pick(i, c.features, hv.fullFeatures())
		}
	}
	if !ok {
		return geo.NewError(geo.ErrNotFound, "no feature "+strconv.Quote(id)+" in "+c.id)
	}
	col := s.ogcBase(r) + "/collections/" + url.PathEscape(c.id)
	lb, err := json.Marshal([]ogcLink{
		{Href: col + "/items/" + url.PathEscape(id), Rel: "self", Type: mimeGeoJSON, Title: "This feature"},
		{Href: col, Rel: "collection", Type: mimeJSON, Title: c.title},
	})
	if err != nil {
		return err
	}
	// The feature ends with its closing brace; the links go before it.
	b := make([]byte, 0, len(f)+len(lb)+16)
	b = append(b, f[:len(f)-1]...)
	b = append(b, `,"links":`...)
	b = append(b, lb...)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", mimeGeoJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
	return nil
}
