package gpkg

import (
	"bytes"
	"encoding/binary"
	"math"
	"runtime"
	"testing"

	"github.com/gapmap/gapmap/data/geomconv"
	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom/encoding/wkb"
	"github.com/twpayne/go-geom/encoding/wkbcommon"
)

// oracleDecodeGeom decodes a blob as the store did before wkb.go, through
// go-geom, with element limits so that the oracle itself cannot be made
// to allocate gigabytes.
func oracleDecodeGeom(b []byte) (orb.Geometry, error) {
	h, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	if h.srsID != srsWGS84 {
		return nil, err
	}
	saved := wkbcommon.MaxGeometryElements
	wkbcommon.MaxGeometryElements = [4]int{0, 1 << 16, 1 << 12, 1 << 12}
	defer func() { wkbcommon.MaxGeometryElements = saved }()
	t, err := wkb.Unmarshal(b[h.size:])
	if err != nil {
		return nil, err
	}
	return geomconv.FromGeom(t)
}

func geomSeeds() []orb.Geometry {
	sq := orb.Ring{{106, 10}, {107, 10}, {107, 11}, {106, 11}, {106, 10}}
	hole := orb.Ring{{106.2, 10.2}, {106.2, 10.4}, {106.4, 10.4}, {106.2, 10.2}}
	return []orb.Geometry{
		orb.Point{106.1, 10.5},
		orb.MultiPoint{{1, 2}, {3, 4}},
		orb.LineString{{1, 2}, {3, 4}, {5, 6}},
		orb.MultiLineString{{{1, 2}, {3, 4}}, {}},
		orb.Polygon{sq, hole},
		orb.MultiPolygon{{sq}, {sq, hole}},
		orb.MultiPolygon{},
		orb.Collection{orb.Point{1, 2}, orb.Collection{orb.LineString{{1, 2}, {3, 4}}}},
	}
}

// sameGeom compares two geometries by their encodings, so that NaN
// positions and nil and empty slices compare as the blob holds them.
func sameGeom(t *testing.T, a, b orb.Geometry) bool {
	ea, err := encodeGeom(a)
	if err != nil {
		t.Fatalf("encode %v: %v", a, err)
	}
	eb, err := encodeGeom(b)
	if err != nil {
		t.Fatalf("encode %v: %v", b, err)
	}
	return bytes.Equal(ea, eb)
}

// FuzzDecodeGeom: decoding any blob must not panic or allocate past its
// size; what go-geom decoded, decodeGeom decodes the same; and what
// decodes re-encodes to a blob that decodes to the same.
func FuzzDecodeGeom(f *testing.F) {
	for _, g := range geomSeeds() {
		b, err := encodeGeom(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Z, M and big-endian bodies, as other writers produce them.
	f.Add(append([]byte{'G', 'P', 0, 0, 0, 0, 0x10, 0xE6}, []byte{0, 0, 0, 0x03, 0xE9, 0x40, 0x5A, 0x80, 0, 0, 0, 0, 0, 0x40, 0x24, 0, 0, 0, 0, 0, 0, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0}...))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeGeom(b)
		og, oerr := oracleDecodeGeom(b)
		if oerr == nil && og != nil {
			if err != nil {
				t.Fatalf("go-geom decodes %v, decodeGeom fails: %v", og, err)
			}
			if !sameGeom(t, g, og) {
				t.Fatalf("decodeGeom = %v, go-geom = %v", g, og)
			}
		}
		if err != nil {
			return
		}
		enc, err := encodeGeom(g)
		if err != nil {
			t.Fatalf("re-encode %v: %v", g, err)
		}
		g2, err := decodeGeom(enc)
		if err != nil || !sameGeom(t, g, g2) {
			t.Fatalf("round trip: %v → %v, %v", g, g2, err)
		}
	})
}

// TestDecodeGeomHugeCountRefused: blobs of a few bytes that claim 2³²
// points, rings or parts are refused without allocating for them (the
// go-geom decoder allocated 64 GiB for the first).
func TestDecodeGeomHugeCountRefused(t *testing.T) {
	header := []byte{'G', 'P', 0, flagLittleEndian, 0xE6, 0x10, 0, 0}
	body := func(typ uint32) []byte {
		b := append([]byte{1}, binary.LittleEndian.AppendUint32(nil, typ)...)
		return append(binary.LittleEndian.AppendUint32(b, math.MaxUint32), 0, 0, 0, 0)
	}
	for _, typ := range []uint32{2, 3, 4, 5, 6, 7, 1002, 3006} {
		blob := append(append([]byte{}, header...), body(typ)...)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := decodeGeom(blob)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("type %d: decoded a blob of %d bytes claiming 2³² elements", typ, len(blob))
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("type %d: allocated %d bytes to refuse it", typ, n)
		}
	}
	// Collections nested deeper than maxWKBDepth.
	var deep []byte
	for range maxWKBDepth + 2 {
		deep = append(deep, 1, 7, 0, 0, 0, 1, 0, 0, 0)
	}
	if _, err := decodeGeom(append(append([]byte{}, header...), deep...)); err == nil {
		t.Error("decoded collections nested past the limit")
	}
}
