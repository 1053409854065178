package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/data/gpkg"
)

// TestImportReportsRules: gapmap import reports follows the rules of an
// import over HTTP. A row whose id is already stored, or was given by an
// earlier row, is rejected by itself and the rest is stored; the import
// is an admin's, so a point outside every area is kept; the audit log
// names the command line.
func TestImportReportsRules(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.gpkg")
	mustRun(t, "import", "areas", "--db", db, filepath.Join("testdata", "areas.geojson"))
	mustRun(t, "import", "reports", "--db", db, filepath.Join("testdata", "reports.csv"))
	again := filepath.Join(dir, "again.csv")
	csv := "id,lat,lon,observed_at,carrier,signal_dbm\n" +
		"r1,9.05,105.05,2026-01-15T08:00:00+07:00,viettel,-112\n" + // row 1: stored by the first import
		"n1,9.05,105.06,2026-01-15T08:00:00+07:00,viettel,-112\n" +
		"n1,9.05,105.07,2026-01-15T08:00:00+07:00,viettel,-112\n" + // row 3: n1 again
		"n2,8.00,104.00,2026-01-15T08:00:00+07:00,viettel,-112\n" + // outside every area
		",9.05,105.08,2026-01-15T08:00:00+07:00,viettel,-112\n"
	if err := os.WriteFile(again, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr := mustRun(t, "import", "reports", "--db", db, again)
	if !strings.Contains(out, "reports: 3 stored, 2 rejected") {
		t.Errorf("import said %q, want 3 stored, 2 rejected", out)
	}
	for _, want := range []string{"row 1: id: already used", "row 3: id: already used"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	st, err := gpkg.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, n, _, _, _ := st.Counts(context.Background())
	if n != 6+3 {
		t.Errorf("store holds %d reports, want 9", n)
	}
	if r, err := st.Report(context.Background(), "n1"); err != nil || r.Lon != 105.06 {
		t.Errorf("n1 is the first row's: %+v %v", r, err)
	}
	es, err := st.Audit(context.Background(), 0, 10)
	if err != nil || len(es) == 0 || es[0].Action != "report.import" || es[0].Via != "cli" || es[0].Detail != "accepted=3 rejected=2" {
		t.Errorf("audit log %+v %v, want the import by the command line first", es, err)
	}
}

// TestImportAreasLegacyShapefile: a shapefile whose .dbf is in
// Windows-1258 without a .cpg (testdata/areas_cp1258.*, three hamlets and
// a record whose hole lies outside its outer ring) is stored with its
// names read right, the command saying which encoding it assumed, and the
// bad record rejected by its number.
func TestImportAreasLegacyShapefile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.gpkg")
	out, stderr := mustRun(t, "import", "areas", "--db", db, "--code-field", "CODE", "--name-field", "NAME", filepath.Join("testdata", "areas_cp1258.shp"))
	if !strings.Contains(out, "areas: 3 stored, 1 rejected") {
		t.Errorf("import said %q, want 3 stored, 1 rejected", out)
	}
	for _, want := range []string{"warning: areas_cp1258.dbf: no .cpg, read as Windows-1258", "row 4: feature \"80004\": geometry: ring 2 is a hole"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	st, err := gpkg.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	as, err := st.Areas(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range as {
		names = append(names, a.Name)
	}
	if got := strings.Join(names, ", "); got != "Ấp Bình Hòa, Xã Mỹ Lộc, Phường Tân An" {
		t.Errorf("stored names %q", got)
	}
}

// TestImportReportsProgress: the import tells on stderr when it is done
// reading, storing and indexing, in that order.
func TestImportReportsProgress(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.gpkg")
	_, stderr := mustRun(t, "import", "reports", "--db", db, filepath.Join("testdata", "reports.csv"))
	at := -1
	for _, stage := range []string{"read reports ", "store reports ", "index reports "} {
		i := strings.Index(stderr, "\r"+stage)
		if i <= at {
			t.Fatalf("stderr lacks the %q line after the ones before:\n%q", stage, stderr)
		}
		at = i
	}
}
