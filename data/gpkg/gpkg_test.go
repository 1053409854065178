package gpkg

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/storetest"
	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gapmap.gpkg")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// backend runs the contract suite over new files in t.TempDir().
func backend() storetest.Backend {
	var mu sync.Mutex
	paths := map[storetest.Store]string{}
	open := func(t *testing.T, path string) storetest.Store {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		mu.Lock()
		paths[s] = path
		mu.Unlock()
		return s
	}
	return storetest.Backend{
		New: func(t *testing.T) storetest.Store { return open(t, filepath.Join(t.TempDir(), "gapmap.gpkg")) },
		Again: func(t *testing.T, s storetest.Store) storetest.Store {
			mu.Lock()
			path := paths[s]
			mu.Unlock()
			return open(t, path)
		},
	}
}

func TestContract(t *testing.T) { storetest.Run(t, backend()) }

// migratedFrom makes a store file with only the migrations before
// version, filled (see fill); old, when not nil, then looks at it. The
// file is closed and opened again with every migration, and that store
// is returned: a file from before version, as a newer gapmap finds it.
func migratedFrom(t *testing.T, version int, old func(*Store)) *Store {
	t.Helper()
	all := migrations
	t.Cleanup(func() { migrations = all })
	migrations = all[:version-1]
	s, path := openTemp(t)
	fill(t, s)
	if old != nil {
		old(s)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	migrations = all
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open the old file: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var (
	square   = storetest.Square
	withHole = storetest.WithHole
	vnAreas  = storetest.Areas
	ptr      = storetest.Ptr
)

func TestGeomRoundTrip(t *testing.T) {
	for _, g := range []orb.Geometry{
		orb.Point{105.8342, 21.0278},
		orb.MultiPolygon{{square(105.8, 21.0, 0.1)}},
		withHole,
		orb.MultiPoint{{1, 2}, {3, 4}},
		orb.LineString{{1, 2}, {3, 4}},
		orb.Polygon{square(0, 0, 1)},
	} {
		b, err := encodeGeom(g)
		if err != nil {
			t.Fatalf("%T: %v", g, err)
		}
		if string(b[:2]) != "GP" || b[2] != 0 || b[3] != 0x03 {
			t.Errorf("%T: header % x, want GP 00 03", g, b[:4])
		}
		got, err := decodeGeom(b)
		if err != nil {
			t.Fatalf("%T: %v", g, err)
		}
		if !reflect.DeepEqual(got, g) {
			t.Errorf("%T: got %v, want %v", g, got, g)
		}
		env, ok, err := envelope(b)
		bd := g.Bound()
		if err != nil || !ok || env != [4]float64{bd.Min[0], bd.Max[0], bd.Min[1], bd.Max[1]} {
			t.Errorf("%T: envelope %v %v %v, want %v", g, env, ok, err, bd)
		}
	}
	b, err := encodeGeom(orb.MultiPolygon{})
	if err != nil {
		t.Fatal(err)
	}
	if b[3]&flagEmpty == 0 {
		t.Errorf("empty multipolygon: flags %02x lack the empty bit", b[3])
	}
	if g, err := decodeGeom(b); err != nil || !isEmpty(g) {
		t.Errorf("empty multipolygon decoded as %v, %v", g, err)
	}
	if _, err := decodeGeom([]byte("XP\x00\x01....")); err == nil {
		t.Error("bad magic decoded without error")
	}
}

func TestOpenMigrateReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	count := func(s *Store) (n int) {
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM gapmap_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(s); n != len(migrations) {
		t.Fatalf("%d migrations applied, want %d", n, len(migrations))
	}
	s.Close()
	for i := 0; i < 2; i++ {
		s2, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if n := count(s2); n != len(migrations) {
			t.Errorf("reopen %d: %d migrations, want %d", i, n, len(migrations))
		}
		var app, uv int64
		var jm string
		s2.db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app)
		s2.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&uv)
		s2.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&jm)
		if app != 0x47504B47 || uv != 10300 || jm != "wal" {
			t.Errorf("application_id %#x, user_version %d, journal_mode %s", app, uv, jm)
		}
		var sync, fk int
		s2.db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync)
		s2.db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk)
		if sync != 2 || fk != 1 {
			t.Errorf("synchronous %d (want 2 FULL), foreign_keys %d", sync, fk)
		}
		s2.Close()
	}
}

// TestAreasBoundsAndIndex: the areas' bounds in gpkg_contents and their
// R-tree index, which GIS tools read.
func TestAreasBoundsAndIndex(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if err := s.ReplaceAreas(ctx, "2025", vnAreas("2025")); err != nil {
		t.Fatal(err)
	}
	var minx, maxx, miny, maxy float64
	if err := s.db.QueryRowContext(ctx, `SELECT min_x, max_x, min_y, max_y FROM gpkg_contents WHERE table_name = 'areas'`).
		Scan(&minx, &maxx, &miny, &maxy); err != nil {
		t.Fatal(err)
	}
	if minx != 105.8 || maxx != 106.05 || miny != 21.0 || maxy != 21.25 {
		t.Errorf("bounds %v %v %v %v", minx, maxx, miny, maxy)
	}
	var n int
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM rtree_areas_geom WHERE minx <= 105.85 AND maxx >= 105.85`).Scan(&n)
	if n != 1 {
		t.Errorf("rtree query found %d areas, want 1", n)
	}
}

// TestReportTimesAsText: a report's observed_at is kept as RFC 3339
// text with the offset it was given in, so GIS tools show it as written.
func TestReportTimesAsText(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	ict := time.FixedZone("", 7*3600)
	if _, err := s.AddReports(ctx, []geo.Report{{ID: "a1", Lat: 21.0278, Lon: 105.8342,
		ObservedAt: time.Date(2025, 7, 3, 14, 5, 6, 123000000, ict), Carrier: geo.Viettel}}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	var raw string
	s.db.QueryRowContext(ctx, `SELECT observed_at FROM reports WHERE id = 'a1'`).Scan(&raw)
	if raw != "2025-07-03T14:05:06.123+07:00" {
		t.Errorf("observed_at stored as %q", raw)
	}
}

// TestDurableAndValidFile: a second store on the file, while the first
// is open, finds a valid GeoPackage without foreign-key violations.
func TestDurableAndValidFile(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	stored, _, err := s.AddReport(ctx, geo.Report{Lat: 21, Lon: 105, ObservedAt: time.Now(), Carrier: geo.Viettel}, geo.Submission{Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Report(ctx, stored.ID); err != nil {
		t.Errorf("second connection: %v", err)
	}
	var check string
	if err := s2.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q %v", check, err)
	}
	checkForeignKeys(t, s2)
	var app int64
	s2.db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app)
	if app != 0x47504B47 {
		t.Errorf("application_id %#x", app)
	}
}

func fill(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.ReplaceAreas(ctx, "2025", vnAreas("2025")); err != nil {
		t.Fatal(err)
	}
	rs := []geo.Report{
		{ID: "r1", Lat: 21.01, Lon: 105.81, ObservedAt: time.Now(), Carrier: geo.Viettel, SignalDBm: ptr(-120)},
		{ID: "r2", Lat: 21.03, Lon: 105.85, ObservedAt: time.Now(), Carrier: geo.MobiFone, NoService: true},
		{ID: "r3", Lat: 21.05, Lon: 105.86, ObservedAt: time.Now(), Carrier: geo.VinaPhone},
	}
	if len(migrations) < submitterVersion {
		for i := range rs {
			insertOldReport(t, s, rs[i], "")
		}
	} else if _, err := s.AddReports(ctx, rs, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceTeams(ctx, storetest.Teams()); err != nil {
		t.Fatal(err)
	}
	h := storetest.Hole()
	if len(migrations) < analysisVersion {
		// A file from before SaveAnalysis: the hole as such a file held it.
		insertOldHole(t, s, h)
		return
	}
	if err := s.SaveAnalysis(ctx, geo.Analysis{ComputedAt: time.Now(), Reports: 3, Holes: []geo.Hole{h}}); err != nil {
		t.Fatal(err)
	}
}

// insertOldReport stores r as a file from before the submitter
// migration held it: the first migration's columns, with the
// idempotency key ("" for none) unique over everyone.
func insertOldReport(t *testing.T, s *Store, r geo.Report, key string) {
	t.Helper()
	args, err := reportArgs(&r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(context.Background(), `INSERT INTO reports (geom, id, observed_at, carrier,
  tech, signal_dbm, download_mbps, upload_mbps, no_service, source, reporter, note, received_at, idempotency_key)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args[:12], time.Now().UTC().Format(time.RFC3339Nano), nullString(key))...); err != nil {
		t.Fatal(err)
	}
}

// TestNaNAsNull: a figure without a value is NULL in the file, which
// GDAL and QGIS show as empty.
func TestNaNAsNull(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	fill(t, s)
	var median any = "unset"
	s.db.QueryRowContext(ctx, `SELECT median_signal_dbm FROM holes`).Scan(&median)
	if median != nil {
		t.Errorf("NaN median stored as %v, want NULL", median)
	}
}

func TestGDALReadsFile(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Skip("ogrinfo not on PATH (apt-get install gdal-bin); GeoPackage not validated by GDAL")
	}
	s, path := openTemp(t)
	fill(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(ogrinfo, "-ro", "-so", "-al", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ogrinfo: %v\n%s\n%s", err, stderr.String(), stdout.String())
	}
	out := stdout.String()
	if e := stderr.String(); strings.Contains(e, "ERROR") || strings.Contains(e, "Warning") {
		t.Errorf("ogrinfo stderr:\n%s", e)
	}
	for _, l := range []struct {
		name, geom string
		n          int
	}{{"areas", "Multi Polygon", 2}, {"reports", "Point", 3}, {"teams", "Point", 2}, {"holes", "Multi Polygon", 1}} {
		re := regexp.MustCompile(fmt.Sprintf(`(?m)^Layer name: %s\n(?:.*\n)*?Geometry: %s\nFeature Count: %d\n`, l.name, l.geom, l.n))
		if !re.MatchString(out) {
			t.Errorf("ogrinfo output lacks layer %s (%s, %d features)", l.name, l.geom, l.n)
		}
	}
	if t.Failed() {
		t.Logf("ogrinfo output:\n%s", out)
	}

	// Read every feature, so GDAL parses every geometry blob.
	stdout.Reset()
	stderr.Reset()
	cmd = exec.Command(ogrinfo, "-ro", "-al", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ogrinfo -al: %v\n%s", err, stderr.String())
	}
	if e := stderr.String(); strings.Contains(e, "ERROR") || strings.Contains(e, "Warning") {
		t.Errorf("ogrinfo -al stderr:\n%s", e)
	}
	for _, want := range []string{
		"MULTIPOLYGON (((105.8 21.0,105.9 21.0,105.9 21.1,105.8 21.1,105.8 21.0),(105.82 21.02,",
		"name (String) = Ấp Phú Hòa Đông",
		"POINT (105.81 21.01)",
		"median_signal_dbm (Real) = (null)",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("ogrinfo -al output lacks %q", want)
		}
	}
}

// checkForeignKeys fails t when the store has foreign-key violations.
func checkForeignKeys(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("foreign_key_check: %d violations", n)
	}
}

// TestNewStoreOwnerOnly: a store the service creates holds password and
// token hashes, so its file, and the WAL beside it, are its owner's only.
func TestNewStoreOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gapmap.gpkg")
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AddUser(context.Background(), geo.User{Name: "admin", Role: geo.RoleAdmin, CreatedAt: time.Now()}, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			t.Errorf("%s: mode %o, want no access for group and others", filepath.Base(p), m)
		}
	}
}

// TestServeStateParts saves serving states larger than a part, smaller
// and empty, and one over the parts a save cut short left behind, and
// reads each back whole; only the kept state's parts stay. A state kept
// in one row, as before the parts, still reads.
func TestServeStateParts(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, ok, err := s.ServeState(ctx); ok || err != nil {
		t.Fatalf("new store: ok %v, %v", ok, err)
	}
	big := make([]byte, 2*servePart+12345)
	for i := range big {
		big[i] = byte(i * 7)
	}
	parts := func() (n, gens int) {
		if err := s.db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT generation) FROM serve_state_parts`).Scan(&n, &gens); err != nil {
			t.Fatal(err)
		}
		return n, gens
	}
	for k, data := range [][]byte{big, []byte("Tổ công nghệ số"), {}, big[:servePart]} {
		if k == 2 {
			// A save cut short after its parts: they are of a newer
			// generation than the kept one.
			if _, err := s.db.ExecContext(ctx, `INSERT INTO serve_state_parts (generation, part, data)
  VALUES ((SELECT generation FROM serve_state) + 1, 0, x'00')`); err != nil {
				t.Fatal(err)
			}
		}
		want := geo.ServeState{Areas: int64(k + 1), Teams: 2, Reports: 1_000_000 + k, Data: data}
		if err := s.SaveServeState(ctx, want); err != nil {
			t.Fatalf("save %d: %v", k, err)
		}
		got, ok, err := s.ServeState(ctx)
		if err != nil || !ok || got.Areas != want.Areas || got.Teams != want.Teams || got.Reports != want.Reports || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("state %d: ok %v, %v, %d bytes (%d, %d, %d); want %d bytes", k, ok, err, len(got.Data), got.Areas, got.Teams, got.Reports, len(data))
		}
		wantParts := max(1, (len(data)+servePart-1)/servePart)
		if n, gens := parts(); n != wantParts || gens != 1 {
			t.Errorf("state %d: %d parts of %d generations, want %d of one", k, n, gens, wantParts)
		}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE serve_state SET generation = NULL, data = x'0102'`); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.ServeState(ctx); err != nil || !ok || !bytes.Equal(got.Data, []byte{1, 2}) {
		t.Errorf("a state kept in its row: %v %v %v", got.Data, ok, err)
	}
}
