package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// Synthetic province layout: a jittered grid of hamlets, grouped in
// blocks into communes, centred in the Mekong delta. The province code 99
// does not exist in Vietnam; every name ends in "(mô phỏng)".
const (
	provLon, provLat = 106.3, 10.6
	provSizeM        = 35000.0
	hamletsX         = 16
	hamletsY         = 12
	blockX, blockY   = 4, 4 // hamlets per commune in x and y
)

// syntheticProvince returns about 180 hamlets in 12 communes. Hamlets are
// cells of a jittered grid whose edges are subdivided by shared noisy
// points, so neighbours share every edge exactly and each polygon has
// 20–56 vertices. One hamlet has a lake (an inner ring, not land) with an
// island in it that belongs to its eastern neighbour (a second polygon).
func syntheticProvince(rng *rand.Rand) []geo.Area {
	fr := newFrame(provLon, provLat)
	cw, ch := provSizeM/hamletsX, provSizeM/hamletsY
	// Grid vertices in metres.
	vx := make([][]float64, hamletsX+1)
	vy := make([][]float64, hamletsX+1)
	for i := 0; i <= hamletsX; i++ {
		vx[i] = make([]float64, hamletsY+1)
		vy[i] = make([]float64, hamletsY+1)
		for j := 0; j <= hamletsY; j++ {
			vx[i][j] = float64(i)*cw - provSizeM/2 + (rng.Float64()*2-1)*0.2*cw
			vy[i][j] = float64(j)*ch - provSizeM/2 + (rng.Float64()*2-1)*0.2*ch
		}
	}
	// Edge interiors: h[i][j] from (i,j) to (i+1,j); v[i][j] from (i,j) to (i,j+1).
	edge := func(ax, ay, bx, by float64) [][2]float64 {
		k := 5 + rng.IntN(10)
		L := math.Hypot(bx-ax, by-ay)
		nx, ny := -(by-ay)/L, (bx-ax)/L
		a1 := (rng.Float64()*2 - 1) * 0.05
		a2 := (rng.Float64()*2 - 1) * 0.02
		a3 := (rng.Float64()*2 - 1) * 0.01
		pts := make([][2]float64, 0, k-1)
		for s := 1; s < k; s++ {
			t := float64(s) / float64(k)
			t += (rng.Float64()*2 - 1) * 0.2 / float64(k)
			d := L * (a1*math.Sin(math.Pi*t) + a2*math.Sin(2*math.Pi*t) + a3*math.Sin(3*math.Pi*t) +
				(rng.Float64()*2-1)*0.006*math.Sin(math.Pi*t))
			pts = append(pts, [2]float64{ax + t*(bx-ax) + d*nx, ay + t*(by-ay) + d*ny})
		}
		return pts
	}
	hEdge := make([][][][2]float64, hamletsX)
	for i := 0; i < hamletsX; i++ {
		hEdge[i] = make([][][2]float64, hamletsY+1)
		for j := 0; j <= hamletsY; j++ {
			hEdge[i][j] = edge(vx[i][j], vy[i][j], vx[i+1][j], vy[i+1][j])
		}
	}
	vEdge := make([][][][2]float64, hamletsX+1)
	for i := 0; i <= hamletsX; i++ {
		vEdge[i] = make([][][2]float64, hamletsY)
		for j := 0; j < hamletsY; j++ {
			vEdge[i][j] = edge(vx[i][j], vy[i][j], vx[i][j+1], vy[i][j+1])
		}
	}
	pt := func(x, y float64) orb.Point {
		lon, lat := fr.toLL(x, y)
		return orb.Point{round6(lon), round6(lat)}
	}
	cell := func(i, j int) orb.Ring {
		var r orb.Ring
		r = append(r, pt(vx[i][j], vy[i][j]))
		for _, p := range hEdge[i][j] {
			r = append(r, pt(p[0], p[1]))
		}
		r = append(r, pt(vx[i+1][j], vy[i+1][j]))
		for _, p := range vEdge[i+1][j] {
			r = append(r, pt(p[0], p[1]))
		}
		r = append(r, pt(vx[i+1][j+1], vy[i+1][j+1]))
		top := hEdge[i][j+1]
		for k := len(top) - 1; k >= 0; k-- {
			r = append(r, pt(top[k][0], top[k][1]))
		}
		r = append(r, pt(vx[i][j+1], vy[i][j+1]))
		left := vEdge[i][j]
		for k := len(left) - 1; k >= 0; k-- {
			r = append(r, pt(left[k][0], left[k][1]))
		}
		return append(r, r[0])
	}
	circle := func(cx, cy, rad float64, n int, ccw bool) orb.Ring {
		r := make(orb.Ring, 0, n+1)
		for s := 0; s < n; s++ {
			a := 2 * math.Pi * float64(s) / float64(n)
			if !ccw {
				a = -a
			}
			rr := rad * (1 + (rng.Float64()*2-1)*0.1)
			r = append(r, pt(cx+rr*math.Cos(a), cy+rr*math.Sin(a)))
		}
		return append(r, r[0])
	}

	// Towns: a main town and two smaller ones make some hamlets dense.
	type town struct {
		i, j int
		main bool
	}
	towns := []town{{5 + rng.IntN(6), 4 + rng.IntN(4), true}, {1 + rng.IntN(4), 1 + rng.IntN(3), false}, {11 + rng.IntN(4), 8 + rng.IntN(3), false}}
	lakeI, lakeJ := 8+rng.IntN(4), 1+rng.IntN(3)
	if lakeI == towns[0].i && lakeJ == towns[0].j {
		lakeJ++
	}

	communeNo := func(i, j int) int { return (hamletsY/blockY-1-j/blockY)*(hamletsX/blockX) + i/blockX + 1 }
	mainCommune := communeNo(towns[0].i, towns[0].j)
	var areas []geo.Area
	for cno := 1; cno <= (hamletsX/blockX)*(hamletsY/blockY); cno++ {
		ccode := fmt.Sprintf("99%03d", cno)
		// Hamlets of this commune, north-west first.
		n := 0
		for jj := blockY - 1; jj >= 0; jj-- {
			for ii := 0; ii < blockX; ii++ {
				i := ((cno - 1) % (hamletsX / blockX) * blockX) + ii
				j := (hamletsY/blockY-1-(cno-1)/(hamletsX/blockX))*blockY + jj
				n++
				poly := orb.Polygon{cell(i, j)}
				mp := orb.MultiPolygon{poly}
				cx := (vx[i][j] + vx[i+1][j] + vx[i][j+1] + vx[i+1][j+1]) / 4
				cy := (vy[i][j] + vy[i+1][j] + vy[i][j+1] + vy[i+1][j+1]) / 4
				if i == lakeI && j == lakeJ {
					mp[0] = append(mp[0], circle(cx, cy, 360, 22, false))
				}
				if i == lakeI+1 && j == lakeJ {
					lx := (vx[lakeI][j] + vx[lakeI+1][j] + vx[lakeI][j+1] + vx[lakeI+1][j+1]) / 4
					ly := (vy[lakeI][j] + vy[lakeI+1][j] + vy[lakeI][j+1] + vy[lakeI+1][j+1]) / 4
					mp = append(mp, orb.Polygon{circle(lx+60, ly-40, 110, 12, true)})
				}
				pop := 800 + rng.Float64()*1800
				dense := false
				for _, tw := range towns {
					d := max(abs(i-tw.i), abs(j-tw.j))
					switch {
					case d == 0 && tw.main:
						pop, dense = 6000+rng.Float64()*2500, true
					case d == 0 || (d == 1 && tw.main):
						pop, dense = 3000+rng.Float64()*1500, true
					}
				}
				kind, ckind := "Ấp", "Xã"
				if cno == mainCommune {
					kind, ckind = "Khu phố", "Phường"
				}
				_ = dense
				pop = math.Round(pop)
				areas = append(areas, geo.Area{
					Code:       fmt.Sprintf("%s-%02d", ccode, n),
					Name:       fmt.Sprintf("%s Mẫu %d (mô phỏng)", kind, n),
					ParentCode: ccode,
					Level:      geo.LevelHamlet,
					Vintage:    "sim",
					Population: int64(pop),
					Households: int64(math.Round(pop / 3.6)),
					Geometry:   mp,
					Props: map[string]any{
						"parent_name": fmt.Sprintf("%s Mẫu %d (mô phỏng)", ckind, cno),
					},
				})
			}
		}
	}
	return areas
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
