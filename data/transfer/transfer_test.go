package transfer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/data/postgis"
	"github.com/gapmap/gapmap/data/postgis/pgtest"
	"github.com/gapmap/gapmap/data/storetest"
	"github.com/gapmap/gapmap/data/transfer"
	"github.com/gapmap/gapmap/geo"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

func openGpkg(t *testing.T, path string) *gpkg.Store {
	t.Helper()
	s, err := gpkg.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostGIS(t *testing.T) *postgis.Store {
	t.Helper()
	s, err := postgis.Open(context.Background(), cluster.DSN(cluster.NewDatabase(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fill puts one of everything a store holds into s: areas of two
// vintages, teams, reports with submitters, keys and hashes, users of
// every role, tokens with their lineage, a session, audit entries,
// reviews and tasks.
func fill(t *testing.T, s storetest.Store) {
	t.Helper()
	ctx := context.Background()
	storetest.Fill(t, s)
	storetest.FillAccounts(t, s)
	if err := s.ReplaceAreas(ctx, "2026", storetest.Areas("2026")[1:]); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 7, 1, 8, 0, 0, 123456000, storetest.ICT)
	if _, _, err := s.AddReport(ctx, geo.Report{ID: "k1", Lat: 21.02, Lon: 105.83, ObservedAt: at, Carrier: geo.Viettel,
		SignalDBm: storetest.Ptr(-118), Submitter: "user:quản_trị", ClientID: "máy-1", Note: "Mất sóng"},
		geo.Submission{Key: "key-1", Hash: "h1", Audit: geo.AuditEntry{Action: "report.create", Actor: "quản_trị", Via: "session"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToken(ctx, geo.Token{ID: "t-child", User: "quản_trị", Hash: "hc", CreatedAt: at, Parent: "t-000000000002"}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTasks(ctx, []geo.Task{{ID: "t1/891f1d48b93ffff", Team: "t1", TeamName: "Tổ CNS", Area: "001", AreaName: "Ấp Phú Hòa Đông",
		Place: "891f1d48b93ffff", Lon: 105.81, Lat: 21.01, Carrier: geo.Viettel, Why: geo.TaskHoleEdge,
		Households: 12.5, Score: 0.75, Rank: 1, State: geo.TaskOpen, ProposedAt: at}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveHoleRecords(ctx, storetest.HoleRecords()); err != nil {
		t.Fatal(err)
	}
	a := storetest.Analysis()
	if ok, err := s.FreezeGaps(ctx, "2026-06", a.Holes); err != nil || !ok {
		t.Fatalf("freeze: %v %v", ok, err)
	}
	if ok, err := s.FreezeGaps(ctx, "2026-05", nil); err != nil || !ok {
		t.Fatalf("freeze an empty month: %v %v", ok, err)
	}
	if err := s.AddWebhook(ctx, geo.Webhook{ID: "w-1", URL: "https://viettel.example/hook", Events: []string{geo.EventHoleOpened},
		Carrier: geo.Viettel, Secret: "bí mật", Owner: "quản_trị", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDeliveries(ctx, []geo.Delivery{
		{Webhook: "w-1", Event: geo.EventHoleOpened, HoleID: "h-1", Body: []byte(`{"id":"h-1"}`), CreatedAt: at, NextAt: at},
		{Webhook: "w-1", Event: geo.EventHoleOpened, HoleID: "h-2", Body: []byte(`{"id":"h-2"}`), CreatedAt: at, Attempts: 1, Status: 200, DoneAt: at, Delivered: true},
	}); err != nil {
		t.Fatal(err)
	}
}

// TestCopyBothWays copies a GeoPackage into PostGIS and that back into a
// new GeoPackage: every table has the same rows and checksum all along,
// and the copies work as stores (a key replays, a token's lineage
// holds).
func TestCopyBothWays(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := openGpkg(t, filepath.Join(dir, "src.gpkg"))
	fill(t, src)
	pg := openPostGIS(t)
	want, err := transfer.Copy(ctx, src, pg, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range want.Tables {
		if tb.Rows == 0 {
			t.Errorf("table %s: nothing copied", tb.Name)
		}
	}
	back := openGpkg(t, filepath.Join(dir, "back.gpkg"))
	got, err := transfer.Copy(ctx, pg, back, false)
	if err != nil {
		t.Fatal(err)
	}
	again, err := transfer.Checksums(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Tables {
		if got.Tables[i] != want.Tables[i] || again.Tables[i] != want.Tables[i] {
			t.Errorf("table %s: %+v there, %+v back, %+v reread", want.Tables[i].Name, want.Tables[i], got.Tables[i], again.Tables[i])
		}
	}
	for name, s := range map[string]storetest.Store{"postgis": pg, "gpkg": back} {
		r, created, err := s.AddReport(ctx, geo.Report{Lat: 1, Lon: 1, ObservedAt: time.Now(), Carrier: geo.Viettel, Submitter: "user:quản_trị"},
			geo.Submission{Key: "key-1", Hash: "h1"})
		if err != nil || created || r.ID != "k1" || r.ClientID != "máy-1" {
			t.Errorf("%s: the copied key: %+v %v %v, want report k1 replayed", name, r, created, err)
		}
		if err := s.RevokeToken(ctx, "t-000000000002", time.Now(), geo.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		if tk, err := s.Token(ctx, "t-child"); err != nil || tk.RevokedAt.IsZero() {
			t.Errorf("%s: the copied lineage: t-child %+v %v, want revoked with its parent", name, tk, err)
		}
		if err := s.AddAudit(ctx, geo.AuditEntry{Action: "user.signin_failed"}); err != nil {
			t.Errorf("%s: audit after the copy: %v", name, err)
		}
	}
}

// TestCopyRefusesNonEmpty: a target holding anything is refused, and
// left as it was; with replace it is emptied and holds the copy only.
func TestCopyRefusesNonEmpty(t *testing.T) {
	ctx := context.Background()
	src := openGpkg(t, filepath.Join(t.TempDir(), "src.gpkg"))
	fill(t, src)
	pg := openPostGIS(t)
	storetest.MustAddUsers(t, pg, []geo.User{{Name: "khác", Role: geo.RoleAdmin}})
	_, err := transfer.Copy(ctx, src, pg, false)
	if !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("copy into a store with a user: %v, want ErrConflict", err)
	}
	if us, _ := pg.Users(ctx); len(us) != 1 {
		t.Errorf("the refused target has %d users, want its 1", len(us))
	}
	want, err := transfer.Copy(ctx, src, pg, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.User(ctx, "khác"); !errors.Is(err, geo.ErrNotFound) {
		t.Errorf("the replaced target kept its user: %v", err)
	}
	got, err := transfer.Checksums(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Tables {
		if got.Tables[i] != want.Tables[i] {
			t.Errorf("table %s: %+v, want %+v", want.Tables[i].Name, got.Tables[i], want.Tables[i])
		}
	}
}
