package storetest

import (
	"context"
	"errors"
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
