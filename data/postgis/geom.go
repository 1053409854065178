package postgis

import (
	"encoding/binary"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
)

// This file is the one place that converts between orb (gapmap's
// geometry) and go-geom, which encodes EWKB: PostGIS's binary format for
// type geometry, sent and received as it is (see registerGeometry).

// srsWGS84 is the SRID of every geometry gapmap stores (EPSG:4326, lon/lat).
const srsWGS84 = 4326

// encodeGeom encodes g as little-endian EWKB with SRID 4326.
func encodeGeom(g orb.Geometry) ([]byte, error) {
	t, err := toGeom(g)
	if err != nil {
		return nil, err
	}
	if t, err = geom.SetSRID(t, srsWGS84); err != nil {
		return nil, fmt.Errorf("postgis: encode geometry: %w", err)
	}
	b, err := ewkb.Marshal(t, binary.LittleEndian)
	if err != nil {
		return nil, fmt.Errorf("postgis: encode geometry: %w", err)
	}
	return b, nil
}

// decodeGeom decodes EWKB in SRID 4326 into an orb geometry.
func decodeGeom(b []byte) (orb.Geometry, error) {
	t, err := ewkb.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("postgis: decode geometry: %w", err)
	}
	if srid := t.SRID(); srid != srsWGS84 {
		return nil, fmt.Errorf("postgis: geometry SRID %d, want %d", srid, srsWGS84)
	}
	return fromGeom(t)
}

// toGeom converts an orb geometry (lon, lat) to go-geom (x = lon, y = lat).
func toGeom(g orb.Geometry) (geom.T, error) {
	coords := func(ps []orb.Point) []geom.Coord {
		cs := make([]geom.Coord, len(ps))
		for i, p := range ps {
			cs[i] = geom.Coord{p[0], p[1]}
		}
		return cs
	}
	rings := func(p orb.Polygon) [][]geom.Coord {
		rs := make([][]geom.Coord, len(p))
		for i, r := range p {
			rs[i] = coords(r)
		}
		return rs
	}
	switch g := g.(type) {
	case orb.Point:
		return geom.NewPointFlat(geom.XY, []float64{g[0], g[1]}), nil
	case orb.MultiPoint:
		return geom.NewMultiPoint(geom.XY).SetCoords(coords(g))
	case orb.LineString:
		return geom.NewLineString(geom.XY).SetCoords(coords(g))
	case orb.Polygon:
		return geom.NewPolygon(geom.XY).SetCoords(rings(g))
	case orb.MultiPolygon:
		ps := make([][][]geom.Coord, len(g))
		for i, p := range g {
			ps[i] = rings(p)
		}
		return geom.NewMultiPolygon(geom.XY).SetCoords(ps)
	}
	return nil, fmt.Errorf("postgis: unsupported geometry type %T", g)
}

// fromGeom converts a 2D go-geom geometry to orb; Z and M are dropped.
func fromGeom(t geom.T) (orb.Geometry, error) {
	pt := func(c geom.Coord) orb.Point { return orb.Point{c.X(), c.Y()} }
	line := func(cs []geom.Coord) []orb.Point {
		ps := make([]orb.Point, len(cs))
		for i, c := range cs {
			ps[i] = pt(c)
		}
		return ps
	}
	poly := func(rs [][]geom.Coord) orb.Polygon {
		p := make(orb.Polygon, len(rs))
		for i, r := range rs {
			p[i] = orb.Ring(line(r))
		}
		return p
	}
	switch t := t.(type) {
	case *geom.Point:
		if t.Empty() {
			return orb.MultiPoint{}, nil
		}
		return pt(t.Coords()), nil
	case *geom.MultiPoint:
		return orb.MultiPoint(line(t.Coords())), nil
	case *geom.LineString:
		return orb.LineString(line(t.Coords())), nil
	case *geom.Polygon:
		return poly(t.Coords()), nil
	case *geom.MultiPolygon:
		cs := t.Coords()
		m := make(orb.MultiPolygon, len(cs))
		for i, p := range cs {
			m[i] = poly(p)
		}
		return m, nil
	}
	return nil, fmt.Errorf("postgis: unsupported geometry type %T", t)
}

// multiPolygon decodes b, which must hold a (multi)polygon; nil is nil.
func multiPolygon(b []byte) (orb.MultiPolygon, error) {
	if b == nil {
		return nil, nil
	}
	g, err := decodeGeom(b)
	if err != nil {
		return nil, err
	}
	switch g := g.(type) {
	case orb.MultiPolygon:
		return g, nil
	case orb.Polygon:
		return orb.MultiPolygon{g}, nil
	}
	return nil, fmt.Errorf("geometry is %s, want MultiPolygon", g.GeoJSONType())
}

// point decodes b, which must hold a point.
func point(b []byte) (orb.Point, error) {
	g, err := decodeGeom(b)
	if err != nil {
		return orb.Point{}, err
	}
	p, ok := g.(orb.Point)
	if !ok {
		return orb.Point{}, fmt.Errorf("geometry is %s, want Point", g.GeoJSONType())
	}
	return p, nil
}
