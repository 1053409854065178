package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

func testAreasRoundTrip(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	want := Areas("2025")
	if err := s.ReplaceAreas(ctx, "2025", want); err != nil {
		t.Fatal(err)
	}
	// A second vintage is kept beside the first.
	if err := s.ReplaceAreas(ctx, "2026", Areas("2026")[1:]); err != nil {
		t.Fatal(err)
	}
	got, err := s.Areas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, Areas("2026")[1:]...)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("areas:\n got %#v\nwant %#v", got, want)
	}
	if !bytes.Equal([]byte(got[0].Name), []byte("Ấp Phú Hòa Đông")) {
		t.Errorf("name %q", got[0].Name)
	}
}

func testReplaceAreasFailureKeepsPrevious(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	if err := s.ReplaceAreas(ctx, "2025", Areas("2025")); err != nil {
		t.Fatal(err)
	}
	bad := Areas("2025")
	bad[1].Code = bad[0].Code
	bad = append(bad, geo.Area{Code: "003", Geometry: WithHole})
	if err := s.ReplaceAreas(ctx, "2025", bad); !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("duplicate code: err %v, want ErrConflict", err)
	}
	other := Areas("2025")
	other[0].Vintage = "2024"
	if err := s.ReplaceAreas(ctx, "2025", other); !errors.Is(err, geo.ErrInvalid) {
		t.Fatalf("another vintage: err %v, want ErrInvalid", err)
	}
	got, err := s.Areas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Areas("2025")) {
		t.Errorf("areas changed after failed replace: %+v", got)
	}
}

func testReportsRoundTrip(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	want := []geo.Report{
		{ID: "a1", Lat: 21.0278, Lon: 105.8342, ObservedAt: time.Date(2025, 7, 3, 14, 5, 6, 123000000, ICT),
			Carrier: geo.Viettel, Tech: geo.Tech4G, SignalDBm: Ptr(-117.5), DownloadMbps: Ptr(0.8), UploadMbps: Ptr(0),
			Source: geo.SourceTeam, Reporter: "Tổ CNS ấp 3", Note: "Mất sóng gần nhà văn hóa"},
		{ID: "a2", Lat: 10.5, Lon: 106.5, ObservedAt: time.Date(2025, 7, 4, 8, 0, 0, 0, ICT),
			Carrier: geo.MobiFone, NoService: true},
		{ID: "a3", Lat: -0.5, Lon: -179.25, ObservedAt: time.Date(2025, 7, 4, 1, 0, 0, 0, time.UTC),
			Carrier: geo.Vietnamobile, Tech: geo.TechNone, Source: geo.SourceDriveTest},
	}
	n, err := s.AddReports(ctx, want, geo.AuditEntry{})
	if err != nil || n != len(want) {
		t.Fatalf("AddReports: %d, %v", n, err)
	}
	var got []geo.Report
	if err := s.EachReport(ctx, func(r *geo.Report) error { got = append(got, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d reports, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.ObservedAt.Equal(w.ObservedAt) {
			t.Errorf("%s: observed_at %v, want %v", w.ID, g.ObservedAt, w.ObservedAt)
		}
		if _, off := g.ObservedAt.Zone(); off != func() int { _, o := w.ObservedAt.Zone(); return o }() {
			t.Errorf("%s: observed_at %v, want the offset of %v", w.ID, g.ObservedAt, w.ObservedAt)
		}
		g.ObservedAt, w.ObservedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("report %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	r, err := s.Report(ctx, "a2")
	if err != nil || r.SignalDBm != nil || r.DownloadMbps != nil || !r.NoService {
		t.Errorf("Report(a2) = %+v, %v", r, err)
	}
	if _, err := s.Report(ctx, "nope"); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("Report(nope): %v, want ErrNotFound", err)
	}
	// A duplicate ID rolls back the whole batch, whether it was stored
	// before or is given twice.
	for name, batch := range map[string][]geo.Report{
		"stored before": {{Lat: 1, Lon: 1, ObservedAt: time.Now(), Carrier: geo.Viettel}, want[0]},
		"given twice":   {{ID: "x", Lat: 1, Lon: 1, ObservedAt: time.Now(), Carrier: geo.Viettel}, {ID: "x", Lat: 2, Lon: 2, ObservedAt: time.Now(), Carrier: geo.Viettel}},
	} {
		n, err = s.AddReports(ctx, batch, geo.AuditEntry{})
		if !errors.Is(err, geo.ErrConflict) || n != 0 {
			t.Errorf("duplicate id %s: %d, %v; want 0 and ErrConflict", name, n, err)
		}
	}
	if _, nr, _, _, _ := s.Counts(ctx); nr != len(want) {
		t.Errorf("%d reports after failed batches, want %d", nr, len(want))
	}
	// Generated IDs.
	if _, err := s.AddReports(ctx, []geo.Report{{Lat: 1, Lon: 2, ObservedAt: time.Now(), Carrier: geo.Viettel}}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	stored, created, err := s.AddReport(ctx, geo.Report{Lat: 1, Lon: 2, ObservedAt: time.Now(), Carrier: geo.Viettel}, geo.Submission{})
	if err != nil || !created {
		t.Fatalf("AddReport without id: %v, %v", created, err)
	}
	var ids []string
	s.EachReport(ctx, func(r *geo.Report) error { ids = append(ids, r.ID); return nil })
	id := regexp.MustCompile(`^r-[0-9a-f]{16}$`)
	if len(ids) != len(want)+2 || !id.MatchString(ids[len(ids)-2]) || ids[len(ids)-1] != stored.ID || !id.MatchString(stored.ID) {
		t.Errorf("generated ids: %q (AddReport returned %q)", ids, stored.ID)
	}
}

// testLargeReportBatches: batches of thousands of reports (a store may
// take another path for them) keep every report, in order, with its
// place and fields; generated IDs are distinct; a duplicate ID anywhere
// in such a batch, stored before or given twice, adds nothing; and single
// reports are added after them as usual.
func testLargeReportBatches(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	at := time.Date(2025, 9, 1, 7, 0, 0, 0, ICT)
	batch := func(prefix string, n int) []geo.Report {
		rs := make([]geo.Report, n)
		for i := range rs {
			rs[i] = geo.Report{Lat: 8.5 + float64(i%1013)*0.0137, Lon: 102.2 + float64(i%997)*0.0071,
				ObservedAt: at.Add(time.Duration(i) * time.Second), Carrier: geo.Carriers[i%len(geo.Carriers)],
				Tech: geo.Tech4G, SignalDBm: Ptr(-80 - float64(i%40)), Submitter: "user:bulk"}
			if prefix != "" {
				rs[i].ID = fmt.Sprintf("%s%06d", prefix, i)
			}
		}
		return rs
	}
	first, second := batch("L", 5000), batch("", 3001)
	for _, rs := range [][]geo.Report{first, second} {
		if n, err := s.AddReports(ctx, rs, geo.AuditEntry{}); err != nil || n != len(rs) {
			t.Fatalf("AddReports of %d: %d, %v", len(rs), n, err)
		}
	}
	want := append(append([]geo.Report(nil), first...), second...)
	var got []geo.Report
	if err := s.EachReport(ctx, func(r *geo.Report) error { got = append(got, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d reports, want %d", len(got), len(want))
	}
	ids := map[string]bool{}
	for i := range want {
		g, w := got[i], want[i]
		if w.ID == "" {
			w.ID = g.ID
		}
		ids[g.ID] = true
		if !g.ObservedAt.Equal(w.ObservedAt) {
			t.Fatalf("report %d: observed_at %v, want %v", i, g.ObservedAt, w.ObservedAt)
		}
		g.ObservedAt, w.ObservedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("report %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if len(ids) != len(want) {
		t.Errorf("%d distinct IDs for %d reports", len(ids), len(want))
	}
	stored := batch("M", 4000)
	stored[3999].ID = "L004321"
	twice := batch("N", 4000)
	twice[3000].ID = twice[17].ID
	for name, rs := range map[string][]geo.Report{"stored before": stored, "given twice": twice} {
		if n, err := s.AddReports(ctx, rs, geo.AuditEntry{}); !errors.Is(err, geo.ErrConflict) || n != 0 {
			t.Errorf("a batch with an ID %s: %d, %v; want 0 and ErrConflict", name, n, err)
		}
	}
	if _, nr, _, _, _ := s.Counts(ctx); nr != len(want) {
		t.Errorf("%d reports after failed batches, want %d", nr, len(want))
	}
	if _, created, err := s.AddReport(ctx, geo.Report{ID: "single", Lat: 10, Lon: 106, ObservedAt: at, Carrier: geo.Viettel}, geo.Submission{}); err != nil || !created {
		t.Fatalf("AddReport after the batches: %v, %v", created, err)
	}
	if r, err := s.Report(ctx, "single"); err != nil || r.Lat != 10 {
		t.Errorf("Report(single) = %+v, %v", r, err)
	}
}

func testAddReportIdempotent(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	r := geo.Report{Lat: 21, Lon: 105, ObservedAt: time.Now(), Carrier: geo.VinaPhone}
	first, created, err := s.AddReport(ctx, r, geo.Submission{Key: "key-1"})
	if err != nil || !created || first.ID == "" {
		t.Fatalf("first: %+v %v %v", first, created, err)
	}
	again, created, err := s.AddReport(ctx, r, geo.Submission{Key: "key-1"})
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("again: id %q created %v err %v, want id %q", again.ID, created, err, first.ID)
	}
	// A retry that repeats the ID as well as the key is not a conflict.
	again, created, err = s.AddReport(ctx, first, geo.Submission{Key: "key-1"})
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("retry with id: %+v %v %v", again, created, err)
	}
	// The same ID under another key, or none, is.
	for _, key := range []string{"key-2", ""} {
		if _, _, err := s.AddReport(ctx, first, geo.Submission{Key: key}); !errors.Is(err, geo.ErrConflict) {
			t.Errorf("same id, key %q: %v, want ErrConflict", key, err)
		}
	}
	// Racers with one key, over this handle and another one (as two
	// replicas would), store one report.
	s2 := b.Again(t, s)
	const racers = 8
	ids := make([]string, racers)
	var nCreated int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st := s
			if i%2 == 1 {
				st = s2
			}
			got, c, err := st.AddReport(ctx, r, geo.Submission{Key: "race"})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ids[i] = got.ID
			if c {
				nCreated++
			}
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if nCreated != 1 {
		t.Errorf("%d racers created a report, want 1", nCreated)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Errorf("racers got ids %v, want all equal", ids)
			break
		}
	}
	if _, n, _, _, _ := s.Counts(ctx); n != 2 {
		t.Errorf("%d reports stored, want 2 (key-1 and race)", n)
	}
}

func testSecondHandleSeesCommits(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	stored, _, err := s.AddReport(ctx, geo.Report{Lat: 21, Lon: 105, ObservedAt: time.Now(), Carrier: geo.Viettel}, geo.Submission{Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	s2 := b.Again(t, s)
	if _, err := s2.Report(ctx, stored.ID); err != nil {
		t.Errorf("second handle: %v", err)
	}
	if got, created, err := s2.AddReport(ctx, geo.Report{Lat: 1, Lon: 1, ObservedAt: time.Now(), Carrier: geo.Viettel}, geo.Submission{Key: "k"}); err != nil || created || got.ID != stored.ID {
		t.Errorf("second handle, same key: %q %v %v; want %q, not created", got.ID, created, err, stored.ID)
	}
}

func testTeamsAndCounts(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	Fill(t, s)
	ts, err := s.Teams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ts, Teams()) {
		t.Errorf("teams:\n got %+v\nwant %+v", ts, Teams())
	}
	a, r, tm, h, err := s.Counts(ctx)
	if err != nil || a != 2 || r != 3 || tm != 2 || h != 1 {
		t.Errorf("counts %d %d %d %d %v, want 2 3 2 1", a, r, tm, h, err)
	}
	dup := append(Teams(), Teams()[0])
	if err := s.ReplaceTeams(ctx, dup); !errors.Is(err, geo.ErrConflict) {
		t.Errorf("team id twice: %v, want ErrConflict", err)
	}
	if ts, _ := s.Teams(ctx); len(ts) != 2 {
		t.Errorf("%d teams after a failed replace, want 2", len(ts))
	}
	if err := s.ReplaceTeams(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if ts, err := s.Teams(ctx); err != nil || len(ts) != 0 {
		t.Errorf("teams after replacing with none: %v, %v", ts, err)
	}
}

// testEmpty checks that a store is empty until it holds areas or
// reports, either one, and that teams alone do not count.
func testEmpty(t *testing.T, b Backend) {
	ctx := context.Background()
	want := func(s Store, what string, empty bool) {
		t.Helper()
		if got, err := s.Empty(ctx); err != nil || got != empty {
			t.Errorf("%s: empty %v, %v; want %v", what, got, err, empty)
		}
	}
	s := b.New(t)
	want(s, "new store", true)
	if err := s.ReplaceTeams(ctx, Teams()); err != nil {
		t.Fatal(err)
	}
	want(s, "teams only", true)
	if _, err := s.AddReports(ctx, []geo.Report{{ID: "r1", Lat: 21.01, Lon: 105.81, ObservedAt: time.Now(), Carrier: geo.Viettel}}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	want(s, "a report", false)
	a := b.New(t)
	if err := a.ReplaceAreas(ctx, "2025", Areas("2025")); err != nil {
		t.Fatal(err)
	}
	want(a, "areas", false)
}

// testSaveAnalysisReplaces saves an analysis three times; each leaves
// exactly what it holds.
func testSaveAnalysisReplaces(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	FillData(t, s)
	a := Analysis()
	for i := 0; i < 2; i++ {
		if err := s.SaveAnalysis(ctx, a); err != nil {
			t.Fatalf("save %d: %v", i+1, err)
		}
	}
	if _, _, _, h, err := s.Counts(ctx); err != nil || h != 2 {
		t.Errorf("Counts after two saves: %d holes, %v; want 2", h, err)
	}
	a.Holes = a.Holes[1:]
	a.ComputedAt = a.ComputedAt.Add(time.Second)
	if err := s.SaveAnalysis(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, _, _, h, err := s.Counts(ctx); err != nil || h != 1 {
		t.Errorf("Counts after a smaller save: %d holes, %v; want 1", h, err)
	}
}

func testSaveAnalysisRejects(t *testing.T, b Backend) {
	ctx := context.Background()
	dupHole := Analysis()
	dupHole.Holes[1].ID = dupHole.Holes[0].ID
	dupHole.Holes[1].Carrier = dupHole.Holes[0].Carrier
	dupArea := Analysis()
	dupArea.Areas[2].Code = "001"
	noTime := Analysis()
	noTime.ComputedAt = time.Time{}
	for _, tc := range []struct {
		name string
		a    geo.Analysis
		want error
	}{
		{"hole id twice", dupHole, geo.ErrConflict},
		{"area code twice in a vintage", dupArea, geo.ErrConflict},
		{"no computation time", noTime, geo.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := b.New(t)
			before := geo.Analysis{ComputedAt: AnalysisAt, Reports: 7, Holes: Analysis().Holes[1:], Areas: Analysis().Areas[1:2]}
			if err := s.SaveAnalysis(ctx, before); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveAnalysis(ctx, tc.a); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want an error matching %v", err, tc.want)
			}
			if _, _, _, h, err := s.Counts(ctx); err != nil || h != 1 {
				t.Errorf("after the failed save: %d holes, %v; want the 1 saved before", h, err)
			}
		})
	}
}
