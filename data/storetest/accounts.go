package storetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// AccountUsers are one user of each role, with Vietnamese names and a
// scope whose order is not sorted.
func AccountUsers() []geo.User {
	return []geo.User{
		{Name: "quản_trị", Role: geo.RoleAdmin, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
			CreatedAt: time.Date(2025, 7, 3, 14, 5, 6, 123456789, ICT)},
		{Name: "cán.bộ-xã@hưng_yên", Role: geo.RoleStaff, Scope: []string{"X02", "Ấp-Phú-Hòa", "001", "Khóm_Mỹ_Thới"},
			CreatedAt: time.Date(2025, 7, 4, 0, 0, 0, 0, time.UTC)},
		{Name: "viettel-planner", Role: geo.RoleCarrier, Carrier: geo.Viettel, PasswordHash: "x"},
		{Name: "reviewer1", Role: geo.RoleReviewer, CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 1, ICT)},
	}
}

// sameUser compares users, times by instant, and checks returned times
// are in UTC.
func sameUser(t *testing.T, got, want geo.User) {
	t.Helper()
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("user %q: created_at %v, want %v", want.Name, got.CreatedAt, want.CreatedAt)
	}
	if !got.CreatedAt.IsZero() && got.CreatedAt.Location() != time.UTC {
		t.Errorf("user %q: created_at in %v, want UTC", want.Name, got.CreatedAt.Location())
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("user:\n got %#v\nwant %#v", got, want)
	}
}

// MustAddUsers adds us to s, failing t on error.
func MustAddUsers(t *testing.T, s Store, us []geo.User) {
	t.Helper()
	for _, u := range us {
		if err := s.AddUser(context.Background(), u, geo.AuditEntry{}); err != nil {
			t.Fatalf("AddUser(%q): %v", u.Name, err)
		}
	}
}

func testUsers(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	want := AccountUsers()
	MustAddUsers(t, s, want)

	for _, w := range want {
		got, err := s.User(ctx, w.Name)
		if err != nil {
			t.Fatalf("User(%q): %v", w.Name, err)
		}
		sameUser(t, got, w)
	}
	got, err := s.User(ctx, "cán.bộ-xã@hưng_yên")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Scope, "|") != "X02|Ấp-Phú-Hòa|001|Khóm_Mỹ_Thới" {
		t.Errorf("scope %q: order or bytes changed", got.Scope)
	}

	all, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range all {
		names = append(names, u.Name)
	}
	// Byte order: ASCII before the letters with diacritics.
	if w := []string{"cán.bộ-xã@hưng_yên", "quản_trị", "reviewer1", "viettel-planner"}; !reflect.DeepEqual(names, w) {
		t.Errorf("Users order %q, want %q", names, w)
	}

	if err := s.SetPassword(ctx, "reviewer1", "$argon2id$new", time.Now(), geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.User(ctx, "reviewer1"); err != nil || u.PasswordHash != "$argon2id$new" {
		t.Errorf("after SetPassword: %q, %v", u.PasswordHash, err)
	}
	if u, _ := s.User(ctx, "quản_trị"); u.PasswordHash != want[0].PasswordHash {
		t.Errorf("SetPassword changed another user's hash to %q", u.PasswordHash)
	}
}

func testUserErrors(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	MustAddUsers(t, s, AccountUsers())
	for _, tc := range []struct {
		name string
		u    geo.User
		want error
	}{
		{"name taken", geo.User{Name: "quản_trị", Role: geo.RoleReviewer}, geo.ErrConflict},
		{"staff without scope", geo.User{Name: "x", Role: geo.RoleStaff}, geo.ErrInvalid},
		{"unknown role", geo.User{Name: "y", Role: "boss"}, geo.ErrInvalid},
		{"carrier without carrier", geo.User{Name: "z", Role: geo.RoleCarrier}, geo.ErrInvalid},
		{"space in name", geo.User{Name: "a b", Role: geo.RoleAdmin}, geo.ErrInvalid},
		{"comma in scope code", geo.User{Name: "w", Role: geo.RoleStaff, Scope: []string{"001,002"}}, geo.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.AddUser(ctx, tc.u, geo.AuditEntry{})
			if !errors.Is(err, tc.want) {
				t.Errorf("AddUser(%+v): %v, want %v", tc.u, err, tc.want)
			}
			if tc.want == geo.ErrInvalid {
				if verr := tc.u.Validate(); err == nil || err.Error() != verr.Error() {
					t.Errorf("AddUser(%+v): %v, want the Validate error %v", tc.u, err, verr)
				}
			}
		})
	}
	if users, _ := s.Users(ctx); len(users) != len(AccountUsers()) {
		t.Errorf("%d users after failed adds, want %d", len(users), len(AccountUsers()))
	}
	if _, err := s.User(ctx, "nobody"); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("User(nobody): %v, want ErrNotFound", err)
	}
	if err := s.SetPassword(ctx, "nobody", "h", time.Now(), geo.AuditEntry{}); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("SetPassword(nobody): %v, want ErrNotFound", err)
	}
}

func testUsersEmpty(t *testing.T, b Backend) {
	s := b.New(t)
	if us, err := s.Users(context.Background()); err != nil || len(us) != 0 {
		t.Errorf("Users on an empty store: %v, %v", us, err)
	}
}

func sameToken(t *testing.T, got, want geo.Token) {
	t.Helper()
	for _, p := range []struct {
		name      string
		got, want time.Time
	}{{"created_at", got.CreatedAt, want.CreatedAt}, {"last_used_at", got.LastUsedAt, want.LastUsedAt}, {"revoked_at", got.RevokedAt, want.RevokedAt}} {
		if !sameTime(p.got, p.want) {
			t.Errorf("token %q: %s %v, want %v", want.ID, p.name, p.got, p.want)
		}
		if !p.got.IsZero() && p.got.Location() != time.UTC {
			t.Errorf("token %q: %s in %v, want UTC", want.ID, p.name, p.got.Location())
		}
	}
	got.CreatedAt, got.LastUsedAt, got.RevokedAt = time.Time{}, time.Time{}, time.Time{}
	want.CreatedAt, want.LastUsedAt, want.RevokedAt = time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("token:\n got %#v\nwant %#v", got, want)
	}
}

func tokenIDs(ts []geo.Token) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

// AccountTokens are for AccountUsers. Their creation times differ in the
// trailing fraction digits, which a variable-width format would sort
// wrongly as text.
func AccountTokens() []geo.Token {
	base := time.Date(2025, 7, 3, 10, 0, 0, 0, time.UTC)
	return []geo.Token{
		{ID: "t-000000000001", User: "quản_trị", Hash: strings.Repeat("a", 64), Label: "máy chủ nhập liệu",
			CreatedAt: base},
		{ID: "t-000000000002", User: "quản_trị", Hash: strings.Repeat("b", 64), Label: "",
			CreatedAt: base.Add(500 * time.Millisecond), LastUsedAt: base.Add(time.Hour).In(ICT)},
		{ID: "t-000000000003", User: "viettel-planner", Hash: strings.Repeat("c", 64), Label: "Viettel GIS",
			CreatedAt: base.Add(time.Nanosecond).In(ICT)},
		{ID: "t-000000000004", User: "viettel-planner", Hash: strings.Repeat("d", 64),
			CreatedAt: base.Add(-time.Hour), RevokedAt: base.Add(-time.Minute)},
	}
}

func testTokens(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	MustAddUsers(t, s, AccountUsers())
	want := AccountTokens()
	for _, tk := range want {
		if err := s.AddToken(ctx, tk, geo.AuditEntry{}); err != nil {
			t.Fatalf("AddToken(%q): %v", tk.ID, err)
		}
	}
	byID := map[string]geo.Token{}
	for _, w := range want {
		byID[w.ID] = w
		got, err := s.Token(ctx, w.ID)
		if err != nil {
			t.Fatalf("Token(%q): %v", w.ID, err)
		}
		sameToken(t, got, w)
		got, err = s.TokenByHash(ctx, w.Hash)
		if err != nil {
			t.Fatalf("TokenByHash(%q): %v", w.Hash, err)
		}
		sameToken(t, got, w)
	}

	for _, tc := range []struct {
		name, user string
		want       []string
	}{
		{"every user", "", []string{"t-000000000002", "t-000000000003", "t-000000000001", "t-000000000004"}},
		{"admin", "quản_trị", []string{"t-000000000002", "t-000000000001"}},
		{"carrier", "viettel-planner", []string{"t-000000000003", "t-000000000004"}},
		{"user without tokens", "reviewer1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Tokens(ctx, tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if ids := tokenIDs(got); !reflect.DeepEqual(ids, tc.want) && len(ids)+len(tc.want) > 0 {
				t.Errorf("Tokens(%q) = %v, want %v", tc.user, ids, tc.want)
			}
			for _, g := range got {
				sameToken(t, g, byID[g.ID])
			}
		})
	}
	if _, err := s.Tokens(ctx, "nobody"); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("Tokens(nobody): %v, want ErrNotFound", err)
	}

	// Revoke: the first time is kept.
	first := time.Date(2025, 8, 1, 9, 30, 0, 987654321, ICT)
	if err := s.RevokeToken(ctx, "t-000000000001", first, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "t-000000000001", first.Add(24*time.Hour), geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Token(ctx, "t-000000000001"); !sameTime(got.RevokedAt, first) || got.RevokedAt.Location() != time.UTC {
		t.Errorf("revoked_at %v, want %v in UTC", got.RevokedAt, first)
	}
	if got, _ := s.Token(ctx, "t-000000000004"); !sameTime(got.RevokedAt, want[3].RevokedAt) {
		t.Errorf("re-revoking changed revoked_at")
	}
	if err := s.RevokeToken(ctx, "t-000000000004", first, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Token(ctx, "t-000000000004"); !sameTime(got.RevokedAt, want[3].RevokedAt) {
		t.Errorf("revoke of a revoked token: revoked_at %v, want %v", got.RevokedAt, want[3].RevokedAt)
	}
	// A revoked token is still found by its hash; the caller checks it.
	if got, err := s.TokenByHash(ctx, want[0].Hash); err != nil || got.RevokedAt.IsZero() {
		t.Errorf("TokenByHash of revoked token: %+v, %v", got, err)
	}

	// Touch: the latest use wins.
	used := time.Date(2025, 8, 2, 0, 0, 0, 5, time.UTC)
	if err := s.TouchToken(ctx, "t-000000000003", used); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchToken(ctx, "t-000000000003", used.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Token(ctx, "t-000000000003"); !sameTime(got.LastUsedAt, used) {
		t.Errorf("last_used_at %v, want %v", got.LastUsedAt, used)
	}
	if err := s.TouchToken(ctx, "t-000000000003", used.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Token(ctx, "t-000000000003"); !sameTime(got.LastUsedAt, used.Add(time.Second)) {
		t.Errorf("last_used_at %v, want %v", got.LastUsedAt, used.Add(time.Second))
	}
}

func testTokenErrors(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	MustAddUsers(t, s, AccountUsers())
	ok := AccountTokens()[0]
	if err := s.AddToken(ctx, ok, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	with := func(f func(*geo.Token)) geo.Token {
		tk := ok
		tk.ID, tk.Hash = "t-999999999999", strings.Repeat("f", 64)
		f(&tk)
		return tk
	}
	for _, tc := range []struct {
		name string
		tk   geo.Token
		want error
	}{
		{"unknown user", with(func(tk *geo.Token) { tk.User = "nobody" }), geo.ErrNotFound},
		{"empty user", with(func(tk *geo.Token) { tk.User = "" }), geo.ErrNotFound},
		{"id taken", with(func(tk *geo.Token) { tk.ID = ok.ID }), geo.ErrConflict},
		{"hash taken", with(func(tk *geo.Token) { tk.Hash = ok.Hash }), geo.ErrConflict},
		{"no id", with(func(tk *geo.Token) { tk.ID = "" }), geo.ErrInvalid},
		{"no hash", with(func(tk *geo.Token) { tk.Hash = "" }), geo.ErrInvalid},
		{"label too long", with(func(tk *geo.Token) { tk.Label = strings.Repeat("ấ", geo.MaxLabelLen+1) }), geo.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.AddToken(ctx, tc.tk, geo.AuditEntry{}); !errors.Is(err, tc.want) {
				t.Errorf("AddToken: %v, want %v", err, tc.want)
			}
		})
	}
	if ts, _ := s.Tokens(ctx, ""); len(ts) != 1 {
		t.Errorf("%d tokens after failed adds, want 1", len(ts))
	}
	now := time.Now()
	for name, err := range map[string]error{
		"Token":       func() error { _, err := s.Token(ctx, "t-nope"); return err }(),
		"TokenByHash": func() error { _, err := s.TokenByHash(ctx, "nope"); return err }(),
		"RevokeToken": s.RevokeToken(ctx, "t-nope", now, geo.AuditEntry{}),
		"TouchToken":  s.TouchToken(ctx, "t-nope", now),
	} {
		if !errors.Is(err, geo.ErrNotFound) {
			t.Errorf("%s of unknown token: %v, want ErrNotFound", name, err)
		}
	}
	if err := s.RevokeToken(ctx, ok.ID, time.Time{}, geo.AuditEntry{}); !errors.Is(err, geo.ErrInvalid) {
		t.Errorf("RevokeToken at zero time: %v, want ErrInvalid", err)
	}
	if err := s.TouchToken(ctx, ok.ID, time.Time{}); !errors.Is(err, geo.ErrInvalid) {
		t.Errorf("TouchToken at zero time: %v, want ErrInvalid", err)
	}
	if got, _ := s.Token(ctx, ok.ID); !got.RevokedAt.IsZero() || !got.LastUsedAt.IsZero() {
		t.Errorf("zero-time calls changed the token: %+v", got)
	}
}

func testSessions(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	MustAddUsers(t, s, AccountUsers())
	created := time.Date(2025, 7, 3, 22, 15, 0, 123, ICT)
	sessions := []geo.Session{
		{Hash: strings.Repeat("1", 64), User: "quản_trị", CSRF: "csrf-1", CreatedAt: created, ExpiresAt: created.Add(12 * time.Hour)},
		{Hash: strings.Repeat("2", 64), User: "quản_trị", CSRF: "csrf-2", CreatedAt: created},
		{Hash: strings.Repeat("3", 64), User: "reviewer1", CSRF: "csrf-3", CreatedAt: created, ExpiresAt: created.Add(-time.Hour)},
	}
	for _, ss := range sessions {
		if err := s.AddSession(ctx, ss, geo.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range sessions {
		got, err := s.Session(ctx, w.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if !sameTime(got.CreatedAt, w.CreatedAt) || !sameTime(got.ExpiresAt, w.ExpiresAt) ||
			got.CreatedAt.Location() != time.UTC || (!got.ExpiresAt.IsZero() && got.ExpiresAt.Location() != time.UTC) {
			t.Errorf("session %s: times %v %v, want %v %v in UTC", w.CSRF, got.CreatedAt, got.ExpiresAt, w.CreatedAt, w.ExpiresAt)
		}
		got.CreatedAt, got.ExpiresAt, w.CreatedAt, w.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if got != w {
			t.Errorf("session:\n got %+v\nwant %+v", got, w)
		}
	}

	// A session made later clears the one that had expired (3), and keeps
	// the others.
	later := geo.Session{Hash: strings.Repeat("4", 64), User: "reviewer1", CSRF: "csrf-4", CreatedAt: created.Add(time.Minute), ExpiresAt: created.Add(time.Hour)}
	if err := s.AddSession(ctx, later, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, sessions[2].Hash); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("expired session kept: %v", err)
	}
	for _, ss := range sessions[:2] {
		if _, err := s.Session(ctx, ss.Hash); err != nil {
			t.Errorf("live session %s removed: %v", ss.CSRF, err)
		}
	}
	sessions = append(sessions[:2], later)

	for _, tc := range []struct {
		name string
		ss   geo.Session
		want error
	}{
		{"hash taken", geo.Session{Hash: sessions[0].Hash, User: "reviewer1"}, geo.ErrConflict},
		{"unknown user", geo.Session{Hash: "new", User: "nobody"}, geo.ErrNotFound},
		{"no hash", geo.Session{User: "reviewer1"}, geo.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.AddSession(ctx, tc.ss, geo.AuditEntry{}); !errors.Is(err, tc.want) {
				t.Errorf("AddSession(%+v): %v, want %v", tc.ss, err, tc.want)
			}
		})
	}
	if got, _ := s.Session(ctx, sessions[0].Hash); got.User != "quản_trị" {
		t.Errorf("conflicting add replaced the session: %+v", got)
	}

	if err := s.DeleteSession(ctx, sessions[0].Hash, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, sessions[0].Hash); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("deleted session: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, sessions[0].Hash, geo.AuditEntry{}); err != nil {
		t.Errorf("deleting an unknown session: %v, want nil", err)
	}
	// A new password ends every session of its user, and no other's.
	if err := s.SetPassword(ctx, "quản_trị", "$argon2id$other", created, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, sessions[1].Hash); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("session after SetPassword: %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, sessions[2].Hash); err != nil {
		t.Errorf("another user's session after SetPassword: %v", err)
	}
}

func testAudit(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	if got, err := s.Audit(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty audit: %v, %v", got, err)
	}
	at := time.Date(2025, 7, 3, 8, 0, 0, 42, ICT)
	const n = 1005
	for i := 0; i < n; i++ {
		e := geo.AuditEntry{At: at.Add(time.Duration(i) * time.Second), Actor: "quản_trị", Via: "session",
			Action: "report.create", Target: "r-" + string(rune('a'+i%26)), Remote: "203.113.0.7",
			Detail: "nhập 3 báo cáo – Ấp Phú Hòa"}
		if i == 0 {
			e.Actor, e.Via, e.Target, e.Remote, e.Detail = "", "", "", "", ""
		}
		if err := s.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now()
	if err := s.AddAudit(ctx, geo.AuditEntry{Action: "user.add", Via: "cli"}); err != nil {
		t.Fatal(err)
	}
	latest, err := s.Audit(ctx, 0, 1)
	if err != nil || len(latest) != 1 {
		t.Fatalf("Audit(0, 1): %v, %v", latest, err)
	}
	if l := latest[0]; l.ID != n+1 || l.Action != "user.add" || l.At.Before(before.Add(-time.Second)) || l.At.Location() != time.UTC {
		t.Errorf("latest entry %+v: want id %d, user.add, stamped now in UTC", l, n+1)
	}

	for _, tc := range []struct {
		name      string
		before    int64
		limit     int
		wantN     int
		wantFirst int64
	}{
		{"newest ten", 0, 10, 10, n + 1},
		{"page below id 500", 500, 3, 3, 499},
		{"negative before is from the newest", -1, 2, 2, n + 1},
		{"limit 0 clamped to 1", 0, 0, 1, n + 1},
		{"negative limit clamped to 1", 0, -5, 1, n + 1},
		{"limit clamped to 1000", 0, 5000, 1000, n + 1},
		{"short last page", 3, 10, 2, 2},
		{"nothing below id 1", 1, 10, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Audit(ctx, tc.before, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.wantN {
				t.Fatalf("Audit(%d, %d): %d entries, want %d", tc.before, tc.limit, len(got), tc.wantN)
			}
			for i := range got {
				if want := tc.wantFirst - int64(i); got[i].ID != want {
					t.Fatalf("Audit(%d, %d)[%d].ID = %d, want %d", tc.before, tc.limit, i, got[i].ID, want)
				}
			}
		})
	}

	got, err := s.Audit(ctx, 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].At = Micro(got[i].At)
	}
	want := []geo.AuditEntry{
		{ID: 2, At: Micro(at.Add(time.Second)), Actor: "quản_trị", Via: "session", Action: "report.create",
			Target: "r-b", Remote: "203.113.0.7", Detail: "nhập 3 báo cáo – Ấp Phú Hòa"},
		{ID: 1, At: Micro(at), Action: "report.create"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Audit(3, 10):\n got %+v\nwant %+v", got, want)
	}
	if err := s.AddAudit(ctx, geo.AuditEntry{Actor: "x"}); !errors.Is(err, geo.ErrInvalid) {
		t.Errorf("AddAudit without action: %v, want ErrInvalid", err)
	}
}

func testReviews(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.New(t)
	Fill(t, s)
	at := time.Date(2025, 7, 5, 16, 45, 0, 999999999, ICT)
	if got, err := s.Reviews(ctx); err != nil || len(got) != 0 {
		t.Fatalf("no reviews yet: %v, %v", got, err)
	}
	for _, r := range []geo.Review{
		{ReportID: "r2", Status: geo.ReviewConfirmed, Reviewer: "reviewer1", At: at, Comment: "Đúng, mất sóng ở bến đò"},
		{ReportID: "r1", Status: geo.ReviewConfirmed, Reviewer: "reviewer1", At: at},
		// Replaces the first verdict on r1.
		{ReportID: "r1", Status: geo.ReviewRejected, Reviewer: "quản_trị", At: at.Add(time.Hour), Comment: "trùng lặp"},
	} {
		if err := s.SetReview(ctx, r, geo.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Reviews(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].At = Micro(got[i].At)
	}
	want := []geo.Review{
		{ReportID: "r1", Status: geo.ReviewRejected, Reviewer: "quản_trị", At: Micro(at.Add(time.Hour)), Comment: "trùng lặp"},
		{ReportID: "r2", Status: geo.ReviewConfirmed, Reviewer: "reviewer1", At: Micro(at), Comment: "Đúng, mất sóng ở bến đò"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Reviews:\n got %+v\nwant %+v", got, want)
	}
	for _, tc := range []struct {
		name string
		r    geo.Review
		want error
	}{
		{"unknown report", geo.Review{ReportID: "r-nope", Status: geo.ReviewConfirmed}, geo.ErrNotFound},
		{"unknown status", geo.Review{ReportID: "r3", Status: "maybe"}, geo.ErrInvalid},
		{"no status", geo.Review{ReportID: "r3"}, geo.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.SetReview(ctx, tc.r, geo.AuditEntry{}); !errors.Is(err, tc.want) {
				t.Errorf("SetReview(%+v): %v, want %v", tc.r, err, tc.want)
			}
		})
	}
	if got, _ := s.Reviews(ctx); len(got) != 2 {
		t.Errorf("%d reviews after failed sets, want 2", len(got))
	}
}

// FillAccounts stores one of everything the accounts tables hold.
func FillAccounts(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	MustAddUsers(t, s, AccountUsers())
	for _, tk := range AccountTokens() {
		if err := s.AddToken(ctx, tk, geo.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddSession(ctx, geo.Session{Hash: "sess", User: "cán.bộ-xã@hưng_yên", CSRF: "c",
		CreatedAt: time.Date(2025, 7, 3, 0, 0, 0, 1, ICT), ExpiresAt: time.Date(2025, 7, 4, 0, 0, 0, 0, ICT)}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAudit(ctx, geo.AuditEntry{At: time.Date(2025, 7, 3, 0, 0, 0, 7, ICT), Actor: "quản_trị",
		Via: "token", Action: "user.add", Target: "cán.bộ-xã@hưng_yên"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetReview(ctx, geo.Review{ReportID: "r3", Status: geo.ReviewConfirmed, Reviewer: "reviewer1",
		At: time.Date(2025, 7, 3, 0, 0, 0, 3, ICT), Comment: "Xác nhận"}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
}

// accountsSnapshot is everything the accounts contract reads back.
type accountsSnapshot struct {
	Users   []geo.User
	Tokens  []geo.Token
	Session geo.Session
	Audit   []geo.AuditEntry
	Reviews []geo.Review
	Reports int
}

func snapshot(t *testing.T, s Store) accountsSnapshot {
	t.Helper()
	ctx := context.Background()
	var a accountsSnapshot
	var err error
	if a.Users, err = s.Users(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Tokens, err = s.Tokens(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if a.Session, err = s.Session(ctx, "sess"); err != nil {
		t.Fatal(err)
	}
	if a.Audit, err = s.Audit(ctx, 0, 1000); err != nil {
		t.Fatal(err)
	}
	if a.Reviews, err = s.Reviews(ctx); err != nil {
		t.Fatal(err)
	}
	if _, a.Reports, _, _, err = s.Counts(ctx); err != nil {
		t.Fatal(err)
	}
	return a
}

func testAccountsSurviveReopen(t *testing.T, b Backend) {
	s := b.New(t)
	Fill(t, s)
	FillAccounts(t, s)
	before := snapshot(t, s)
	if len(before.Users) != 4 || len(before.Tokens) != 4 || len(before.Audit) != 1 || len(before.Reviews) != 1 {
		t.Fatalf("snapshot before reopen is short: %+v", before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := b.Again(t, s)
	// reflect.DeepEqual compares times by location too, so this also checks
	// that they come back in UTC both times.
	if after := snapshot(t, s2); !reflect.DeepEqual(after, before) {
		t.Errorf("after reopen:\n got %+v\nwant %+v", after, before)
	}
}
