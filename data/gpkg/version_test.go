package gpkg

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

const changesVersion = 5

// TestVersionSeesOtherConnections opens two handles on one file, as a
// server and the command line would, and checks that each write moves
// the field of the other handle's Version that it should, and only that
// one, whichever handle made it.
func TestVersionSeesOtherConnections(t *testing.T) {
	ctx := context.Background()
	a, path := openTemp(t)
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fill(t, a)
	version := func(s *Store) geo.Version {
		t.Helper()
		v, err := s.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if va, vb := version(a), version(b); va != vb || va.Reports == 0 || va.Areas == 0 || va.Teams == 0 {
		t.Fatalf("after fill: a %+v, b %+v; want equal, with reports, areas and teams counted", va, vb)
	}
	cases := []struct {
		name  string
		by    *Store
		write func(s *Store) error
		moved string // the field that must change, "" for none
	}{
		{"report added by the other handle", b, func(s *Store) error {
			_, _, err := s.AddReport(ctx, geo.Report{ID: "v1", Lat: 21.02, Lon: 105.82, ObservedAt: time.Now(), Carrier: geo.Viettel}, geo.Submission{})
			return err
		}, "Reports"},
		{"reports added by the same handle", a, func(s *Store) error {
			_, err := s.AddReports(ctx, []geo.Report{{ID: "v2", Lat: 21.02, Lon: 105.82, ObservedAt: time.Now()}}, geo.AuditEntry{})
			return err
		}, "Reports"},
		{"areas replaced", b, func(s *Store) error { return s.ReplaceAreas(ctx, "2026", vnAreas("2026")) }, "Areas"},
		{"an area edited in place, as QGIS would", b, func(s *Store) error {
			_, err := s.db.ExecContext(ctx, `UPDATE areas SET name = 'Phường Đổi Tên' WHERE code = '001' AND vintage = '2025'`)
			return err
		}, "Areas"},
		{"teams replaced", b, func(s *Store) error { return s.ReplaceTeams(ctx, []geo.Team{{ID: "t9", Name: "Tổ mới"}}) }, "Teams"},
		{"a report rejected", b, func(s *Store) error {
			return s.SetReview(ctx, geo.Review{ReportID: "r1", Status: geo.ReviewRejected, Reviewer: "cli", At: time.Now()}, geo.AuditEntry{})
		}, "Reviews"},
		{"the same report confirmed again", a, func(s *Store) error {
			return s.SetReview(ctx, geo.Review{ReportID: "r1", Status: geo.ReviewConfirmed, Reviewer: "cli", At: time.Now()}, geo.AuditEntry{})
		}, "Reviews"},
		{"a user added", b, func(s *Store) error {
			return s.AddUser(ctx, geo.User{Name: "lan", Role: geo.RoleReviewer, CreatedAt: time.Now()}, geo.AuditEntry{})
		}, ""},
		{"an analysis saved", a, func(s *Store) error {
			return s.SaveAnalysis(ctx, geo.Analysis{ComputedAt: time.Now(), Reports: 5})
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			beforeA, beforeB := version(a), version(b)
			if err := tc.write(tc.by); err != nil {
				t.Fatal(err)
			}
			for _, s := range []struct {
				name   string
				before geo.Version
				st     *Store
			}{{"a", beforeA, a}, {"b", beforeB, b}} {
				after := version(s.st)
				bv, av := reflect.ValueOf(s.before), reflect.ValueOf(after)
				for i := range bv.NumField() {
					f := bv.Type().Field(i).Name
					if moved := bv.Field(i).Int() != av.Field(i).Int(); moved != (f == tc.moved) {
						t.Errorf("handle %s: %s went from %d to %d (want a change in %q only)", s.name, f, bv.Field(i).Int(), av.Field(i).Int(), tc.moved)
					}
				}
			}
		})
	}
	var max int64
	if err := a.rdb.QueryRowContext(ctx, `SELECT max(fid) FROM reports`).Scan(&max); err != nil {
		t.Fatal(err)
	}
	if v := version(b); v.Reports != max {
		t.Errorf("Version.Reports %d, want the last report's sequence number %d", v.Reports, max)
	}
}

// TestVersionAfterReopenAndError: a version read over a new connection
// (after a reopen, or after the watching connection was dropped) equals
// the one before when nothing was written.
func TestVersionAfterReopenAndError(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	fill(t, s)
	v1, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	s.ver.mu.Lock()
	s.ver.seen = -1 // force a read of the counters, which the cancelled context fails
	s.ver.mu.Unlock()
	if _, err := s.Version(cctx); err == nil {
		t.Error("Version with a cancelled context: no error")
	}
	if v, err := s.Version(ctx); err != nil || v != v1 {
		t.Errorf("Version after an error: %+v, %v; want %+v", v, err, v1)
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if v, err := s2.Version(ctx); err != nil || v != v1 {
		t.Errorf("Version after reopening: %+v, %v; want %+v", v, err, v1)
	}
}

// TestEachReportSince interleaves the writes of two handles and reads
// the reports back after each sequence number.
func TestEachReportSince(t *testing.T) {
	ctx := context.Background()
	a, path := openTemp(t)
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rep := func(id string) geo.Report {
		return geo.Report{ID: id, Lat: 10.5, Lon: 105.1, ObservedAt: time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC), Carrier: geo.Viettel, Note: "Sóng yếu"}
	}
	order := []string{"a1", "b1", "b2", "a2", "b3"}
	for _, id := range order {
		st := a
		if id[0] == 'b' {
			st = b
		}
		if id == "b2" {
			if _, err := st.AddReports(ctx, []geo.Report{rep("b2")}, geo.AuditEntry{}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, _, err := st.AddReport(ctx, rep(id), geo.Submission{}); err != nil {
			t.Fatal(err)
		}
	}
	type got struct {
		seq int64
		id  string
	}
	since := func(s *Store, after int64) []got {
		t.Helper()
		var out []got
		if err := s.EachReportSince(ctx, after, func(seq int64, r *geo.Report) error {
			if r.Note != "Sóng yếu" {
				t.Errorf("report %s: note %q", r.ID, r.Note)
			}
			out = append(out, got{seq, r.ID})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := since(a, 0)
	if len(all) != len(order) {
		t.Fatalf("since 0: %v, want %d reports", all, len(order))
	}
	for i, g := range all {
		if g.id != order[i] {
			t.Errorf("report %d: %s, want %s (commit order)", i, g.id, order[i])
		}
		if i > 0 && g.seq <= all[i-1].seq {
			t.Errorf("sequence numbers do not grow: %v", all)
		}
	}
	for i := range all {
		if g := since(b, all[i].seq); !slices.Equal(g, all[i+1:]) {
			t.Errorf("since %d: %v, want %v", all[i].seq, g, all[i+1:])
		}
	}
	if v, err := b.Version(ctx); err != nil || v.Reports != all[len(all)-1].seq {
		t.Errorf("Version %+v, %v; want Reports %d", v, err, all[len(all)-1].seq)
	}
	stop := errors.New("stop")
	n := 0
	if err := a.EachReportSince(ctx, 0, func(int64, *geo.Report) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("fn's error: got %v after %d reports, want stop after 1", err, n)
	}
}

// TestChangesMigration opens a file made before the change counters and
// finds them working.
func TestChangesMigration(t *testing.T) {
	ctx := context.Background()
	s := migratedFrom(t, changesVersion, nil)
	v1, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Reports == 0 {
		t.Errorf("Version on the migrated file %+v: no reports", v1)
	}
	if err := s.ReplaceTeams(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if v2, err := s.Version(ctx); err != nil || v2.Teams == v1.Teams || v2.Areas != v1.Areas {
		t.Errorf("Version after replacing the teams: %+v, %v (was %+v)", v2, err, v1)
	}
}
