package gpkg

import (
	"context"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// submitterVersion is the migration that records who submitted each
// report, scopes idempotency keys to them and gives tokens a parent.
const submitterVersion = 6

// failAuditSQL makes every audit entry whose detail is "fail" fail to be
// written: a failure between a write and its entry.
const failAuditSQL = `CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_log WHEN NEW.detail = 'fail'
BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`

// TestReportAndAuditOneTransaction: every write of the store commits its
// audit entry with it, or neither when the entry cannot be written.
func TestReportAndAuditOneTransaction(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	fill(t, s)
	mustAddUsers(t, s, accountUsers())
	if _, err := s.db.ExecContext(ctx, failAuditSQL); err != nil {
		t.Fatal(err)
	}
	rep := func(id string) geo.Report {
		return geo.Report{ID: id, Lat: 21.02, Lon: 105.82, ObservedAt: time.Now(), Carrier: geo.Viettel, Submitter: "user:a"}
	}
	at := time.Date(2025, 7, 3, 0, 0, 0, 0, time.UTC)
	tok := geo.Token{ID: "t-00000000aaaa", User: "reviewer1", Hash: "h-aaaa", CreatedAt: at}
	if err := s.AddToken(ctx, geo.Token{ID: "t-00000000bbbb", User: "reviewer1", Hash: "h-bbbb", CreatedAt: at}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSession(ctx, geo.Session{Hash: "sess-1", User: "reviewer1", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	// Each write, and what it changed (a count that is 1 once it did).
	writes := []struct {
		name    string
		write   func(e geo.AuditEntry) error
		changed string
	}{
		{"AddReport", func(e geo.AuditEntry) error {
			_, _, err := s.AddReport(ctx, rep("w1"), geo.Submission{Key: "k", Audit: e})
			return err
		}, `SELECT count(*) FROM reports WHERE id = 'w1'`},
		{"AddReports", func(e geo.AuditEntry) error {
			_, err := s.AddReports(ctx, []geo.Report{rep("w2"), rep("w3")}, e)
			return err
		}, `SELECT count(*) = 2 FROM reports WHERE id IN ('w2', 'w3')`},
		{"SetReview", func(e geo.AuditEntry) error {
			return s.SetReview(ctx, geo.Review{ReportID: "r1", Status: geo.ReviewRejected, Reviewer: "x", At: at}, e)
		}, `SELECT count(*) FROM report_reviews WHERE report_id = 'r1'`},
		{"AddUser", func(e geo.AuditEntry) error {
			return s.AddUser(ctx, geo.User{Name: "mới", Role: geo.RoleReviewer}, e)
		}, `SELECT count(*) FROM users WHERE name = 'mới'`},
		{"AddToken", func(e geo.AuditEntry) error { return s.AddToken(ctx, tok, e) },
			`SELECT count(*) FROM tokens WHERE id = 't-00000000aaaa'`},
		{"RevokeToken", func(e geo.AuditEntry) error { return s.RevokeToken(ctx, "t-00000000bbbb", at, e) },
			`SELECT count(*) FROM tokens WHERE id = 't-00000000bbbb' AND revoked_at IS NOT NULL`},
		{"AddSession", func(e geo.AuditEntry) error {
			return s.AddSession(ctx, geo.Session{Hash: "sess-2", User: "reviewer1", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}, e)
		}, `SELECT count(*) FROM sessions WHERE hash = 'sess-2'`},
		{"DeleteSession", func(e geo.AuditEntry) error { return s.DeleteSession(ctx, "sess-1", e) },
			`SELECT count(*) = 0 FROM sessions WHERE hash = 'sess-1'`},
		{"SetPassword", func(e geo.AuditEntry) error { return s.SetPassword(ctx, "reviewer1", "$argon2id$new", at, e) },
			`SELECT count(*) FROM users WHERE name = 'reviewer1' AND password_hash = '$argon2id$new'`},
	}
	entries := func(action string) int {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = ?`, action).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	changed := func(q string) int {
		var n int
		if err := s.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			err := w.write(geo.AuditEntry{Action: "test." + w.name, Detail: "fail"})
			if err == nil {
				t.Fatal("the write succeeded while its audit entry failed")
			}
			if n := changed(w.changed); n != 0 {
				t.Errorf("the write was kept without its audit entry (%s: %d)", w.changed, n)
			}
			if err := w.write(geo.AuditEntry{Action: "test." + w.name}); err != nil {
				t.Fatal(err)
			}
			if n := changed(w.changed); n != 1 {
				t.Errorf("the write was not stored (%s: %d)", w.changed, n)
			}
			if n := entries("test." + w.name); n != 1 {
				t.Errorf("%d audit entries, want 1", n)
			}
		})
	}
	// The entry of a new report names it; a replayed key writes none.
	r, created, err := s.AddReport(ctx, geo.Report{Lat: 21.02, Lon: 105.82, ObservedAt: time.Now(), Carrier: geo.Viettel, Submitter: "user:a"},
		geo.Submission{Key: "k2", Audit: geo.AuditEntry{Action: "test.generated"}})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if _, created, err := s.AddReport(ctx, r, geo.Submission{Key: "k2", Audit: geo.AuditEntry{Action: "test.generated"}}); err != nil || created {
		t.Fatal(created, err)
	}
	es, err := s.Audit(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if entries("test.generated") != 1 || es[0].Target != r.ID {
		t.Errorf("entries of a generated id: %+v, want one naming %s", es[:1], r.ID)
	}
}

// TestSubmitterMigration opens a file from before migration 6: reports
// whose audit entry names an account get it as their submitter, the
// rest keep none; idempotency keys move to their submitter's; tokens
// have no parent.
func TestSubmitterMigration(t *testing.T) {
	ctx := context.Background()
	rep := func(id, reporter string) geo.Report {
		return geo.Report{ID: id, Lat: 21.02, Lon: 105.82, ObservedAt: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC),
			Carrier: geo.Viettel, Reporter: reporter}
	}
	s := migratedFrom(t, submitterVersion, func(old *Store) {
		insertOldReport(t, old, rep("k1", "Tổ 1"), "key-1")
		insertOldReport(t, old, rep("k2", "Tổ 2"), "key-2")
		for _, e := range []geo.AuditEntry{
			{Actor: "lan", Via: "token", Action: "report.create", Target: "k1"},
			{Actor: "ict", Via: "cli", Action: "report.create", Target: "k2"},
		} {
			if err := old.AddAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := old.db.ExecContext(ctx, `INSERT INTO users (name, role) VALUES ('lan', 'staff');
INSERT INTO tokens (id, user, hash) VALUES ('t-old', 'lan', 'h')`); err != nil {
			t.Fatal(err)
		}
	})
	for _, w := range []struct{ id, submitter, key string }{{"k1", "user:lan", "key-1"}, {"k2", "", "key-2"}, {"r1", "", ""}} {
		var sub, key, old string
		if err := s.db.QueryRowContext(ctx, `SELECT submitter, coalesce(request_key, ''), coalesce(idempotency_key, '') FROM reports WHERE id = ?`, w.id).
			Scan(&sub, &key, &old); err != nil {
			t.Fatal(err)
		}
		if sub != w.submitter || key != w.key || old != "" {
			t.Errorf("%s: submitter %q, key %q, old key %q; want %q, %q, none", w.id, sub, key, old, w.submitter, w.key)
		}
	}
	r := rep("", "")
	r.Submitter = "user:lan"
	if got, created, err := s.AddReport(ctx, r, geo.Submission{Key: "key-1", Hash: "h"}); err != nil || created || got.ID != "k1" {
		t.Errorf("an old key replayed by its account: %+v %v %v, want k1", got, created, err)
	}
	if tk, err := s.Token(ctx, "t-old"); err != nil || tk.Parent != "" {
		t.Errorf("old token %+v %v, want no parent", tk, err)
	}
	k2, err := s.Report(ctx, "k2")
	if err != nil || k2.Submitter != "" || k2.ReporterKey() != "reporter:Tổ 2" {
		t.Errorf("k2 %+v %v: counts as %q, want its typed reporter", k2, err, k2.ReporterKey())
	}
}

// BenchmarkAddReportAudited is one report and its audit entry committed
// (fsync) in one transaction ("one-tx"), against the report and then the
// entry committed each on its own ("two-commits"), as before the entry
// joined the report's transaction.
func BenchmarkAddReportAudited(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []string{"one-tx", "two-commits"} {
		b.Run(mode, func(b *testing.B) {
			s, err := Open(ctx, b.TempDir()+"/b.gpkg")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				r := geo.Report{Lat: 21 + float64(i%100)*0.001, Lon: 105, ObservedAt: time.Now(), Carrier: geo.Viettel, Submitter: "user:a"}
				e := geo.AuditEntry{Actor: "a", Via: "token", Action: "report.create"}
				if mode == "one-tx" {
					_, _, err = s.AddReport(ctx, r, geo.Submission{Audit: e})
				} else if _, _, err = s.AddReport(ctx, r, geo.Submission{}); err == nil {
					err = s.AddAudit(ctx, e)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
