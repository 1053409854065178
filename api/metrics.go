package api

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// durationBuckets are the upper bounds, in seconds, of the request
// duration histogram.
var durationBuckets = []float64{0.005, 0.025, 0.1, 0.5, 2.5}

// metrics are the server's Prometheus counters, written in the text
// exposition format by hand.
type metrics struct {
	mu        sync.Mutex
	requests  map[routeCode]uint64
	durations map[string]*histogram

	accepted, rejected atomic.Uint64
	analysisNanos      atomic.Int64
	// Sign-ins by outcome.
	signinOK, signinFailed, signinThrottled, signinBusy atomic.Uint64
	signinHashes                                        atomic.Uint64 // password checks run
}

type routeCode struct {
	route string
	code  int
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[routeCode]uint64{}, durations: map[string]*histogram{}}
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	sec := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[routeCode{route, code}]++
	h := m.durations[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(durationBuckets)+1)}
		m.durations[route] = h
	}
	i := sort.SearchFloat64s(durationBuckets, sec) // first bound >= sec
	h.counts[i]++
	h.sum += sec
	h.n++
}

// write writes every metric; storeReports is the number of reports held.
func (m *metrics) write(w io.Writer, storeReports int) {
	m.mu.Lock()
	keys := make([]routeCode, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].code < keys[j].code
	})
	fmt.Fprintln(w, "# HELP gapmap_http_requests_total HTTP requests by route and status code.")
	fmt.Fprintln(w, "# TYPE gapmap_http_requests_total counter")
	for _, k := range keys {
		fmt.Fprintf(w, "gapmap_http_requests_total{route=%s,code=\"%d\"} %d\n", strconv.Quote(k.route), k.code, m.requests[k])
	}
	routes := make([]string, 0, len(m.durations))
	for r := range m.durations {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	fmt.Fprintln(w, "# HELP gapmap_http_request_duration_seconds HTTP request duration by route.")
	fmt.Fprintln(w, "# TYPE gapmap_http_request_duration_seconds histogram")
	for _, r := range routes {
		h := m.durations[r]
		q := strconv.Quote(r)
		var cum uint64
		for i, le := range durationBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "gapmap_http_request_duration_seconds_bucket{route=%s,le=\"%g\"} %d\n", q, le, cum)
		}
		fmt.Fprintf(w, "gapmap_http_request_duration_seconds_bucket{route=%s,le=\"+Inf\"} %d\n", q, h.n)
		fmt.Fprintf(w, "gapmap_http_request_duration_seconds_sum{route=%s} %s\n", q, promFloat(h.sum))
		fmt.Fprintf(w, "gapmap_http_request_duration_seconds_count{route=%s} %d\n", q, h.n)
	}
	m.mu.Unlock()
	fmt.Fprintln(w, "# HELP gapmap_reports_accepted_total Reports accepted and stored.")
	fmt.Fprintln(w, "# TYPE gapmap_reports_accepted_total counter")
	fmt.Fprintf(w, "gapmap_reports_accepted_total %d\n", m.accepted.Load())
	fmt.Fprintln(w, "# HELP gapmap_reports_rejected_total Reports rejected as invalid.")
	fmt.Fprintln(w, "# TYPE gapmap_reports_rejected_total counter")
	fmt.Fprintf(w, "gapmap_reports_rejected_total %d\n", m.rejected.Load())
	fmt.Fprintln(w, "# HELP gapmap_signins_total Sign-ins with a password, by result.")
	fmt.Fprintln(w, "# TYPE gapmap_signins_total counter")
	fmt.Fprintf(w, "gapmap_signins_total{result=\"ok\"} %d\n", m.signinOK.Load())
	fmt.Fprintf(w, "gapmap_signins_total{result=\"failed\"} %d\n", m.signinFailed.Load())
	fmt.Fprintf(w, "gapmap_signins_total{result=\"throttled\"} %d\n", m.signinThrottled.Load())
	fmt.Fprintf(w, "gapmap_signins_total{result=\"busy\"} %d\n", m.signinBusy.Load())
	fmt.Fprintln(w, "# HELP gapmap_signin_password_checks_total Password hashes computed for sign-ins.")
	fmt.Fprintln(w, "# TYPE gapmap_signin_password_checks_total counter")
	fmt.Fprintf(w, "gapmap_signin_password_checks_total %d\n", m.signinHashes.Load())
	fmt.Fprintln(w, "# HELP gapmap_store_reports Reports held by the store.")
	fmt.Fprintln(w, "# TYPE gapmap_store_reports gauge")
	fmt.Fprintf(w, "gapmap_store_reports %d\n", storeReports)
	fmt.Fprintln(w, "# HELP gapmap_analysis_seconds Duration of the last analysis.")
	fmt.Fprintln(w, "# TYPE gapmap_analysis_seconds gauge")
	fmt.Fprintf(w, "gapmap_analysis_seconds %s\n", promFloat(time.Duration(m.analysisNanos.Load()).Seconds()))
}

func promFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(w, s.svc.Reports())
	return nil
}
