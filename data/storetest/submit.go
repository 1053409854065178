package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// testIdempotencyKeysPerSubmitter: a key is looked up among the reports
// of the same submitter only, and a different content under a key is
// ErrMismatch.
func testIdempotencyKeysPerSubmitter(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	r := geo.Report{Lat: 21, Lon: 105, ObservedAt: time.Now(), Carrier: geo.VinaPhone, Submitter: "user:a"}
	a, created, err := s.AddReport(ctx, r, geo.Submission{Key: "k", Hash: "h1"})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	r.Submitter = "user:b"
	b2, created, err := s.AddReport(ctx, r, geo.Submission{Key: "k", Hash: "h1"})
	if err != nil || !created || b2.ID == a.ID {
		t.Fatalf("another submitter's key: %+v %v %v, want a new report", b2, created, err)
	}
	r.Submitter = "user:a"
	if got, created, err := s.AddReport(ctx, r, geo.Submission{Key: "k", Hash: "h1"}); err != nil || created || got.ID != a.ID {
		t.Errorf("replay: %+v %v %v, want %s", got, created, err, a.ID)
	}
	if _, _, err := s.AddReport(ctx, r, geo.Submission{Key: "k", Hash: "h2"}); !errors.Is(err, geo.ErrMismatch) {
		t.Errorf("another content under the key: %v, want ErrMismatch", err)
	}
	if got, created, err := s.AddReport(ctx, r, geo.Submission{Key: "k"}); err != nil || created || got.ID != a.ID {
		t.Errorf("replay without a hash: %+v %v %v, want %s", got, created, err, a.ID)
	}
}

// testTokenLineage: revoking a token revokes the tokens it made and
// theirs, and no other; a revoked token or an ended session makes none;
// a new password revokes every token of the user's, and their children.
func testTokenLineage(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	MustAddUsers(t, s, AccountUsers())
	at := time.Date(2025, 7, 3, 0, 0, 0, 0, time.UTC)
	add := func(id, user, parent string) error {
		return s.AddToken(ctx, geo.Token{ID: id, User: user, Hash: "h" + id, CreatedAt: at, Parent: parent}, geo.AuditEntry{})
	}
	if err := s.AddSession(ctx, geo.Session{Hash: "0123456789abcdef0123", User: "reviewer1", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	for _, tk := range [][3]string{
		{"t-root", "reviewer1", "cli"},
		{"t-child", "reviewer1", "t-root"},
		{"t-grandchild", "quản_trị", "t-child"}, // made for another user
		{"t-sibling", "reviewer1", "cli"},
		{"t-browser", "reviewer1", "session:0123456789abcdef"},
		{"t-browser-child", "reviewer1", "t-browser"},
	} {
		if err := add(tk[0], tk[1], tk[2]); err != nil {
			t.Fatal(tk, err)
		}
	}
	revoked := func() map[string]bool {
		ts, err := s.Tokens(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, tk := range ts {
			if !tk.RevokedAt.IsZero() {
				m[tk.ID] = true
			}
		}
		return m
	}
	if err := s.RevokeToken(ctx, "t-child", at, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if got := revoked(); len(got) != 2 || !got["t-child"] || !got["t-grandchild"] {
		t.Errorf("revoked %v, want t-child and t-grandchild", got)
	}
	if tk, err := s.Token(ctx, "t-root"); err != nil || tk.Parent != "cli" {
		t.Errorf("t-root: %+v %v, want parent cli", tk, err)
	}
	for _, tc := range []struct{ name, parent string }{
		{"revoked token", "t-child"},
		{"unknown token", "t-nope"},
		{"unknown session", "session:ffffffffffffffff"},
	} {
		if err := add("t-new", "reviewer1", tc.parent); !errors.Is(err, geo.ErrUnauthenticated) {
			t.Errorf("a token made by a %s: %v, want ErrUnauthenticated", tc.name, err)
		}
	}
	if err := s.SetPassword(ctx, "reviewer1", "$argon2id$new", at.Add(time.Minute), geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if got := revoked(); len(got) != 6 {
		t.Errorf("after the password change, revoked %v, want all six", got)
	}
	if err := add("t-new", "reviewer1", "session:0123456789abcdef"); !errors.Is(err, geo.ErrUnauthenticated) {
		t.Errorf("a token made by a session the password change ended: %v, want ErrUnauthenticated", err)
	}
}

// testAuditWithWrites: each write's audit entry is written with it, a
// replayed key writes none, and an entry without an Action is not
// written.
func testAuditWithWrites(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	at := time.Date(2025, 7, 3, 0, 0, 0, 0, time.UTC)
	entry := func(action string) geo.AuditEntry {
		return geo.AuditEntry{At: at, Actor: "quản_trị", Via: "session", Action: action, Remote: "203.113.0.7"}
	}
	r := geo.Report{Lat: 21, Lon: 105, ObservedAt: at, Carrier: geo.Viettel, Submitter: "user:quản_trị"}
	stored, _, err := s.AddReport(ctx, r, geo.Submission{Key: "k", Audit: entry("report.create")})
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := s.AddReport(ctx, r, geo.Submission{Key: "k", Audit: entry("report.create")}); err != nil || created {
		t.Fatalf("replay: %v %v", created, err)
	}
	if _, err := s.AddReports(ctx, []geo.Report{{Lat: 21, Lon: 105, ObservedAt: at, Carrier: geo.Viettel}}, entry("report.import")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, geo.User{Name: "lan", Role: geo.RoleReviewer}, entry("user.add")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, geo.User{Name: "lan", Role: geo.RoleReviewer}, entry("user.add")); !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("name taken: %v", err)
	}
	if err := s.SetReview(ctx, geo.Review{ReportID: stored.ID, Status: geo.ReviewConfirmed, At: at}, entry("report.review")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(ctx, geo.Token{ID: "t-1", User: "lan", Hash: "h", CreatedAt: at}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	es, err := s.Audit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Target)
	}
	want := []string{"report.review ", "user.add ", "report.import ", "report.create " + stored.ID}
	if len(got) != len(want) {
		t.Fatalf("audit %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("audit %q, want %q", got, want)
			break
		}
	}
}

// testTasks: the measurement tasks saved are read back, and a save
// replaces them all.
func testTasks(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	if got, err := s.Tasks(ctx); err != nil || len(got) != 0 {
		t.Fatalf("no tasks yet: %v, %v", got, err)
	}
	at := time.Date(2026, 7, 1, 2, 30, 0, 0, time.UTC)
	want := []geo.Task{
		{ID: "t1/891f1d48b93ffff", Team: "t1", TeamName: "Tổ CNS ấp Phú Hòa", Area: "001", AreaName: "Ấp Phú Hòa Đông",
			Place: "891f1d48b93ffff", Lon: 105.81, Lat: 21.01, Carrier: geo.Viettel, Why: geo.TaskHoleEdge,
			Households: 12.5, Score: 0.75, Rank: 1, State: geo.TaskOpen, ProposedAt: at},
		{ID: "t2/891f1d48b97ffff", Team: "t2", TeamName: "Tổ CNS khóm 2", Area: "002", AreaName: "Khóm Mỹ Thới",
			Place: "891f1d48b97ffff", Lon: 105.9, Lat: 21.1, Carrier: geo.CarrierAll, Why: geo.TaskUnobserved,
			Households: 3, Score: 0.5, Rank: 1, State: geo.TaskDone, ProposedAt: at, DoneAt: at.Add(time.Hour), DoneBy: "r-1"},
	}
	if err := s.SaveTasks(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d tasks, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Cell == 0 {
			t.Errorf("task %s: no cell", g.ID)
		}
		g.Cell = 0
		if !reflect.DeepEqual(g, w) {
			t.Errorf("task %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if err := s.SaveTasks(ctx, want[1:]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Tasks(ctx); len(got) != 1 || got[0].ID != want[1].ID {
		t.Errorf("after saving one task: %+v", got)
	}
}
