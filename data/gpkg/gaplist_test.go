package gpkg

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/export"
	"github.com/paulmach/orb"
)

// gapListHoles are two holes of one carrier: the first with a median of
// −92.5 dBm, a registry state and Vietnamese names, the second never
// observed, its median unknown.
func gapListHoles() []geo.Hole {
	t0 := time.Date(2025, 3, 1, 1, 30, 0, 0, time.UTC)
	return []geo.Hole{
		{ID: "h-1", Carrier: geo.Viettel, Geometry: withHole, Centroid: orb.Point{105.85, 21.05}, AreaKm2: 12.5,
			Areas:      []geo.AreaRef{{Code: "89001", Name: "Ấp Phú Hòa Đông"}, {Code: "89002", Name: "Khóm Mỹ Lợi"}},
			Population: 800.5, Households: 210.25, Reports: 14, Weak: 11, Reporters: 5, WeakShare: 0.75, WeakLow: 0.5,
			MedianSignalDBm: -92.5, FirstObserved: t0, LastObserved: t0.Add(36 * time.Hour),
			Severity: 0.8, Confidence: 0.9, Priority: 151.38, Rank: 1,
			Life: geo.HoleLife{State: geo.StatePlanned, AnswerDue: "2025-03-31", FixDue: "2025-06-30", Overdue: true,
				Cause: geo.CauseNoPower, Funding: geo.FundPublic}},
		{ID: "h-2", Carrier: geo.Viettel, Geometry: orb.MultiPolygon{{square(106.0, 21.2, 0.05)}}, Centroid: orb.Point{106.025, 21.225},
			AreaKm2: 3, Reports: 3, Weak: 3, Reporters: 2, WeakShare: 1, MedianSignalDBm: math.NaN(), Rank: 2},
	}
}

func writeGapListFile(t *testing.T, holes []geo.Hole) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteGapList(context.Background(), &b, geo.Viettel, holes); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gaps-viettel.gpkg")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGapList: the gap list file is a GeoPackage with one feature table
// holding every hole, its columns typed (the median REAL even when it is
// a whole number), its outline as written.
func TestGapList(t *testing.T) {
	holes := gapListHoles()
	path := writeGapListFile(t, holes)
	db, err := sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var app, uv int64
	if err := db.QueryRow(`PRAGMA application_id`).Scan(&app); err != nil || app != applicationID {
		t.Errorf("application_id %x (%v), want GPKG", app, err)
	}
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&uv); err != nil || uv != userVersion {
		t.Errorf("user_version %d (%v)", uv, err)
	}
	var ok string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check %q (%v)", ok, err)
	}
	var table, dtype string
	var n int
	if err := db.QueryRow(`SELECT c.table_name, c.data_type, (SELECT count(*) FROM gpkg_contents)
  FROM gpkg_contents c JOIN gpkg_geometry_columns g USING (table_name)`).Scan(&table, &dtype, &n); err != nil {
		t.Fatal(err)
	}
	if table != "gaps_viettel" || dtype != "features" || n != 1 {
		t.Errorf("contents: %s %s, %d tables; want the one feature table gaps_viettel", table, dtype, n)
	}
	if err := db.QueryRow(`SELECT count(*) FROM gaps_viettel`).Scan(&n); err != nil || n != len(holes) {
		t.Errorf("%d features (%v), want %d", n, err, len(holes))
	}
	var typeofMedian, typeofRank, first, due string
	var median float64
	var overdue bool
	var names string
	var blob []byte
	// The driver reads a DATE or DATETIME column as a time; || '' reads
	// the text stored.
	if err := db.QueryRow(`SELECT typeof(median_signal_dbm), median_signal_dbm, typeof(rank), first_observed || '', answer_due || '', overdue, area_names, geom
  FROM gaps_viettel WHERE id = 'h-1'`).Scan(&typeofMedian, &median, &typeofRank, &first, &due, &overdue, &names, &blob); err != nil {
		t.Fatal(err)
	}
	if typeofMedian != "real" || median != -92.5 || typeofRank != "integer" || first != "2025-03-01T01:30:00.000Z" ||
		due != "2025-03-31" || !overdue || names != "Ấp Phú Hòa Đông; Khóm Mỹ Lợi" {
		t.Errorf("h-1: median %s %v, rank %s, first_observed %q, answer_due %q, overdue %v, areas %q",
			typeofMedian, median, typeofRank, first, due, overdue, names)
	}
	if g, err := decodeGeom(blob); err != nil || !reflect.DeepEqual(g, withHole) {
		t.Errorf("h-1 outline %v (%v), want %v", g, err, withHole)
	}
	var nulls int
	if err := db.QueryRow(`SELECT (median_signal_dbm IS NULL) + (first_observed IS NULL) + (state IS NULL) + (overdue IS NULL)
  FROM gaps_viettel WHERE id = 'h-2'`).Scan(&nulls); err != nil || nulls != 4 {
		t.Errorf("h-2: %d of median, first_observed, state, overdue NULL (%v), want 4", nulls, err)
	}
	// The columns and their declared types are the gap list's.
	rows, err := db.Query(`SELECT name, type FROM pragma_table_info('gaps_viettel') WHERE name NOT IN ('fid', 'geom')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		if c := export.GapColumns[i]; name != c.Name || typ != gapListSQLTypes[c.Type] {
			t.Errorf("column %d: %s %s, want %s %s", i, name, typ, c.Name, gapListSQLTypes[c.Type])
		}
		i++
	}
	if i != len(export.GapColumns) {
		t.Errorf("%d columns, want %d", i, len(export.GapColumns))
	}
}

// TestGapListGDAL: GDAL opens the file without complaint, counts the
// features and types the median Real, the times DateTime and the
// deadlines Date.
func TestGapListGDAL(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Skip("ogrinfo not on PATH (apt-get install gdal-bin); the gap list file not read by GDAL")
	}
	path := writeGapListFile(t, gapListHoles())
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(ogrinfo, "-ro", "-al", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, stderr.String())
	}
	if e := stderr.String(); strings.Contains(e, "ERROR") || strings.Contains(e, "Warning") {
		t.Errorf("ogrinfo stderr:\n%s", e)
	}
	out := stdout.String()
	for _, want := range []string{
		"Layer name: gaps_viettel\n", "Geometry: Multi Polygon\n", "Feature Count: 2\n",
		"rank: Integer64 (0.0)", "median_signal_dbm: Real (0.0)", "first_observed: DateTime (0.0)",
		"answer_due: Date (0.0)", "overdue: Integer(Boolean) (0.0)", "area_names: String (0.0)",
		"median_signal_dbm (Real) = -92.5", "median_signal_dbm (Real) = (null)",
		"first_observed (DateTime) = 2025/03/01 01:30:00+00", "area_names (String) = Ấp Phú Hòa Đông; Khóm Mỹ Lợi",
		"MULTIPOLYGON (((105.8 21.0,105.9 21.0,105.9 21.1,105.8 21.1,105.8 21.0),(105.82 21.02,",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ogrinfo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("ogrinfo output:\n%s", out)
	}
}

// TestGapListEmpty: a carrier with no holes gets a file with an empty
// table, and a writer that fails is reported.
func TestGapListEmpty(t *testing.T) {
	path := writeGapListFile(t, nil)
	db, err := sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM gaps_viettel`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows (%v), want an empty table", n, err)
	}
	if err := WriteGapList(context.Background(), failWriter{}, geo.Viettel, gapListHoles()); !errors.Is(err, errDiskFull) {
		t.Errorf("err = %v, want %v", err, errDiskFull)
	}
}

var errDiskFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func BenchmarkGapList(b *testing.B) {
	holes := make([]geo.Hole, 2000)
	for i := range holes {
		holes[i] = gapListHoles()[i%2]
		holes[i].ID = "h-" + string(rune('a'+i%26)) + time.Duration(i).String()
		holes[i].Rank = i + 1
	}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteGapList(context.Background(), &buf, geo.Viettel, holes); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "bytes/file")
}
