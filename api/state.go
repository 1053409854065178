package api

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// state is one analysis and everything served from it. It is immutable
// once published.
type state struct {
	// ids and obs are the reports the analysis ran over, in insertion
	// order (a prefix of the service's).
	ids    []string
	obs    []geo.Obs
	result *geo.Result
	// areas are the areas the analysis ran over (obs[i].Area and
	// result.Areas[j].Index index them), and areaByCode their indexes by
	// code. They change only when another process replaced the store's
	// areas.
	areas      []geo.Area
	areaByCode map[string]int
	// cat holds every feature of every layer, encoded (see publish.go);
	// whole layers, bbox windows and OGC pages are joins of those bytes.
	cat *ogcCatalog
}

// analysisState holds the current state; readers load it without locks.
type analysisState struct{ p atomic.Pointer[state] }

func (a *analysisState) load() *state   { return a.p.Load() }
func (a *analysisState) store(s *state) { a.p.Store(s) }

// publishSnapshot makes snap's analysis the one served, encoding only
// what changed since the state served before (see publish). The service
// calls it (see service.Subscribe) at once from New, then from its
// scheduler after each analysis, one at a time.
func (s *Server) publishSnapshot(snap *service.Snapshot) error {
	start := time.Now()
	st := &state{ids: snap.IDs, obs: snap.Obs, result: snap.Result, areas: snap.Areas}
	prev := s.cur.load()
	// The service hands every snapshot the same areas slice until the
	// areas change.
	if prev != nil && sameSlice(prev.areas, st.areas) {
		st.areaByCode = prev.areaByCode
	} else {
		st.areaByCode = make(map[string]int, len(st.areas))
		for i := range st.areas {
			st.areaByCode[st.areas[i].Code] = i
		}
	}
	if err := s.publish(prev, st); err != nil {
		return err
	}
	took := snap.Took + time.Since(start)
	s.metrics.analysisNanos.Store(int64(took))
	s.log.Debug("layers published", slog.Uint64("seq", snap.Seq), slog.Int("reports", len(st.ids)),
		slog.Int("encoded", st.cat.stats.total()), slog.Duration("took", time.Since(start)))
	return nil
}
