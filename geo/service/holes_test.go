package service_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/service"
)

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// weakLine is n weak Viettel reports along latitude 10.51 in H1, from
// three reporters over three days before at.
func weakLine(prefix string, lon0 float64, n int, at time.Time) []geo.Report {
	var rs []geo.Report
	for i := range n {
		r := weak(fmt.Sprintf("%s%02d", prefix, i), lon0+float64(i)*0.00045, 10.51)
		r.Reporter = fmt.Sprintf("%s-p%d", prefix, i%3)
		r.ObservedAt = at.Add(-time.Duration(24*(1+i%3)) * time.Hour)
		rs = append(rs, r)
	}
	return rs
}

// goodPatch is 60 good Viettel reports over the middle of the weak line,
// observed at at.
func goodPatch(prefix string, at time.Time) []geo.Report {
	var rs []geo.Report
	for i := range 60 {
		r := weak(fmt.Sprintf("%s%02d", prefix, i), 105.108+float64(i%6)*0.0007, 10.508+float64(i/6)*0.0004)
		r.SignalDBm = ptr(-75)
		r.Reporter = fmt.Sprintf("%s-q%d", prefix, i%5)
		r.ObservedAt = at
		rs = append(rs, r)
	}
	return rs
}

// lifeEnv is a service over a store holding a line of weak reports in
// H1 (one Viettel hole), on a clock of the test's.
type lifeEnv struct {
	t     *testing.T
	path  string
	store *gpkg.Store
	svc   *service.Service
	clk   *clock
}

var listed = time.Date(2026, 11, 2, 9, 0, 0, 0, geo.VietnamTime)

func newLifeEnv(t *testing.T) *lifeEnv {
	t.Helper()
	ctx := context.Background()
	e := &lifeEnv{t: t, path: filepath.Join(t.TempDir(), "s.gpkg"), clk: &clock{t: listed}}
	st, err := gpkg.Open(ctx, e.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	if err := st.ReplaceAreas(ctx, "2025", testAreas); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddReports(ctx, weakLine("w", 105.101, 40, listed), geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	e.start()
	return e
}

func (e *lifeEnv) start() {
	e.t.Helper()
	svc, err := service.New(context.Background(), e.store, service.Options{Now: e.clk.now, WatchEvery: -1, TickEvery: -1})
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = svc
	e.t.Cleanup(svc.Close)
}

// add stores reports through the service, as the command line.
func (e *lifeEnv) add(rs ...geo.Report) {
	e.t.Helper()
	for _, r := range rs {
		if _, _, err := e.svc.AddReport(context.Background(), service.CommandLine("test"), r, ""); err != nil {
			e.t.Fatal(err)
		}
	}
	e.svc.WaitIdle()
}

// holes returns the holes of the current snapshot of carrier c.
func (e *lifeEnv) holes(c geo.Carrier) []geo.Hole {
	var hs []geo.Hole
	for _, h := range e.svc.Snapshot().Result.Holes {
		if h.Carrier == c {
			hs = append(hs, h)
		}
	}
	return hs
}

func (e *lifeEnv) only(c geo.Carrier) geo.Hole {
	e.t.Helper()
	hs := e.holes(c)
	if len(hs) != 1 {
		e.t.Fatalf("%d %s holes, want 1", len(hs), c)
	}
	return hs[0]
}

var (
	viettelUser = &geo.Viewer{User: "viettel-planning", Role: geo.RoleCarrier, Carrier: geo.Viettel}
	vinaUser    = &geo.Viewer{User: "vina-planning", Role: geo.RoleCarrier, Carrier: geo.VinaPhone}
	reviewerV   = &geo.Viewer{User: "rv", Role: geo.RoleReviewer}
)

func (e *lifeEnv) answer(v *geo.Viewer, id string, a service.Answer) service.HoleView {
	e.t.Helper()
	hv, err := e.svc.AnswerHole(context.Background(), v, id, a)
	if err != nil {
		e.t.Fatalf("answer %+v: %v", a, err)
	}
	return hv
}

// TestHoleIdentity: a hole keeps its ID and state while reports arrive
// elsewhere and in it, and across a restart of the service.
func TestHoleIdentity(t *testing.T) {
	e := newLifeEnv(t)
	h := e.only(geo.Viettel)
	if h.Life.State != geo.StateOpen || h.Life.AnswerDue != "2026-12-02" || h.ID[:2] != "h-" {
		t.Fatalf("listed hole %s: %+v", h.ID, h.Life)
	}
	e.answer(viettelUser, h.ID, service.Answer{State: "planned", PlannedDate: "2027-03-01", Plan: "new_site", Cause: "no_site"})
	// Unrelated reports in H2, then more weak reports in the hole itself,
	// which change its cells.
	e.add(weakLine("x", 105.301, 10, listed)...)
	if got := e.only(geo.Viettel); got.ID != h.ID {
		t.Fatalf("after reports elsewhere the hole is %s, want %s", got.ID, h.ID)
	}
	more := weakLine("y", 105.1012, 20, listed)
	for i := range more {
		more[i].Lat = 10.5105
	}
	e.add(more...)
	got := e.only(geo.Viettel)
	if got.ID != h.ID || got.Cells == h.Cells && got.Reports == h.Reports {
		t.Fatalf("after reports in it the hole is %s (%d cells, %d reports), want %s changed", got.ID, got.Cells, got.Reports, h.ID)
	}
	if got.Life.State != geo.StatePlanned || got.Life.FixDue != "2027-03-01" || got.Life.Cause != geo.CauseNoSite {
		t.Errorf("state after reports: %+v", got.Life)
	}
	// A restart: the records come back from the store and the new
	// analysis matches them.
	e.svc.Close()
	e.start()
	got = e.only(geo.Viettel)
	if got.ID != h.ID || got.Life.State != geo.StatePlanned {
		t.Fatalf("after a restart: %s %+v, want %s planned", got.ID, got.Life, h.ID)
	}
	hv, err := e.svc.Hole(context.Background(), reviewerV, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hv.History) != 2 || hv.History[1].Kind != "answer" || hv.History[1].User != "viettel-planning" || *hv.PlannedDate != "2027-03-01" {
		t.Errorf("history after a restart: %+v", hv.History)
	}
}

// TestHoleSplitInherits: good reports across the middle of a planned
// hole split it; both halves are new holes naming it as their parent,
// planned as it was; the parent takes no more answers.
func TestHoleSplitInherits(t *testing.T) {
	e := newLifeEnv(t)
	h := e.only(geo.Viettel)
	e.answer(viettelUser, h.ID, service.Answer{State: "planned", PlannedDate: "2027-03-01", Note: "trạm BTS mới"})
	e.importCSV(goodPatch("g", listed.Add(-time.Hour)))
	kids := e.holes(geo.Viettel)
	if len(kids) != 2 {
		t.Fatalf("%d holes after the good reports, want the hole split in 2", len(kids))
	}
	ctx := context.Background()
	for _, k := range kids {
		if k.ID == h.ID || k.Life.State != geo.StatePlanned || k.Life.FixDue != "2027-03-01" || k.Life.AnswerDue != "2026-12-02" {
			t.Errorf("child %s: %+v", k.ID, k.Life)
		}
		hv, err := e.svc.Hole(ctx, viettelUser, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(hv.ParentIDs, []string{h.ID}) || hv.History[len(hv.History)-1].Kind != "split_from" {
			t.Errorf("child %s: parents %v, history %+v", k.ID, hv.ParentIDs, hv.History)
		}
	}
	hv, err := e.svc.Hole(ctx, viettelUser, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if hv.Current || len(hv.ChildIDs) != 2 || hv.State != geo.StatePlanned {
		t.Errorf("parent after the split: current %v, children %v, state %s", hv.Current, hv.ChildIDs, hv.State)
	}
	_, err = e.svc.AnswerHole(ctx, viettelUser, h.ID, service.Answer{State: "fixed"})
	wantKind(t, "answering the split parent", err, geo.ErrConflict, "state")
	// Many weak reports over the good ones, in one import, join the two
	// halves again: one hole with both as parents.
	var weak []geo.Report
	for k, r := range goodPatch("m", listed.Add(-time.Hour)) {
		for j := range 4 {
			r.ID = fmt.Sprintf("m%03d-%d", k, j)
			r.SignalDBm = ptr(-125)
			r.Reporter = fmt.Sprintf("m-p%d", j)
			r.ObservedAt = listed.Add(-time.Duration(24*(j+1)) * time.Hour)
			weak = append(weak, r)
		}
	}
	e.importCSV(weak)
	m := e.only(geo.Viettel)
	hv, err = e.svc.Hole(ctx, reviewerV, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	parents := []string{kids[0].ID, kids[1].ID}
	slices.Sort(parents)
	if !slices.Equal(hv.ParentIDs, parents) || hv.State != geo.StatePlanned || hv.History[len(hv.History)-1].Kind != "merged_from" {
		t.Errorf("merged hole %s: parents %v (want %v), state %s", m.ID, hv.ParentIDs, parents, hv.State)
	}
}

// importCSV imports reports in one go, so they are analysed at once.
func (e *lifeEnv) importCSV(rs []geo.Report) {
	e.t.Helper()
	var b strings.Builder
	b.WriteString("id,lat,lon,observed_at,carrier,tech,signal_dbm,reporter\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "%s,%g,%g,%s,%s,%s,%g,%s\n", r.ID, r.Lat, r.Lon, r.ObservedAt.Format(time.RFC3339), r.Carrier, r.Tech, *r.SignalDBm, r.Reporter)
	}
	res, err := e.svc.ImportReports(context.Background(), service.CommandLine("test"), strings.NewReader(b.String()), service.ImportOptions{Format: ingest.FormatCSV})
	if err != nil || res.Rejected > 0 {
		e.t.Fatalf("import: %+v %v", res, err)
	}
	e.svc.WaitIdle()
}

// TestHoleResolvedByData: a hole never answered that leaves the analysis
// is resolved by data; when it comes back it is the same hole, open.
func TestHoleResolvedByData(t *testing.T) {
	e := newLifeEnv(t)
	h := e.only(geo.Viettel)
	ctx := context.Background()
	// Good reports at every weak one, three times over.
	var good []geo.Report
	for i, r := range weakLine("g", 105.101, 40, listed) {
		for k := range 3 {
			r.ID = fmt.Sprintf("g%02d-%d", i, k)
			r.SignalDBm = ptr(-70)
			r.Reporter = fmt.Sprintf("q%d", k)
			good = append(good, r)
		}
	}
	e.importCSV(good)
	if n := len(e.holes(geo.Viettel)); n != 0 {
		t.Fatalf("%d holes with every report rejected", n)
	}
	hv, err := e.svc.Hole(ctx, reviewerV, h.ID)
	if err != nil || hv.State != geo.StateResolvedByData || hv.Current {
		t.Fatalf("left the analysis: %+v %v", hv, err)
	}
	// Many more weak reports there ten days later bring it back.
	e.clk.set(listed.AddDate(0, 0, 10))
	var weak []geo.Report
	for k := range 10 {
		weak = append(weak, weakLine(fmt.Sprintf("v%d-", k), 105.101, 40, e.clk.now())...)
	}
	e.importCSV(weak)
	back := e.only(geo.Viettel)
	if back.ID != h.ID || back.Life.State != geo.StateOpen || back.Life.AnswerDue != "2026-12-12" {
		t.Errorf("back in the analysis: %s %+v, want %s open, due 30 days after its return", back.ID, back.Life, h.ID)
	}
}

// TestAnswerRules: the answers' fields are checked and named, and a
// carrier reaches only its own holes.
func TestAnswerRules(t *testing.T) {
	e := newLifeEnv(t)
	id := e.only(geo.Viettel).ID
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		v     *geo.Viewer
		a     service.Answer
		kind  error
		field string
	}{
		{"no state", viettelUser, service.Answer{}, geo.ErrInvalid, "state"},
		{"unknown state", viettelUser, service.Answer{State: "done"}, geo.ErrInvalid, "state"},
		{"a carrier cannot verify", viettelUser, service.Answer{State: "verified"}, geo.ErrInvalid, "state"},
		{"planned without a date", viettelUser, service.Answer{State: "planned"}, geo.ErrInvalid, "planned_date"},
		{"bad date", viettelUser, service.Answer{State: "planned", PlannedDate: "1/3/2027"}, geo.ErrInvalid, "planned_date"},
		{"unknown plan", viettelUser, service.Answer{State: "planned", PlannedDate: "2027-03-01", Plan: "magic"}, geo.ErrInvalid, "plan"},
		{"fixed in the future", viettelUser, service.Answer{State: "fixed", FixedDate: "2026-11-03"}, geo.ErrInvalid, "fixed_date"},
		{"dispute without a reason", viettelUser, service.Answer{State: "disputed"}, geo.ErrInvalid, "note"},
		{"unknown cause", viettelUser, service.Answer{Cause: "ghosts"}, geo.ErrInvalid, "cause"},
		{"a carrier names no lead", viettelUser, service.Answer{Lead: "viettel"}, geo.ErrForbidden, "lead_carrier"},
		{"a reviewer's state needs a note", reviewerV, service.Answer{State: "fixed"}, geo.ErrInvalid, "note"},
		{"lead of a carrier's hole", reviewerV, service.Answer{Lead: "mobifone"}, geo.ErrInvalid, "lead_carrier"},
		{"another carrier's hole", vinaUser, service.Answer{State: "acknowledged"}, geo.ErrNotFound, ""},
		{"staff do not answer", staff(e.svc, "C1"), service.Answer{State: "acknowledged"}, geo.ErrForbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.AnswerHole(ctx, tc.v, id, tc.a)
			wantKind(t, tc.name, err, tc.kind, tc.field)
		})
	}
	if _, err := e.svc.Hole(ctx, vinaUser, id); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("VinaPhone reads Viettel's hole: %v", err)
	}
	if _, err := e.svc.Hole(ctx, staff(e.svc, "C2"), id); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("staff of C2 read a hole in C1: %v", err)
	}
	e.answer(viettelUser, id, service.Answer{State: "acknowledged"})
	_, err := e.svc.AnswerHole(ctx, viettelUser, id, service.Answer{State: "acknowledged"})
	wantKind(t, "acknowledged twice", err, geo.ErrConflict, "state")
	// Staff of C1 see the hole and its history, without notes.
	e.answer(viettelUser, id, service.Answer{State: "planned", PlannedDate: "2027-01-10", Note: "liên hệ anh Nam"})
	hv, err := e.svc.Hole(ctx, staff(e.svc, "C1"), id)
	if err != nil || hv.State != geo.StatePlanned {
		t.Fatalf("staff of C1: %+v %v", hv, err)
	}
	for _, ev := range hv.History {
		if ev.Note != "" || ev.User != "" {
			t.Errorf("staff see %+v", ev)
		}
	}
}
