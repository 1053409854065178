package api

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/simplify"
)

// Filtered layer requests are served from the features of the OGC catalog,
// each encoded once per analysis, so a bbox window is a scan over bounds
// and a join of bytes, not a re-encoding of geometries. With a zoom level
// below fullDetailZoom, areas and holes come simplified to about a pixel
// at that zoom (Douglas–Peucker), so a whole-province view stays small;
// each simplified set is built once per analysis and zoom level.

// fullDetailZoom is the web-map zoom from which geometries are sent
// unsimplified (a pixel is then about 5 m).
const fullDetailZoom = 15

// minZoom is the coarsest zoom simplified for; coarser requests get it.
const minZoom = 5

// zoomTolerance is the size of one 256-pixel-tile pixel at zoom z, in
// degrees of longitude.
func zoomTolerance(z int) float64 { return 360 / (256 * math.Exp2(float64(z))) }

// layerFeatures returns the pre-encoded features of an areas, holes or
// teams layer, simplified for zoom when 0 <= zoom < fullDetailZoom.
func (s *Server) layerFeatures(c *ogcCatalog, layer string, zoom int) ([]ogcFeature, error) {
	col := c.cols[layer]
	if zoom < 0 || zoom >= fullDetailZoom || layer == "teams" {
		return col.features, nil
	}
	z := max(zoom, minZoom)
	c.mu.Lock()
	defer c.mu.Unlock()
	key := fmt.Sprintf("%s/%d", layer, z)
	if f, ok := c.simplified[key]; ok {
		return f, nil
	}
	f, err := s.simplifiedFeatures(c.st, col, layer, zoomTolerance(z))
	if err != nil {
		return nil, err
	}
	if c.simplified == nil {
		c.simplified = map[string][]ogcFeature{}
	}
	c.simplified[key] = f
	return f, nil
}

// simplifiedFeatures encodes the areas or holes of st with geometries
// simplified to tol degrees, reusing col's ids, bounds and times.
func (s *Server) simplifiedFeatures(st *state, col *ogcCollection, layer string, tol float64) ([]ogcFeature, error) {
	var buf bytes.Buffer
	switch layer {
	case "areas":
		var scores []geo.AreaScore
		areas := make([]geo.Area, len(st.areas))
		copy(areas, st.areas)
		for _, sc := range st.result.Areas {
			if sc.Index < 0 {
				continue
			}
			scores = append(scores, sc)
			areas[sc.Index].Geometry = simplifyMultiPolygon(areas[sc.Index].Geometry, tol)
		}
		if err := export.WriteAreasGeoJSON(&buf, areas, scores); err != nil {
			return nil, err
		}
	case "holes":
		holes := make([]geo.Hole, len(st.result.Holes))
		copy(holes, st.result.Holes)
		for i := range holes {
			holes[i].Geometry = simplifyMultiPolygon(holes[i].Geometry, tol)
		}
		if err := export.WriteHolesGeoJSON(&buf, holes); err != nil {
			return nil, err
		}
	}
	lines := featureLines(buf.Bytes())
	if len(lines) != len(col.features) {
		return nil, fmt.Errorf("api: %s simplified: %d features for %d", layer, len(lines), len(col.features))
	}
	out := make([]ogcFeature, len(lines))
	for i, l := range lines {
		out[i] = col.features[i]
		j, err := withFeatureID(l, out[i].id)
		if err != nil {
			return nil, err
		}
		out[i].json = j
	}
	return out, nil
}

// simplifyMultiPolygon returns a simplified copy of mp: rings that
// collapse below a triangle are dropped (a part whose outer ring
// collapses goes with it), and when every part collapses the original is
// kept so no feature loses its geometry.
func simplifyMultiPolygon(mp orb.MultiPolygon, tol float64) orb.MultiPolygon {
	out := simplify.DouglasPeucker(tol).MultiPolygon(mp.Clone())
	n := 0
	for _, p := range out {
		if len(p) == 0 || len(p[0]) < 4 {
			continue
		}
		k := 1
		for _, r := range p[1:] {
			if len(r) >= 4 {
				p[k] = r
				k++
			}
		}
		out[n] = p[:k]
		n++
	}
	if n == 0 {
		return mp
	}
	return out[:n]
}

// writeLayerFeatures writes the features of an areas, holes or teams
// layer that match q, from the catalog. The i-th feature of a collection
// is the i-th leaf area, hole or team of the state's result.
func (s *Server) writeLayerFeatures(w *bufio.Writer, c *ogcCatalog, layer string, q layerQuery) error {
	feats, err := s.layerFeatures(c, layer, q.zoom)
	if err != nil {
		return err
	}
	res := c.st.result
	col := c.cols[layer]
	// With a small window, the R-tree finds the candidates; they are
	// visited in feature order so output does not depend on the tree. A
	// wide window scans.
	var cand []int32
	useTree := q.bbox != nil && !col.wide(*q.bbox)
	if useTree {
		col.tree.Search(q.bbox.Min, q.bbox.Max, func(_, _ [2]float64, i int32) bool {
			cand = append(cand, i)
			return true
		})
		slices.Sort(cand)
	}
	w.WriteString(`{"type":"FeatureCollection","features":[`)
	n := 0
	write := func(i int) {
		switch layer {
		case "areas":
			if q.level != geo.LevelUnknown && res.Areas[col.leaf[i]].Level != q.level {
				return
			}
		case "holes":
			if q.carrier != geo.CarrierUnknown && res.Holes[i].Carrier != q.carrier {
				return
			}
		}
		if n > 0 {
			w.WriteByte(',')
		}
		w.WriteByte('\n')
		w.Write(feats[i].json)
		n++
	}
	if useTree {
		for _, i := range cand {
			if n >= q.limit {
				break
			}
			write(int(i))
		}
	} else {
		for i := range feats {
			if n >= q.limit {
				break
			}
			if q.bbox != nil && (!feats[i].hasGeom || !feats[i].bound.Intersects(*q.bbox)) {
				continue
			}
			write(i)
		}
	}
	w.WriteString("\n]}\n")
	return nil
}
