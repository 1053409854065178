package sim_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/gapmap/gapmap/geo/sim"
)

// BenchmarkAnalyzeDemo runs the whole engine on the simulated province
// (1,200 km², 192 hamlets) with 1M reports, as `gapmap analyze` would,
// and reports reports/s and the peak live heap per report (including the
// 48-byte observations, measured after a collection at each stage
// boundary). Generating the province is not timed.
func BenchmarkAnalyzeDemo(b *testing.B) {
	for _, n := range []int{1_000_000} {
		b.Run(fmt.Sprintf("reports=%d", n), func(b *testing.B) {
			w, err := sim.Generate(sim.Options{Seed: 1, Reports: n})
			if err != nil {
				b.Fatal(err)
			}
			rs := geo.NewReporters()
			base := make([]geo.Obs, len(w.Reports))
			for i := range w.Reports {
				base[i] = w.Reports[i].ToObs(rs)
			}
			w.Reports = nil
			ix := index.New(w.Areas)
			obs := make([]geo.Obs, n)
			var peak uint64
			b.StopTimer()
			b.ResetTimer()
			for range b.N {
				copy(obs, base)
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				before := ms.HeapAlloc - uint64(n)*48
				live := func(string) {
					b.StopTimer()
					runtime.GC()
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc-before)
					b.StartTimer()
				}
				b.StartTimer()
				res, err := engine.Analyze(context.Background(), engine.Input{Areas: w.Areas, Index: ix, Obs: obs, Reporters: rs, Teams: w.Teams, Progress: live}, geo.DefaultConfig())
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

// BenchmarkLiveAdd measures taking one report into a Live analysis of the
// simulated province (60,000 reports): the area counts, the evidence and
// the judgement of the cells around it (add); a Result, which redraws the
// holes those cells changed and scores every area (result); and both for
// each report (add+result).
func BenchmarkLiveAdd(b *testing.B) {
	w, err := sim.Generate(sim.Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	more, err := sim.Generate(sim.Options{Seed: 2})
	if err != nil {
		b.Fatal(err)
	}
	rs := geo.NewReporters()
	obs := make([]geo.Obs, len(w.Reports))
	for i := range w.Reports {
		obs[i] = w.Reports[i].ToObs(rs)
	}
	live, err := engine.NewLive(context.Background(), engine.Input{Areas: w.Areas, Obs: obs, Teams: w.Teams}, geo.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("add", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := range b.N {
			t0 := time.Now()
			live.Add(more.Reports[i%len(more.Reports)].ToObs(rs))
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	})
	b.Run("result", func(b *testing.B) {
		for range b.N {
			live.Result()
		}
	})
	// One report, then fresh scores and holes with it and the unobserved
	// land's outlines, as the service publishes them: the latency of a
	// report reaching the published analysis.
	b.Run("add+result", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := range b.N {
			t0 := time.Now()
			live.Add(more.Reports[(i+b.N)%len(more.Reports)].ToObs(rs))
			live.ResultWithOutlines()
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	})
	// The measurement tasks of every team, as the service proposes them
	// when a staff user asks after a new analysis.
	b.Run("tasks", func(b *testing.B) {
		for range b.N {
			live.Tasks()
		}
	})
}
