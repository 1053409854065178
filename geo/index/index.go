package index

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Index answers "which area contains this point" for millions of points.
//
// It keeps three structures, each built once:
//
//   - an R-tree (tidwall/rtree) over area bounds, for window queries
//     (Search) such as a map's bounding box;
//   - a uniform grid over the whole boundary set whose cells list the areas
//     whose bounds overlap them, finest level first, for point location;
//   - per area, a prepared polygon: its edges bucketed into horizontal
//     bands, so a point-in-polygon test looks at the few edges near the
//     point's latitude instead of every vertex, and a small raster of its
//     bounds marking cells wholly inside, wholly outside or on the
//     boundary, so most points are answered without looking at an edge.
//
// Points on an edge shared by two areas belong to exactly one of them: the
// test counts edge crossings with a half-open rule (an edge covers
// latitudes [low, high), and a point exactly on an edge is on its right
// side), computed from the edge's endpoints in a fixed order so both areas
// sharing the edge agree. Where areas overlap (a hamlet inside a commune
// loaded together) a point goes to the finest level, then the smallest
// code.
//
// An Index is immutable after NewIndex and safe for concurrent use.
type Index struct {
	areas []geo.Area
	prep  []prepared
	tree  rtree.RTreeG[int32]
	// bounds of all areas; the grid covers it.
	bound  orb.Bound
	gx, gy int
	cw, ch float64 // grid cell size in degrees
	// CSR candidate lists: grid cell g lists cand[off[g]:off[g+1]].
	off  []int32
	cand []int32
}

// New builds an index over areas, which must be valid (see
// Area.Validate). The index keeps areas (it does not copy them); Area(i)
// returns &areas[i].
func New(areas []geo.Area) *Index {
	ix := &Index{areas: areas, prep: make([]prepared, len(areas)), bound: orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}}
	Parallel(len(areas), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ix.prep[i] = prepare(areas[i].Geometry)
		}
	})
	for i := range ix.prep {
		b := ix.prep[i].bound
		ix.tree.Insert(b.Min, b.Max, int32(i))
		ix.bound = ix.bound.Union(b)
	}
	ix.buildGrid()
	return ix
}

// SharePoints points each area's rings into the index's own copy of
// their points (the same values), so that the points are held once and
// the copies the areas were read into can be collected: half of what a
// large boundary set takes. The caller must own the areas: nothing may
// read them while SharePoints runs, and nothing may change a ring's
// points in place afterwards.
func (ix *Index) SharePoints() {
	for i := range ix.areas {
		pts := ix.prep[i].pts
		k := 0
		for _, poly := range ix.areas[i].Geometry {
			for j, ring := range poly {
				poly[j] = orb.Ring(pts[k : k+len(ring) : k+len(ring)])
				k += len(ring)
			}
		}
	}
}

// buildGrid lays a uniform grid of about two cells per area over the
// index's bounds and lists in each cell the areas whose bounds overlap it,
// in the order Locate prefers them.
func (ix *Index) buildGrid() {
	n := len(ix.areas)
	if n == 0 {
		return
	}
	w := math.Max(ix.bound.Max[0]-ix.bound.Min[0], 1e-9)
	h := math.Max(ix.bound.Max[1]-ix.bound.Min[1], 1e-9)
	cells := float64(min(max(2*n, 16), 1<<22))
	ix.gx = max(1, int(math.Round(math.Sqrt(cells*w/h))))
	ix.gy = max(1, int(math.Round(cells/float64(ix.gx))))
	ix.cw, ix.ch = w/float64(ix.gx), h/float64(ix.gy)

	// Areas in preference order: finest level first, then code.
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(ix.areas[a].Level, ix.areas[b].Level); c != 0 {
			return c
		}
		return cmp.Compare(ix.areas[a].Code, ix.areas[b].Code)
	})
	counts := make([]int32, ix.gx*ix.gy+1)
	eachCell := func(i int32, fn func(g int)) {
		b := ix.prep[i].bound
		x0, y0 := ix.cellXY(b.Min[0], b.Min[1])
		x1, y1 := ix.cellXY(b.Max[0], b.Max[1])
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				fn(y*ix.gx + x)
			}
		}
	}
	for _, i := range order {
		eachCell(i, func(g int) { counts[g+1]++ })
	}
	for g := 1; g < len(counts); g++ {
		counts[g] += counts[g-1]
	}
	ix.off = counts
	ix.cand = make([]int32, counts[len(counts)-1])
	fill := slices.Clone(counts[:len(counts)-1])
	for _, i := range order {
		eachCell(i, func(g int) {
			ix.cand[fill[g]] = i
			fill[g]++
		})
	}
}

// cellXY returns the grid cell of a point, clamped to the grid.
func (ix *Index) cellXY(lon, lat float64) (int, int) {
	x := int((lon - ix.bound.Min[0]) / ix.cw)
	y := int((lat - ix.bound.Min[1]) / ix.ch)
	return min(max(x, 0), ix.gx-1), min(max(y, 0), ix.gy-1)
}

// Len is the number of areas.
func (ix *Index) Len() int { return len(ix.areas) }

// Area returns area i.
func (ix *Index) Area(i int) *geo.Area { return &ix.areas[i] }

// Bound returns the bounds of all areas.
func (ix *Index) Bound() orb.Bound { return ix.bound }

// Locate returns the index of the area containing (lon, lat), or -1 when
// the point is outside every area. Where areas overlap it returns the
// finest level, then the smallest code.
func (ix *Index) Locate(lon, lat float64) int {
	if len(ix.areas) == 0 || !(lon >= ix.bound.Min[0] && lon <= ix.bound.Max[0] && lat >= ix.bound.Min[1] && lat <= ix.bound.Max[1]) {
		return -1
	}
	x, y := ix.cellXY(lon, lat)
	g := y*ix.gx + x
	for _, i := range ix.cand[ix.off[g]:ix.off[g+1]] {
		if ix.prep[i].contains(lon, lat) {
			return int(i)
		}
	}
	return -1
}

// Contains reports whether area i contains (lon, lat) under the index's
// boundary rule.
func (ix *Index) Contains(i int, lon, lat float64) bool {
	return ix.prep[i].contains(lon, lat)
}

// Search calls fn with the index of every area whose bounds intersect b,
// until fn returns false.
func (ix *Index) Search(b orb.Bound, fn func(i int) bool) {
	ix.tree.Search(b.Min, b.Max, func(_, _ [2]float64, i int32) bool { return fn(int(i)) })
}

// Assign sets obs[i].Area for every observation, in parallel. Points are
// visited in spatial (Hilbert curve) order so that consecutive lookups
// touch the same polygons; obs itself is not reordered.
func (ix *Index) Assign(obs []geo.Obs) {
	if len(obs) < 4096 {
		for i := range obs {
			obs[i].Area = int32(ix.Locate(obs[i].Lon, obs[i].Lat))
		}
		return
	}
	order := ix.hilbertOrder(len(obs), func(i int) (float64, float64) { return obs[i].Lon, obs[i].Lat })
	Parallel(len(order), func(lo, hi int) {
		for _, k := range order[lo:hi] {
			o := &obs[uint32(k)]
			o.Area = int32(ix.Locate(o.Lon, o.Lat))
		}
	})
}

// AssignPoints returns the area of each point (-1 when outside every area).
func (ix *Index) AssignPoints(pts []orb.Point) []int32 {
	out := make([]int32, len(pts))
	order := ix.hilbertOrder(len(pts), func(i int) (float64, float64) { return pts[i][0], pts[i][1] })
	Parallel(len(order), func(lo, hi int) {
		for _, k := range order[lo:hi] {
			i := uint32(k)
			out[i] = int32(ix.Locate(pts[i][0], pts[i][1]))
		}
	})
	return out
}

// hilbertOrder returns, for n points, values whose low 32 bits are the
// point indexes in Hilbert-curve order over the index's bounds.
func (ix *Index) hilbertOrder(n int, at func(i int) (float64, float64)) []uint64 {
	keys := make([]uint64, n)
	b := ix.bound
	sx := 65535 / math.Max(b.Max[0]-b.Min[0], 1e-12)
	sy := 65535 / math.Max(b.Max[1]-b.Min[1], 1e-12)
	Parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			lon, lat := at(i)
			x := uint32(min(max((lon-b.Min[0])*sx, 0), 65535))
			y := uint32(min(max((lat-b.Min[1])*sy, 0), 65535))
			keys[i] = uint64(hilbert16(x, y))<<32 | uint64(i)
		}
	})
	SortHigh(keys, 32)
	return keys
}

// hilbert16 maps a point of a 65536×65536 grid to its distance along the
// Hilbert curve.
func hilbert16(x, y uint32) uint32 {
	var d uint32
	for s := uint32(1 << 15); s > 0; s >>= 1 {
		var rx, ry uint32
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		if ry == 0 {
			if rx == 1 {
				x, y = s-1-x, s-1-y
			}
			x, y = y, x
		}
	}
	return d
}

// SortHigh sorts v by its upper bits bits (at most 64) with an LSD
// radix sort, 11 bits a pass, stable: values equal in those bits keep
// their input order. When the low bits of each value rise with its
// position in v (an index kept below a key), the result is that of
// slices.Sort, in a few linear passes instead of n log n comparisons.
func SortHigh(v []uint64, bits uint) {
	if len(v) < 256 || bits == 0 {
		if bits > 0 {
			slices.SortStableFunc(v, func(a, b uint64) int { return cmp.Compare(a>>(64-bits), b>>(64-bits)) })
		}
		return
	}
	const digit = 11
	passes := (min(bits, 64) + digit - 1) / digit
	buf := make([]uint64, len(v))
	src, dst := v, buf
	for shift := 64 - int(passes*digit); shift < 64; shift += digit {
		sh := uint(max(shift, 0))
		mask := uint64(1<<digit - 1)
		if shift < 0 {
			mask >>= uint(-shift) // the lowest digit is narrower
		}
		var count [1 << digit]int
		for _, x := range src {
			count[(x>>sh)&mask]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, x := range src {
			k := (x >> sh) & mask
			dst[count[k]] = x
			count[k]++
		}
		src, dst = dst, src
	}
	if &src[0] != &v[0] {
		copy(v, src)
	}
}

// Parallel splits [0, n) into one contiguous chunk per CPU and runs fn on
// each.
func Parallel(n int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < 1024 || workers == 1 {
		fn(0, n)
		return
	}
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(n, lo+chunk))
	}
	wg.Wait()
}

// prepared is a polygon made ready for fast point-in-polygon tests.
type prepared struct {
	bound orb.Bound
	// pts holds every ring's points back to back; edge k runs from pts[k]
	// to pts[k+1]. Edges from a ring's last point to the next ring's first
	// are never listed.
	pts []orb.Point
	// Edges bucketed by latitude band: band j covers
	// [minLat + j·bh, minLat + (j+1)·bh) and lists edges[boff[j]:boff[j+1]].
	nb    int
	bh    float64
	boff  []uint32
	edges []uint32
	// Raster of the bounds: rx × ry cells of rw × rh degrees, each
	// cellOut, cellIn or cellEdge.
	rx, ry int
	rw, rh float64
	cells  []uint8
}

const (
	cellOut uint8 = iota
	cellIn
	cellEdge
)

func prepare(mp orb.MultiPolygon) prepared {
	p := prepared{bound: mp.Bound()}
	n := 0
	for _, poly := range mp {
		for _, ring := range poly {
			n += len(ring)
		}
	}
	p.pts = make([]orb.Point, 0, n)
	ends := make([]bool, 0, n) // ends[k]: pts[k] is the last point of its ring
	for _, poly := range mp {
		for _, ring := range poly {
			for k, pt := range ring {
				p.pts = append(p.pts, pt)
				ends = append(ends, k == len(ring)-1)
			}
		}
	}
	all := make([]uint32, 0, n)     // every edge
	edgeIDs := make([]uint32, 0, n) // those that are not horizontal
	for k := 0; k+1 < len(p.pts); k++ {
		if ends[k] || p.pts[k] == p.pts[k+1] {
			continue
		}
		all = append(all, uint32(k))
		if p.pts[k][1] != p.pts[k+1][1] {
			edgeIDs = append(edgeIDs, uint32(k))
		}
	}
	h := p.bound.Max[1] - p.bound.Min[1]
	p.nb = max(1, min(len(edgeIDs)/4, 4096))
	p.bh = h / float64(p.nb)
	if p.bh <= 0 {
		p.nb, p.bh = 1, 1
	}
	counts := make([]uint32, p.nb+1)
	bandsOf := func(k uint32) (int, int) {
		y0, y1 := p.pts[k][1], p.pts[k+1][1]
		if y0 > y1 {
			y0, y1 = y1, y0
		}
		return p.band(y0), p.band(y1)
	}
	for _, k := range edgeIDs {
		b0, b1 := bandsOf(k)
		for b := b0; b <= b1; b++ {
			counts[b+1]++
		}
	}
	for b := 1; b <= p.nb; b++ {
		counts[b] += counts[b-1]
	}
	p.boff = counts
	p.edges = make([]uint32, counts[p.nb])
	fill := slices.Clone(counts[:p.nb])
	for _, k := range edgeIDs {
		b0, b1 := bandsOf(k)
		for b := b0; b <= b1; b++ {
			p.edges[fill[b]] = k
			fill[b]++
		}
	}
	p.raster(all)
	return p
}

// band returns the latitude band of y, clamped.
func (p *prepared) band(y float64) int {
	return min(max(int((y-p.bound.Min[1])/p.bh), 0), p.nb-1)
}

// raster classifies a grid of cells over the bounds: cells any edge
// touches (including horizontal ones, with a margin so edges on a cell
// border mark both sides) are cellEdge; the others are wholly inside or
// outside, decided by testing their centres.
func (p *prepared) raster(edges []uint32) {
	side := min(max(int(math.Sqrt(float64(len(p.pts)))), 4), 48)
	w := p.bound.Max[0] - p.bound.Min[0]
	h := p.bound.Max[1] - p.bound.Min[1]
	if w <= 0 || h <= 0 {
		return
	}
	p.rx, p.ry = side, side
	p.rw, p.rh = w/float64(side), h/float64(side)
	p.cells = make([]uint8, side*side)
	ex, ey := p.rw*1e-6, p.rh*1e-6
	mark := func(x0, y0, x1, y1 float64) {
		if y0 > y1 {
			x0, y0, x1, y1 = x1, y1, x0, y0
		}
		r0 := p.rowOf(y0 - ey)
		r1 := p.rowOf(y1 + ey)
		for r := r0; r <= r1; r++ {
			// The edge's x extent within this row's latitude slab.
			lo := p.bound.Min[1] + float64(r)*p.rh - ey
			hi := lo + p.rh + 2*ey
			xa, xb := x0, x1
			if y1 > y0 {
				ta := math.Max(0, (lo-y0)/(y1-y0))
				tb := math.Min(1, (hi-y0)/(y1-y0))
				xa, xb = x0+ta*(x1-x0), x0+tb*(x1-x0)
			}
			if xa > xb {
				xa, xb = xb, xa
			}
			c0, c1 := p.colOf(xa-ex), p.colOf(xb+ex)
			for c := c0; c <= c1; c++ {
				p.cells[r*p.rx+c] = cellEdge
			}
		}
	}
	for _, k := range edges {
		a, b := p.pts[k], p.pts[k+1]
		mark(a[0], a[1], b[0], b[1])
	}
	for r := 0; r < p.ry; r++ {
		for c := 0; c < p.rx; c++ {
			i := r*p.rx + c
			if p.cells[i] == cellEdge {
				continue
			}
			x := p.bound.Min[0] + (float64(c)+0.5)*p.rw
			y := p.bound.Min[1] + (float64(r)+0.5)*p.rh
			if p.crossings(x, y) {
				p.cells[i] = cellIn
			}
		}
	}
}

func (p *prepared) rowOf(y float64) int {
	return min(max(int((y-p.bound.Min[1])/p.rh), 0), p.ry-1)
}

func (p *prepared) colOf(x float64) int {
	return min(max(int((x-p.bound.Min[0])/p.rw), 0), p.rx-1)
}

// contains reports whether (x, y) is inside the polygon.
func (p *prepared) contains(x, y float64) bool {
	if !(x >= p.bound.Min[0] && x <= p.bound.Max[0] && y >= p.bound.Min[1] && y <= p.bound.Max[1]) {
		return false
	}
	if p.cells != nil {
		switch p.cells[p.rowOf(y)*p.rx+p.colOf(x)] {
		case cellIn:
			return true
		case cellOut:
			return false
		}
	}
	return p.crossings(x, y)
}

// crossings counts the edges a ray from (x, y) towards +x crosses and
// reports whether the count is odd. An edge covers latitudes [low, high)
// of its endpoints; its crossing longitude is computed from the lower
// endpoint, so two polygons sharing the edge compute the same value.
func (p *prepared) crossings(x, y float64) bool {
	b := p.band(y)
	in := false
	for _, k := range p.edges[p.boff[b]:p.boff[b+1]] {
		a, c := p.pts[k], p.pts[k+1]
		if a[1] > c[1] {
			a, c = c, a
		}
		if y < a[1] || y >= c[1] {
			continue
		}
		if x < a[0]+(y-a[1])*(c[0]-a[0])/(c[1]-a[1]) {
			in = !in
		}
	}
	return in
}

// Each runs fn(0) … fn(n-1) on up to GOMAXPROCS goroutines and waits.
func Each(n int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}
