package gpkg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/gapmap/gapmap/data/geomconv"
	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom/encoding/wkb"
)

// This file is the one place that converts orb (gapmap's geometry) to
// go-geom (which encodes WKB), and that reads and writes GeoPackage
// geometry blobs (GeoPackage 1.3 §2.1.3: a "GP" header, then ISO WKB).
// Blobs are decoded by wkb.go, which bounds what it allocates by the
// blob's length.

// srsWGS84 is the srs_id of every geometry gapmap stores (EPSG:4326, lon/lat).
const srsWGS84 = 4326

// Header flag bits (GeoPackage 1.3 Table 3).
const (
	flagLittleEndian = 1 << 0
	flagEnvelopeXY   = 1 << 1 // envelope contents indicator 1: [minx, maxx, miny, maxy]
	flagEmpty        = 1 << 4
	flagExtended     = 1 << 5
)

// envelopeSizes maps the envelope contents indicator (flags bits 1–3) to the
// envelope's length in bytes.
var envelopeSizes = [...]int{0, 32, 48, 48, 64}

// encodeGeom encodes g as a GeoPackage geometry blob in srs 4326 with an
// [minx, maxx, miny, maxy] envelope, or with the empty flag and no envelope
// when g has no positions.
func encodeGeom(g orb.Geometry) ([]byte, error) {
	t, err := geomconv.ToGeom(g)
	if err != nil {
		return nil, err
	}
	body, err := wkb.Marshal(t, binary.LittleEndian)
	if err != nil {
		return nil, fmt.Errorf("gpkg: encode geometry: %w", err)
	}
	empty := isEmpty(g)
	n := 8
	if !empty {
		n += 32
	}
	b := make([]byte, n, n+len(body))
	b[0], b[1], b[2] = 'G', 'P', 0
	if empty {
		b[3] = flagLittleEndian | flagEmpty
	} else {
		b[3] = flagLittleEndian | flagEnvelopeXY
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(int32(srsWGS84)))
	if !empty {
		bd := g.Bound()
		for i, v := range []float64{bd.Min[0], bd.Max[0], bd.Min[1], bd.Max[1]} {
			binary.LittleEndian.PutUint64(b[8+8*i:], math.Float64bits(v))
		}
	}
	return append(b, body...), nil
}

// header is the parsed GeoPackage binary header.
type header struct {
	srsID int32
	empty bool
	// env is [minx, maxx, miny, maxy]; hasEnv is false when the blob has no
	// envelope.
	env    [4]float64
	hasEnv bool
	size   int // bytes of header and envelope: the WKB starts here
}

func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < 8 || b[0] != 'G' || b[1] != 'P' {
		return h, errors.New("gpkg: geometry blob does not start with GP")
	}
	if b[2] != 0 {
		return h, fmt.Errorf("gpkg: geometry blob version %d, want 0", b[2])
	}
	flags := b[3]
	if flags&flagExtended != 0 {
		return h, errors.New("gpkg: extended geometry blobs are not supported")
	}
	var bo binary.ByteOrder = binary.BigEndian
	if flags&flagLittleEndian != 0 {
		bo = binary.LittleEndian
	}
	ind := int(flags>>1) & 7
	if ind >= len(envelopeSizes) {
		return h, fmt.Errorf("gpkg: bad envelope indicator %d", ind)
	}
	h.size = 8 + envelopeSizes[ind]
	if len(b) < h.size {
		return h, errors.New("gpkg: geometry blob too short")
	}
	h.srsID = int32(bo.Uint32(b[4:]))
	h.empty = flags&flagEmpty != 0
	if ind > 0 {
		h.hasEnv = true
		for i := range h.env {
			h.env[i] = math.Float64frombits(bo.Uint64(b[8+8*i:]))
		}
	}
	return h, nil
}

// decodeGeom decodes a GeoPackage geometry blob into an orb geometry.
func decodeGeom(b []byte) (orb.Geometry, error) {
	h, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	if h.srsID != srsWGS84 {
		return nil, fmt.Errorf("gpkg: geometry srs_id %d, want %d", h.srsID, srsWGS84)
	}
	return decodeWKB(b[h.size:])
}

// envelope returns the blob's [minx, maxx, miny, maxy], reading the header
// when it has one and decoding the geometry otherwise; ok is false for an
// empty geometry.
func envelope(b []byte) (env [4]float64, ok bool, err error) {
	h, err := parseHeader(b)
	if err != nil {
		return env, false, err
	}
	if h.empty {
		return env, false, nil
	}
	if h.hasEnv {
		return h.env, true, nil
	}
	g, err := decodeGeom(b)
	if err != nil {
		return env, false, err
	}
	if isEmpty(g) {
		return env, false, nil
	}
	bd := g.Bound()
	return [4]float64{bd.Min[0], bd.Max[0], bd.Min[1], bd.Max[1]}, true, nil
}

// isEmpty reports whether g has no positions.
func isEmpty(g orb.Geometry) bool {
	switch g := g.(type) {
	case nil:
		return true
	case orb.Point:
		return false
	case orb.MultiPoint:
		return len(g) == 0
	case orb.LineString:
		return len(g) == 0
	case orb.MultiLineString:
		for _, l := range g {
			if len(l) > 0 {
				return false
			}
		}
		return true
	case orb.Ring:
		return len(g) == 0
	case orb.Polygon:
		return len(g) == 0 || len(g[0]) == 0
	case orb.MultiPolygon:
		for _, p := range g {
			if !isEmpty(p) {
				return false
			}
		}
		return true
	case orb.Collection:
		for _, c := range g {
			if !isEmpty(c) {
				return false
			}
		}
		return true
	}
	return false
}
