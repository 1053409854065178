// Package service is gapmap's running application, without HTTP: it
// loads the areas, teams, reports and reviews from a store, holds the
// reports in memory and the live analysis over them, publishes analysis
// snapshots from a background scheduler, and picks up what other
// processes (the command line) write to the store. Every write goes
// through it — adding a report, importing, reviewing, users, tokens,
// sign-ins — with the checks of geo.Viewer and the audit log, so the
// HTTP API (package api) and the command line (cmd/gapmap) follow the
// same rules.
//
// It imports geo and its sub-packages, never api or data: the store is
// handed to New.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
	"github.com/gapmap/gapmap/geo/index"
)

// Store is what the service keeps its data in: reports, areas and teams,
// the accounts, the hole registry and the webhooks.
type Store interface {
	geo.Store
	geo.Accounts
	geo.TaskStore
	geo.HoleStore
	geo.WebhookStore
}

// Options configure a Service. The zero value is usable.
type Options struct {
	// Config is the engine configuration; the zero value means
	// geo.DefaultConfig().
	Config geo.Config
	// Now is the clock reports are validated against and writes are
	// stamped with (default time.Now).
	Now func() time.Time
	// Logger receives the analysis log and errors; nil discards them.
	Logger *slog.Logger
	// NoAnalysis makes a service for one-shot writes from the command
	// line: it loads the areas (to check scopes) but neither holds the
	// reports nor analyses them, and Snapshot returns nil. The rules of
	// every write are the same.
	NoAnalysis bool
	// SaveAnalysisEvery is the least time between two background saves of
	// the published analysis to the store (default 2 s); see
	// FlushAnalysis.
	SaveAnalysisEvery time.Duration
	// WatchEvery is how often the service polls the store's version to
	// pick up writes made by another process, such as the command line
	// (0 means DefaultWatchEvery; negative: never). A service with
	// NoAnalysis does not watch.
	WatchEvery time.Duration
	// AnswerDays is how many days after a hole is listed (or reopened)
	// its carrier's answer is due (0 means geo.DefaultAnswerDays).
	AnswerDays int
	// TickEvery is how often deadlines and month ends are checked (see
	// Tick; 0 means DefaultTickEvery, negative: never).
	TickEvery time.Duration
	// WebhookAllowHosts are the host names or IP addresses webhooks may
	// be delivered to although they are (or resolve to) loopback,
	// private or link-local addresses (GAPMAP_WEBHOOK_ALLOW_HOSTS).
	WebhookAllowHosts []string
	// WebhookBackoff is the wait before each retry of a failed delivery
	// (nil means DefaultWebhookBackoff); a delivery is given up after
	// len(WebhookBackoff)+1 attempts.
	WebhookBackoff []time.Duration
	// HoldCatchUp makes a restart that serves the analysis kept in the
	// store wait for StartCatchUp before it reads the reports, so that
	// the caller can first encode what it serves (see restart.go).
	HoldCatchUp bool
}

// Service is the running application over a store. Its methods are safe
// for concurrent use.
type Service struct {
	store   Store
	log     *slog.Logger
	cfg     geo.Config
	now     func() time.Time
	analyse bool

	// base is the areas and teams; replaced (under mu) when the watcher
	// finds that another process changed them.
	base atomic.Pointer[base]

	persist persister  // saves the published analyses to the store
	tasks   taskBook   // the teams' measurement tasks (see tasks.go)
	watch   watcher    // picks up writes made by other processes
	reg     registry   // the holes' identity and answers
	tick    ticker     // checks deadlines and month ends
	hooks   dispatcher // sends the webhooks' deliveries
	catch   catchUp    // reads the reports after a restart (restart.go)
	// answerDays is Options.AnswerDays.
	answerDays int

	// mu guards the reports held in memory. The slices are append-only:
	// a prefix handed to an analysis or a snapshot is never modified (new
	// areas get a new obs slice).
	mu        sync.Mutex
	ids       []string
	obs       []geo.Obs // insertion order; Area (in base's areas) and FlagWeak set
	reporters *geo.Reporters
	// live is the analysis every accepted report goes into, over the
	// areas and teams of liveBase; replaced (under mu) when a bulk
	// import or a review asks for a rebuild, or the base changed.
	live     *engine.Live
	liveBase *base
	rebuild  atomic.Bool
	// rejected holds the IDs of reports a reviewer rejected; they are
	// left out of the analysis. Guarded by mu.
	rejected map[string]bool

	// pubMu orders publications and subscriptions.
	pubMu sync.Mutex
	seq   uint64
	subs  []func(*Snapshot) error
	snap  atomic.Pointer[Snapshot]
	sch   scheduler
}

// Snapshot is one published analysis. It is immutable: neither the
// service nor its readers change it once it is published.
type Snapshot struct {
	// Seq numbers the snapshots of a service from 1, in publication
	// order.
	Seq uint64
	// IDs and Obs are the reports the analysis ran over, in insertion
	// order (a prefix of those the service holds), rejected ones
	// included; Obs[i] is the report IDs[i] with its area and weak flag.
	IDs []string
	Obs []geo.Obs
	// Result is the analysis, with the unobserved land's outlines, its
	// holes named by the hole registry and carrying their state and
	// deadlines (geo.Hole.Life).
	Result *geo.Result
	// Areas are the areas the analysis ran over: Obs[i].Area and
	// Result.Areas[j].Index index them. They change only when another
	// process replaced the store's areas (see Options.WatchEvery).
	Areas []geo.Area
	// Took is how long the analysis took.
	Took time.Duration

	// engine is the analysis as the engine made it, and holeIDs the
	// registry's ID of each of its holes; Result is engine decorated
	// when the snapshot is published.
	engine  *geo.Result
	holeIDs []string
	// from is the base the analysis ran over; restored marks the
	// analysis a restart found kept in the store (see restart.go).
	from     *base
	restored bool
}

// base is what the reports are analysed against: the areas, their
// index and the teams, and the staff scopes resolved over these areas.
// It is replaced whole, never modified, but for its cache of scopes.
type base struct {
	areas  []geo.Area
	index  *index.Index
	teams  []geo.Team
	scopes sync.Map // staff scope key → []bool covered areas
	// byCode maps an area code to its indexes (made when first asked).
	byCode     map[string][]int32
	byCodeOnce sync.Once
	// areasVer and teamsVer are the store's change counters (see
	// geo.Version) the areas and teams were read at, or before.
	areasVer, teamsVer int64
}

// withCode returns the indexes of b's areas with code (one per vintage
// that has it), in order.
func (b *base) withCode(code string) []int32 {
	b.byCodeOnce.Do(func() {
		b.byCode = make(map[string][]int32, len(b.areas))
		for i := range b.areas {
			c := b.areas[i].Code
			b.byCode[c] = append(b.byCode[c], int32(i))
		}
	})
	return b.byCode[code]
}

// locate returns the index of the finest area of b holding (lon, lat),
// -1 when none does.
func (b *base) locate(lon, lat float64) int32 { return int32(b.index.Locate(lon, lat)) }

// New loads the areas, teams, reports and reviews from store, runs the
// initial analysis, publishes it as the first snapshot and returns a
// Service ready to take writes, which also picks up the writes other
// processes make to the store (see Options.WatchEvery). With
// Options.NoAnalysis it loads the areas only.
func New(ctx context.Context, store Store, opt Options) (*Service, error) {
	s := &Service{
		store:      store,
		log:        opt.Logger,
		cfg:        opt.Config,
		now:        opt.Now,
		analyse:    !opt.NoAnalysis,
		reporters:  geo.NewReporters(),
		rejected:   map[string]bool{},
		answerDays: opt.AnswerDays,
	}
	if s.answerDays <= 0 {
		s.answerDays = geo.DefaultAnswerDays
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.CellRes == 0 {
		s.cfg = geo.DefaultConfig()
	}
	if err := s.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("service: config: %w", err)
	}
	if s.now == nil {
		s.now = time.Now
	}
	// The version is read first, so a write that lands while the rest
	// loads is picked up by the watcher, even if the load saw it too.
	var ver geo.Version
	var err error
	if s.analyse {
		if ver, err = store.Version(ctx); err != nil {
			return nil, fmt.Errorf("service: %w", err)
		}
	}
	b := &base{areasVer: ver.Areas, teamsVer: ver.Teams}
	if b.areas, err = store.Areas(ctx); err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	b.index = index.New(b.areas)
	b.index.SharePoints() // the areas were just read: nothing else holds them
	s.base.Store(b)
	s.sch.init(s)
	s.persist.init(store, s.log, opt.SaveAnalysisEvery)
	s.persist.also = s.saveTasks
	s.reg.init(s)
	s.persist.holes = s.reg.flush
	s.hooks.init(s, opt.WebhookAllowHosts, opt.WebhookBackoff)
	if !s.analyse {
		return s, nil
	}
	recs, err := store.HoleRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	s.reg.load(recs)
	s.hooks.reload(ctx)
	if b.teams, err = store.Teams(ctx); err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	if s.restore(ctx, b, ver, opt) {
		return s, nil
	}
	var seq int64
	err = store.EachReportSince(ctx, 0, func(n int64, r *geo.Report) error {
		s.ids = append(s.ids, r.ID)
		s.obs = append(s.obs, s.toObs(r, b.locate(r.Lon, r.Lat)))
		seq = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	rvs, err := store.Reviews(ctx)
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	for _, rv := range rvs {
		if rv.Status == geo.ReviewRejected {
			s.rejected[rv.ReportID] = true
		}
	}
	if s.live, err = engine.NewLive(ctx, s.liveInput(len(s.obs), b), s.cfg); err != nil {
		return nil, fmt.Errorf("service: initial analysis: %w", err)
	}
	s.liveBase = b
	if err := s.analyze(ctx); err != nil {
		return nil, fmt.Errorf("service: initial analysis: %w", err)
	}
	if err := s.Tick(ctx); err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	s.watch.start(s, opt.WatchEvery, ver, seq)
	s.tick.start(s, opt.TickEvery)
	s.hooks.start(ctx)
	return s, nil
}

// Close stops watching the store, the deadline checks and the background
// analysis, and waits for them to end, saving what is not saved yet. It
// does not close the store.
func (s *Service) Close() {
	s.stopCatchUp()
	s.watch.close()
	s.tick.close()
	s.sch.close()
	s.hooks.close()
	s.persist.close()
}

// WaitIdle waits until no analysis is running or pending, so that the
// snapshot, and what subscribers made of it, reflects every write
// accepted before the call.
func (s *Service) WaitIdle() {
	s.waitCatchUp()
	s.sch.wait()
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Areas returns the areas the service holds now, by index (the index of
// geo.Obs.Area and geo.AreaScore.Index in the snapshots that follow; a
// snapshot carries the areas it indexes). The caller must not modify
// them.
func (s *Service) Areas() []geo.Area { return s.base.Load().areas }

// Locate returns the index of the finest area of Areas holding the point
// (lon, lat in EPSG:4326), or -1 when no area does.
func (s *Service) Locate(lon, lat float64) int32 { return s.base.Load().locate(lon, lat) }

// Reports returns how many reports the service holds (0 with
// Options.NoAnalysis).
func (s *Service) Reports() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.obs)
}

// Snapshot returns the latest published analysis; nil with
// Options.NoAnalysis.
func (s *Service) Snapshot() *Snapshot { return s.snap.Load() }

// Subscribe calls fn with the current snapshot at once and returns its
// error (fn is then not subscribed); after that, fn is called with every
// snapshot published, in order, from the scheduler's goroutine, before
// WaitIdle returns, and its errors are logged. A slow fn delays the next
// analysis, not the writes.
func (s *Service) Subscribe(fn func(*Snapshot) error) error {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if cur := s.snap.Load(); cur != nil {
		if err := fn(cur); err != nil {
			return err
		}
	}
	s.subs = append(s.subs, fn)
	return nil
}

// liveInput is the engine's input over the first n reports held, less
// those a reviewer rejected, against b. The caller holds mu or owns s
// exclusively.
func (s *Service) liveInput(n int, b *base) engine.Input {
	obs := slices.Clone(s.obs[:n])
	if len(s.rejected) > 0 {
		k := 0
		for i := range obs {
			if !s.rejected[s.ids[i]] {
				obs[k] = obs[i]
				k++
			}
		}
		obs = obs[:k]
	}
	// The reports were located and classified once, as they came (toObs),
	// in b's areas (see setBase).
	return engine.Input{Areas: b.areas, Index: b.index, Obs: obs, Teams: b.teams, Located: true}
}

// setRejected records whether report id is rejected and, when that
// changes, has the analysis rebuilt without (or with) it.
func (s *Service) setRejected(id string, rejected bool) {
	if !s.analyse {
		return
	}
	s.mu.Lock()
	changed := s.rejected[id] != rejected
	if rejected {
		s.rejected[id] = true
	} else {
		delete(s.rejected, id)
	}
	s.mu.Unlock()
	if changed {
		s.rebuild.Store(true)
		s.sch.schedule()
	}
}

// rebuildShare sets when a batch of reports is analysed afresh rather
// than taken one by one: when it is more than 1/rebuildShare of the
// reports held. Taking one costs about 0.17 ms, a rebuild about 13 µs
// per report held (the demo province of 60,000 reports: 0.8 s), so
// below that share adding is the quicker, and a few reports written by
// another process reach the snapshot without a rebuild.
const rebuildShare = 16

// accept holds stored reports in memory and puts them into the live
// analysis; areas[i] is the area of rs[i] in b (see locate). own says
// they were stored by this service, rather than found in the store by
// the watcher.
func (s *Service) accept(rs []geo.Report, areas []int32, b *base, own bool) {
	if !s.analyse || len(rs) == 0 {
		return
	}
	s.mu.Lock()
	cur := s.base.Load()
	obs := make([]geo.Obs, len(rs))
	for i := range rs {
		area := areas[i]
		if cur != b {
			// The areas changed since rs were placed.
			area = cur.locate(rs[i].Lon, rs[i].Lat)
		}
		obs[i] = s.toObs(&rs[i], area)
		s.ids = append(s.ids, rs[i].ID)
		s.obs = append(s.obs, obs[i])
	}
	s.tasks.mu.Lock()
	now := s.now()
	for i := range obs {
		s.tasks.arrived(&obs[i], rs[i].ID, now, s.cfg.Holes.Res)
	}
	s.tasks.mu.Unlock()
	if own {
		s.watch.stored(rs)
	}
	live := s.live
	current := s.liveBase == cur
	held := len(s.obs)
	s.mu.Unlock()
	switch {
	case !current:
		// The live analysis is of older areas and is rebuilt before the
		// next snapshot; it cannot take reports placed in the new ones.
	case len(rs) > 1 && len(rs) > held/rebuildShare:
		// Many at once: one analysis from scratch is cheaper than taking
		// them one by one.
		s.rebuild.Store(true)
	default:
		for i := range obs {
			live.AddLocated(obs[i])
		}
	}
	s.sch.schedule()
}

// locate returns the index of r's area in the current base, -1 when it
// is in none, and that base.
func (s *Service) locate(r *geo.Report) (int32, *base) {
	b := s.base.Load()
	return b.locate(r.Lon, r.Lat), b
}

// toObs converts r, in area, to its compact form, classified. The caller
// holds mu or owns s exclusively.
func (s *Service) toObs(r *geo.Report, area int32) geo.Obs {
	o := r.ToObs(s.reporters)
	o.Area = area
	if s.cfg.Rules.IsWeak(&o) {
		o.Flags |= geo.FlagWeak
	}
	return o
}

// ViewerOf returns the viewer acting as user u, with a staff scope
// resolved to the service's areas (cached per scope).
func (s *Service) ViewerOf(u *geo.User) *geo.Viewer {
	v := &geo.Viewer{User: u.Name, Role: u.Role, Scope: u.Scope, Carrier: u.Carrier}
	if u.Role == geo.RoleStaff {
		b := s.base.Load()
		key := strings.Join(u.Scope, "\x00")
		if a, ok := b.scopes.Load(key); ok {
			v.Areas = a.([]bool)
		} else {
			v.Areas, _ = geo.ScopeAreas(b.areas, u.Scope)
			b.scopes.Store(key, v.Areas)
		}
	}
	return v
}

// CommandLine is the viewer of the command line: an admin, named after
// the operating-system user who ran it (user may be empty), via "cli".
func CommandLine(user string) *geo.Viewer {
	return &geo.Viewer{User: user, Role: geo.RoleAdmin, Via: "cli", Credential: "cli"}
}

// analyze publishes a new snapshot from the live analysis, rebuilding
// that from all reports first when a bulk import or a review asked for
// it, or the areas or teams changed.
func (s *Service) analyze(ctx context.Context) error {
	if s.catch.active.Load() {
		// After a restart, the reports are still being read (restart.go).
		return nil
	}
	start := time.Now()
	rebuilt := false
	s.mu.Lock()
	for {
		b := s.base.Load()
		if rb := s.rebuild.Swap(false); !rb && s.liveBase == b {
			break
		}
		rebuilt = true
		n := len(s.obs)
		in := s.liveInput(n, b)
		s.mu.Unlock()
		live, err := engine.NewLive(ctx, in, s.cfg)
		if err != nil {
			return err
		}
		s.mu.Lock()
		if s.base.Load() != b {
			// The areas changed again meanwhile, and with them every
			// report's area: start over.
			continue
		}
		// Reports accepted meanwhile went into the old analysis; replay
		// them into the new one and swap, so none is lost or taken twice.
		for _, o := range s.obs[n:] {
			live.AddLocated(o)
		}
		s.live, s.liveBase = live, b
		break
	}
	n := len(s.obs)
	ids, obs := s.ids[:n:n], s.obs[:n:n]
	live, b := s.live, s.liveBase
	s.mu.Unlock()
	res := live.ResultWithOutlines()
	now := s.now()
	holeIDs := s.reg.match(res.Holes, now)
	s.reg.observe(ids, obs, rebuilt, s.rejectedNow, res.ReportBias)
	s.reg.verify(now)
	s.publish(&Snapshot{IDs: ids, Obs: obs, Areas: b.areas, Took: time.Since(start), engine: res, holeIDs: holeIDs, from: b})
	s.announce()
	return nil
}

// publish makes snap the current snapshot, its holes decorated with
// their state from the registry, and hands it to the subscribers.
func (s *Service) publish(snap *Snapshot) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.publishLocked(snap)
}

// republish publishes the current analysis again with the registry's
// states as they are now, after an answer or a passed deadline.
func (s *Service) republish() {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	cur := s.snap.Load()
	if cur == nil {
		return
	}
	s.publishLocked(&Snapshot{IDs: cur.IDs, Obs: cur.Obs, Areas: cur.Areas, engine: cur.engine, holeIDs: cur.holeIDs, from: cur.from})
}

// publishLocked is publish; the caller holds pubMu.
func (s *Service) publishLocked(snap *Snapshot) {
	snap.Result = s.reg.decorate(snap.engine, snap.holeIDs, s.now())
	s.seq++
	snap.Seq = s.seq
	s.snap.Store(snap)
	if !snap.restored {
		s.persist.publish(snap)
	}
	for _, fn := range s.subs {
		if err := fn(snap); err != nil {
			s.log.Error("publishing the analysis failed", slog.Uint64("seq", snap.Seq), slog.Any("err", err))
		}
	}
	s.log.Info("analysis", slog.Int("reports", len(snap.IDs)), slog.Int("holes", len(snap.Result.Holes)),
		slog.Duration("took", snap.Took))
}

// scheduler runs analyses in one background goroutine, coalescing
// requests that arrive while one runs into a single further run.
type scheduler struct {
	s       *Service
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	idle    *sync.Cond
	running bool
	pending bool
	closed  bool
	wg      sync.WaitGroup
}

func (c *scheduler) init(s *Service) {
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
