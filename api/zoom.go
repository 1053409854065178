package api

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
	"github.com/gapmap/gapmap/geo/topo"
	"github.com/paulmach/orb"
)

// Filtered layer requests are served from the features of the OGC catalog,
// each encoded when it changes (see publish.go), so a bbox window is a
// scan over bounds and a join of bytes, not a re-encoding of geometries.
// With a zoom level below fullDetailZoom, areas and holes come simplified
// to about a pixel at that zoom, topology kept (Douglas–Peucker on the
// arcs neighbours share, see geo/topo), with coordinates rounded for the
// zoom, so a whole-province view stays small; each feature is encoded
// once per zoom level while it does not change.

// fullDetailZoom is the web-map zoom from which geometries are sent
// unsimplified (a pixel is then about 5 m).
const fullDetailZoom = 15

// minZoom is the coarsest zoom simplified for; coarser requests get it.
const minZoom = 5

// zoomCache holds one area's or hole's encodings simplified for each zoom
// from minZoom to below fullDetailZoom, each made on first use. It goes
// with the feature's bytes: a feature encoded again gets a new one.
type zoomCache [fullDetailZoom - minZoom]atomic.Pointer[zoomEncoding]

// zoomEncoding is a feature encoded for a zoom from the simplified
// geometries of top: it holds while the layer's geometries are those top
// was cut from, as a neighbour's change moves the arcs they share.
type zoomEncoding struct {
	json []byte
	top  *layerTopo
}

// layerTopo is the topology of a layer's geometries with its simplified
// geometries for the zooms last asked for, kept across catalogs while the
// geometries are the same.
type layerTopo struct {
	src []orb.MultiPolygon
	top *topo.Topology
	mu  sync.Mutex
	// simple holds the geometries simplified for the keptZooms zooms
	// last asked for, recent their zooms, the latest first (0: none).
	simple [fullDetailZoom - minZoom][]orb.MultiPolygon
	recent [keptZooms]int
}

// keptZooms is how many zooms' simplified geometries a layer keeps. They
// are needed while a zoom's features are encoded (see simplifiedFeatures)
// and again only for the features a publication changes, or for areas
// asked for in full at a low zoom: once encoded, a zoom's features hold
// what they need, and the geometries of every zoom asked for took 110 MB
// at 10,000 hamlets.
const keptZooms = 2

// simplified returns the geometries simplified for zoom z, made again
// when they were let go (see keptZooms).
func (lt *layerTopo) simplified(z int) []orb.MultiPolygon {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	s := &lt.simple[z-minZoom]
	if *s == nil {
		*s = lt.top.Simplify(topo.PixelDegrees(z), topo.Decimals(z))
	}
	out := *s
	if lt.recent[0] != z {
		k := slices.Index(lt.recent[:], z)
		if k < 0 {
			k = keptZooms - 1
			if old := lt.recent[k]; old != 0 {
				lt.simple[old-minZoom] = nil
			}
		}
		copy(lt.recent[1:k+1], lt.recent[:k])
		lt.recent[0] = z
	}
	return out
}

// sameGeometries reports whether a and b are the same geometries: the
// same slices, as geometries are never modified.
func sameGeometries(a, b []orb.MultiPolygon) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) || unsafe.SliceData(a[i]) != unsafe.SliceData(b[i]) {
			return false
		}
	}
	return true
}

// layerFeatures returns the pre-encoded features of the areas, holes,
// hole outlines (outlineKey) or teams of c, simplified for zoom when
// 0 <= zoom < fullDetailZoom.
func (s *Server) layerFeatures(c *ogcCatalog, layer string, zoom int) ([]ogcFeature, error) {
	col := c.cols[layer]
	if zoom < 0 || zoom >= fullDetailZoom || layer == "teams" {
		return col.features, nil
	}
	z := max(zoom, minZoom)
	c.mu.Lock()
	defer c.mu.Unlock()
	key := zoomKey(layer, z)
	if f, ok := c.simplified[key]; ok {
		return f, nil
	}
	f, err := simplifiedFeatures(c, col, layer, z)
	if err != nil {
		return nil, err
	}
	if c.simplified == nil {
		c.simplified = map[string][]ogcFeature{}
	}
	c.simplified[key] = f
	return f, nil
}

// zoomKey names layer simplified for zoom z, in the catalog's caches.
func zoomKey(layer string, z int) string { return fmt.Sprintf("%s/%d", layer, z) }

// wholeKey returns the key of the prepared whole layer (see serveWhole)
// that answers q on the collection key of c, and false when q needs a
// filtered query: with no filter but a zoom, the layer simplified for the
// zoom, its plain bytes and gzip made once.
func (s *Server) wholeKey(c *ogcCatalog, key string, q layerQuery) (string, bool) {
	z := q.zoom
	q.zoom = -1
	// Only reports are filtered by technology and time, and areas by
	// no carrier (see writeLayerFeatures): the page sends them for every
	// layer.
	q.tech, q.hasTech, q.from, q.to = 0, false, time.Time{}, time.Time{}
	if key == "areas" {
		q.carrier = geo.CarrierUnknown
	}
	if !q.coversAll(c.cols[key]) {
		return "", false
	}
	if z < 0 || z >= fullDetailZoom || key == "teams" {
		return key, true
	}
	if _, err := s.layerFeatures(c, key, z); err != nil {
		return "", false // the filtered query reports it
	}
	return zoomKey(key, max(z, minZoom)), true
}

// simplifiedFeatures returns the areas or holes of col with geometries
// simplified for zoom z, reusing col's ids, bounds and times, and each
// feature's encoding for z when an earlier catalog made it. The layer is
// simplified as one topology (see geo/topo): the boundary neighbours
// share is cut into arcs each simplified once, so neighbouring communes
// keep one common edge at every zoom, with coordinates rounded to what
// the zoom can show.
func simplifiedFeatures(c *ogcCatalog, col *ogcCollection, layer string, z int) ([]ogcFeature, error) {
	res := c.st.result
	out := make([]ogcFeature, len(col.features))
	lt := c.layerTopology(col, layer)
	var simple []orb.MultiPolygon
	var buf, slim []byte
	for i := range col.features {
		out[i] = col.features[i]
		slot := &out[i].zoom[z-minZoom]
		if e := slot.Load(); e != nil && e.top == lt {
			out[i].json = e.json
			continue
		}
		if simple == nil {
			simple = lt.simplified(z)
		}
		var err error
		switch layer {
		case "areas":
			buf, err = c.zoomedArea(buf[:0], col, i, simple)
			if err == nil && slimAreas(z) {
				// Below slimZoom an area carries what the map shows.
				slim = pickProps(slim[:0], buf, isMapProp)
				buf, slim = slim, buf
			}
		case "holes", outlineKey:
			h := res.Holes[col.holeAt(i)]
			h.Geometry = simple[i]
			if col.outline {
				buf = export.HoleOutlineFeature(buf[:0], export.WithID, &h)
			} else {
				buf = export.HoleFeature(buf[:0], export.WithID, &h)
			}
		case "unobserved":
			u := res.Unobserved[i]
			u.Geometry = simple[i]
			buf = export.UnobservedFeature(buf[:0], export.WithID, &u)
		}
		if err != nil {
			return nil, fmt.Errorf("api: %s simplified: %w", layer, err)
		}
		b := bytes.Clone(buf)
		slot.Store(&zoomEncoding{json: b, top: lt})
		out[i].json = b
	}
	return out, nil
}

// zoomedArea appends the i-th area of col encoded in full with its
// geometry from simple, the areas simplified for a zoom.
func (c *ogcCatalog) zoomedArea(b []byte, col *ogcCollection, i int, simple []orb.MultiPolygon) ([]byte, error) {
	sc := &c.st.result.Areas[col.leaf[i]]
	a := c.areas[sc.Index]
	a.Geometry = simple[i]
	return export.AreaFeature(b, export.WithID, sc, &a)
}

// zoomedAreas returns the areas simplified for zoom z (at least minZoom,
// below fullDetailZoom), for a request that asks for properties the
// zoom's prepared features leave out (see slimZoom).
func (c *ogcCatalog) zoomedAreas(z int) []orb.MultiPolygon {
	c.mu.Lock()
	lt := c.layerTopology(c.cols["areas"], "areas")
	c.mu.Unlock()
	return lt.simplified(max(z, minZoom))
}

// holeAt is the index in the result's holes of the i-th feature of a
// holes collection.
func (col *ogcCollection) holeAt(i int) int {
	if col.holePos != nil {
		return int(col.holePos[i])
	}
	return i
}

// layerTopology returns the topology of the geometries of the features
// of col (the areas, holes or unobserved of layer): the previous
// catalog's when they are the same, else cut anew. c.mu is held.
func (c *ogcCatalog) layerTopology(col *ogcCollection, layer string) *layerTopo {
	if lt := c.topos[layer]; lt != nil {
		return lt
	}
	res := c.st.result
	mps := make([]orb.MultiPolygon, len(col.features))
	for i := range mps {
		switch layer {
		case "areas":
			mps[i] = c.areas[res.Areas[col.leaf[i]].Index].Geometry
		case "holes", outlineKey:
			mps[i] = res.Holes[col.holeAt(i)].Geometry
		case "unobserved":
			mps[i] = res.Unobserved[i].Geometry
		}
	}
	sh := c.shared
	sh.topoMu.Lock()
	lt := sh.topos[layer]
	if lt == nil || !sameGeometries(lt.src, mps) {
		lt = &layerTopo{src: mps, top: topo.Build(mps)}
		if sh.topos == nil {
			sh.topos = map[string]*layerTopo{}
		}
		sh.topos[layer] = lt
	}
	sh.topoMu.Unlock()
	if c.topos == nil {
		c.topos = map[string]*layerTopo{}
	}
	c.topos[layer] = lt
	return lt
}

// writeLayerFeatures writes the features of an areas, holes or teams
// layer that match q, from the catalog; the holes as hv shows them (see
// holesView). The i-th feature of the areas is the i-th leaf area of the
// state's result.
func (s *Server) writeLayerFeatures(w *bufio.Writer, c *ogcCatalog, layer string, q layerQuery, hv *holesView) error {
	key := layer
	if hv != nil {
		key = hv.key
	}
	feats, err := s.layerFeatures(c, key, q.zoom)
	if err != nil {
		return err
	}
	var full []ogcFeature
	if hv.substitutes() {
		if full, err = s.layerFeatures(c, "holes", q.zoom); err != nil {
			return err
		}
	}
	res := c.st.result
	col := c.cols[key]
	// Areas below slimZoom asked for more than the map's properties are
	// encoded in full from the zoom's geometries as they are written.
	var zoomed []orb.MultiPolygon
	if layer == "areas" && slimAreas(q.zoom) && q.props != nil && !q.props.within(areaMapProps) {
		zoomed = c.zoomedAreas(q.zoom)
	}
	var enc, pick []byte
	// With a small window, the R-tree finds the candidates; they are
	// visited in feature order so output does not depend on the tree. A
	// wide window scans.
	var cand []int32
	useTree := q.bbox != nil && !col.wide(*q.bbox)
	if useTree {
		cand = col.touching(cand, *q.bbox)
		slices.Sort(cand)
	}
	w.WriteString(layerHead)
	// Past the limit, the features that match are counted, not written.
	n, matched := 0, 0
	write := func(i int) {
		switch layer {
		case "areas":
			if q.level != geo.LevelUnknown && res.Areas[col.leaf[i]].Level != q.level {
				return
			}
		case "holes":
			if q.carrier != geo.CarrierUnknown && geo.Carrier(feats[i].key) != q.carrier {
				return
			}
		case "unobserved":
			if q.carrier != geo.CarrierUnknown && res.Unobserved[i].Carrier != q.carrier {
				return
			}
		}
		b := feats[i].json
		if hv != nil {
			var ok bool
			if b, ok = hv.pick(i, feats, full); !ok {
				return
			}
		}
		matched++
		if n >= q.limit {
			return
		}
		if zoomed != nil {
			if enc, err = c.zoomedArea(enc[:0], col, i, zoomed); err != nil {
				return
			}
			b = enc
		}
		if q.props != nil && !q.props.all {
			pick = pickProps(pick[:0], b, q.props.keep)
			b = pick
		}
		writeFeatureLine(w, n == 0, b)
		n++
	}
	if useTree {
		for _, i := range cand {
			write(int(i))
		}
	} else {
		for i := range feats {
			if q.bbox != nil && (!feats[i].hasGeom || !feats[i].bound.Intersects(*q.bbox)) {
				continue
			}
			write(i)
		}
	}
	if err != nil {
		return fmt.Errorf("api: areas at zoom %d: %w", q.zoom, err)
	}
	writeCountedTail(w, matched, n)
	return nil
}
