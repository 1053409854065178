package api

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
	"github.com/paulmach/orb"
)

// MaxLimit is the most features a layer request returns.
const MaxLimit = 10000

// layerQuery is a layer request's filter.
type layerQuery struct {
	bbox     *orb.Bound
	carrier  geo.Carrier // CarrierUnknown: any
	tech     geo.Tech
	hasTech  bool
	from, to time.Time
	level    geo.Level
	limit    int
	// zoom is the web-map zoom the features are for (−1: full detail).
	zoom int
	// reach, for the reports layer, is whose scope limits the reports
	// (nil: none).
	reach *geo.Viewer
	// props, when not nil, is the properties asked for (see props.go).
	props *propSelect
}

func defaultLayerQuery() layerQuery { return layerQuery{limit: MaxLimit, zoom: -1} }

// parseLayerQuery validates the query of a request for layer and returns
// the field at fault and why when it is wrong.
func parseLayerQuery(layer string, q url.Values) (lq layerQuery, field, reason string) {
	lq = defaultLayerQuery()
	if v := q.Get("bbox"); q.Has("bbox") {
		b, reason := parseBBox(v)
		if reason != "" {
			return lq, "bbox", reason
		}
		lq.bbox = &b
	}
	if q.Has("carrier") {
		c, err := geo.ParseCarrier(q.Get("carrier"))
		if err != nil {
			return lq, "carrier", err.Error()
		}
		if c == geo.CarrierAll && layer != "holes" && layer != "unobserved" {
			return lq, "carrier", `"all" applies to the holes and unobserved layers only`
		}
		lq.carrier = c
	}
	if q.Has("tech") {
		t, err := geo.ParseTech(q.Get("tech"))
		if err != nil {
			return lq, "tech", err.Error()
		}
		lq.tech, lq.hasTech = t, true
	}
	for _, k := range []string{"from", "to"} {
		if !q.Has(k) {
			continue
		}
		t, err := time.Parse(time.RFC3339, q.Get(k))
		if err != nil {
			return lq, k, "not an RFC 3339 time such as 2025-07-01T00:00:00+07:00"
		}
		if k == "from" {
			lq.from = t
		} else {
			lq.to = t
		}
	}
	if !lq.from.IsZero() && !lq.to.IsZero() && lq.to.Before(lq.from) {
		return lq, "to", "before from"
	}
	if q.Has("level") {
		l, err := geo.ParseLevel(q.Get("level"))
		if err != nil {
			return lq, "level", err.Error()
		}
		lq.level = l
	}
	if q.Has("zoom") {
		z, err := strconv.Atoi(q.Get("zoom"))
		if err != nil || z < 0 || z > 24 {
			return lq, "zoom", "must be an integer from 0 to 24"
		}
		lq.zoom = z
	}
	if q.Has("properties") {
		ps, reason := parsePropSelect(q.Get("properties"))
		if reason != "" {
			return lq, "properties", reason
		}
		lq.props = ps
	}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > MaxLimit {
			return lq, "limit", "must be an integer from 1 to " + strconv.Itoa(MaxLimit)
		}
		lq.limit = n
	}
	return lq, "", ""
}

// parseBBox parses minLon,minLat,maxLon,maxLat.
func parseBBox(s string) (orb.Bound, string) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return orb.Bound{}, "want four numbers: minLon,minLat,maxLon,maxLat"
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return orb.Bound{}, "want four finite numbers: minLon,minLat,maxLon,maxLat"
		}
		v[i] = f
	}
	switch {
	case v[0] < -180 || v[2] > 180 || v[0] > 180 || v[2] < -180:
		return orb.Bound{}, "longitudes must be between -180 and 180"
	case v[1] < -90 || v[3] > 90 || v[1] > 90 || v[3] < -90:
		return orb.Bound{}, "latitudes must be between -90 and 90"
	case v[0] > v[2] || v[1] > v[3]:
		return orb.Bound{}, "minimum greater than maximum"
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, ""
}

func (s *Server) handleLayer(layer string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		st := s.cur.load()
		p := PrincipalFrom(r.Context())
		key := layer
		var hv *holesView
		if layer == "holes" {
			v, err := s.holesView(st.cat, &p.Viewer)
			if err != nil {
				return err
			}
			hv, key = &v, v.key
		}
		// A partial view (staff see the reports of their scope; carriers
		// and staff see some holes in full and others as the public does)
		// is a filtered query, never the prepared whole layer.
		narrowed := layer == "reports" && !p.CoversAll() || hv != nil && hv.see != nil
		w.Header().Set("Content-Type", "application/geo+json")
		w.Header().Set("Vary", "Accept-Encoding, Cookie, Authorization")
		if r.URL.RawQuery == "" && !narrowed {
			serveWhole(w, r, st, key)
			return nil
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return badField("query", "malformed query string")
		}
		lq, field, reason := parseLayerQuery(layer, q)
		if field != "" {
			return badField(field, reason)
		}
		if own, ownOnly := p.OwnCarrier(); layer == "holes" && ownOnly && s.publicHoles == geo.HoleHidden &&
			lq.carrier != geo.CarrierUnknown && lq.carrier != own {
			// Asking for holes none of which can be seen is refused.
			return geo.NewError(geo.ErrForbidden, "a carrier reads its own holes only",
				&geo.FieldError{Field: "carrier", Reason: "must be " + own.String()})
		}
		if layer == "reports" {
			lq.reach = &p.Viewer
		}
		body := getBody(w)
		defer body.release()
		if acceptsGzip(r) {
			body.compress(w)
		}
		bw := body.Writer
		if layer == "reports" {
			writeReportsGeoJSON(bw, st, lq)
			body.finish(w)
			return nil
		}
		if !narrowed {
			if whole, ok := s.wholeKey(st.cat, key, lq); ok {
				// A window over the whole layer, at a zoom or in full:
				// the prepared bytes.
				serveWhole(w, r, st, whole)
				return nil
			}
		}
		if err := s.writeLayerFeatures(bw, st.cat, layer, lq, hv); err != nil {
			return fmt.Errorf("layer %s: %w", layer, err)
		}
		body.finish(w)
		return nil
	}
}

// bodyBufSize is how much of a response body is buffered: a body that
// fits (a tile window, an OGC page) goes out in one write with a
// Content-Length; a larger one streams, chunked, in writes of this size.
const bodyBufSize = 128 << 10

// body buffers a response body; see getBody.
type body struct {
	*bufio.Writer
	sent countingWriter
	// gz, once compress is called, gzips what is sent.
	gz *gzipSink
}

// gzipSink gzips what is written to it into w, marking the response
// gzip-encoded on the first write, so an error answered before anything
// was written goes out plain.
type gzipSink struct {
	w  http.ResponseWriter
	zw *gzip.Writer
	on bool
}

func (g *gzipSink) Write(p []byte) (int, error) {
	if !g.on {
		g.w.Header().Set("Content-Encoding", "gzip")
		g.w.Header().Del("Content-Length")
		g.zw.Reset(g.w)
		g.on = true
	}
	return g.zw.Write(p)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

var bodyPool = sync.Pool{New: func() any {
	b := &body{}
	b.Writer = bufio.NewWriterSize(&b.sent, bodyBufSize)
	return b
}}

// getBody returns a pooled buffer for the body of w; finish sends it and
// release returns it to the pool.
func getBody(w http.ResponseWriter) *body {
	b := bodyPool.Get().(*body)
	b.sent = countingWriter{w: w}
	if b.gz != nil {
		b.gz.w, b.gz.on = nil, false
	}
	b.Writer.Reset(&b.sent)
	return b
}

// finish sends what is buffered, with a Content-Length when nothing was
// sent before.
func (b *body) finish(w http.ResponseWriter) error {
	if b.gz != nil && b.gz.w != nil {
		if err := b.Flush(); err != nil {
			return err
		}
		if b.gz.on {
			return b.gz.zw.Close()
		}
		return nil
	}
	if b.sent.n == 0 {
		w.Header().Set("Content-Length", strconv.Itoa(b.Buffered()))
	}
	return b.Flush()
}

// compress makes the body go out gzipped (streamed, without a
// Content-Length), for a client that accepts it.
func (b *body) compress(w http.ResponseWriter) {
	if b.gz == nil {
		zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level cannot fail
		b.gz = &gzipSink{zw: zw}
	}
	b.gz.w, b.gz.on = w, false
	b.sent.w = b.gz
}

func (b *body) release() {
	if b.gz != nil {
		b.gz.w = nil
		b.gz.zw.Reset(io.Discard)
	}
	b.sent.w = nil
	b.Writer.Reset(&b.sent)
	bodyPool.Put(b)
}

// coversAll reports whether q asks for every feature of col at full
// detail: no filter but a bbox containing them all.
func (q layerQuery) coversAll(col *ogcCollection) bool {
	d := defaultLayerQuery()
	d.bbox = q.bbox
	if q != d || col.size() > q.limit {
		return false
	}
	if q.bbox == nil {
		return true
	}
	if !col.hasBBox || !col.allGeom {
		return false
	}
	return q.bbox.Contains(col.bbox.Min) && q.bbox.Contains(col.bbox.Max)
}

// serveWhole writes a whole layer of st (a collection of its catalog, by
// key): the features a request without a query gets (see wholeLayer),
// gzip-compressed when the client accepts it, else as they are (see
// wholelayer.go).
func serveWhole(w http.ResponseWriter, r *http.Request, st *state, layer string) {
	if acceptsGzip(r) {
		b := st.cat.gzip(layer)
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.FormatInt(b.clen, 10))
		b.writeGzip(w)
		return
	}
	b := st.cat.plain(layer)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}

// writeReportsGeoJSON writes the reports of st matching q, newest
// submitted first, from their encoded features. Reporters are never
// written.
func writeReportsGeoJSON(w *bufio.Writer, st *state, q layerQuery) {
	var from, to int64 = math.MinInt64, math.MaxInt64
	if !q.from.IsZero() {
		from = q.from.Unix()
	}
	if !q.to.IsZero() {
		to = q.to.Unix()
	}
	ids := st.cat.cols["reports"].rids
	w.WriteString(layerHead)
	n, matched := 0, 0
	var buf, pick []byte
	for i := len(ids) - 1; i >= 0; i-- {
		o := &st.obs[i]
		if o.At < from || o.At > to || (q.reach != nil && !q.reach.Covers(o.Area)) ||
			(q.carrier != geo.CarrierUnknown && o.Carrier != q.carrier) ||
			(q.hasTech && o.Tech != q.tech) ||
			(q.bbox != nil && !q.bbox.Contains(orb.Point{o.Lon, o.Lat})) {
			continue
		}
		matched++
		if n < q.limit {
			buf = export.ReportFeature(buf[:0], ids[i], o)
			b := buf
			if q.props != nil && !q.props.all {
				pick = pickProps(pick[:0], b, q.props.keep)
				b = pick
			}
			writeFeatureLine(w, n == 0, b)
			n++
		}
	}
	writeCountedTail(w, matched, n)
}

// writeCountedTail ends a filtered layer's collection. When the limit
// cut it, it says how many features matched the filter and how many of
// them it holds, as OGC API pages do (numberMatched, numberReturned), so
// that a client can tell a cut layer from a whole one; a whole answer
// ends as a prepared layer does.
func writeCountedTail(w *bufio.Writer, matched, returned int) {
	if matched == returned {
		w.WriteString(layerTail)
		return
	}
	var num [20]byte
	w.WriteString("\n],\"numberMatched\":")
	w.Write(strconv.AppendInt(num[:0], int64(matched), 10))
	w.WriteString(`,"numberReturned":`)
	w.Write(strconv.AppendInt(num[:0], int64(returned), 10))
	w.WriteString("}\n")
}
