package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// pausedStore is a store whose reading of the reports stops after the
// first pauseAfter, until release is closed, so that a restarted server
// is seen halfway through its catch-up.
type pausedStore struct {
	*gpkg.Store
	pauseAfter int
	paused     chan struct{} // closed when the reading stops
	release    chan struct{}
}

func (s *pausedStore) EachReportSince(ctx context.Context, seq int64, fn func(int64, *geo.Report) error) error {
	n := 0
	return s.Store.EachReportSince(ctx, seq, func(i int64, r *geo.Report) error {
		if n == s.pauseAfter {
			close(s.paused)
			select {
			case <-s.release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		n++
		return fn(i, r)
	})
}

// TestHealthDuringCatchUp: a restarted server answers /healthz with
// "catching_up" and the reports read so far while it reads them, serves
// the kept analysis meanwhile, and says "current" with every report once
// it has caught up.
func TestHealthDuringCatchUp(t *testing.T) {
	ctx := context.Background()
	st, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "gapmap.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.ReplaceAreas(ctx, "2025", testAreas); err != nil {
		t.Fatal(err)
	}
	reports := seedReports()
	if _, err := st.AddReports(ctx, reports, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	so := service.Options{Now: func() time.Time { return testNow }, WatchEvery: -1, TickEvery: -1}
	first, err := service.New(ctx, st, so)
	if err != nil {
		t.Fatal(err)
	}
	srv1, err := New(first, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts1 := httptest.NewServer(srv1.Handler())
	before := (&env{t: t, ts: ts1}).get("/api/v1/layers/areas")
	ts1.Close()
	first.Close() // keeps the analysis in the store
	kept := parseFC(t, before.body).Features
	if len(kept) == 0 {
		t.Fatal("no areas in the first layer; the test needs some")
	}

	ps := &pausedStore{Store: st, pauseAfter: 12, paused: make(chan struct{}), release: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(ps.release)
		}
	}
	t.Cleanup(release)
	svc, err := service.New(ctx, ps, so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	srv, err := New(svc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &env{t: t, store: st, svc: svc, srv: srv, ts: ts}

	type health struct {
		Status   string `json:"status"`
		Analysis string `json:"analysis"`
		Reports  *int   `json:"reports_loaded"`
	}
	get := func() health {
		t.Helper()
		r := e.get("/healthz")
		var h health
		if r.status != 200 || json.Unmarshal(r.body, &h) != nil || h.Reports == nil {
			t.Fatalf("/healthz: %d %s", r.status, r.body)
		}
		return h
	}
	select {
	case <-ps.paused:
	case <-time.After(30 * time.Second):
		t.Fatal("the catch-up did not read the reports")
	}
	if h := get(); h.Status != "ok" || h.Analysis != "catching_up" || *h.Reports != ps.pauseAfter {
		t.Errorf("/healthz while catching up: %+v (reports_loaded %d), want ok, catching_up, %d", h, *h.Reports, ps.pauseAfter)
	}
	r := e.get("/api/v1/layers/areas")
	if got := parseFC(t, r.body).Features; r.status != 200 || len(got) != len(kept) {
		t.Errorf("areas layer while catching up: %d, %d areas, want the kept analysis's %d", r.status, len(got), len(kept))
	} else {
		for i := range got {
			if got[i].ID != kept[i].ID || got[i].Properties["observed_share"] != kept[i].Properties["observed_share"] {
				t.Errorf("area %v while catching up differs from the kept analysis's %v", got[i].ID, kept[i].ID)
			}
		}
	}

	release()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h := get()
		if h.Analysis == "current" {
			if h.Status != "ok" || *h.Reports != len(reports) {
				t.Errorf("/healthz once caught up: %+v (reports_loaded %d), want ok with %d", h, *h.Reports, len(reports))
			}
			break
		}
		if h.Analysis != "catching_up" || time.Now().After(deadline) {
			t.Fatalf("/healthz: analysis %q, want catching_up until current", h.Analysis)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
