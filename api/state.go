package api

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
)

// state is one analysis and everything served from it. It is immutable
// once published.
type state struct {
	// ids and obs are the reports the analysis ran over, in insertion
	// order (a prefix of the server's).
	ids    []string
	obs    []geo.Obs
	result *geo.Result
	// cat holds every feature of every layer, encoded (see publish.go);
	// whole layers, bbox windows and OGC pages are joins of those bytes.
	cat *ogcCatalog
}

// analysisState holds the current state; readers load it without locks.
type analysisState struct{ p atomic.Pointer[state] }

func (a *analysisState) load() *state   { return a.p.Load() }
func (a *analysisState) store(s *state) { a.p.Store(s) }

// analyze publishes a new state from the live analysis, rebuilding that
// from all reports first when a bulk import asked for it.
func (s *Server) analyze(ctx context.Context) error {
	start := time.Now()
	if s.rebuild.Swap(false) {
		s.mu.Lock()
		n := len(s.obs)
		in := s.liveInput(n)
		s.mu.Unlock()
		live, err := engine.NewLive(ctx, in, s.cfg)
		if err != nil {
			return err
		}
		// Reports accepted meanwhile went into the old analysis; replay
		// them into the new one and swap, so none is lost or taken twice.
		s.mu.Lock()
		for _, o := range s.obs[n:] {
			live.Add(o)
		}
		s.live = live
		s.mu.Unlock()
	}
	s.mu.Lock()
	n := len(s.obs)
	ids, obs := s.ids[:n:n], s.obs[:n:n]
	live := s.live
	s.mu.Unlock()
	res := live.Result()
	st := &state{ids: ids, obs: obs, result: res}
	if err := s.publish(s.cur.load(), st); err != nil {
		return err
	}
	took := time.Since(start)
	s.metrics.analysisNanos.Store(int64(took))
	s.log.Info("analysis", slog.Int("reports", n), slog.Int("holes", len(res.Holes)),
		slog.Int("encoded", st.cat.stats.total()), slog.Duration("took", took))
	return nil
}

// scheduler runs analyses in one background goroutine, coalescing
// requests that arrive while one runs into a single further run.
type scheduler struct {
	s       *Server
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	idle    *sync.Cond
	running bool
	pending bool
	closed  bool
	wg      sync.WaitGroup
}

func (c *scheduler) init(s *Server) {
	c.s = s
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.idle = sync.NewCond(&c.mu)
}

// schedule asks for an analysis of the reports held now.
func (c *scheduler) schedule() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.running {
		c.pending = true
		return
	}
	c.running = true
	c.wg.Add(1)
	go c.loop()
}

func (c *scheduler) loop() {
	defer c.wg.Done()
	for {
		if err := c.s.analyze(c.ctx); err != nil && c.ctx.Err() == nil {
			c.s.log.Error("analysis failed", slog.Any("err", err))
		}
		c.mu.Lock()
		if !c.pending || c.closed {
			c.running, c.pending = false, false
			c.idle.Broadcast()
			c.mu.Unlock()
			return
		}
		c.pending = false
		c.mu.Unlock()
	}
}

// wait blocks until no analysis is running or pending.
func (c *scheduler) wait() {
	c.mu.Lock()
	for c.running {
		c.idle.Wait()
	}
	c.mu.Unlock()
}

func (c *scheduler) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// WaitIdle waits until no analysis is running or pending, so that the
// state reflects every write accepted before the call.
func (s *Server) WaitIdle() { s.sch.wait() }
