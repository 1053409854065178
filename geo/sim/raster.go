package sim

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// grid is a raster in lon/lat (EPSG:4326): cell (i, j) spans
// [x0+i·dx, x0+(i+1)·dx) × [y0+j·dy, y0+(j+1)·dy), rows counted from the
// south. A cell belongs to a polygon when its centre does.
type grid struct {
	x0, y0, dx, dy float64
	w, h           int
}

// cellOf returns the cell containing (lon, lat) and whether it is inside
// the grid.
func (g *grid) cellOf(lon, lat float64) (i, j int, ok bool) {
	fi := math.Floor((lon - g.x0) / g.dx)
	fj := math.Floor((lat - g.y0) / g.dy)
	if !(fi >= 0 && fj >= 0 && fi < float64(g.w) && fj < float64(g.h)) {
		return 0, 0, false
	}
	return int(fi), int(fj), true
}

// centre returns the centre of cell (i, j).
func (g *grid) centre(i, j int) (lon, lat float64) {
	return g.x0 + (float64(i)+0.5)*g.dx, g.y0 + (float64(j)+0.5)*g.dy
}

// scanner rasterises polygons on a grid by scanlines through the cell
// centres: each edge adds its crossing to the rows it spans (half-open in
// y, as the crossing-number test), then each row's crossings are sorted
// and filled pairwise (even-odd over the polygon's rings). The cost is
// the number of edges plus the number of filled runs, independent of how
// many polygons there are elsewhere on the grid.
type scanner struct {
	g    *grid
	rows [][]float64
}

// polygon calls fn(j, i0, i1) for each run of cells [i0, i1) in row j whose
// centres lie inside p. Rows are visited south to north.
func (s *scanner) polygon(p orb.Polygon, fn func(j, i0, i1 int)) {
	if len(p) == 0 || len(p[0]) < 4 {
		return
	}
	g := s.g
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, pt := range p[0] {
		ymin = min(ymin, pt[1])
		ymax = max(ymax, pt[1])
	}
	jmin := max(0, int(math.Ceil((ymin-g.y0)/g.dy-0.5)))
	jend := min(g.h, int(math.Ceil((ymax-g.y0)/g.dy-0.5)))
	if jend <= jmin {
		return
	}
	n := jend - jmin
	for len(s.rows) < n {
		s.rows = append(s.rows, nil)
	}
	for k := 0; k < n; k++ {
		s.rows[k] = s.rows[k][:0]
	}
	for _, r := range p {
		for k := 0; k+1 < len(r); k++ {
			xa, ya, xb, yb := r[k][0], r[k][1], r[k+1][0], r[k+1][1]
			if ya == yb {
				continue
			}
			lo, hi := min(ya, yb), max(ya, yb)
			j0 := max(jmin, int(math.Ceil((lo-g.y0)/g.dy-0.5)))
			j1 := min(jend, int(math.Ceil((hi-g.y0)/g.dy-0.5)))
			for j := j0; j < j1; j++ {
				yc := g.y0 + (float64(j)+0.5)*g.dy
				if yc < lo || yc >= hi { // guard against rounding at the ends
					continue
				}
				s.rows[j-jmin] = append(s.rows[j-jmin], xa+(yc-ya)*(xb-xa)/(yb-ya))
			}
		}
	}
	for k := 0; k < n; k++ {
		xs := s.rows[k]
		slices.Sort(xs)
		for q := 0; q+1 < len(xs); q += 2 {
			i0 := max(0, int(math.Ceil((xs[q]-g.x0)/g.dx-0.5)))
			i1 := min(g.w, int(math.Ceil((xs[q+1]-g.x0)/g.dx-0.5)))
			if i1 > i0 {
				fn(jmin+k, i0, i1)
			}
		}
	}
}

// bitmap is a packed bit set over a grid, row-major from the south-west,
// bit k in word k/64 at position k%64 (so its little-endian bytes are the
// LSB-first packed form written to JSON).
type bitmap []uint64

func newBitmap(n int) bitmap { return make(bitmap, (n+63)/64) }

func (b bitmap) get(k int) bool { return b[k>>6]&(1<<(uint(k)&63)) != 0 }
func (b bitmap) set(k int)      { b[k>>6] |= 1 << (uint(k) & 63) }

// setRun sets bits [k0, k1).
func (b bitmap) setRun(k0, k1 int) {
	for k := k0; k < k1; k++ {
		if k&63 == 0 && k+64 <= k1 {
			b[k>>6] = ^uint64(0)
			k += 63
			continue
		}
		b.set(k)
	}
}

func (b bitmap) bytes(n int) []byte {
	out := make([]byte, (n+7)/8)
	for i := range out {
		out[i] = byte(b[i>>3] >> (uint(i&7) * 8))
	}
	return out
}

func bitmapFromBytes(p []byte, n int) bitmap {
	b := newBitmap(n)
	for i := 0; i < len(p) && i < (n+7)/8; i++ {
		b[i>>3] |= uint64(p[i]) << (uint(i&7) * 8)
	}
	// Clear bits past n so counts stay exact.
	if r := n & 63; r != 0 && len(b) > 0 {
		b[len(b)-1] &= (1 << uint(r)) - 1
	}
	return b
}
