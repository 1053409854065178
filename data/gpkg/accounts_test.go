package gpkg

import (
	"bytes"
	"context"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/data/storetest"
	"github.com/gapmap/gapmap/geo"
)

// accountsVersion is the migration that adds the account tables.
const accountsVersion = 3

var (
	ict          = storetest.ICT
	accountUsers = storetest.AccountUsers
)

func mustAddUsers(t *testing.T, s *Store, us []geo.User) {
	t.Helper()
	storetest.MustAddUsers(t, s, us)
}

// TestAccountsStoredAsText: account times are RFC 3339 UTC text with
// nine fraction digits, so they sort as text; NULL is the zero time; the
// scope is its codes joined by commas.
func TestAccountsStoredAsText(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	mustAddUsers(t, s, accountUsers())
	for _, tk := range storetest.AccountTokens() {
		if err := s.AddToken(ctx, tk, geo.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
	}
	var raw struct{ scope, carrier, created string }
	s.db.QueryRowContext(ctx, `SELECT scope, carrier, created_at FROM users WHERE name = 'quản_trị'`).
		Scan(&raw.scope, &raw.carrier, &raw.created)
	if raw.scope != "" || raw.carrier != "" || raw.created != "2025-07-03T07:05:06.123456789Z" {
		t.Errorf("admin stored as scope %q carrier %q created_at %q", raw.scope, raw.carrier, raw.created)
	}
	var scope string
	s.db.QueryRowContext(ctx, `SELECT scope FROM users WHERE name = 'cán.bộ-xã@hưng_yên'`).Scan(&scope)
	if scope != "X02,Ấp-Phú-Hòa,001,Khóm_Mỹ_Thới" {
		t.Errorf("scope stored as %q", scope)
	}
	var carrier any
	s.db.QueryRowContext(ctx, `SELECT carrier FROM users WHERE name = 'viettel-planner'`).Scan(&carrier)
	if carrier != "viettel" {
		t.Errorf("carrier stored as %v, want viettel", carrier)
	}
	var created any = "unset"
	s.db.QueryRowContext(ctx, `SELECT created_at FROM users WHERE name = 'viettel-planner'`).Scan(&created)
	if created != nil {
		t.Errorf("zero created_at stored as %v, want NULL", created)
	}
	var tokenCreated string
	s.db.QueryRowContext(ctx, `SELECT created_at FROM tokens WHERE id = 't-000000000001'`).Scan(&tokenCreated)
	if tokenCreated != "2025-07-03T10:00:00.000000000Z" {
		t.Errorf("created_at stored as %q", tokenCreated)
	}
}

// TestAccountsMigration opens a file written before the accounts
// migration existed: Open applies just that migration, and what the file
// held is still there.
func TestAccountsMigration(t *testing.T) {
	ctx := context.Background()
	var applied []string
	s := migratedFrom(t, accountsVersion, func(old *Store) {
		rows, err := old.db.QueryContext(ctx, `SELECT version || ' ' || applied_at FROM gapmap_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			rows.Scan(&v)
			applied = append(applied, v)
		}
		rows.Close()
		if len(applied) != accountsVersion-1 {
			t.Fatalf("old store applied %d migrations, want %d", len(applied), accountsVersion-1)
		}
		if err := old.AddUser(ctx, accountUsers()[0], geo.AuditEntry{}); err == nil {
			t.Fatal("AddUser worked before the accounts migration")
		}
	})
	var n, first int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*), min(version) FROM gapmap_migrations`).Scan(&n, &first); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) {
		t.Errorf("%d migrations applied after reopen, want %d", n, len(migrations))
	}
	var kept []string
	rows, err := s.db.QueryContext(ctx, `SELECT version || ' ' || applied_at FROM gapmap_migrations WHERE version < ? ORDER BY version`, accountsVersion)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v string
		rows.Scan(&v)
		kept = append(kept, v)
	}
	rows.Close()
	if !reflect.DeepEqual(kept, applied) {
		t.Errorf("earlier migrations rerun: %q, was %q", kept, applied)
	}
	if a, r, tm, h, err := s.Counts(ctx); err != nil || a != 2 || r != 3 || tm != 2 || h != 1 {
		t.Errorf("counts after migration %d %d %d %d %v, want 2 3 2 1", a, r, tm, h, err)
	}
	// r2 as fill stored it (the file's reports are read with the newest
	// columns only once migrated).
	if got, err := s.Report(ctx, "r2"); err != nil || got.Lat != 21.03 || got.Lon != 105.85 ||
		got.Carrier != geo.MobiFone || !got.NoService || got.Submitter != "" {
		t.Errorf("report r2 after migration: %+v, %v", got, err)
	}
	storetest.FillAccounts(t, s)
	users, _ := s.Users(ctx)
	reviews, _ := s.Reviews(ctx)
	if _, reports, _, _, err := s.Counts(ctx); err != nil || len(users) != 4 || len(reviews) != 1 || reports != 3 {
		t.Errorf("accounts on the migrated file: %d users, %d reviews, %d reports, %v", len(users), len(reviews), reports, err)
	}
}

func TestAccountTablesNotLayers(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	fill(t, s)
	storetest.FillAccounts(t, s)
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM gpkg_contents
  WHERE table_name IN ('users', 'tokens', 'sessions', 'audit_log', 'report_reviews')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d account tables registered in gpkg_contents, want 0", n)
	}
	checkForeignKeys(t, s)
	for _, idx := range []string{"tokens_user", "sessions_user"} {
		var name string
		if err := s.db.QueryRowContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?`, idx).Scan(&name); err != nil {
			t.Errorf("index %s: %v", idx, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Skip("ogrinfo not on PATH (apt-get install gdal-bin); layer list not checked with GDAL")
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(ogrinfo, "-ro", "-q", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, table := range []string{"users", "tokens", "sessions", "audit_log", "report_reviews"} {
		if strings.Contains(out, ": "+table+" ") || strings.Contains(out, ": "+table+"\n") {
			t.Errorf("ogrinfo lists %s as a layer:\n%s", table, out)
		}
	}
	if !strings.Contains(out, "reports") {
		t.Errorf("ogrinfo does not list the reports layer:\n%s", out)
	}
	if e := stderr.String(); strings.Contains(e, "ERROR") || strings.Contains(e, "Warning") {
		t.Errorf("ogrinfo stderr:\n%s", e)
	}
}
