package geo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Area is an administrative or community unit with a boundary: a hamlet,
// a commune, or whatever finest level a province has. Codes are unique
// within one Vintage (boundary set, e.g. "2025"); codes of different
// vintages are never compared.
type Area struct {
	Code       string
	Name       string
	ParentCode string
	Level      Level
	Vintage    string
	// Population and Households are 0 when unknown.
	Population int64
	Households int64
	// Geometry is always a MultiPolygon (a Polygon becomes one part), in
	// lon/lat (EPSG:4326). Rings are closed; the first ring of each
	// polygon is its outer ring, the others are holes.
	Geometry orb.MultiPolygon
	// Props keeps the input's other properties for output, in input order
	// of keys as decoded (may be nil).
	Props map[string]any
}

// Validate checks the area's code and geometry. It returns FieldErrors
// naming "code" or "geometry" and the reason; the caller adds the row or
// feature.
func (a *Area) Validate() error {
	var es FieldErrors
	if a.Code == "" {
		es = append(es, &FieldError{Field: "code", Reason: "required"})
	}
	if a.Population < 0 {
		es = append(es, &FieldError{Field: "population", Reason: "must not be negative"})
	}
	if a.Households < 0 {
		es = append(es, &FieldError{Field: "households", Reason: "must not be negative"})
	}
	if err := ValidateMultiPolygon(a.Geometry); err != nil {
		es = append(es, &FieldError{Field: "geometry", Reason: err.Error()})
	}
	return es.Err()
}

// ValidateMultiPolygon reports the first structural problem of mp: no
// parts, an empty part, a ring with fewer than 4 positions, an unclosed
// ring, a coordinate that is not finite or outside lon/lat range, a ring
// with zero area, a ring that crosses itself, a hole that does not lie
// inside its polygon's outer ring (ErrHoleOutside), or two rings of a
// polygon that cross or run along each other (ErrRingsCross; rings may
// touch at points). Each check takes O(n log n) for n positions. Parts of
// a MultiPolygon are not checked against each other.
func ValidateMultiPolygon(mp orb.MultiPolygon) error {
	if len(mp) == 0 {
		return fmt.Errorf("empty geometry")
	}
	for pi, p := range mp {
		if len(p) == 0 {
			return fmt.Errorf("polygon %d is empty", pi+1)
		}
		for ri, r := range p {
			where := fmt.Sprintf("polygon %d ring %d", pi+1, ri+1)
			if len(mp) == 1 {
				where = fmt.Sprintf("ring %d", ri+1)
			}
			if len(r) < 4 {
				return fmt.Errorf("%s has %d positions, want at least 4", where, len(r))
			}
			for _, pt := range r {
				if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || math.IsInf(pt[0], 0) || math.IsInf(pt[1], 0) {
					return fmt.Errorf("%s has a coordinate that is not a number", where)
				}
				if pt[0] < -180 || pt[0] > 180 || pt[1] < -90 || pt[1] > 90 {
					return fmt.Errorf("%s has position (%g, %g) outside lon/lat range", where, pt[0], pt[1])
				}
			}
			if r[0] != r[len(r)-1] {
				return fmt.Errorf("%s is not closed (first and last positions differ)", where)
			}
			if RingArea2(r) == 0 {
				return fmt.Errorf("%s has zero area", where)
			}
			if i, j, ok := ringSelfIntersection(r); ok {
				return fmt.Errorf("%s crosses itself (edges %d and %d)", where, i+1, j+1)
			}
		}
		prefix := ""
		if len(mp) > 1 {
			prefix = fmt.Sprintf("polygon %d ", pi+1)
		}
		if err := polygonRings(p, prefix); err != nil {
			return err
		}
	}
	return nil
}

// RingArea2 is twice the signed planar area of r (degrees²).
func RingArea2(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s
}
