package sim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Truth is the simulated world's true coverage on a raster in lon/lat
// (EPSG:4326): cell (i, j) is [OriginLon+i·DXDeg, +DXDeg) ×
// [OriginLat+j·DYDeg, +DYDeg), rows from the south. A cell is land when
// its centre lies inside some area (lakes, the inner rings of areas, are
// not land). A land cell is weak for a carrier when that carrier's
// best-server RSRP at the cell centre (path loss and shadowing, no fast
// fading) is below −110 dBm; it is dead when weak for all four carriers.
type Truth struct {
	OriginLon, OriginLat float64
	DXDeg, DYDeg         float64
	Width, Height        int
	// CellM is the nominal cell size in metres (DXDeg and DYDeg are it
	// converted at the centre latitude).
	CellM float64

	land bitmap
	weak [geo.CarrierAll + 1]bitmap // indexed by carrier; [CarrierAll] is dead
}

// ThresholdDBm is the RSRP below which the truth calls a place weak.
const ThresholdDBm = -110.0

func (t *Truth) grid() *grid {
	return &grid{x0: t.OriginLon, y0: t.OriginLat, dx: t.DXDeg, dy: t.DYDeg, w: t.Width, h: t.Height}
}

// deriveDead sets the dead bitmap from the four carriers'.
func (t *Truth) deriveDead() {
	d := make(bitmap, len(t.land))
	for k := range d {
		v := t.land[k]
		for _, c := range geo.Carriers {
			v &= t.weak[c][k]
		}
		d[k] = v
	}
	t.weak[geo.CarrierAll] = d
}

// WeakAt reports whether (lon, lat) is in a true weak area of carrier c
// (c == geo.CarrierAll: a dead zone, weak for every carrier) and whether
// it is land. Outside the raster both are false.
func (t *Truth) WeakAt(c geo.Carrier, lon, lat float64) (weak, land bool) {
	i, j, ok := t.grid().cellOf(lon, lat)
	if !ok || c == geo.CarrierUnknown || c > geo.CarrierAll {
		return false, false
	}
	k := j*t.Width + i
	if !t.land.get(k) {
		return false, false
	}
	return t.weak[c].get(k), true
}

// rowCellKm2 is the area of one cell in row j, in km².
func (t *Truth) rowCellKm2(j int) float64 {
	lat := t.OriginLat + (float64(j)+0.5)*t.DYDeg
	return t.DXDeg * mPerDegLon(lat) / 1000 * t.DYDeg * mPerDegLat / 1000
}

// LandKm2 is the land area of the raster in km².
func (t *Truth) LandKm2() float64 { return t.areaKm2(t.land) }

// WeakKm2 is the true weak land area of c (geo.CarrierAll: dead zones) in
// km².
func (t *Truth) WeakKm2(c geo.Carrier) float64 {
	if c == geo.CarrierUnknown || c > geo.CarrierAll {
		return 0
	}
	return t.areaKm2(t.weak[c])
}

func (t *Truth) areaKm2(b bitmap) float64 {
	var s float64
	for j := 0; j < t.Height; j++ {
		n := 0
		for i := 0; i < t.Width; i++ {
			if b.get(j*t.Width + i) {
				n++
			}
		}
		s += float64(n) * t.rowCellKm2(j)
	}
	return s
}

// pockets returns the sizes in cells of the 4-connected components of c's
// weak cells, largest first.
func (t *Truth) pockets(c geo.Carrier) []int {
	b := t.weak[c]
	n := t.Width * t.Height
	seen := newBitmap(n)
	var sizes []int
	var stack []int
	for k := 0; k < n; k++ {
		if !b.get(k) || seen.get(k) {
			continue
		}
		size := 0
		seen.set(k)
		stack = append(stack[:0], k)
		for len(stack) > 0 {
			q := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			i, j := q%t.Width, q/t.Width
			for _, nb := range [4][2]int{{i - 1, j}, {i + 1, j}, {i, j - 1}, {i, j + 1}} {
				if nb[0] < 0 || nb[1] < 0 || nb[0] >= t.Width || nb[1] >= t.Height {
					continue
				}
				m := nb[1]*t.Width + nb[0]
				if b.get(m) && !seen.get(m) {
					seen.set(m)
					stack = append(stack, m)
				}
			}
		}
		sizes = append(sizes, size)
	}
	for i := 1; i < len(sizes); i++ { // insertion sort, descending; few pockets
		for k := i; k > 0 && sizes[k] > sizes[k-1]; k-- {
			sizes[k], sizes[k-1] = sizes[k-1], sizes[k]
		}
	}
	return sizes
}

// truthJSON is the file form: bitmaps are base64 (standard encoding) of
// the bits packed LSB first, row-major from the south-west cell.
type truthJSON struct {
	Version   int               `json:"version"`
	OriginLon float64           `json:"origin_lon"`
	OriginLat float64           `json:"origin_lat"`
	DXDeg     float64           `json:"dx_deg"`
	DYDeg     float64           `json:"dy_deg"`
	Width     int               `json:"width"`
	Height    int               `json:"height"`
	CellM     float64           `json:"cell_m"`
	Threshold float64           `json:"threshold_dbm"`
	Land      string            `json:"land"`
	Weak      map[string]string `json:"weak"`
}

// WriteJSON writes t as compact JSON (see ReadTruth).
func (t *Truth) WriteJSON(w io.Writer) error {
	n := t.Width * t.Height
	tj := truthJSON{
		Version: 1, OriginLon: t.OriginLon, OriginLat: t.OriginLat, DXDeg: t.DXDeg, DYDeg: t.DYDeg,
		Width: t.Width, Height: t.Height, CellM: t.CellM, Threshold: ThresholdDBm,
		Land: base64.StdEncoding.EncodeToString(t.land.bytes(n)),
		Weak: map[string]string{},
	}
	for _, c := range geo.Carriers {
		tj.Weak[c.String()] = base64.StdEncoding.EncodeToString(t.weak[c].bytes(n))
	}
	return json.NewEncoder(w).Encode(&tj)
}

// ReadTruth reads what WriteJSON wrote. Dead zones are derived from the
// four carriers' bitmaps. It returns an error naming the field when the
// file is malformed.
func ReadTruth(r io.Reader) (*Truth, error) {
	var tj truthJSON
	if err := json.NewDecoder(r).Decode(&tj); err != nil {
		return nil, fmt.Errorf("sim: truth: %w", err)
	}
	if tj.Version != 1 {
		return nil, fmt.Errorf("sim: truth: version %d not supported", tj.Version)
	}
	if tj.Width <= 0 || tj.Height <= 0 || tj.Width > 1<<16 || tj.Height > 1<<16 {
		return nil, fmt.Errorf("sim: truth: width and height must be between 1 and 65536")
	}
	if !(tj.DXDeg > 0 && tj.DYDeg > 0) || math.IsInf(tj.DXDeg, 0) || math.IsInf(tj.DYDeg, 0) {
		return nil, fmt.Errorf("sim: truth: dx_deg and dy_deg must be positive")
	}
	n := tj.Width * tj.Height
	dec := func(name, s string) (bitmap, error) {
		p, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("sim: truth: %s: %w", name, err)
		}
		if len(p) != (n+7)/8 {
			return nil, fmt.Errorf("sim: truth: %s: %d bytes, want %d", name, len(p), (n+7)/8)
		}
		return bitmapFromBytes(p, n), nil
	}
	t := &Truth{OriginLon: tj.OriginLon, OriginLat: tj.OriginLat, DXDeg: tj.DXDeg, DYDeg: tj.DYDeg,
		Width: tj.Width, Height: tj.Height, CellM: tj.CellM}
	var err error
	if t.land, err = dec("land", tj.Land); err != nil {
		return nil, err
	}
	for _, c := range geo.Carriers {
		s, ok := tj.Weak[c.String()]
		if !ok {
			return nil, fmt.Errorf("sim: truth: weak.%s: missing", c)
		}
		if t.weak[c], err = dec("weak."+c.String(), s); err != nil {
			return nil, err
		}
		for k := range t.weak[c] {
			t.weak[c][k] &= t.land[k]
		}
	}
	t.deriveDead()
	return t, nil
}

// HolesGeoJSON writes the true weak areas as a FeatureCollection: one
// feature per carrier in geo.Carriers order and one with carrier "all" for
// dead zones, each a MultiPolygon of axis-aligned rectangles made by
// merging each row's runs of weak cells and stacking identical runs of
// consecutive rows. Rectangles of one feature touch along edges, which is
// fine for display and for Evaluate (a cell belongs to the union), but the
// MultiPolygon is not OGC-valid. Carriers with no weak land are left out.
// Properties: carrier, area_km2.
func (t *Truth) HolesGeoJSON(w io.Writer) error {
	fc := geojson.NewFeatureCollection()
	for _, c := range append(append([]geo.Carrier(nil), geo.Carriers...), geo.CarrierAll) {
		mp := t.rectangles(t.weak[c])
		if len(mp) == 0 {
			continue
		}
		f := geojson.NewFeature(mp)
		f.Properties["carrier"] = c.String()
		f.Properties["area_km2"] = math.Round(t.WeakKm2(c)*1000) / 1000
		fc.Append(f)
	}
	b, err := fc.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func (t *Truth) rectangles(b bitmap) orb.MultiPolygon {
	type run struct{ i0, i1 int }
	type open struct {
		run
		j0 int
	}
	var mp orb.MultiPolygon
	r7 := func(v float64) float64 { return math.Round(v*1e7) / 1e7 }
	emit := func(o open, j1 int) {
		x0, x1 := r7(t.OriginLon+float64(o.i0)*t.DXDeg), r7(t.OriginLon+float64(o.i1)*t.DXDeg)
		y0, y1 := r7(t.OriginLat+float64(o.j0)*t.DYDeg), r7(t.OriginLat+float64(j1)*t.DYDeg)
		mp = append(mp, orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}})
	}
	var prev []open
	var cur []open
	for j := 0; j <= t.Height; j++ {
		cur = cur[:0]
		p := 0
		if j < t.Height {
			for i := 0; i < t.Width; {
				if !b.get(j*t.Width + i) {
					i++
					continue
				}
				i0 := i
				for i < t.Width && b.get(j*t.Width+i) {
					i++
				}
				r := run{i0, i}
				// prev is sorted by i0: close the runs that end before this one.
				for p < len(prev) && prev[p].i0 < r.i0 {
					emit(prev[p], j)
					p++
				}
				if p < len(prev) && prev[p].run == r {
					cur = append(cur, prev[p])
					p++
				} else {
					cur = append(cur, open{r, j})
				}
			}
		}
		for ; p < len(prev); p++ {
			emit(prev[p], j)
		}
		prev, cur = cur, prev
	}
	return mp
}
