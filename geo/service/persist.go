package service

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// DefaultSaveAnalysisEvery is the least time between two saves of the
// published analysis to the store when Options.SaveAnalysisEvery is 0.
const DefaultSaveAnalysisEvery = 2 * time.Second

// saveShare bounds the share of the time spent saving while reports keep
// coming: a save starts at least saveShare times the last save's
// duration after that save began. A save's cost grows with the holes and
// areas (about 1.4 s of work for 10,000 areas, 14 s for 100,000), and
// while its transaction is open the reports wait on the store's writer.
const saveShare = 10

// persister saves the published analyses to the store, so GIS tools that
// open the store see the current holes and area scores. A save rewrites
// every hole and area score over the store's one writer connection, which
// reports wait on to commit, so saves run in the background and are
// coalesced: at most one in flight, starting at most once every interval
// (or saveShare times the last save's duration, when that is longer),
// each of the newest analysis published, and a last one on close.
type persister struct {
	store geo.Store
	log   *slog.Logger
	every time.Duration
	// also, when set, is saved with each analysis (the task book).
	also func(context.Context) error
	// holes saves the hole registry's changes; it runs before each save
	// of an analysis, whose holes carry the registry's IDs.
	holes func(context.Context) error

	// saving is held during a save, so two never overlap and a save never
	// writes an older analysis over a newer one.
	saving sync.Mutex

	mu      sync.Mutex
	next    *geo.Analysis // the newest analysis published and not yet saved
	snap    *Snapshot     // the snapshot of next, kept for a restart (see restart.go)
	failing bool          // the last save failed and was logged
	started bool
	closed  bool

	kick chan struct{} // a new analysis is waiting (capacity 1)
	stop chan struct{} // closed by close
	done chan struct{} // closed when run returns
}

func (p *persister) init(store geo.Store, log *slog.Logger, every time.Duration) {
	if every <= 0 {
		every = DefaultSaveAnalysisEvery
	}
	p.store, p.log, p.every = store, log, every
	p.kick = make(chan struct{}, 1)
	p.stop = make(chan struct{})
	p.done = make(chan struct{})
}

// publish hands the persister a newly published snapshot; it never
// blocks on a save.
func (p *persister) publish(snap *Snapshot) {
	res := snap.Result
	a := &geo.Analysis{ComputedAt: time.Now(), Reports: res.Summary.Reports, Holes: res.Holes, Areas: res.Areas}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.next, p.snap = a, snap
	if !p.started {
		p.started = true
		go p.run()
	}
	select {
	case p.kick <- struct{}{}:
	default: // a save is already due; it takes the newest
	}
}

// run saves what is published, waiting out the interval (see saveShare)
// since the last save began, until close.
func (p *persister) run() {
	defer close(p.done)
	var last time.Time
	var took time.Duration
	for {
		select {
		case <-p.kick:
		case <-p.stop:
			p.save()
			return
		}
		if wait := max(p.every, saveShare*took) - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-p.stop:
				t.Stop()
				p.save()
				return
			}
		}
		last = time.Now()
		p.save()
		took = time.Since(last)
	}
}

// save writes the newest unsaved analysis, if any. A failure is logged
// when it follows a success, and the analysis is kept for the next save
// unless a newer one has come meanwhile.
func (p *persister) save() error {
	p.saving.Lock()
	defer p.saving.Unlock()
	p.mu.Lock()
	a, snap := p.next, p.snap
	p.next, p.snap = nil, nil
	p.mu.Unlock()
	if a == nil {
		return nil
	}
	// Over a store that several replicas share, one of them saves.
	if l, ok := p.store.(geo.Leader); ok {
		if lead, err := l.Lead(context.Background(), "save-analysis"); err == nil && !lead {
			return nil
		}
	}
	start := time.Now()
	var err error
	if p.holes != nil {
		err = p.holes(context.Background())
	}
	if err == nil {
		err = p.store.SaveAnalysis(context.Background(), *a)
	}
	if ss, ok := p.store.(geo.ServeStateStore); ok && err == nil && snap != nil && snap.engine != nil && snap.from != nil {
		var st geo.ServeState
		if st, err = encodeState(snap); err == nil {
			err = ss.SaveServeState(context.Background(), st)
		}
	}
	if p.also != nil {
		err = errors.Join(err, p.also(context.Background()))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.next == nil {
			p.next, p.snap = a, snap
		}
		if !p.failing {
			p.failing = true
			p.log.Error("saving the analysis to the store failed; retrying with the next analysis", slog.Any("err", err))
		}
		return err
	}
	if p.failing {
		p.failing = false
		p.log.Info("analysis saved to the store again")
	}
	p.log.Debug("analysis saved", slog.Int("holes", len(a.Holes)), slog.Int("areas", len(a.Areas)),
		slog.Duration("took", time.Since(start)))
	return nil
}

// close stops the background saves after saving the newest analysis, and
// waits for that.
func (p *persister) close() {
	p.mu.Lock()
	started := p.started
	if !p.closed {
		p.closed = true
		if started {
			close(p.stop)
		}
	}
	p.mu.Unlock()
	if started {
		<-p.done
	}
}

// FlushAnalysis saves the newest published analysis to the store now,
// unless it is saved already, after any save in progress, and returns the
// store's error. Call WaitIdle first for the analysis to include every
// write accepted before.
func (s *Service) FlushAnalysis() error { return s.persist.save() }
