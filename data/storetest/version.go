package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// testVersionSeesOtherHandles opens two handles on one store, as a
// server and the command line (or two replicas) would, and checks that
// each write moves the field of the other handle's Version that it
// should, and only that one, whichever handle made it.
func testVersionSeesOtherHandles(t *testing.T, b Backend) {
	ctx := context.Background()
	a := b.New(t)
	other := b.Again(t, a)
	Fill(t, a)
	version := func(s Store) geo.Version {
		t.Helper()
		v, err := s.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if va, vb := version(a), version(other); va != vb || va.Reports == 0 || va.Areas == 0 || va.Teams == 0 {
		t.Fatalf("after fill: a %+v, b %+v; want equal, with reports, areas and teams counted", va, vb)
	}
	cases := []struct {
		name  string
		by    Store
		write func(s Store) error
		moved string // the field that must change, "" for none
	}{
		{"report added by the other handle", other, func(s Store) error {
			_, _, err := s.AddReport(ctx, geo.Report{ID: "v1", Lat: 21.02, Lon: 105.82, ObservedAt: time.Now(), Carrier: geo.Viettel}, geo.Submission{})
			return err
		}, "Reports"},
		{"reports added by the same handle", a, func(s Store) error {
			_, err := s.AddReports(ctx, []geo.Report{{ID: "v2", Lat: 21.02, Lon: 105.82, ObservedAt: time.Now()}}, geo.AuditEntry{})
			return err
		}, "Reports"},
		{"a replayed key", other, func(s Store) error {
			if _, _, err := s.AddReport(ctx, geo.Report{ID: "v3", Lat: 21.02, Lon: 105.82, ObservedAt: time.Now(), Carrier: geo.Viettel}, geo.Submission{Key: "k"}); err != nil {
				return err
			}
			_, created, err := a.AddReport(ctx, geo.Report{ID: "v4", Lat: 21.02, Lon: 105.82, ObservedAt: time.Now(), Carrier: geo.Viettel}, geo.Submission{Key: "k"})
			if created {
				return errors.New("the replayed key stored a report")
			}
			return err
		}, "Reports"},
		{"areas replaced", other, func(s Store) error { return s.ReplaceAreas(ctx, "2026", Areas("2026")) }, "Areas"},
		{"teams replaced", other, func(s Store) error { return s.ReplaceTeams(ctx, []geo.Team{{ID: "t9", Name: "Tổ mới"}}) }, "Teams"},
		{"a report rejected", other, func(s Store) error {
			return s.SetReview(ctx, geo.Review{ReportID: "r1", Status: geo.ReviewRejected, Reviewer: "cli", At: time.Now()}, geo.AuditEntry{})
		}, "Reviews"},
		{"the same report confirmed again", a, func(s Store) error {
			return s.SetReview(ctx, geo.Review{ReportID: "r1", Status: geo.ReviewConfirmed, Reviewer: "cli", At: time.Now()}, geo.AuditEntry{})
		}, "Reviews"},
		{"a user added", other, func(s Store) error {
			return s.AddUser(ctx, geo.User{Name: "lan", Role: geo.RoleReviewer, CreatedAt: time.Now()}, geo.AuditEntry{})
		}, ""},
		{"an analysis saved", a, func(s Store) error {
			return s.SaveAnalysis(ctx, geo.Analysis{ComputedAt: time.Now(), Reports: 5})
		}, ""},
		{"hole records saved", other, func(s Store) error { return s.SaveHoleRecords(ctx, HoleRecords()) }, "Holes"},
		{"a hole answered", a, func(s Store) error {
			r := HoleRecords()[0]
			r.Rev++
			r.Tracks[0].State = geo.StateAcknowledged
			return s.SaveHoleRecords(ctx, []geo.HoleRecord{r})
		}, "Holes"},
		{"a sign-in failure counted", other, func(s Store) error {
			return s.UpdateThrottle(ctx, []string{"n\x00lan"}, time.Time{}, func(cs []geo.ThrottleCount) {
				cs[0].Fails, cs[0].Last, cs[0].Mark = 1, time.Now(), time.Now()
			})
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			beforeA, beforeB := version(a), version(other)
			if err := tc.write(tc.by); err != nil {
				t.Fatal(err)
			}
			for _, s := range []struct {
				name   string
				before geo.Version
				st     Store
			}{{"a", beforeA, a}, {"b", beforeB, other}} {
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
	var last int64
	if err := a.EachReportSince(ctx, 0, func(seq int64, _ *geo.Report) error { last = seq; return nil }); err != nil {
		t.Fatal(err)
	}
	if v := version(other); v.Reports != last {
		t.Errorf("Version.Reports %d, want the last report's sequence number %d", v.Reports, last)
	}
}

// testVersionAfterReopen: a version read by a new handle equals the one
// before when nothing was written.
func testVersionAfterReopen(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	Fill(t, s)
	v1, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	s.Version(cctx) // may fail; must not break the next call
	if v, err := s.Version(ctx); err != nil || v != v1 {
		t.Errorf("Version after a cancelled call: %+v, %v; want %+v", v, err, v1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := b.Again(t, s)
	if v, err := s2.Version(ctx); err != nil || v != v1 {
		t.Errorf("Version after reopening: %+v, %v; want %+v", v, err, v1)
	}
}

// testEachReportSince interleaves the writes of two handles and reads
// the reports back after each sequence number.
func testEachReportSince(t *testing.T, b Backend) {
	ctx := context.Background()
	a := b.New(t)
	other := b.Again(t, a)
	rep := func(id string) geo.Report {
		return geo.Report{ID: id, Lat: 10.5, Lon: 105.1, ObservedAt: time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC), Carrier: geo.Viettel, Note: "Sóng yếu"}
	}
	order := []string{"a1", "b1", "b2", "a2", "b3"}
	for _, id := range order {
		st := a
		if id[0] == 'b' {
			st = other
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
	since := func(s Store, after int64) []got {
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
		if g.seq <= 0 {
			t.Errorf("sequence number %d not positive", g.seq)
		}
	}
	for i := range all {
		if g := since(other, all[i].seq); !slices.Equal(g, all[i+1:]) {
			t.Errorf("since %d: %v, want %v", all[i].seq, g, all[i+1:])
		}
	}
	if v, err := other.Version(ctx); err != nil || v.Reports != all[len(all)-1].seq {
		t.Errorf("Version %+v, %v; want Reports %d", v, err, all[len(all)-1].seq)
	}
	stop := errors.New("stop")
	n := 0
	if err := a.EachReportSince(ctx, 0, func(int64, *geo.Report) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("fn's error: got %v after %d reports, want stop after 1", err, n)
	}
}

// testEachReportSinceConcurrentWriters has writers on two handles add
// reports one by one and in batches while a reader follows with
// EachReportSince from the last number it saw, as a replica's watcher
// does: the reader must meet every report exactly once, in growing
// numbers, even though writes commit in an order of their own.
func testEachReportSinceConcurrentWriters(t *testing.T, b Backend) {
	ctx := context.Background()
	a := b.New(t)
	other := b.Again(t, a)
	const writers, each = 6, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := a
			if w%2 == 1 {
				st = other
			}
			for i := 0; i < each; i++ {
				r := geo.Report{ID: fmt.Sprintf("w%d-%d", w, i), Lat: 10, Lon: 105, ObservedAt: time.Now(), Carrier: geo.Viettel}
				var err error
				if i%5 == 4 {
					_, err = st.AddReports(ctx, []geo.Report{r}, geo.AuditEntry{})
				} else {
					_, _, err = st.AddReport(ctx, r, geo.Submission{})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]int{}
	var last int64
	read := func() {
		t.Helper()
		if err := other.EachReportSince(ctx, last, func(seq int64, r *geo.Report) error {
			if seq <= last {
				t.Errorf("report %s: sequence number %d after %d", r.ID, seq, last)
			}
			last = seq
			seen[r.ID]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		read()
	}
	read()
	if len(seen) != writers*each {
		t.Errorf("the reader met %d reports, want %d", len(seen), writers*each)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("report %s met %d times", id, n)
		}
	}
}
