package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
)

// Radio model. Received power of a 4G cell-specific reference signal
// (RSRP) at distance d km from a tower follows a COST-231-Hata-like
// log-distance law fitted to a delta landscape of rice fields, orchards
// and villages:
//
//	RSRP(d) = P1km − Slope·log10(d) + S(x, y)
//
// where P1km is the tower's RSRP at 1 km (depends on its power and
// height) and S is correlated log-normal shadowing: a Gaussian random
// field with σ = ShadowSigmaDB made of a short-range component (e-folding
// distance ≈ 400 m: tree lines, villages) and a long-range one (≈ 1.5 km:
// orchards, river bends), partly shared by all carriers (the obstacles
// are the same) and partly carrier-specific (antenna azimuths, bands).
const (
	slopeDB       = 35.2 // dB per decade (Hata, 30 m base station)
	shadowSigmaDB = 7.0
	shortCorrM    = 400.0
	longCorrM     = 1500.0
	commonShare   = 0.7  // share of shadowing variance common to all carriers
	maxRangeKm    = 10.0 // beyond this a tower is ignored (RSRP < −128 dBm)
	measureSigma  = 3.0  // dB: a phone's reading around the local mean
	// pl1kmDB is the path loss at 1 km: a tower's RSRP at 1 km is its
	// EIRP per resource element minus this.
	pl1kmDB = 117.0
)

// carrierModel is how one carrier builds its network in the model.
type carrierModel struct {
	spacingKm float64 // typical inter-site distance in the countryside
	p1km      float64 // RSRP at 1 km of a typical site, dBm
	share     float64 // subscriber market share (who reports on it)
	coloc     float64 // share of sites on another carrier's tower
}

// Viettel has the densest network; Vietnamobile the sparsest. Market
// shares are rounded from the ministry's 2024 subscriber figures.
var carrierModels = map[geo.Carrier]carrierModel{
	geo.Viettel:      {spacingKm: 3.4, p1km: -93, share: 0.52, coloc: 0},
	geo.VinaPhone:    {spacingKm: 4.0, p1km: -94, share: 0.22, coloc: 0.35},
	geo.MobiFone:     {spacingKm: 4.2, p1km: -94, share: 0.19, coloc: 0.35},
	geo.Vietnamobile: {spacingKm: 5.6, p1km: -93, share: 0.07, coloc: 0.5},
}

// downShare is the share of towers with a planted outage.
const downShare = 0.05

// model holds the generator's state between stages.
type model struct {
	w   *World
	opt Options
	fr  frame
	ix  *index.Index

	// Extent in metres of the frame, with a margin.
	x0, y0, x1, y1 float64

	// Truth raster and land.
	g     *grid
	truth *Truth

	// Shadowing fields: [0] common, [1+slot] per carrier.
	short, long [5]*field

	// Settlements.
	clusters [][]cluster // per area
	popCum   []float64   // cumulative population over areas
	dense    []bool      // per area: a town

	// Towers in metres and a bucket grid per carrier.
	tx, ty  []float64
	buckets map[geo.Carrier]*towerGrid

	roadsXY [][][2]float64
}

type cluster struct {
	x, y, sigma, weight float64
}

func newModel(w *World, opt Options) (*model, error) {
	b := w.Areas[0].Geometry.Bound()
	for i := range w.Areas {
		b = b.Union(w.Areas[i].Geometry.Bound())
	}
	c := b.Center()
	m := &model{w: w, opt: opt, fr: newFrame(c[0], c[1])}
	m.ix = index.New(w.Areas)
	m.x0, m.y0 = m.fr.toXY(b.Min[0], b.Min[1])
	m.x1, m.y1 = m.fr.toXY(b.Max[0], b.Max[1])
	if (m.x1-m.x0)*(m.y1-m.y0) > 400e3*400e3 {
		return nil, fmt.Errorf("sim: areas span %.0f × %.0f km; at most 400 × 400 km", (m.x1-m.x0)/1000, (m.y1-m.y0)/1000)
	}
	// Truth raster in lon/lat with square cells of TruthCellM at the centre.
	cell := opt.TruthCellM
	dx, dy := cell/m.fr.kx, cell/m.fr.ky
	gw := int(math.Ceil((b.Max[0]-b.Min[0])/dx)) + 2
	gh := int(math.Ceil((b.Max[1]-b.Min[1])/dy)) + 2
	if gw*gh > 64<<20 {
		return nil, fmt.Errorf("sim: truth raster of %d × %d cells is too large; use a larger truth cell size", gw, gh)
	}
	m.g = &grid{x0: b.Min[0] - dx, y0: b.Min[1] - dy, dx: dx, dy: dy, w: gw, h: gh}
	m.truth = &Truth{OriginLon: m.g.x0, OriginLat: m.g.y0, DXDeg: dx, DYDeg: dy, Width: gw, Height: gh, CellM: cell}
	m.truth.land = newBitmap(gw * gh)
	sc := &scanner{g: m.g}
	for i := range w.Areas {
		for _, p := range w.Areas[i].Geometry {
			sc.polygon(p, func(j, i0, i1 int) { m.truth.land.setRun(j*gw+i0, j*gw+i1) })
		}
	}
	if m.truth.LandKm2() == 0 {
		return nil, errors.New("sim: the areas cover no cell of the truth raster; use a smaller truth cell size")
	}
	w.Truth = m.truth
	// Margin so towers just outside the province still serve it.
	const margin = 6000
	m.x0, m.y0, m.x1, m.y1 = m.x0-margin, m.y0-margin, m.x1+margin, m.y1+margin
	return m, nil
}

// ---------------------------------------------------------------------------
// Shadowing

// field is a Gaussian random field with unit variance on a regular grid in
// metres, read with bilinear interpolation.
type field struct {
	x0, y0, step float64
	w, h         int
	v            []float32
}

// newField draws white noise on a grid of step corrM/4 and smooths it with
// a Gaussian kernel of σ = corrM/(2·step) cells, so the correlation
// between two points d apart is exp(−d²/corrM²); then it rescales to unit
// variance.
func newField(rng *rand.Rand, x0, y0, x1, y1, corrM float64) *field {
	step := corrM / 4
	f := &field{x0: x0, y0: y0, step: step, w: int((x1-x0)/step) + 2, h: int((y1-y0)/step) + 2}
	f.v = make([]float32, f.w*f.h)
	for i := range f.v {
		f.v[i] = float32(rng.NormFloat64())
	}
	sigma := corrM / (2 * step) // cells
	rad := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*rad+1)
	for i := range k {
		d := float64(i - rad)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
	}
	// Separable blur: rows into tmp, then columns back into f.v.
	tmp := make([]float32, len(f.v))
	for y := 0; y < f.h; y++ {
		blur1D(k, f.w, func(x int) float32 { return f.v[y*f.w+x] }, func(x int, v float32) { tmp[y*f.w+x] = v })
	}
	for x := 0; x < f.w; x++ {
		blur1D(k, f.h, func(y int) float32 { return tmp[y*f.w+x] }, func(y int, v float32) { f.v[y*f.w+x] = v })
	}
	var sum, sum2 float64
	for _, v := range f.v {
		sum += float64(v)
		sum2 += float64(v) * float64(v)
	}
	n := float64(len(f.v))
	mean := sum / n
	sd := math.Sqrt(max(sum2/n-mean*mean, 1e-12))
	for i, v := range f.v {
		f.v[i] = float32((float64(v) - mean) / sd)
	}
	return f
}

// blur1D convolves a line of n values with the symmetric kernel k,
// reflecting at the ends.
func blur1D(k []float64, n int, get func(int) float32, set func(int, float32)) {
	rad := len(k) / 2
	for x := 0; x < n; x++ {
		var s float64
		for t := -rad; t <= rad; t++ {
			xx := x + t
			if xx < 0 {
				xx = -xx
			} else if xx >= n {
				xx = 2*n - 2 - xx
			}
			if xx < 0 || xx >= n {
				continue
			}
			s += k[t+rad] * float64(get(xx))
		}
		set(x, float32(s))
	}
}

func (f *field) at(x, y float64) float64 {
	fx := (x - f.x0) / f.step
	fy := (y - f.y0) / f.step
	fx = math.Max(0, math.Min(fx, float64(f.w-1)-1e-9))
	fy = math.Max(0, math.Min(fy, float64(f.h-1)-1e-9))
	i, j := int(fx), int(fy)
	tx, ty := fx-float64(i), fy-float64(j)
	i1, j1 := min(i+1, f.w-1), min(j+1, f.h-1)
	v00 := float64(f.v[j*f.w+i])
	v10 := float64(f.v[j*f.w+i1])
	v01 := float64(f.v[j1*f.w+i])
	v11 := float64(f.v[j1*f.w+i1])
	return v00*(1-tx)*(1-ty) + v10*tx*(1-ty) + v01*(1-tx)*ty + v11*tx*ty
}

// shadow returns carrier c's shadowing in dB at (x, y) metres.
func (m *model) shadow(c geo.Carrier, x, y float64) float64 {
	s := int(c) // 1..4
	common := 0.5*m.short[0].at(x, y) + 0.866*m.long[0].at(x, y)
	own := 0.5*m.short[s].at(x, y) + 0.866*m.long[s].at(x, y)
	return shadowSigmaDB * (math.Sqrt(commonShare)*common + math.Sqrt(1-commonShare)*own)
}

func (m *model) buildFields(rng *rand.Rand) {
	for k := range m.short {
		m.short[k] = newField(rng, m.x0, m.y0, m.x1, m.y1, shortCorrM)
		m.long[k] = newField(rng, m.x0, m.y0, m.x1, m.y1, longCorrM)
	}
}

// ---------------------------------------------------------------------------
// Settlements

// settle gives every area a population (when the input has none), and
// places its villages: clusters where most people live (one per 1,500
// people or 4.5 km², whichever is more), the rest scattered along canals
// and roads (uniform over the area).
func (m *model) settle(rng *rand.Rand) {
	areas := m.w.Areas
	m.clusters = make([][]cluster, len(areas))
	m.popCum = make([]float64, len(areas))
	m.dense = make([]bool, len(areas))
	var cum float64
	for i := range areas {
		a := &areas[i]
		km2 := m.areaKm2(i)
		if a.Population == 0 {
			// Delta communes: 300–1,500 people per km², log-normal.
			dens := 600 * math.Exp(0.5*rng.NormFloat64())
			a.Population = int64(math.Round(max(50, dens*km2)))
		}
		if a.Households == 0 && m.w.synthetic {
			a.Households = int64(math.Round(float64(a.Population) / 3.6))
		}
		dens := float64(a.Population) / max(km2, 0.01)
		m.dense[i] = dens > 2500
		// Villages: one per 1,500 people, and at least one per 4.5 km² of
		// land (Long An had 996 hamlets over about 4,500 km²), so large
		// communes have their people spread over many hamlets.
		k := min(80, max(1+int(float64(a.Population)/1500), int(math.Round(km2/4.5))))
		for c := 0; c < k; c++ {
			x, y, ok := m.uniformIn(rng, i, 200)
			if !ok {
				continue
			}
			sig := 250 + rng.Float64()*350
			if m.dense[i] {
				sig *= 1.6
			}
			m.clusters[i] = append(m.clusters[i], cluster{x, y, sig, 0.3 + rng.Float64()})
		}
		cum += float64(a.Population)
		m.popCum[i] = cum
	}
}

// areaKm2 is area i's land on the truth raster.
func (m *model) areaKm2(i int) float64 {
	var s float64
	sc := &scanner{g: m.g}
	for _, p := range m.w.Areas[i].Geometry {
		sc.polygon(p, func(j, i0, i1 int) { s += float64(i1-i0) * m.truth.rowCellKm2(j) })
	}
	return s
}

// uniformIn draws a point uniformly inside area i by rejection.
func (m *model) uniformIn(rng *rand.Rand, i int, tries int) (x, y float64, ok bool) {
	b := m.w.Areas[i].Geometry.Bound()
	for t := 0; t < tries; t++ {
		lon := b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0])
		lat := b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])
		if m.ix.Contains(i, lon, lat) {
			x, y = m.fr.toXY(lon, lat)
			return x, y, true
		}
	}
	return 0, 0, false
}

// home draws where a person lives: an area by population, then one of its
// villages (75%) or anywhere in it (25%). It returns the area too.
func (m *model) home(rng *rand.Rand) (x, y float64, area int) {
	total := m.popCum[len(m.popCum)-1]
	area = sort.SearchFloat64s(m.popCum, rng.Float64()*total)
	area = min(area, len(m.popCum)-1)
	cl := m.clusters[area]
	if len(cl) > 0 && rng.Float64() < 0.75 {
		var wsum float64
		for _, c := range cl {
			wsum += c.weight
		}
		r := rng.Float64() * wsum
		k := 0
		for ; k < len(cl)-1 && r > cl[k].weight; k++ {
			r -= cl[k].weight
		}
		c := cl[k]
		for t := 0; t < 20; t++ {
			x, y = c.x+rng.NormFloat64()*c.sigma, c.y+rng.NormFloat64()*c.sigma
			lon, lat := m.fr.toLL(x, y)
			if m.ix.Contains(area, lon, lat) {
				return x, y, area
			}
		}
		return c.x, c.y, area
	}
	if x, y, ok := m.uniformIn(rng, area, 50); ok {
		return x, y, area
	}
	if len(cl) > 0 {
		return cl[0].x, cl[0].y, area
	}
	p := m.w.Areas[area].Geometry[0][0][0]
	x, y = m.fr.toXY(p[0], p[1])
	return x, y, area
}

// ---------------------------------------------------------------------------
// Towers

// towerGrid buckets one carrier's live towers by 4 km squares.
type towerGrid struct {
	x0, y0 float64
	w, h   int
	cells  [][]int32 // tower indices
}

const bucketM = 4000.0

func (m *model) newTowerGrid() *towerGrid {
	tg := &towerGrid{x0: m.x0, y0: m.y0, w: int((m.x1-m.x0)/bucketM) + 1, h: int((m.y1-m.y0)/bucketM) + 1}
	tg.cells = make([][]int32, tg.w*tg.h)
	return tg
}

func (tg *towerGrid) add(x, y float64, i int32) {
	cx := min(tg.w-1, max(0, int((x-tg.x0)/bucketM)))
	cy := min(tg.h-1, max(0, int((y-tg.y0)/bucketM)))
	tg.cells[cy*tg.w+cx] = append(tg.cells[cy*tg.w+cx], i)
}

// near calls fn for every tower within r metres' buckets of (x, y).
func (tg *towerGrid) near(x, y, r float64, fn func(i int32)) {
	cx0 := max(0, int((x-r-tg.x0)/bucketM))
	cx1 := min(tg.w-1, int((x+r-tg.x0)/bucketM))
	cy0 := max(0, int((y-r-tg.y0)/bucketM))
	cy1 := min(tg.h-1, int((y+r-tg.y0)/bucketM))
	for cy := cy0; cy <= cy1; cy++ {
		for cx := cx0; cx <= cx1; cx++ {
			for _, i := range tg.cells[cy*tg.w+cx] {
				fn(i)
			}
		}
	}
}

// placeTowers builds each carrier's network: sites drawn where people live
// (60%) or anywhere on land (40%), kept apart by half the carrier's
// spacing (a third in towns); some sites are shared with another carrier.
// A few towers are down (planted outages).
func (m *model) placeTowers(rng *rand.Rand) {
	landKm2 := m.truth.LandKm2()
	type site struct{ x, y, h float64 }
	var sites []site
	siteCarriers := map[int]map[geo.Carrier]bool{}
	m.buckets = map[geo.Carrier]*towerGrid{}
	for _, c := range geo.Carriers {
		cm := carrierModels[c]
		n := max(3, int(math.Round(landKm2/(cm.spacingKm*cm.spacingKm*0.866))))
		minD := 500 * cm.spacingKm
		var mine []int // site indices of this carrier
		tooClose := func(x, y, d float64) bool {
			for _, s := range mine {
				if math.Hypot(sites[s].x-x, sites[s].y-y) < d {
					return true
				}
			}
			return false
		}
		for try := 0; len(mine) < n && try < 40*n; try++ {
			var x, y float64
			dense := false
			switch r := rng.Float64(); {
			case r < cm.coloc && len(sites) > 0:
				s := rng.IntN(len(sites))
				if siteCarriers[s][c] || tooClose(sites[s].x, sites[s].y, minD) {
					continue
				}
				mine = append(mine, s)
				siteCarriers[s][c] = true
				continue
			case r < cm.coloc+0.6*(1-cm.coloc):
				var a int
				x, y, a = m.home(rng)
				dense = m.dense[a]
			default:
				a := rng.IntN(len(m.w.Areas))
				var ok bool
				if x, y, ok = m.uniformIn(rng, a, 30); !ok {
					continue
				}
			}
			d := minD
			if dense {
				d = minD / 3
			}
			if tooClose(x, y, d) {
				continue
			}
			sites = append(sites, site{x, y, 30 + 15*rng.Float64()})
			s := len(sites) - 1
			siteCarriers[s] = map[geo.Carrier]bool{c: true}
			mine = append(mine, s)
		}
		slices.Sort(mine)
		for k, s := range mine {
			st := sites[s]
			lon, lat := m.fr.toLL(st.x, st.y)
			m.w.Towers = append(m.w.Towers, Tower{
				ID:      fmt.Sprintf("%s-%03d", c, k+1),
				Carrier: c,
				Lon:     round6(lon), Lat: round6(lat),
				Tech:    geo.Tech4G,
				HeightM: math.Round(st.h),
				// Height gain (Hata: 13.82·log10 h) around the 30 m reference,
				// plus site-to-site variation.
				EIRPdBm: math.Round((pl1kmDB+cm.p1km+13.82*math.Log10(st.h/30)+rng.NormFloat64()*1.5)*10) / 10,
				Down:    rng.Float64() < downShare,
			})
			m.tx = append(m.tx, st.x)
			m.ty = append(m.ty, st.y)
		}
	}
	// Area outages: one per 500 km² of land (at least one), every tower
	// within 2.5 km of a point in the countryside is down (a flooded
	// substation, a storm), which makes dead zones for all carriers.
	for k := 0; k < max(1, int(landKm2/500)); k++ {
		a := rng.IntN(len(m.w.Areas))
		if m.dense[a] {
			continue
		}
		x, y, ok := m.uniformIn(rng, a, 50)
		if !ok {
			continue
		}
		for i := range m.w.Towers {
			if math.Hypot(m.tx[i]-x, m.ty[i]-y) < 2500 {
				m.w.Towers[i].Down = true
			}
		}
	}
	for _, c := range geo.Carriers {
		m.buckets[c] = m.newTowerGrid()
	}
	for i, t := range m.w.Towers {
		if !t.Down {
			m.buckets[t.Carrier].add(m.tx[i], m.ty[i], int32(i))
		}
	}
}

// rsrp is carrier c's best-server RSRP at (x, y) metres, without fast
// fading: the local mean a phone outdoors would read.
func (m *model) rsrp(c geo.Carrier, x, y float64) float64 {
	best := math.Inf(-1)
	m.buckets[c].near(x, y, maxRangeKm*1000, func(i int32) {
		d := math.Hypot(m.tx[i]-x, m.ty[i]-y) / 1000
		if d > maxRangeKm {
			return
		}
		p := m.w.Towers[i].EIRPdBm - pl1kmDB - slopeDB*math.Log10(max(d, 0.05))
		best = max(best, p)
	})
	if math.IsInf(best, -1) {
		return -150
	}
	return best + m.shadow(c, x, y)
}

// computeTruth evaluates every carrier's RSRP at every land cell centre.
func (m *model) computeTruth() {
	t := m.truth
	n := t.Width * t.Height
	for _, c := range geo.Carriers {
		t.weak[c] = newBitmap(n)
	}
	for j := 0; j < t.Height; j++ {
		for i := 0; i < t.Width; i++ {
			k := j*t.Width + i
			if !t.land.get(k) {
				continue
			}
			lon, lat := m.g.centre(i, j)
			x, y := m.fr.toXY(lon, lat)
			for _, c := range geo.Carriers {
				if m.rsrp(c, x, y) < ThresholdDBm {
					t.weak[c].set(k)
				}
			}
		}
	}
	t.deriveDead()
}

// roads lays a few roads between villages; drive tests run along them.
func (m *model) roads(rng *rand.Rand) {
	var pts [][2]float64
	for i := range m.clusters {
		for _, c := range m.clusters[i] {
			pts = append(pts, [2]float64{c.x, c.y})
		}
	}
	if len(pts) < 2 {
		return
	}
	nRoads := max(2, min(12, len(pts)/10))
	for r := 0; r < nRoads; r++ {
		a := pts[rng.IntN(len(pts))]
		b := pts[rng.IntN(len(pts))]
		for k := 0; k < 5 && math.Hypot(a[0]-b[0], a[1]-b[1]) < 5000; k++ {
			b = pts[rng.IntN(len(pts))]
		}
		// A gently bending road through two intermediate points.
		line := [][2]float64{a}
		for s := 1; s <= 2; s++ {
			t := float64(s) / 3
			line = append(line, [2]float64{
				a[0] + t*(b[0]-a[0]) + rng.NormFloat64()*800,
				a[1] + t*(b[1]-a[1]) + rng.NormFloat64()*800,
			})
		}
		line = append(line, b)
		m.roadsXY = append(m.roadsXY, line)
	}
}

func (m *model) onLand(x, y float64) bool {
	lon, lat := m.fr.toLL(x, y)
	i, j, ok := m.g.cellOf(lon, lat)
	return ok && m.truth.land.get(j*m.truth.Width+i)
}
