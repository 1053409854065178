package geo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

func TestValidateMultiPolygonRings(t *testing.T) {
	sq := func(r orb.Ring) orb.MultiPolygon { return orb.MultiPolygon{{r}} }
	tests := []struct {
		name  string
		ring  orb.Ring
		valid bool
	}{
		{"square", orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}, true},
		{"duplicated vertex is valid", orb.Ring{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}, true},
		{"vertex repeated three times is valid", orb.Ring{{0, 0}, {1, 0}, {1, 1}, {1, 1}, {1, 1}, {0, 1}, {0, 0}}, true},
		{"duplicated closing vertex is valid", orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}, {0, 0}}, true},
		{"duplicated first vertex is valid", orb.Ring{{0, 0}, {0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}, true},
		{"triangle with duplicated vertex is valid", orb.Ring{{0, 0}, {1, 0}, {1, 0}, {0, 1}, {0, 0}}, true},
		{"bow-tie crosses", orb.Ring{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}, false},
		{"bow-tie with duplicated vertex still crosses", orb.Ring{{0, 0}, {1, 1}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}, false},
		{"spike folding back is invalid", orb.Ring{{0, 0}, {2, 0}, {1, 0}, {1, 1}, {0, 0}}, false},
		{"spike across a duplicated vertex is invalid", orb.Ring{{0, 0}, {2, 0}, {2, 0}, {1, 0}, {1, 1}, {0, 0}}, false},
		// A ring passing through one vertex twice (two loops pinched at
		// (1,1)) has non-adjacent edges that touch; it has always been
		// reported as crossing itself, and still is.
		{"figure 8 through one vertex is reported as crossing", orb.Ring{{0, 0}, {1, 1}, {2, 0}, {2, 2}, {1, 1}, {0, 2}, {0, 0}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateMultiPolygon(sq(tt.ring))
			if tt.valid && err != nil {
				t.Errorf("ValidateMultiPolygon = %v, want nil", err)
			}
			if !tt.valid && err == nil {
				t.Error("ValidateMultiPolygon = nil, want an error")
			}
		})
	}
}

// TestValidateRealCommunes reads each real 2025 commune file raw with
// orb/geojson (no repair) and validates every feature's geometry.
func TestValidateRealCommunes(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "vn-communes-2025")
	files, _ := filepath.Glob(filepath.Join(dir, "communes_2025_*.geojson"))
	if len(files) == 0 {
		t.Skipf("no commune files in %s", dir)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fc, err := geojson.UnmarshalFeatureCollection(b)
			if err != nil {
				t.Fatal(err)
			}
			if len(fc.Features) == 0 {
				t.Fatal("no features")
			}
			bad := 0
			for i, f := range fc.Features {
				var mp orb.MultiPolygon
				switch g := f.Geometry.(type) {
				case orb.Polygon:
					mp = orb.MultiPolygon{g}
				case orb.MultiPolygon:
					mp = g
				default:
					t.Errorf("feature %d (%v): geometry %T", i, f.Properties["code"], f.Geometry)
					continue
				}
				if err := ValidateMultiPolygon(mp); err != nil {
					bad++
					if bad <= 10 {
						t.Errorf("feature %d (code %v, %v): %v", i, f.Properties["code"], f.Properties["name"], err)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d features invalid", bad, len(fc.Features))
			}
		})
	}
}
