package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
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
	// order (those of the service's snapshot).
	ids    []string
	obs    []geo.Obs
	result *geo.Result
	// areas are the areas the analysis ran over (obs[i].Area and
	// result.Areas[j].Index index them), and areaByCode their indexes by
	// code. They change only when another process replaced the store's
	// areas.
	areas      []geo.Area
	areaByCode map[string]int
	// layers holds each layer's GeoJSON for a request without a query,
	// built once per analysis.
	layers map[string][]byte
	// gz holds the same, gzip-compressed, for clients that accept it.
	gz   map[string][]byte
	took time.Duration
}

// analysisState holds the current state; readers load it without locks.
type analysisState struct{ p atomic.Pointer[state] }

func (a *analysisState) load() *state   { return a.p.Load() }
func (a *analysisState) store(s *state) { a.p.Store(s) }

// publish encodes the layers and OGC documents of snap and makes them
// the ones served. The service calls it (see service.Subscribe) at once
// from New, then from its scheduler after each analysis, one at a time.
func (s *Server) publish(snap *service.Snapshot) error {
	start := time.Now()
	st := &state{ids: snap.IDs, obs: snap.Obs, result: snap.Result, areas: snap.Areas,
		layers: map[string][]byte{}, gz: map[string][]byte{}}
	if prev := s.cur.load(); prev != nil && sameAreas(prev.areas, st.areas) {
		st.areaByCode = prev.areaByCode
	} else {
		st.areaByCode = make(map[string]int, len(st.areas))
		for i := range st.areas {
			st.areaByCode[st.areas[i].Code] = i
		}
	}
	n := len(st.obs)
	// Every feature is encoded once, here; whole layers, bbox windows and
	// OGC pages are then joins of those bytes.
	cat, err := s.buildOGCCatalog(st)
	if err != nil {
		return err
	}
	for _, l := range []string{"areas", "holes", "reports", "teams"} {
		var b bytes.Buffer
		bw := bufio.NewWriter(&b)
		if l == "reports" {
			err = s.writeLayer(bw, st, l, defaultLayerQuery())
		} else {
			err = s.writeLayerFeatures(bw, cat, l, defaultLayerQuery())
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			return fmt.Errorf("layer %s: %w", l, err)
		}
		st.layers[l] = b.Bytes()
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
		zw.Write(st.layers[l])
		if err := zw.Close(); err != nil {
			return fmt.Errorf("layer %s: %w", l, err)
		}
		st.gz[l] = z.Bytes()
	}
	st.took = snap.Took + time.Since(start)
	s.cur.store(st)
	s.ogc.p.Store(cat)
	s.metrics.analysisNanos.Store(int64(st.took))
	s.log.Debug("layers published", slog.Uint64("seq", snap.Seq), slog.Int("reports", n), slog.Duration("took", time.Since(start)))
	return nil
}

// sameAreas reports whether a and b are the same slice (the service hands
// the same one to every snapshot until the areas change).
func sameAreas(a, b []geo.Area) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
