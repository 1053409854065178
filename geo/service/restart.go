package service

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
)

// A restart serves the analysis the service published last, kept in the
// store (geo.ServeState), at once: New loads the areas, teams and hole
// registry, publishes the kept analysis and returns, and a background
// catch-up reads the reports and reviews, analyses them afresh and
// publishes that; only then does the service watch the store. Until
// then the published snapshot holds no reports (Snapshot.IDs and Obs are
// empty), and no analysis runs. Writes are taken meanwhile as usual:
// a report is stored before it is acknowledged and held in memory, and
// the catch-up puts the reports it read from the store before those; it
// reads only those stored before New read the store's version, so the
// reports written meanwhile, by this service or another process, are
// each taken once, by the service as it stores them or by the watcher.

// savedAnalysis is what the service keeps of a published analysis in
// ServeState.Data, gob-encoded and deflated: the engine's result (without
// its cells, which no layer shows) and the hole registry's ID of each
// hole.
type savedAnalysis struct {
	Result  *geo.Result
	HoleIDs []string
}

// encodeState encodes snap's analysis as a ServeState.
func encodeState(snap *Snapshot) (geo.ServeState, error) {
	res := *snap.engine
	res.Cells = nil
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		return geo.ServeState{}, err
	}
	if err := gob.NewEncoder(zw).Encode(savedAnalysis{Result: &res, HoleIDs: snap.holeIDs}); err != nil {
		return geo.ServeState{}, fmt.Errorf("encode analysis: %w", err)
	}
	if err := zw.Close(); err != nil {
		return geo.ServeState{}, err
	}
	return geo.ServeState{Areas: snap.from.areasVer, Teams: snap.from.teamsVer, Reports: snap.engine.Summary.Reports, Data: buf.Bytes()}, nil
}

// decodeState decodes the analysis of st.
func decodeState(st geo.ServeState) (*savedAnalysis, error) {
	var a savedAnalysis
	if err := gob.NewDecoder(flate.NewReader(bytes.NewReader(st.Data))).Decode(&a); err != nil {
		return nil, fmt.Errorf("decode kept analysis: %w", err)
	}
	if a.Result == nil {
		return nil, errors.New("decode kept analysis: no result")
	}
	return &a, nil
}

// catchUp is the state of a restart's catch-up.
type catchUp struct {
	// active is set from New until the reports are analysed; analyses
	// wait for it to clear.
	active atomic.Bool
	// behind is set from New until the analysis of the reports is
	// published (see Status).
	behind atomic.Bool
	loaded atomic.Int64 // reports read from the store so far
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// start begins the catch-up (see Options.HoldCatchUp); once.
	start sync.Once
	run   func()
	// done is closed when the catch-up ends (nil: there is none).
	done chan struct{}
}

// Status says how current the published analysis is.
type Status struct {
	// CatchingUp is true while a restarted service serves the analysis
	// kept in the store and reads the reports to analyse them afresh.
	CatchingUp bool
	// Reports is how many reports the service holds; while catching up,
	// how many it has read from the store so far.
	Reports int
}

// Status says whether the service is catching up after a restart, and
// how many reports it holds (has read).
func (s *Service) Status() Status {
	if s.catch.behind.Load() {
		if s.catch.active.Load() {
			return Status{CatchingUp: true, Reports: int(s.catch.loaded.Load())}
		}
		return Status{CatchingUp: true, Reports: s.Reports()}
	}
	return Status{Reports: s.Reports()}
}

// restore publishes the analysis kept in the store, when there is one
// over the areas and teams of b, and starts the catch-up; it returns
// false when there is none to use, and New analyses as before.
func (s *Service) restore(ctx context.Context, b *base, ver geo.Version, opt Options) bool {
	ss, ok := s.store.(geo.ServeStateStore)
	if !ok {
		return false
	}
	st, ok, err := ss.ServeState(ctx)
	if err != nil {
		s.log.Warn("reading the kept analysis failed; analysing afresh", slog.Any("err", err))
		return false
	}
	if !ok || st.Areas != ver.Areas || st.Teams != ver.Teams {
		return false
	}
	a, err := decodeState(st)
	if err != nil {
		s.log.Warn("the kept analysis is unusable; analysing afresh", slog.Any("err", err))
		return false
	}
	if len(a.Result.Areas) < len(b.areas) {
		return false
	}
	for i := range b.areas {
		if a.Result.Areas[i].Code != b.areas[i].Code || a.Result.Areas[i].Index != i {
			return false
		}
	}
	s.catch.active.Store(true)
	s.catch.behind.Store(true)
	s.catch.loaded.Store(0)
	s.mu.Lock()
	s.watch.own = map[string]struct{}{}
	s.mu.Unlock()
	s.publish(&Snapshot{Areas: b.areas, engine: a.Result, holeIDs: a.HoleIDs, from: b, restored: true})
	s.log.Info("serving the kept analysis while reading the reports", slog.Int("reports", st.Reports),
		slog.Int("holes", len(a.Result.Holes)))
	cctx, cancel := context.WithCancel(context.Background())
	s.catch.cancel = cancel
	s.catch.done = make(chan struct{})
	s.catch.wg.Add(1)
	s.catch.run = func() { go s.catchUp(cctx, b, ver, st.Reports, opt) }
	if !opt.HoldCatchUp {
		s.StartCatchUp()
	}
	return true
}

// StartCatchUp begins a restart's catch-up held by Options.HoldCatchUp;
// it does nothing when there is none, or it began.
func (s *Service) StartCatchUp() {
	if s.catch.run != nil {
		s.catch.start.Do(s.catch.run)
	}
}

// catchUpRetry is the wait before the catch-up tries again after a
// failure to read the store.
const catchUpRetry = 5 * time.Second

// errCaughtUp stops the catch-up's read at the reports stored after New
// read the store's version.
var errCaughtUp = errors.New("caught up")

// catchUp reads the reports stored up to ver, and the reviews, analyses
// them with those taken meanwhile, publishes the analysis and starts
// watching the store.
func (s *Service) catchUp(ctx context.Context, b *base, ver geo.Version, hint int, opt Options) {
	defer s.catch.wg.Done()
	defer close(s.catch.done)
	start := time.Now()
	for {
		err := s.readHeld(ctx, b, ver, hint)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Error("reading the reports after a restart failed; retrying", slog.Any("err", err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(catchUpRetry):
		}
	}
	s.sch.schedule()
	s.sch.wait()
	s.catch.behind.Store(false)
	// Catching up held the stored analysis and the live one side by side,
	// and the garbage of reading every report: hand the memory that is
	// free now back to the system once, rather than keep it resident
	// until the runtime's background scavenger gets to it.
	debug.FreeOSMemory()
	s.log.Info("caught up", slog.Int("reports", s.Reports()), slog.Duration("took", time.Since(start)))
	if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("checking deadlines failed", slog.Any("err", err))
	}
	s.watch.start(s, opt.WatchEvery, ver, ver.Reports)
	s.tick.start(s, opt.TickEvery)
	s.hooks.start(ctx)
}

// readHeld reads the reports stored up to ver.Reports and the reviews,
// puts the reports before those the service took meanwhile, and makes
// the live analysis over them; it clears catch.active once the live
// analysis is in place, so the next analysis publishes it.
func (s *Service) readHeld(ctx context.Context, b *base, ver geo.Version, hint int) error {
	ids := make([]string, 0, hint+hint/16)
	obs := make([]geo.Obs, 0, hint+hint/16)
	err := s.store.EachReportSince(ctx, 0, func(n int64, r *geo.Report) error {
		if n > ver.Reports {
			return errCaughtUp
		}
		area := b.locate(r.Lon, r.Lat)
		s.mu.Lock()
		o := s.toObs(r, area)
		s.mu.Unlock()
		ids = append(ids, r.ID)
		obs = append(obs, o)
		s.catch.loaded.Add(1)
		return nil
	})
	if err != nil && !errors.Is(err, errCaughtUp) {
		s.catch.loaded.Store(0)
		return err
	}
	// The reviews are read with the service's own reviews held off, so
	// that each lands wholly before or after.
	s.watch.order.Lock()
	rvs, err := s.store.Reviews(ctx)
	if err != nil {
		s.watch.order.Unlock()
		s.catch.loaded.Store(0)
		return err
	}
	rejected := map[string]bool{}
	for _, rv := range rvs {
		if rv.Status == geo.ReviewRejected {
			rejected[rv.ReportID] = true
		}
	}
	s.mu.Lock()
	// No snapshot holds a prefix of s.obs yet: they may be replaced.
	s.ids = append(ids, s.ids...)
	s.obs = append(obs, s.obs...)
	s.rejected = rejected
	s.rebuild.Store(false)
	n := len(s.obs)
	in := s.liveInput(n, b)
	s.mu.Unlock()
	s.watch.order.Unlock()
	live, err := engine.NewLive(ctx, in, s.cfg)
	if err != nil {
		// Keep what was read: the next attempt reads nothing again but
		// the analysis.
		return s.retryLive(ctx, b, err)
	}
	s.adoptLive(live, b, n)
	return nil
}

// adoptLive makes live, built over the first n reports held on base b,
// the service's live analysis, adding the reports held since, and ends
// the catch-up.
func (s *Service) adoptLive(live *engine.Live, b *base, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.obs[n:] {
		live.AddLocated(o)
	}
	s.live, s.liveBase = live, b
	s.catch.active.Store(false)
}

// retryLive makes the live analysis over every report held after a
// first attempt failed with err, until it succeeds or ctx ends.
func (s *Service) retryLive(ctx context.Context, b *base, err error) error {
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Error("analysing the reports after a restart failed; retrying", slog.Any("err", err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(catchUpRetry):
		}
		s.mu.Lock()
		n := len(s.obs)
		in := s.liveInput(n, b)
		s.rebuild.Store(false)
		s.mu.Unlock()
		var live *engine.Live
		if live, err = engine.NewLive(ctx, in, s.cfg); err != nil {
			continue
		}
		s.adoptLive(live, b, n)
		return nil
	}
}

// waitCatchUp waits for the catch-up to end, if there is one.
func (s *Service) waitCatchUp() {
	if d := s.catch.done; d != nil {
		<-d
	}
}

// stopCatchUp ends the catch-up, if there is one, and waits for it.
func (s *Service) stopCatchUp() {
	if s.catch.cancel != nil {
		s.catch.cancel()
		// A catch-up never begun ends at once, its context done.
		s.StartCatchUp()
	}
	s.catch.wg.Wait()
}
