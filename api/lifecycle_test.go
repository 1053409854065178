package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/service"
)

// holeOf returns the ID of the first hole of carrier c in the current
// analysis.
func (e *env) holeOf(c geo.Carrier) string {
	e.t.Helper()
	e.srv.WaitIdle()
	for _, h := range e.srv.cur.load().result.Holes {
		if h.Carrier == c {
			return h.ID
		}
	}
	e.t.Fatalf("no %s hole", c)
	return ""
}

// set moves the clock to t.
func (c *testClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// newClockEnv is newEnv on a clock of the test's, starting at testNow,
// that checks deadlines only when the test calls tick.
func newClockEnv(t *testing.T, opt Options) (*env, *testClock) {
	clk := &testClock{t: testNow}
	return newEnvSvc(t, opt, service.Options{Now: clk.now, TickEvery: -1}), clk
}

func (e *env) tick() {
	e.t.Helper()
	if err := e.svc.Tick(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// holeJSON is what GET /api/v1/holes/{id} returns, as decoded.
type holeJSON struct {
	ID           string
	Carrier      string
	State        string
	AnswerDue    *string `json:"answer_due"`
	FixDue       *string `json:"fix_due"`
	Overdue      bool
	LeadCarrier  *string  `json:"lead_carrier"`
	ParentIDs    []string `json:"parent_ids"`
	PlannedDate  *string  `json:"planned_date"`
	FixedDate    *string  `json:"fixed_date"`
	Cause        *string
	Current      bool
	Tracks       []struct{ Carrier, State string }
	Verification *struct{ Reports, Weak int }
	History      []struct {
		At                time.Time
		State, Kind, Role string
		Carrier, Note     string
		User              string
		Planned           string `json:"planned_date"`
		Fixed             string `json:"fixed_date"`
	}
	Analysis *struct{ Rank, Reports int }
}

func decodeHole(t *testing.T, r resp, status int) holeJSON {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var h holeJSON
	if err := json.Unmarshal(r.body, &h); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return h
}

func (e *env) answer(id, body string) resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/holes/"+id+"/answers", "application/json", []byte(body))
}

// postReports posts reports of carrier c at the seed's weak places
// s00…s(n-1), observed at the times given in turn, from reporters
// "post 0" and "post 1".
func (e *env) postReports(c geo.Carrier, n int, dbm float64, at ...time.Time) {
	e.t.Helper()
	seed := seedReports()
	// Two accounts: the evidence rules count accounts, not typed names.
	var posters [2]*env
	for k := range posters {
		posters[k] = e.as(e.user(fmt.Sprintf("poster-%d-%d", posterN.Add(1), k), geo.RoleAdmin, geo.CarrierUnknown))
	}
	for i := range n {
		r := seed[i%20]
		body := fmt.Sprintf(`{"lat":%g,"lon":%g,"observed_at":%q,"carrier":%q,"tech":"4G","signal_dbm":%g,"reporter":"post %d"}`,
			r.Lat, r.Lon, at[i%len(at)].Format(time.RFC3339), c.String(), dbm, i%2)
		if res := posters[i%2].do("POST", "/api/v1/reports", "application/json", []byte(body)); res.status != 201 {
			e.t.Fatalf("post report: %d %s", res.status, res.body)
		}
	}
	e.srv.WaitIdle()
}

// posterN numbers the accounts postReports makes.
var posterN atomic.Int64

// gapRows returns the rows of the gap CSV at path, by column name.
func (e *env) gapRows(path string) []map[string]string {
	e.t.Helper()
	r := e.get(path)
	if r.status != 200 {
		e.t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]string
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, k := range rows[0] {
			m[k] = row[i]
		}
		out = append(out, m)
	}
	return out
}

// TestHoleLifecycle: a listed hole is acknowledged, planned and fixed by
// its carrier; weak reports after the fix day reopen it; fixed again,
// good reports after the new fix day verify it. The gap list, the holes
// layer, the hole and the scorecard follow, on the test's clock.
func TestHoleLifecycle(t *testing.T) {
	e, clk := newClockEnv(t, Options{})
	vt := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))
	id := e.holeOf(geo.Viettel)

	rows := vt.gapRows("/api/v1/gaps?format=csv")
	if len(rows) != 1 || rows[0]["id"] != id || rows[0]["state"] != "open" || rows[0]["answer_due"] != "2025-10-01" ||
		rows[0]["overdue"] != "false" || rows[0]["fix_due"] != "" {
		t.Fatalf("listed: %v", rows)
	}
	h := decodeHole(t, vt.answer(id, `{"state":"acknowledged","cause":"no_site"}`), 201)
	if h.State != "acknowledged" || *h.Cause != "no_site" || len(h.History) != 2 || h.History[1].Role != "carrier" {
		t.Fatalf("acknowledged: %+v", h)
	}
	h = decodeHole(t, vt.answer(id, `{"state":"planned","planned_date":"2025-12-01","plan":"new_site","note":"trạm mới"}`), 201)
	if h.State != "planned" || *h.FixDue != "2025-12-01" || *h.PlannedDate != "2025-12-01" || h.Overdue {
		t.Fatalf("planned: %+v", h)
	}
	if rows := vt.gapRows("/api/v1/gaps?format=csv&state=planned"); len(rows) != 1 || rows[0]["fix_due"] != "2025-12-01" {
		t.Errorf("planned list: %v", rows)
	}
	if rows := vt.gapRows("/api/v1/gaps?format=csv&state=open"); len(rows) != 0 {
		t.Errorf("open list: %v", rows)
	}
	// The holes layer shows the state too.
	for _, f := range parseFC(t, e.anon().get("/api/v1/layers/holes?carrier=viettel").body).Features {
		if f.ID == id && f.Properties["state"] != "planned" {
			t.Errorf("holes layer: state %v", f.Properties["state"])
		}
	}

	// Fixed on 5 October, said on the 10th: weak reports from the 7th to
	// the 9th reopen it.
	clk.set(time.Date(2025, 10, 10, 3, 0, 0, 0, time.UTC))
	wantProblem(t, vt.answer(id, `{"state":"fixed","fixed_date":"2025-10-11"}`), 400, "fixed_date")
	h = decodeHole(t, vt.answer(id, `{"state":"fixed","fixed_date":"2025-10-05"}`), 201)
	if h.State != "fixed" || *h.FixedDate != "2025-10-05" || h.Verification == nil || h.Verification.Reports != 0 {
		t.Fatalf("fixed: %+v", h)
	}
	wantProblem(t, vt.answer(id, `{"state":"acknowledged"}`), 409, "state")
	// The teams of the hole's areas are asked to measure there again,
	// first, with the carrier's SIM.
	var tl struct{ Tasks []geo.Task }
	if err := json.Unmarshal(e.get("/api/v1/tasks").body, &tl); err != nil {
		t.Fatal(err)
	}
	retest := slices.IndexFunc(tl.Tasks, func(k geo.Task) bool { return k.Why == geo.TaskRetest && k.Hole == id })
	if retest < 0 || tl.Tasks[retest].Carrier != geo.Viettel || tl.Tasks[retest].Rank != 0 || tl.Tasks[retest].State != geo.TaskOpen {
		t.Errorf("no open re-test task for the fixed hole among %+v", tl.Tasks)
	}
	weakAt := []time.Time{time.Date(2025, 10, 7, 2, 0, 0, 0, time.UTC), time.Date(2025, 10, 8, 2, 0, 0, 0, time.UTC), time.Date(2025, 10, 9, 2, 0, 0, 0, time.UTC)}
	e.postReports(geo.Viettel, 6, -124, weakAt...)
	h = decodeHole(t, vt.get("/api/v1/holes/"+id), 200)
	if h.State != "reopened" || *h.AnswerDue != "2025-11-09" {
		t.Fatalf("after weak reports since the fix: %+v", h)
	}
	if last := h.History[len(h.History)-1]; last.Kind != "data" || last.Role != "analysis" || last.State != "reopened" {
		t.Errorf("reopening event %+v", last)
	}

	// Fixed again on the 12th; good reports on the 13th and 14th verify
	// it.
	clk.set(time.Date(2025, 10, 15, 3, 0, 0, 0, time.UTC))
	h = decodeHole(t, vt.answer(id, `{"state":"fixed","fixed_date":"2025-10-12","note":"đã lắp trạm"}`), 201)
	if h.State != "fixed" {
		t.Fatalf("fixed again: %+v", h)
	}
	e.postReports(geo.Viettel, 6, -85, time.Date(2025, 10, 13, 2, 0, 0, 0, time.UTC), time.Date(2025, 10, 14, 2, 0, 0, 0, time.UTC))
	h = decodeHole(t, vt.get("/api/v1/holes/"+id), 200)
	if h.State != "verified" || h.Verification == nil || h.Verification.Reports != 6 || h.Verification.Weak != 0 {
		t.Fatalf("after good reports since the fix: %+v", h)
	}

	// The scorecards: September saw the listing and the first answers,
	// the fourth quarter the fixes, the reopening and the verification.
	var sc struct {
		Period string
		Rows   []geo.ScoreRow
	}
	r := vt.get("/api/v1/scorecard?period=2025-09")
	if err := json.Unmarshal(r.body, &sc); err != nil || len(sc.Rows) != 1 {
		t.Fatalf("scorecard: %v %s", err, r.body)
	}
	if s := sc.Rows[0]; s.Carrier != geo.Viettel || s.Listed != 1 || s.Answered != 1 || s.AnsweredOnTime != 1 || s.Planned != 1 ||
		s.MedianDaysToAnswer != 0 || s.Causes[geo.CauseNoSite] != 1 {
		t.Errorf("September: %+v", s)
	}
	r = e.get("/api/v1/scorecard?period=2025Q4&carrier=viettel")
	if err := json.Unmarshal(r.body, &sc); err != nil || len(sc.Rows) != 1 || sc.Period != "2025Q4" {
		t.Fatalf("scorecard: %v %s", err, r.body)
	}
	if s := sc.Rows[0]; s.Listed != 0 || s.Fixed != 2 || s.Reopened != 1 || s.Verified != 1 || s.Overdue != 0 || s.Answered != 1 {
		t.Errorf("Q4: %+v", s)
	}
	r = e.get("/api/v1/scorecard?period=2025Q4&format=csv")
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF")))).ReadAll()
	if err != nil || len(recs) != 5 || recs[0][0] != "period" || recs[1][1] != "viettel" || recs[1][6] != "2" {
		t.Errorf("scorecard CSV: %v %q", err, r.body)
	}
	wantProblem(t, vt.get("/api/v1/scorecard?period=2025Q4&carrier=vinaphone"), 403, "carrier")
	wantProblem(t, e.get("/api/v1/scorecard?period=2025-13"), 400, "period")
	wantProblem(t, e.get("/api/v1/scorecard?period=2025Q4&carrier=all"), 400, "carrier")
}

// TestHoleDisputeRuled: a carrier disputes a hole, with a reason; a
// reviewer upholds the listing (back to open) and, on a second dispute,
// dismisses it, which takes it off the carrier's list.
func TestHoleDisputeRuled(t *testing.T) {
	e, _ := newClockEnv(t, Options{})
	vt := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))
	rv := e.as(e.user("reviewer", geo.RoleReviewer, geo.CarrierUnknown))
	id := e.holeOf(geo.Viettel)
	wantProblem(t, vt.answer(id, `{"state":"disputed"}`), 400, "note")
	h := decodeHole(t, vt.answer(id, `{"state":"disputed","note":"trạm đã phủ sóng từ tháng 8"}`), 201)
	if h.State != "disputed" {
		t.Fatalf("disputed: %+v", h)
	}
	wantProblem(t, vt.answer(id, `{"state":"planned","planned_date":"2026-01-01"}`), 409, "state")
	wantProblem(t, vt.do("POST", "/api/v1/holes/"+id+"/rulings", "application/json", []byte(`{"decision":"dismissed"}`)), 403, "")
	wantProblem(t, rv.do("POST", "/api/v1/holes/"+id+"/rulings", "application/json", []byte(`{"decision":"maybe"}`)), 400, "decision")
	h = decodeHole(t, rv.do("POST", "/api/v1/holes/"+id+"/rulings", "application/json", []byte(`{"decision":"upheld","note":"báo cáo mới vẫn yếu"}`)), 201)
	if h.State != "open" || h.History[len(h.History)-1].Kind != "ruling" || h.History[len(h.History)-1].User != "reviewer" {
		t.Fatalf("upheld: %+v", h)
	}
	wantProblem(t, rv.do("POST", "/api/v1/holes/"+id+"/rulings", "application/json", []byte(`{"decision":"upheld"}`)), 409, "state")
	// The carrier sees the reviewer's note, not the reviewer's name.
	h = decodeHole(t, vt.get("/api/v1/holes/"+id), 200)
	if last := h.History[len(h.History)-1]; last.Note == "" || last.User != "" || last.Role != "reviewer" {
		t.Errorf("the carrier sees the ruling as %+v", last)
	}
	decodeHole(t, vt.answer(id, `{"state":"disputed","note":"vẫn không đồng ý"}`), 201)
	h = decodeHole(t, rv.do("POST", "/api/v1/holes/"+id+"/rulings", "application/json", []byte(`{"decision":"dismissed"}`)), 201)
	if h.State != "dismissed" {
		t.Fatalf("dismissed: %+v", h)
	}
	if rows := vt.gapRows("/api/v1/gaps?format=csv"); len(rows) != 0 {
		t.Errorf("a dismissed hole is listed: %v", rows)
	}
	if rows := vt.gapRows("/api/v1/gaps?format=csv&state=dismissed"); len(rows) != 1 {
		t.Errorf("asked for by its state, %d dismissed holes", len(rows))
	}
	wantProblem(t, vt.get("/api/v1/gaps?state=done"), 400, "state")
	// A reviewer may set any state, with a note.
	wantProblem(t, rv.answer(id, `{"state":"open"}`), 400, "note")
	h = decodeHole(t, rv.answer(id, `{"state":"open","note":"xem lại"}`), 201)
	if h.State != "open" || h.History[len(h.History)-1].Kind != "set" {
		t.Errorf("set by a reviewer: %+v", h)
	}
}

// TestHoleOverdue: an unanswered hole is overdue the day after its
// answer is due, and a planned one the day after its planned day.
func TestHoleOverdue(t *testing.T) {
	e, clk := newClockEnv(t, Options{})
	vt := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))
	id := e.holeOf(geo.Viettel)
	overdue := func(want bool, when string) {
		t.Helper()
		e.tick()
		e.srv.WaitIdle()
		rows := vt.gapRows("/api/v1/gaps?format=csv")
		if len(rows) != 1 || rows[0]["overdue"] != fmt.Sprint(want) {
			t.Errorf("%s: gap list %v, want overdue %v", when, rows, want)
		}
		if h := decodeHole(t, vt.get("/api/v1/holes/"+id), 200); h.Overdue != want {
			t.Errorf("%s: hole overdue %v, want %v", when, h.Overdue, want)
		}
		for _, f := range parseFC(t, e.get("/api/v1/layers/holes").body).Features {
			if f.ID == id && f.Properties["overdue"] != want {
				t.Errorf("%s: holes layer overdue %v, want %v", when, f.Properties["overdue"], want)
			}
		}
	}
	overdue(false, "when listed")
	clk.set(time.Date(2025, 10, 1, 16, 0, 0, 0, time.UTC)) // 23:00 on the due day in Vietnam
	overdue(false, "on the due day")
	clk.set(time.Date(2025, 10, 1, 17, 0, 0, 0, time.UTC)) // midnight after it
	overdue(true, "the day after")
	decodeHole(t, vt.answer(id, `{"state":"planned","planned_date":"2025-10-20"}`), 201)
	overdue(false, "planned")
	clk.set(time.Date(2025, 10, 21, 1, 0, 0, 0, time.UTC))
	overdue(true, "after the planned day")
	var sc struct{ Rows []geo.ScoreRow }
	json.Unmarshal(e.get("/api/v1/scorecard?period=2025-10&carrier=viettel").body, &sc)
	if len(sc.Rows) != 1 || sc.Rows[0].Overdue != 1 || sc.Rows[0].Answered != 1 || sc.Rows[0].AnsweredOnTime != 0 {
		t.Errorf("October scorecard %+v", sc.Rows)
	}
}

// TestFrozenMonthlyList: at a month's end the gap lists are frozen as
// they stand; as_of returns them after the holes moved on.
func TestFrozenMonthlyList(t *testing.T) {
	e, clk := newClockEnv(t, Options{})
	vt := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))
	id := e.holeOf(geo.Viettel)
	decodeHole(t, vt.answer(id, `{"state":"planned","planned_date":"2025-12-01"}`), 201)
	clk.set(time.Date(2025, 9, 30, 16, 30, 0, 0, time.UTC)) // 23:30 on 30 September in Vietnam
	e.tick()
	wantProblem(t, vt.get("/api/v1/gaps?as_of=2025-09"), 404, "as_of")
	clk.set(time.Date(2025, 9, 30, 17, 1, 0, 0, time.UTC)) // 1 October
	e.tick()
	clk.set(time.Date(2025, 10, 3, 1, 0, 0, 0, time.UTC))
	decodeHole(t, vt.answer(id, `{"state":"fixed","fixed_date":"2025-10-02"}`), 201)
	if rows := vt.gapRows("/api/v1/gaps?format=csv"); len(rows) != 1 || rows[0]["state"] != "fixed" {
		t.Errorf("current list: %v", rows)
	}
	rows := vt.gapRows("/api/v1/gaps?format=csv&as_of=2025-09")
	if len(rows) != 1 || rows[0]["id"] != id || rows[0]["state"] != "planned" || rows[0]["fix_due"] != "2025-12-01" {
		t.Errorf("September's list: %v", rows)
	}
	if rows := vt.gapRows("/api/v1/gaps?format=csv&as_of=2025-09&state=fixed"); len(rows) != 0 {
		t.Errorf("September's fixed holes: %v", rows)
	}
	for _, f := range []string{"kml", "geojson"} {
		if r := vt.get("/api/v1/gaps?as_of=2025-09&format=" + f); r.status != 200 || !bytes.Contains(r.body, []byte(id)) {
			t.Errorf("September's list as %s: %d", f, r.status)
		}
	}
	wantProblem(t, vt.get("/api/v1/gaps?as_of=2025-10"), 404, "as_of")
	wantProblem(t, vt.get("/api/v1/gaps?as_of=September"), 400, "as_of")
	wantProblem(t, vt.get("/api/v1/gaps?as_of=2025-09&carrier=vinaphone"), 403, "carrier")
}

// TestDeadZoneAnswers: a dead zone is answered by each carrier, each
// answer kept on its own track; a reviewer names the lead carrier, whose
// track the zone then shows; a carrier sees its own track only.
func TestDeadZoneAnswers(t *testing.T) {
	e, _ := newClockEnv(t, Options{})
	// The seed's weak reports again for the three other carriers.
	var b strings.Builder
	b.WriteString("id,lat,lon,observed_at,carrier,tech,signal_dbm,reporter\n")
	for _, c := range []string{"vinaphone", "mobifone", "vietnamobile"} {
		for _, r := range seedReports()[:20] {
			fmt.Fprintf(&b, "%s-%s,%g,%g,%s,%s,4G,%g,%s\n", c, r.ID, r.Lat, r.Lon, r.ObservedAt.Format(time.RFC3339), c, *r.SignalDBm, r.Reporter)
		}
	}
	if r := e.do("POST", "/api/v1/reports/import", "text/csv", []byte(b.String())); r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	id := e.holeOf(geo.CarrierAll)
	vt := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))
	mf := e.as(e.user("mobi-planning", geo.RoleCarrier, geo.MobiFone))
	h := decodeHole(t, vt.answer(id, `{"state":"acknowledged"}`), 201)
	if h.State != "acknowledged" || len(h.Tracks) != 1 || h.Tracks[0].Carrier != "viettel" {
		t.Fatalf("Viettel's answer: %+v", h)
	}
	h = decodeHole(t, mf.answer(id, `{"state":"planned","planned_date":"2026-02-01","plan":"sharing","note":"dùng chung trạm"}`), 201)
	if h.State != "planned" || len(h.Tracks) != 1 || h.Tracks[0].Carrier != "mobifone" {
		t.Fatalf("MobiFone's answer: %+v", h)
	}
	// Viettel does not see MobiFone's plan.
	h = decodeHole(t, vt.get("/api/v1/holes/"+id), 200)
	for _, ev := range h.History {
		if ev.Carrier == "mobifone" {
			t.Errorf("Viettel sees MobiFone's %+v", ev)
		}
	}
	// A reviewer sees every track; the zone shows the one furthest along.
	h = decodeHole(t, e.get("/api/v1/holes/"+id), 200)
	if h.State != "planned" || len(h.Tracks) != 4 {
		t.Fatalf("the zone for a reviewer: %+v", h)
	}
	wantProblem(t, vt.answer(id, `{"lead_carrier":"viettel"}`), 403, "lead_carrier")
	wantProblem(t, e.answer(id, `{"state":"fixed","note":"x"}`), 400, "carrier")
	h = decodeHole(t, e.answer(id, `{"lead_carrier":"viettel","funding":"public_fund","note":"Viettel dẫn đầu"}`), 201)
	if h.State != "acknowledged" || h.LeadCarrier == nil || *h.LeadCarrier != "viettel" {
		t.Fatalf("with Viettel leading: %+v", h)
	}
	if rows := e.gapRows("/api/v1/gaps?carrier=all&format=csv"); len(rows) != 1 || rows[0]["state"] != "acknowledged" || rows[0]["funding"] != "public_fund" {
		t.Errorf("dead-zone list: %v", rows)
	}
	// The public sees counts by state in the area, not the notes.
	var area struct {
		HolesByState map[string]int `json:"holes_by_state"`
	}
	r := e.anon().get("/api/v1/areas/H1")
	if err := json.Unmarshal(r.body, &area); err != nil || area.HolesByState["acknowledged"] != 1 || bytes.Contains(r.body, []byte("dùng chung")) {
		t.Errorf("area H1 for the public: %v %s", err, r.body)
	}
	wantProblem(t, e.anon().get("/api/v1/holes/"+id), 401, "")
}

// TestCarrierHolesIsolated: a carrier can neither read nor answer
// another carrier's hole, nor learn that it exists.
func TestCarrierHolesIsolated(t *testing.T) {
	e, _ := newClockEnv(t, Options{})
	var b strings.Builder
	b.WriteString("id,lat,lon,observed_at,carrier,tech,signal_dbm,reporter\n")
	for _, r := range seedReports()[:20] {
		fmt.Fprintf(&b, "v%s,%g,%g,%s,vinaphone,4G,%g,%s\n", r.ID, r.Lat, r.Lon, r.ObservedAt.Format(time.RFC3339), *r.SignalDBm, r.Reporter)
	}
	// From the command line, whose typed reporters count as reporters.
	if _, err := e.svc.ImportReports(context.Background(), service.CommandLine("test"), strings.NewReader(b.String()),
		service.ImportOptions{Format: ingest.FormatCSV}); err != nil {
		t.Fatalf("import: %v", err)
	}
	vina := e.holeOf(geo.VinaPhone)
	vt := e.as(e.user("viettel-planning", geo.RoleCarrier, geo.Viettel))
	miss := vt.get("/api/v1/holes/h-000000000000")
	wantProblem(t, miss, 404, "")
	for _, r := range []resp{vt.get("/api/v1/holes/" + vina), vt.answer(vina, `{"state":"acknowledged"}`)} {
		wantProblem(t, r, 404, "")
		if !bytes.Equal(r.body, bytes.ReplaceAll(miss.body, []byte("h-000000000000"), []byte(vina))) {
			t.Errorf("another carrier's hole is told apart from a missing one:\n%s\n%s", r.body, miss.body)
		}
	}
	if h := decodeHole(t, e.get("/api/v1/holes/"+vina), 200); h.State != "open" {
		t.Errorf("VinaPhone's hole was changed: %+v", h)
	}
	// Staff see what became of their reports: the hole and its state.
	st := e.as(e.user("staff-c1", geo.RoleStaff, geo.CarrierUnknown, "C1"))
	var rep struct {
		HoleID    string `json:"hole_id"`
		HoleState string `json:"hole_state"`
	}
	json.Unmarshal(st.get("/api/v1/reports/s00").body, &rep)
	if rep.HoleID != e.holeOf(geo.Viettel) || rep.HoleState != "open" {
		t.Errorf("report s00 for staff: %+v", rep)
	}
	wantProblem(t, e.as(e.user("staff-c2", geo.RoleStaff, geo.CarrierUnknown, "C2")).get("/api/v1/holes/"+vina), 404, "")
}
