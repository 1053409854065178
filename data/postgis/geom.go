package postgis

import (
	"encoding/binary"
	"fmt"

	"github.com/gapmap/gapmap/data/geomconv"
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
	t, err := geomconv.ToGeom(g)
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
	return geomconv.FromGeom(t)
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
