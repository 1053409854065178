package service

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
)

// DefaultWatchEvery is how often a service polls its store for writes
// made by other processes when Options.WatchEvery is 0.
const DefaultWatchEvery = 500 * time.Millisecond

// watchChunk is how many reports the watcher reads from the store at a
// time when catching up.
const watchChunk = 10_000

// watcher picks up what other processes write to the store — the command
// line importing reports, areas or teams, reviewing, a GIS tool editing
// the areas — so a running service sees it without a restart. Users,
// tokens and sessions need nothing: the service reads them from the
// store on every request.
//
// Every poll asks the store for its Version, which costs one PRAGMA when
// nothing was committed. When it moved, the watcher catches up through
// the paths of the service's own writes: new areas or teams give a new
// base, every held report placed again in the new areas, and a rebuilt
// analysis; new reports are held and analysed as an import's are
// (accept); the reviews are read again and the rejected reports leave
// the analysis as after Review.
//
// The service's own reports are in the store too, and must not be held
// twice. Its writes hold order shared from before they write to the
// store until the reports are held, and record their IDs in own; the
// watcher reads the new reports, then holds order exclusively while it
// sorts them: by then every report of this service that the read could
// have seen is in own, so a report not in own was written by another
// process.
type watcher struct {
	s     *Service
	every time.Duration
	order sync.RWMutex

	// own holds the IDs of reports this service stored that the watcher
	// has not yet met in the store; nil when not watching. Guarded by
	// s.mu.
	own map[string]struct{}

	// Used by the watching goroutine only.
	ver     geo.Version // what was caught up with
	seq     int64       // the sequence number of the last report held
	failing bool        // the last poll failed and was logged

	stop chan struct{}
	done chan struct{}
}

// start begins watching, unless every is negative or s does not
// analyse; ver and seq are the store's version and last report when s
// loaded.
func (w *watcher) start(s *Service, every time.Duration, ver geo.Version, seq int64) {
	w.s = s
	if every < 0 || !s.analyse {
		s.mu.Lock()
		w.own = nil // see restore
		s.mu.Unlock()
		return
	}
	if every == 0 {
		every = DefaultWatchEvery
	}
	w.every, w.ver, w.seq = every, ver, seq
	s.mu.Lock()
	if w.own == nil {
		// restore records the reports taken while catching up here.
		w.own = map[string]struct{}{}
	}
	s.mu.Unlock()
	w.stop = make(chan struct{})
	w.done = make(chan struct{})
	go w.run()
}

// close stops watching and waits for a poll in progress to end.
func (w *watcher) close() {
	if w.stop == nil {
		return
	}
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// writing is called by the service before it writes reports or reviews
// to the store; it returns the function to call once they are held.
func (w *watcher) writing() (done func()) {
	w.order.RLock()
	return w.order.RUnlock
}

// stored records reports this service stored, so the watcher does not
// take them for another process's. The caller holds s.mu.
func (w *watcher) stored(rs []geo.Report) {
	if w.own == nil {
		return
	}
	for i := range rs {
		w.own[rs[i].ID] = struct{}{}
	}
}

func (w *watcher) run() {
	defer close(w.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-w.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(w.every)
	defer t.Stop()
	// A store that notifies wakes the watcher as soon as another process
	// commits; the ticker still polls, for a notification missed.
	var changed <-chan struct{}
	if n, ok := w.s.store.(geo.Notifier); ok {
		changed = n.Changed()
	}
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		case <-changed:
		}
		err := w.poll(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !w.failing:
			w.failing = true
			w.s.log.Error("watching the store for writes by other processes failed; retrying", slog.Any("err", err))
		case err == nil && w.failing:
			w.failing = false
			w.s.log.Info("watching the store again")
		}
	}
}

// poll catches up with the store when its version moved. On error the
// parts not caught up are tried again at the next poll.
func (w *watcher) poll(ctx context.Context) error {
	v, err := w.s.store.Version(ctx)
	if err != nil || v == w.ver {
		return err
	}
	s := w.s
	if v.Areas != w.ver.Areas || v.Teams != w.ver.Teams {
		if err := w.catchUpBase(ctx, v.Areas != w.ver.Areas, v.Teams != w.ver.Teams); err != nil {
			return err
		}
		w.ver.Areas, w.ver.Teams = v.Areas, v.Teams
	}
	if v.Reports != w.ver.Reports {
		n, err := w.catchUpReports(ctx)
		if n > 0 {
			s.log.Info("picked up reports written by another process", slog.Int("reports", n))
		}
		if err != nil {
			return err
		}
		w.ver.Reports = v.Reports
	}
	if v.Reviews != w.ver.Reviews {
		if err := w.catchUpReviews(ctx); err != nil {
			return err
		}
		w.ver.Reviews = v.Reviews
	}
	if v.Holes != w.ver.Holes {
		if err := w.catchUpHoles(ctx); err != nil {
			return err
		}
		w.ver.Holes = v.Holes
	}
	return nil
}

// catchUpBase reads the areas and/or teams again and makes them the
// service's base.
func (w *watcher) catchUpBase(ctx context.Context, areas, teams bool) error {
	s := w.s
	cur := s.base.Load()
	b := &base{areas: cur.areas, index: cur.index, teams: cur.teams}
	var err error
	if areas {
		if b.areas, err = s.store.Areas(ctx); err != nil {
			return err
		}
		b.index = index.New(b.areas)
		b.index.SharePoints() // the areas were just read: nothing else holds them
	}
	if teams {
		if b.teams, err = s.store.Teams(ctx); err != nil {
			return err
		}
	}
	s.setBase(b, areas)
	s.log.Info("picked up areas or teams written by another process",
		slog.Bool("areas_changed", areas), slog.Int("areas", len(b.areas)),
		slog.Bool("teams_changed", teams), slog.Int("teams", len(b.teams)))
	return nil
}

// errChunkFull stops a read of reports after watchChunk.
var errChunkFull = errors.New("chunk full")

// catchUpReports holds the reports stored after the last one held, less
// this service's own, and returns how many it took.
func (w *watcher) catchUpReports(ctx context.Context) (int, error) {
	s := w.s
	taken := 0
	for {
		var rs []geo.Report
		var last int64
		err := s.store.EachReportSince(ctx, w.seq, func(seq int64, r *geo.Report) error {
			rs = append(rs, *r)
			last = seq
			if len(rs) == watchChunk {
				return errChunkFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errChunkFull) {
			return taken, err
		}
		if len(rs) == 0 {
			return taken, nil
		}
		w.order.Lock()
		s.mu.Lock()
		k := 0
		for _, r := range rs {
			if _, mine := w.own[r.ID]; mine {
				delete(w.own, r.ID)
				continue
			}
			rs[k] = r
			k++
		}
		s.mu.Unlock()
		rs = rs[:k]
		b := s.base.Load()
		areas := make([]int32, len(rs))
		for i := range rs {
			areas[i] = b.locate(rs[i].Lon, rs[i].Lat)
		}
		s.accept(rs, areas, b, false)
		w.order.Unlock()
		w.seq = last
		taken += len(rs)
		if err == nil {
			return taken, nil
		}
	}
}

// catchUpReviews reads the reviews again and has the analysis rebuilt
// when the rejected reports changed. It holds order exclusively while it
// reads, so that a review by this service lands wholly before or after.
func (w *watcher) catchUpReviews(ctx context.Context) error {
	s := w.s
	w.order.Lock()
	defer w.order.Unlock()
	rvs, err := s.store.Reviews(ctx)
	if err != nil {
		return err
	}
	rejected := map[string]bool{}
	for _, rv := range rvs {
		if rv.Status == geo.ReviewRejected {
			rejected[rv.ReportID] = true
		}
	}
	s.mu.Lock()
	added, removed := 0, 0
	for id := range rejected {
		if !s.rejected[id] {
			added++
		}
	}
	for id := range s.rejected {
		if !rejected[id] {
			removed++
		}
	}
	if added+removed > 0 {
		s.rejected = rejected
	}
	s.mu.Unlock()
	if added+removed == 0 {
		return nil
	}
	s.log.Info("picked up reviews written by another process",
		slog.Int("rejected", added), slog.Int("restored", removed))
	s.rebuild.Store(true)
	s.sch.schedule()
	return nil
}

// setBase makes b the service's base. When the areas changed, every
// report held is placed again in the new areas, into a new slice (the
// old one's prefixes belong to snapshots). The next analysis is
// rebuilt over b.
func (s *Service) setBase(b *base, areasChanged bool) {
	var obs []geo.Obs
	n := 0
	if areasChanged {
		// Place the reports held now outside mu, then those accepted
		// meanwhile under it.
		s.mu.Lock()
		held := s.obs[:len(s.obs):len(s.obs)]
		s.mu.Unlock()
		n = len(held)
		obs = make([]geo.Obs, n, n+n/8+16)
		index.Parallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				obs[i] = held[i]
				obs[i].Area = b.locate(held[i].Lon, held[i].Lat)
			}
		})
	}
	s.mu.Lock()
	if areasChanged {
		for _, o := range s.obs[n:] {
			o.Area = b.locate(o.Lon, o.Lat)
			obs = append(obs, o)
		}
		s.obs = obs
	}
	s.base.Store(b)
	s.mu.Unlock()
	s.sch.schedule()
}
