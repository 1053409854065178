package service

import (
	"context"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
	"github.com/gapmap/gapmap/geo/sim"
)

// BenchmarkRegistryMatch measures what the hole registry adds to each
// publication of the demo province (60,000 reports): matching the holes
// of an analysis to the records, when none changed (the engine's own
// names and cells, the common case after a report) and when all must be
// matched by their cells (after a rebuild), and decorating them.
func BenchmarkRegistryMatch(b *testing.B) {
	w, err := sim.Generate(sim.Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	obs := make([]geo.Obs, len(w.Reports))
	rs := geo.NewReporters()
	for i := range w.Reports {
		obs[i] = w.Reports[i].ToObs(rs)
	}
	res, err := engine.Analyze(context.Background(), engine.Input{Areas: w.Areas, Obs: obs, Teams: w.Teams}, geo.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	s := &Service{cfg: geo.DefaultConfig(), answerDays: geo.DefaultAnswerDays}
	s.reg.init(s)
	now := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	ids := s.reg.match(res.Holes, now)
	cells := 0
	for _, h := range res.Holes {
		cells += len(h.CellIDs)
	}
	b.Logf("%d holes, %d cells", len(res.Holes), cells)
	b.Run("unchanged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.reg.match(res.Holes, now)
		}
	})
	b.Run("by-cells", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.reg.engine = map[string]engineMatch{}
			s.reg.match(res.Holes, now)
		}
	})
	b.Run("decorate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.reg.decorate(res, ids, now)
		}
	})
}
