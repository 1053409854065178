package gpkg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// decodeWKB decodes ISO WKB (the body of a GeoPackage geometry blob) into
// orb, dropping Z and M. Every count it reads is checked against the bytes
// left before anything is allocated, so a blob of a few bytes cannot ask
// for gigabytes, and collections may nest at most maxWKBDepth deep.
func decodeWKB(b []byte) (orb.Geometry, error) {
	r := wkbReader{b: b}
	g, err := r.geometry(0)
	if err != nil {
		return nil, fmt.Errorf("gpkg: decode geometry: %w", err)
	}
	return g, nil
}

const maxWKBDepth = 32

type wkbReader struct {
	b  []byte
	bo binary.ByteOrder
}

var errWKBShort = errors.New("wkb: geometry cut short")

func (r *wkbReader) u32() (uint32, error) {
	if len(r.b) < 4 {
		return 0, errWKBShort
	}
	v := r.bo.Uint32(r.b)
	r.b = r.b[4:]
	return v, nil
}

// count reads a number of elements each at least min bytes long.
func (r *wkbReader) count(min int) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(min) > uint64(len(r.b)) {
		return 0, fmt.Errorf("wkb: %d elements of at least %d bytes in %d bytes", n, min, len(r.b))
	}
	return int(n), nil
}

// points reads n positions of stride ordinates, keeping x and y.
func (r *wkbReader) points(n, stride int) []orb.Point {
	ps := make([]orb.Point, n)
	for i := range ps {
		ps[i] = orb.Point{math.Float64frombits(r.bo.Uint64(r.b)), math.Float64frombits(r.bo.Uint64(r.b[8:]))}
		r.b = r.b[8*stride:]
	}
	return ps
}

func (r *wkbReader) line(stride int) ([]orb.Point, error) {
	n, err := r.count(8 * stride)
	if err != nil {
		return nil, err
	}
	return r.points(n, stride), nil
}

func (r *wkbReader) geometry(depth int) (orb.Geometry, error) {
	if depth > maxWKBDepth {
		return nil, fmt.Errorf("wkb: collections nested more than %d deep", maxWKBDepth)
	}
	if len(r.b) < 5 {
		return nil, errWKBShort
	}
	switch r.b[0] {
	case 0:
		r.bo = binary.BigEndian
	case 1:
		r.bo = binary.LittleEndian
	default:
		return nil, fmt.Errorf("wkb: byte order %d", r.b[0])
	}
	r.b = r.b[1:]
	t, _ := r.u32()
	var stride int
	switch t / 1000 {
	case 0:
		stride = 2
	case 1, 2:
		stride = 3
	case 3:
		stride = 4
	default:
		return nil, fmt.Errorf("wkb: unsupported geometry type %d", t)
	}
	switch t % 1000 {
	case 1:
		if len(r.b) < 8*stride {
			return nil, errWKBShort
		}
		return r.points(1, stride)[0], nil
	case 2:
		ps, err := r.line(stride)
		return orb.LineString(ps), err
	case 3:
		n, err := r.count(4)
		if err != nil {
			return nil, err
		}
		p := make(orb.Polygon, n)
		for i := range p {
			ps, err := r.line(stride)
			if err != nil {
				return nil, err
			}
			p[i] = orb.Ring(ps)
		}
		return p, nil
	case 4, 5, 6, 7:
		n, err := r.count(5)
		if err != nil {
			return nil, err
		}
		var (
			mp  orb.MultiPoint
			ml  orb.MultiLineString
			mpl orb.MultiPolygon
			c   orb.Collection
		)
		for range n {
			g, err := r.geometry(depth + 1)
			if err != nil {
				return nil, err
			}
			var ok bool
			switch t % 1000 {
			case 4:
				var p orb.Point
				p, ok = g.(orb.Point)
				mp = append(mp, p)
			case 5:
				var l orb.LineString
				l, ok = g.(orb.LineString)
				ml = append(ml, l)
			case 6:
				var p orb.Polygon
				p, ok = g.(orb.Polygon)
				mpl = append(mpl, p)
			default:
				c, ok = append(c, g), true
			}
			if !ok {
				return nil, fmt.Errorf("wkb: %s inside a geometry of type %d", g.GeoJSONType(), t)
			}
		}
		switch t % 1000 {
		case 4:
			if mp == nil {
				mp = orb.MultiPoint{}
			}
			return mp, nil
		case 5:
			if ml == nil {
				ml = orb.MultiLineString{}
			}
			return ml, nil
		case 6:
			if mpl == nil {
				mpl = orb.MultiPolygon{}
			}
			return mpl, nil
		}
		if c == nil {
			c = orb.Collection{}
		}
		return c, nil
	}
	return nil, fmt.Errorf("wkb: unsupported geometry type %d", t)
}
