// Package api is gapmap's HTTP interface: routes, request decoding, the
// one error-to-status table, and the encoding of map layers, area
// details, gap exports and OGC API - Features documents. Every write and
// every account operation is a call to the service core (geo/service),
// which the command line uses too; api keeps the layers of the service's
// latest analysis snapshot encoded for reading. It does not import data.
package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gorilla/mux"
)

// DefaultMaxBodyBytes is the default limit on a request body.
const DefaultMaxBodyBytes = 10 << 20

// Options configure a Server. The zero value is usable.
type Options struct {
	// Logger receives the request log and errors; nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies (default 10 MiB).
	MaxBodyBytes int64
	// Web is the map page served at / (see package web); nil serves the
	// API only.
	Web fs.FS
	// SignIn bounds the password checks of sign-ins (see SignInLimits).
	SignIn SignInLimits
	// PublicHoles is what the public, and other carriers, see of a
	// carrier's holes (see geo.Viewer.SeesHole): geo.HoleOutline (the
	// zero value), geo.HoleFull or geo.HoleHidden.
	PublicHoles geo.HoleView
	// BaseURL is the public URL of the service (scheme, host and any
	// path prefix, e.g. https://gapmap.example.vn), which absolute links
	// are built on. Empty: on the address the request reached the
	// listener at, never on the Host the client sent.
	BaseURL string
	// SpeedTest bounds the speed test (see SpeedTestLimits).
	SpeedTest SpeedTestLimits
	// GapListGPKG writes a carrier's gap list as a GeoPackage file
	// (GET /api/v1/gaps?format=gpkg); cmd hands it data/gpkg's
	// WriteGapList. Nil: the format is refused.
	GapListGPKG GapListWriter
}

// GapListWriter writes carrier's holes, in the given order, to w as a
// file.
type GapListWriter func(ctx context.Context, w io.Writer, carrier geo.Carrier, holes []geo.Hole) error

// Server serves the API over a service (package geo/service): it decodes
// requests, calls the service and encodes what it returns, and keeps the
// layers and OGC documents of the service's latest snapshot encoded.
type Server struct {
	svc     *service.Service
	log     *slog.Logger
	maxBody int64
	web     fs.FS
	metrics *metrics
	handler http.Handler
	router  *mux.Router

	signin *signinState
	speed  *speedState

	publicHoles geo.HoleView
	baseURL     string // without a trailing slash; "" when not configured

	gapListGPKG GapListWriter

	cur   analysisState
	ogc   ogcCache  // OGC API - Features documents of the current state
	tiles tileCache // vector tiles of the current state (see tiles.go)
}

// New returns a Server over svc, with the layers of svc's current
// snapshot encoded, and re-encodes them whenever svc publishes another.
// svc must analyse (not service.Options.NoAnalysis).
func New(svc *service.Service, opt Options) (*Server, error) {
	base, err := CheckBaseURL(opt.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if opt.PublicHoles > geo.HoleHidden {
		return nil, fmt.Errorf("api: PublicHoles %v is not outline, full or none", opt.PublicHoles)
	}
	s := &Server{
		svc:         svc,
		log:         opt.Logger,
		maxBody:     opt.MaxBodyBytes,
		web:         opt.Web,
		metrics:     newMetrics(),
		signin:      newSigninState(opt.SignIn),
		speed:       newSpeedState(opt.SpeedTest),
		publicHoles: opt.PublicHoles,
		baseURL:     base,
		gapListGPKG: opt.GapListGPKG,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.signin.throttle.store = svc.ThrottleStore()
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if svc.Snapshot() == nil {
		return nil, errors.New("api: the service publishes no analysis")
	}
	if err := svc.Subscribe(s.publishSnapshot); err != nil {
		return nil, fmt.Errorf("api: initial analysis: %w", err)
	}
	s.handler = s.routesHandler()
	return s, nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// WaitIdle waits until the service has no analysis running or pending
// and the layers of its latest snapshot are encoded, so that they
// reflect every write accepted before the call.
func (s *Server) WaitIdle() { s.svc.WaitIdle() }

func (s *Server) routesHandler() http.Handler {
	r := mux.NewRouter()
	r.NotFoundHandler = s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return errNoResource(r)
	})
	r.MethodNotAllowedHandler = s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		allow := s.allowedMethods(r)
		w.Header().Set("Allow", allow)
		return geo.NewError(errMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path+"; use "+allow)
	})
	r.Use(routeName)
	for _, rt := range s.routes() {
		ms := []string{rt.method}
		if rt.method == http.MethodGet {
			ms = append(ms, http.MethodHead) // the same answer without its body
		}
		r.Handle(rt.path, s.wrap(s.guard(rt.access, !rt.noCSRF, rt.h))).Methods(ms...)
	}
	s.registerWebRoutes(r) // last: the page's catch-all must not shadow the API
	s.router = r
	// Cross-origin browser requests that change state are refused before
	// anything else (Sec-Fetch-Site and Origin checks); the session's CSRF
	// token is checked per route by guard.
	cop := http.NewCrossOriginProtection()
	// A refused cross-site write is answered like every other refusal.
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, geo.NewError(geo.ErrForbidden, "cross-origin request refused: send it from this site's own pages"))
	}))
	return s.logRequests(s.recoverPanics(securityHeaders(cop.Handler(s.authenticate(r)))))
}

// allowedMethods lists the methods r's path is routed for, for the Allow
// header of a 405.
func (s *Server) allowedMethods(r *http.Request) string {
	var ms []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
		q := r.Clone(r.Context())
		q.Method = m
		var match mux.RouteMatch
		if s.router.Match(q, &match) && match.MatchErr == nil {
			ms = append(ms, m)
		}
	}
	return strings.Join(ms, ", ")
}

// route is one API route and who may call it.
type route struct {
	method, path string
	// access is the permission the route needs (geo.Anyone: none);
	// handlers and the service narrow it by scope and carrier.
	access geo.Permission
	// noCSRF exempts a state-changing route from the session CSRF check:
	// sign-in (there is no session yet) and the speed test (it changes
	// nothing).
	noCSRF bool
	h      handlerFunc
}

// routes is every API route with its access rule. The authorization
// matrix test walks the router and wants a row for each.
func (s *Server) routes() []route {
	rs := []route{
		{method: "GET", path: "/healthz", h: s.handleHealth},
		{method: "GET", path: "/metrics", access: geo.ReadMetrics, h: s.handleMetrics},
		{method: "GET", path: "/api/v1/openapi.json", h: s.handleOpenAPI},
		{method: "GET", path: "/api/v1/areas/{code}", h: s.handleArea},
		{method: "GET", path: "/api/v1/gaps", access: geo.ReadGaps, h: s.handleGaps},
		{method: "GET", path: "/api/v1/holes/{id}", access: geo.ReadHoles, h: s.handleHole},
		{method: "POST", path: "/api/v1/holes/{id}/answers", access: geo.AnswerHoles, h: s.handleHoleAnswer},
		{method: "POST", path: "/api/v1/holes/{id}/rulings", access: geo.RuleHoles, h: s.handleHoleRuling},
		{method: "GET", path: "/api/v1/scorecard", access: geo.ReadGaps, h: s.handleScorecard},
		{method: "GET", path: "/api/v1/webhooks", access: geo.ManageWebhooks, h: s.handleWebhooks},
		{method: "POST", path: "/api/v1/webhooks", access: geo.ManageWebhooks, h: s.handleWebhookCreate},
		{method: "DELETE", path: "/api/v1/webhooks/{id}", access: geo.ManageWebhooks, h: s.handleWebhookDelete},
		{method: "GET", path: "/api/v1/webhooks/{id}/deliveries", access: geo.ManageWebhooks, h: s.handleWebhookDeliveries},
		{method: "POST", path: "/api/v1/reports/import", access: geo.WriteReports, h: s.handleImport},
		{method: "POST", path: "/api/v1/reports", access: geo.WriteReports, h: s.handlePostReport},
		{method: "GET", path: "/api/v1/reports/{id}", access: geo.ReadReports, h: s.handleGetReport},
		{method: "PUT", path: "/api/v1/reports/{id}/review", access: geo.ReviewReports, h: s.handleReview},
		{method: "GET", path: "/api/v1/session", h: s.handleSessionGet},
		{method: "POST", path: "/api/v1/session", noCSRF: true, h: s.handleSessionCreate},
		{method: "DELETE", path: "/api/v1/session", h: s.handleSessionDelete},
		{method: "GET", path: "/api/v1/users", access: geo.ManageUsers, h: s.handleUsers},
		{method: "POST", path: "/api/v1/users", access: geo.ManageUsers, h: s.handleUserCreate},
		{method: "GET", path: "/api/v1/tokens", access: geo.UseTokens, h: s.handleTokens},
		{method: "POST", path: "/api/v1/tokens", access: geo.UseTokens, h: s.handleTokenCreate},
		{method: "DELETE", path: "/api/v1/tokens/{id}", access: geo.UseTokens, h: s.handleTokenRevoke},
		{method: "GET", path: "/api/v1/audit", access: geo.ReadAudit, h: s.handleAudit},
		{method: "GET", path: "/api/v1/tasks", access: geo.ReadTasks, h: s.handleTasks},
		{method: "GET", path: "/api/v1/speedtest/download", h: s.handleSpeedDownload},
		{method: "POST", path: "/api/v1/speedtest/upload", noCSRF: true, h: s.handleSpeedUpload},
	}
	for _, l := range []string{"areas", "holes", "teams", "unobserved"} {
		rs = append(rs, route{method: "GET", path: "/api/v1/layers/" + l, h: s.handleLayer(l)})
	}
	rs = append(rs, route{method: "GET", path: "/api/v1/layers/reports", access: geo.ReadReports, h: s.handleLayer("reports")})
	rs = append(rs, s.tileRoutes()...)
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

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	// analysis is "catching_up" while a restarted service serves the
	// analysis kept in the store and reads the reports, "current" after.
	st := s.svc.Status()
	analysis := "current"
	if st.CatchingUp {
		analysis = "catching_up"
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"status":"ok","analysis":%q,"reports_loaded":%d}`+"\n", analysis, st.Reports)
	return nil
}
