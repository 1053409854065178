// Package geomconv converts geometries between orb, which the rest of
// gapmap uses (lon, lat), and go-geom, whose WKB and EWKB encoders the
// stores use (x = lon, y = lat). It is the one place the two meet.
package geomconv

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
)

// ToGeom converts an orb geometry (lon, lat) to go-geom (x = lon, y = lat).
func ToGeom(g orb.Geometry) (geom.T, error) {
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
	case orb.MultiLineString:
		ls := make([][]geom.Coord, len(g))
		for i, l := range g {
			ls[i] = coords(l)
		}
		return geom.NewMultiLineString(geom.XY).SetCoords(ls)
	case orb.Ring:
		return geom.NewPolygon(geom.XY).SetCoords([][]geom.Coord{coords(g)})
	case orb.Polygon:
		return geom.NewPolygon(geom.XY).SetCoords(rings(g))
	case orb.MultiPolygon:
		ps := make([][][]geom.Coord, len(g))
		for i, p := range g {
			ps[i] = rings(p)
		}
		return geom.NewMultiPolygon(geom.XY).SetCoords(ps)
	case orb.Collection:
		c := geom.NewGeometryCollection()
		for _, m := range g {
			t, err := ToGeom(m)
			if err != nil {
				return nil, err
			}
			if err := c.Push(t); err != nil {
				return nil, err
			}
		}
		return c, nil
	case orb.Bound:
		return ToGeom(g.ToPolygon())
	}
	return nil, fmt.Errorf("geomconv: unsupported geometry type %T", g)
}

// FromGeom converts a 2D go-geom geometry to orb; Z and M are dropped.
func FromGeom(t geom.T) (orb.Geometry, error) {
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
	case *geom.MultiLineString:
		cs := t.Coords()
		m := make(orb.MultiLineString, len(cs))
		for i, l := range cs {
			m[i] = orb.LineString(line(l))
		}
		return m, nil
	case *geom.Polygon:
		return poly(t.Coords()), nil
	case *geom.MultiPolygon:
		cs := t.Coords()
		m := make(orb.MultiPolygon, len(cs))
		for i, p := range cs {
			m[i] = poly(p)
		}
		return m, nil
	case *geom.GeometryCollection:
		c := make(orb.Collection, 0, t.NumGeoms())
		for _, g := range t.Geoms() {
			o, err := FromGeom(g)
			if err != nil {
				return nil, err
			}
			c = append(c, o)
		}
		return c, nil
	}
	return nil, fmt.Errorf("geomconv: unsupported geometry type %T", t)
}
