// Package api is gapmap's HTTP interface: map layers, area details, gap
// exports, and report submission and import, over an in-memory analysis
// state that is refreshed in the background after writes.
package api

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/engine"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/gorilla/mux"
)

// DefaultMaxBodyBytes is the default limit on a request body.
const DefaultMaxBodyBytes = 10 << 20

// Options configure a Server. The zero value is usable.
type Options struct {
	// Logger receives the request log and errors; nil discards them.
	Logger *slog.Logger
	// Config is the engine configuration; the zero value means
	// geo.DefaultConfig().
	Config geo.Config
	// MaxBodyBytes limits request bodies (default 10 MiB).
	MaxBodyBytes int64
	// Now is the clock reports are validated against (default time.Now).
	Now func() time.Time
	// Web is the map page served at / (see package web); nil serves the
	// API only.
	Web fs.FS
	// SignIn bounds the password checks of sign-ins (see SignInLimits).
	SignIn SignInLimits
	// SaveAnalysisEvery is the least time between two background saves of
	// the published analysis to the store (default 2 s); see FlushAnalysis.
	SaveAnalysisEvery time.Duration
}

// Store is what the server keeps its data in: reports, areas and teams,
// and the accounts.
type Store interface {
	geo.Store
	geo.Accounts
}

// Server serves the API over a store and an in-memory analysis state.
type Server struct {
	store   Store
	log     *slog.Logger
	cfg     geo.Config
	maxBody int64
	now     func() time.Time
	web     fs.FS
	metrics *metrics
	handler http.Handler
	router  *mux.Router

	// Loaded once: the areas do not change while the server runs.
	areas     []geo.Area
	areaByCod map[string]int
	index     *index.Index
	teams     []geo.Team

	// mu guards the reports held in memory. They are append-only: a
	// prefix handed to an analysis or a state is never modified.
	mu        sync.Mutex
	ids       []string
	obs       []geo.Obs // insertion order; Area and FlagWeak set
	reporters *geo.Reporters
	// live is the analysis every accepted report goes into; replaced (under
	// mu) when a bulk import asks for a rebuild.
	live    *engine.Live
	rebuild atomic.Bool

	// rejected holds the IDs of reports a reviewer rejected; they are
	// left out of the analysis. Guarded by mu.
	rejected map[string]bool

	scopes sync.Map // staff scope key → []bool covered areas
	signin *signinState

	cur analysisState
	sch scheduler
	ogc ogcCache // OGC API - Features documents of the current state

	persist persister // saves the published analyses to the store
}

// New loads the areas, reports and teams from store, runs an initial
// analysis and returns a Server ready to serve.
func New(ctx context.Context, store Store, opt Options) (*Server, error) {
	s := &Server{
		store:     store,
		log:       opt.Logger,
		cfg:       opt.Config,
		maxBody:   opt.MaxBodyBytes,
		now:       opt.Now,
		web:       opt.Web,
		metrics:   newMetrics(),
		reporters: geo.NewReporters(),
		rejected:  map[string]bool{},
		signin:    newSigninState(opt.SignIn),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.CellRes == 0 {
		s.cfg = geo.DefaultConfig()
	}
	if err := s.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("api: config: %w", err)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.areas, err = store.Areas(ctx); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s.areaByCod = make(map[string]int, len(s.areas))
	for i := range s.areas {
		s.areaByCod[s.areas[i].Code] = i
	}
	s.index = index.New(s.areas)
	if s.teams, err = store.Teams(ctx); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	err = store.EachReport(ctx, func(r *geo.Report) error {
		s.ids = append(s.ids, r.ID)
		s.obs = append(s.obs, s.toObs(r))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	rvs, err := store.Reviews(ctx)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	for _, rv := range rvs {
		if rv.Status == geo.ReviewRejected {
			s.rejected[rv.ReportID] = true
		}
	}
	if s.live, err = engine.NewLive(ctx, s.liveInput(len(s.obs)), s.cfg); err != nil {
		return nil, fmt.Errorf("api: initial analysis: %w", err)
	}
	s.sch.init(s)
	s.persist.init(store, s.log, opt.SaveAnalysisEvery)
	if err := s.analyze(ctx); err != nil {
		return nil, fmt.Errorf("api: initial analysis: %w", err)
	}
	s.handler = s.routesHandler()
	return s, nil
}

// liveInput is the engine's input over the first n reports held, less
// those a reviewer rejected. The caller holds mu or owns s exclusively.
func (s *Server) liveInput(n int) engine.Input {
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
	return engine.Input{Areas: s.areas, Index: s.index, Obs: obs, Teams: s.teams}
}

// setRejected records whether report id is rejected and, when that
// changes, has the analysis rebuilt without (or with) it.
func (s *Server) setRejected(id string, rejected bool) {
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

// accept holds a stored report in memory and puts it into the live
// analysis.
func (s *Server) accept(rs ...geo.Report) {
	s.mu.Lock()
	obs := make([]geo.Obs, len(rs))
	for i := range rs {
		obs[i] = s.toObs(&rs[i])
		s.ids = append(s.ids, rs[i].ID)
		s.obs = append(s.obs, obs[i])
	}
	live := s.live
	s.mu.Unlock()
	if len(rs) > 1 {
		// Many at once: one analysis from scratch is cheaper than taking
		// them one by one.
		s.rebuild.Store(true)
	} else {
		for _, o := range obs {
			live.Add(o)
		}
	}
	s.sch.schedule()
}

// toObs converts r to its compact form, placed in its area and classified.
// The caller holds mu or owns s exclusively.
func (s *Server) toObs(r *geo.Report) geo.Obs {
	o := r.ToObs(s.reporters)
	o.Area = int32(s.index.Locate(o.Lon, o.Lat))
	if s.cfg.Rules.IsWeak(&o) {
		o.Flags |= geo.FlagWeak
	}
	return o
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the background analysis and waits for it to end, then
// saves the newest published analysis to the store. It does not close the
// store.
func (s *Server) Close() { s.sch.close(); s.persist.close() }

func (s *Server) routesHandler() http.Handler {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "no such resource: "+r.URL.Path)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	})
	r.Use(routeName)
	for _, rt := range s.routes() {
		r.Handle(rt.path, guard(rt.access, !rt.noCSRF, rt.h)).Methods(rt.method)
	}
	s.registerWebRoutes(r) // last: the page's catch-all must not shadow the API
	s.router = r
	// Cross-origin browser requests that change state are refused before
	// anything else (Sec-Fetch-Site and Origin checks); the session's CSRF
	// token is checked per route by guard.
	cop := http.NewCrossOriginProtection()
	return s.logRequests(s.recoverPanics(securityHeaders(cop.Handler(s.authenticate(r)))))
}

// route is one API route and who may call it.
type route struct {
	method, path string
	access       access
	// noCSRF exempts a state-changing route from the session CSRF check:
	// sign-in (there is no session yet) and the speed test (it changes
	// nothing).
	noCSRF bool
	h      http.HandlerFunc
}

// routes is every API route with its access rule. The authorization
// matrix test walks the router and wants a row for each.
func (s *Server) routes() []route {
	rs := []route{
		{method: "GET", path: "/healthz", h: s.handleHealth},
		{method: "GET", path: "/metrics", h: s.handleMetrics},
		{method: "GET", path: "/api/v1/openapi.json", h: s.handleOpenAPI},
		{method: "GET", path: "/api/v1/areas/{code}", h: s.handleArea},
		{method: "GET", path: "/api/v1/gaps", access: gapReaders, h: s.handleGaps},
		{method: "POST", path: "/api/v1/reports/import", access: reportWriters, h: s.handleImport},
		{method: "POST", path: "/api/v1/reports", access: reportWriters, h: s.handlePostReport},
		{method: "GET", path: "/api/v1/reports/{id}", access: rawReaders, h: s.handleGetReport},
		{method: "PUT", path: "/api/v1/reports/{id}/review", access: reviewers, h: s.handleReview},
		{method: "GET", path: "/api/v1/session", h: s.handleSessionGet},
		{method: "POST", path: "/api/v1/session", noCSRF: true, h: s.handleSessionCreate},
		{method: "DELETE", path: "/api/v1/session", h: s.handleSessionDelete},
		{method: "GET", path: "/api/v1/users", access: admins, h: s.handleUsers},
		{method: "POST", path: "/api/v1/users", access: admins, h: s.handleUserCreate},
		{method: "GET", path: "/api/v1/tokens", access: signedIn, h: s.handleTokens},
		{method: "POST", path: "/api/v1/tokens", access: signedIn, h: s.handleTokenCreate},
		{method: "DELETE", path: "/api/v1/tokens/{id}", access: signedIn, h: s.handleTokenRevoke},
		{method: "GET", path: "/api/v1/audit", access: admins, h: s.handleAudit},
		{method: "GET", path: "/api/v1/speedtest/download", h: s.handleSpeedDownload},
		{method: "POST", path: "/api/v1/speedtest/upload", noCSRF: true, h: s.handleSpeedUpload},
	}
	for _, l := range []string{"areas", "holes", "teams"} {
		rs = append(rs, route{method: "GET", path: "/api/v1/layers/" + l, h: s.handleLayer(l)})
	}
	rs = append(rs, route{method: "GET", path: "/api/v1/layers/reports", access: rawReaders, h: s.handleLayer("reports")})
	return append(rs, s.ogcRoutes()...)
}

// reqInfo carries what inner handlers learn back to the outer middleware.
type reqInfo struct{ route string }

type reqInfoKey struct{}

// routeName records the matched route's path template for logs and
// metrics.
func routeName(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ri, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
			if rt := mux.CurrentRoute(r); rt != nil {
				if t, err := rt.GetPathTemplate(); err == nil {
					ri.route = t
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs each request and counts it in the metrics.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{route: "unmatched"}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, ri)))
		d := time.Since(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.metrics.observe(ri.route, sw.status, d)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", d))
	})
}

// recoverPanics turns a panic in a handler (a bug) into a logged 500.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic", slog.Any("panic", v),
				slog.String("path", r.URL.Path), slog.String("stack", string(debug.Stack())))
			if sw, ok := w.(*statusWriter); !ok || sw.status == 0 {
				writeProblem(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"ok"}` + "\n"))
}
