package sim

import (
	"container/heap"
	"fmt"
	"math"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb/planar"
)

// vertexTolDeg is how close (in degrees, about 1 m) two boundary vertices
// must be for their areas to count as neighbours.
const vertexTolDeg = 1e-5

// NearestContiguous returns n of areas that form one contiguous region
// grown from the first area: starting with areas[0], it adds, one at a
// time, the neighbour of the region whose centroid is nearest to the first
// area's centroid (ties to the earlier area). Two areas are neighbours
// when some vertex of one lies within about a metre of a vertex of the
// other, as in boundary sets with shared edges (the 2025 commune files).
// When the region has no neighbour left (the rest lie across water), the
// nearest remaining area by centroid is added, so the region is contiguous
// as far as the land allows. The result keeps the input's order and is
// the same for the same input. It returns a *geo.FieldError when n is not
// between 1 and len(areas).
func NearestContiguous(areas []geo.Area, n int) ([]geo.Area, error) {
	if n < 1 || n > len(areas) {
		return nil, &geo.FieldError{Field: "communes", Reason: fmt.Sprintf("%d: must be between 1 and the %d areas given", n, len(areas))}
	}
	if n == len(areas) {
		return areas, nil
	}
	// Centroids and distances in metres from the first area's centroid.
	cs := make([][2]float64, len(areas))
	for i := range areas {
		c, _ := planar.CentroidArea(areas[i].Geometry)
		cs[i] = [2]float64{c[0], c[1]}
	}
	fr := newFrame(cs[0][0], cs[0][1])
	dist := make([]float64, len(areas))
	for i, c := range cs {
		x, y := fr.toXY(c[0], c[1])
		dist[i] = math.Hypot(x, y)
	}
	// Vertices bucketed on a grid of vertexTolDeg; neighbours share a
	// bucket or touch buckets.
	type key struct{ x, y int64 }
	buckets := map[key][]int32{}
	keyOf := func(lon, lat float64) key {
		return key{int64(math.Floor(lon / vertexTolDeg)), int64(math.Floor(lat / vertexTolDeg))}
	}
	for i := range areas {
		for _, p := range areas[i].Geometry {
			for _, r := range p {
				for _, pt := range r {
					k := keyOf(pt[0], pt[1])
					if b := buckets[k]; len(b) == 0 || b[len(b)-1] != int32(i) {
						buckets[k] = append(b, int32(i))
					}
				}
			}
		}
	}
	neighbours := func(i int, fn func(j int)) {
		seen := map[int32]bool{int32(i): true}
		for _, p := range areas[i].Geometry {
			for _, r := range p {
				for _, pt := range r {
					k := keyOf(pt[0], pt[1])
					for dx := int64(-1); dx <= 1; dx++ {
						for dy := int64(-1); dy <= 1; dy++ {
							for _, j := range buckets[key{k.x + dx, k.y + dy}] {
								if !seen[j] {
									seen[j] = true
									fn(int(j))
								}
							}
						}
					}
				}
			}
		}
	}
	chosen := make([]bool, len(areas))
	queued := make([]bool, len(areas))
	front := &frontier{dist: dist}
	add := func(i int) {
		chosen[i] = true
		neighbours(i, func(j int) {
			if !chosen[j] && !queued[j] {
				queued[j] = true
				heap.Push(front, j)
			}
		})
	}
	add(0)
	for k := 1; k < n; k++ {
		next := -1
		if front.Len() > 0 {
			next = heap.Pop(front).(int)
		} else {
			for i := range areas {
				if !chosen[i] && (next < 0 || dist[i] < dist[next]) {
					next = i
				}
			}
		}
		add(next)
	}
	out := make([]geo.Area, 0, n)
	for i := range areas {
		if chosen[i] {
			out = append(out, areas[i])
		}
	}
	return out, nil
}

// frontier is a min-heap of area indices by distance, then index.
type frontier struct {
	items []int
	dist  []float64
}

func (f *frontier) Len() int { return len(f.items) }
func (f *frontier) Less(a, b int) bool {
	i, j := f.items[a], f.items[b]
	if f.dist[i] != f.dist[j] {
		return f.dist[i] < f.dist[j]
	}
	return i < j
}
func (f *frontier) Swap(a, b int) { f.items[a], f.items[b] = f.items[b], f.items[a] }
func (f *frontier) Push(x any)    { f.items = append(f.items, x.(int)) }
func (f *frontier) Pop() any {
	x := f.items[len(f.items)-1]
	f.items = f.items[:len(f.items)-1]
	return x
}
