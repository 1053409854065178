// Command refjoin is the reference that `make bench` measures `gapmap
// analyze` against: the bare spatial join at the heart of an analysis and
// nothing else. It parses an areas GeoJSON file and a reports CSV (lat and
// lon columns), builds an R-tree of the areas' bounding boxes, sorts the
// points along a Z-order curve, assigns each point to the first area whose
// polygon contains it (a crossing-number test) on 2 workers, and prints the
// number of points per area.
//
// Usage:
//
//	refjoin AREAS.geojson REPORTS.csv
//
// It is a yardstick, not a tool: no validation beyond what parsing needs,
// no H3, no evidence, no outputs.
package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/tidwall/rtree"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: refjoin AREAS.geojson REPORTS.csv")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "refjoin:", err)
		os.Exit(1)
	}
}

// area is one area's polygons, as rings of (lon, lat).
type area struct {
	code  string
	polys []orb.Polygon
}

func run(areasPath, reportsPath string, stdout io.Writer) error {
	areas, err := readAreas(areasPath)
	if err != nil {
		return err
	}
	lon, lat, err := readPoints(reportsPath)
	if err != nil {
		return err
	}
	var tr rtree.RTreeG[int32]
	for i, a := range areas {
		var b orb.Bound
		for j, p := range a.polys {
			if j == 0 {
				b = p.Bound()
			} else {
				b = b.Union(p.Bound())
			}
		}
		tr.Insert([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, int32(i))
	}

	// Z-order: interleave 16 bits of each coordinate scaled to the points'
	// extent, so neighbours in the order are neighbours on the ground.
	x0, x1 := slices.Min(lon), slices.Max(lon)
	y0, y1 := slices.Min(lat), slices.Max(lat)
	type key struct {
		z uint32
		i int32
	}
	keys := make([]key, len(lon))
	for i := range lon {
		qx := uint32((lon[i] - x0) / (x1 - x0 + 1e-12) * 65535)
		qy := uint32((lat[i] - y0) / (y1 - y0 + 1e-12) * 65535)
		keys[i] = key{spread(qx) | spread(qy)<<1, int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int { return int(int64(a.z) - int64(b.z)) })

	// Two workers, each over half of the sorted points, counting into
	// their own tallies.
	const workers = 2
	counts := make([][]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		counts[w] = make([]int, len(areas))
		lo, hi := w*len(keys)/workers, (w+1)*len(keys)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, k := range keys[lo:hi] {
				x, y := lon[k.i], lat[k.i]
				tr.Search([2]float64{x, y}, [2]float64{x, y}, func(_, _ [2]float64, ai int32) bool {
					for _, p := range areas[ai].polys {
						if inPolygon(p, x, y) {
							counts[w][ai]++
							return false
						}
					}
					return true
				})
			}
		}()
	}
	wg.Wait()
	out := bufio.NewWriter(stdout)
	for i, a := range areas {
		fmt.Fprintf(out, "%s\t%d\n", a.code, counts[0][i]+counts[1][i])
	}
	return out.Flush()
}

// spread puts the 16 low bits of v in the even bits of the result.
func spread(v uint32) uint32 {
	v &= 0xffff
	v = (v | v<<8) & 0x00ff00ff
	v = (v | v<<4) & 0x0f0f0f0f
	v = (v | v<<2) & 0x33333333
	v = (v | v<<1) & 0x55555555
	return v
}

// inPolygon is the crossing-number test over every ring of p (holes
// included: a point in a hole crosses its ring once more).
func inPolygon(p orb.Polygon, x, y float64) bool {
	in := false
	for _, r := range p {
		for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
			a, b := r[i], r[j]
			if (a[1] > y) != (b[1] > y) && x < (b[0]-a[0])*(y-a[1])/(b[1]-a[1])+a[0] {
				in = !in
			}
		}
	}
	return in
}

func readAreas(path string) ([]area, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	areas := make([]area, 0, len(fc.Features))
	for i, f := range fc.Features {
		a := area{code: f.Properties.MustString("code", strconv.Itoa(i))}
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			a.polys = []orb.Polygon{g}
		case orb.MultiPolygon:
			a.polys = g
		default:
			return nil, fmt.Errorf("%s: feature %d: geometry: %T, want a polygon", path, i, f.Geometry)
		}
		areas = append(areas, a)
	}
	return areas, nil
}

func readPoints(path string) (lon, lat []float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", path, err)
	}
	ilat, ilon := slices.Index(head, "lat"), slices.Index(head, "lon")
	if ilat < 0 || ilon < 0 {
		return nil, nil, fmt.Errorf("%s: header: needs lat and lon columns", path)
	}
	for row := 2; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			return lon, lat, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		y, err1 := strconv.ParseFloat(rec[ilat], 64)
		x, err2 := strconv.ParseFloat(rec[ilon], 64)
		if err1 != nil || err2 != nil {
			return nil, nil, fmt.Errorf("%s: row %d: lat/lon: not a number", path, row)
		}
		lon, lat = append(lon, x), append(lat, y)
	}
}
