package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/gapmap/gapmap/geo/internal/geotest"
)

// provinceObs returns n reports over a province-sized box (about 100 km
// square) clustered around 3,000 villages, a third of which sit in weak
// spots, with reporters repeating and a few drive tests.
func provinceObs(n int, x0, y0, size float64) []geo.Obs {
	rng := rand.New(rand.NewPCG(11, 12))
	type village struct {
		lon, lat float64
		weak     float64
	}
	vs := make([]village, 3000)
	for i := range vs {
		vs[i] = village{x0 + rng.Float64()*size, y0 + rng.Float64()*size, 0.05}
		if i%3 == 0 {
			vs[i].weak = 0.8
		}
	}
	end := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC).Unix()
	obs := make([]geo.Obs, n)
	for i := range obs {
		v := vs[rng.IntN(len(vs))]
		o := geo.Obs{
			Lon: v.lon + rng.NormFloat64()*0.004, Lat: v.lat + rng.NormFloat64()*0.004,
			At:       end - rng.Int64N(180*86400),
			Carrier:  geo.Carriers[rng.IntN(4)],
			Tech:     geo.Tech4G,
			Reporter: uint32(rng.IntN(20000)),
			Area:     -1,
		}
		sig := -95 + rng.NormFloat64()*6
		if rng.Float64() < v.weak {
			sig = -115 + rng.NormFloat64()*5
		}
		o.SignalDBm = float32(sig)
		o.DownMbps = float32(math.NaN())
		if i%30 == 0 {
			o.Source = geo.SourceDriveTest
		}
		obs[i] = o
	}
	return obs
}

// BenchmarkAnalyzeStress runs the whole engine on 1M reports over 1,000
// areas of about 200 vertices in a box of about 100 km square with 3,000
// villages, a third of them 80% weak: a stress case where the holes
// (extrapolated around every weak village) cover millions of cells. It
// reports reports/s and the peak heap held during the run per report,
// including the 48-byte observations themselves, measured after a
// collection at each stage boundary. BenchmarkAnalyzeDemo in geo/sim is
// the realistic province.
func BenchmarkAnalyzeStress(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("reports=%d", n), func(b *testing.B) {
			areas := geotest.GridAreas(32, 32, 50, 105.8, 10.2, 0.9/32)
			ix := index.New(areas)
			base := provinceObs(n, 105.8, 10.2, 0.9)
			obs := make([]geo.Obs, n)
			var peak uint64
			b.StopTimer()
			b.ResetTimer()
			for range b.N {
				copy(obs, base)
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				// Counted: obs (the engine's input); not base.
				before := ms.HeapAlloc - uint64(n)*48
				// At each stage boundary, collect and read the live heap
				// (with the timer stopped).
				live := func(string) {
					b.StopTimer()
					runtime.GC()
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc-before)
					b.StartTimer()
				}
				b.StartTimer()
				res, err := Analyze(context.Background(), Input{Areas: areas, Index: ix, Obs: obs, Reporters: geo.NewReporters(), Progress: live}, geo.DefaultConfig())
				live("end")
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				runtime.KeepAlive(res)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "reports/s")
			b.ReportMetric(float64(peak)/float64(n), "live-heap-B/report")
		})
	}
}
