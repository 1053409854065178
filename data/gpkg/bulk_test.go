package gpkg

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// TestBulkRTree: a batch large enough to fill the R-tree after its rows
// gives the index the trigger would (one entry per report, at its point),
// whether it packs a new tree (the first batch), packs it again with the
// entries stored (a batch larger than the tree) or inserts into it, keeps
// the trigger for the next rows, and when the batch fails leaves rows,
// index and trigger as they were. The tree passes rtreecheck, and GDAL
// reads the file through it.
func TestBulkRTree(t *testing.T) {
	st, path := openTemp(t)
	ctx := context.Background()
	at := time.Date(2025, 8, 1, 1, 0, 0, 0, time.UTC)
	batch := func(prefix string, n int) []geo.Report {
		rs := make([]geo.Report, n)
		for i := range rs {
			rs[i] = geo.Report{ID: fmt.Sprintf("%s%05d", prefix, i), Lat: 10 + float64(i%97)*0.001, Lon: 106 + float64(i%89)*0.001,
				ObservedAt: at, Carrier: geo.Viettel, Tech: geo.Tech4G}
		}
		return rs
	}
	if _, err := st.AddReports(ctx, batch("b", bulkRTreeMin+500), geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddReports(ctx, batch("s", 10), geo.AuditEntry{}); err != nil { // through the trigger
		t.Fatal(err)
	}
	check := func(want int) {
		t.Helper()
		var n, bad, trig int
		db := st.db
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM rtree_reports_geom`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM reports r LEFT JOIN rtree_reports_geom t ON t.id = r.fid
  WHERE t.id IS NULL OR abs(t.minx - ST_MinX(r.geom)) > 1e-5 OR abs(t.maxy - ST_MaxY(r.geom)) > 1e-5`).Scan(&bad); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'rtree_reports_geom_insert'`).Scan(&trig); err != nil {
			t.Fatal(err)
		}
		if n != want || bad != 0 || trig != 1 {
			t.Errorf("R-tree: %d entries (want %d), %d reports without their entry, insert trigger %d", n, want, bad, trig)
		}
		var ok string
		if err := db.QueryRowContext(ctx, `SELECT rtreecheck('rtree_reports_geom')`).Scan(&ok); err != nil || ok != "ok" {
			t.Errorf("rtreecheck: %q, %v", ok, err)
		}
	}
	want := bulkRTreeMin + 510
	check(want)
	// Packed again with the stored entries, then inserted into.
	if _, err := st.AddReports(ctx, batch("m", want+100), geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	want += want + 100
	check(want)
	if _, err := st.AddReports(ctx, batch("z", bulkRTreeMin), geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	want += bulkRTreeMin
	check(want)
	gdalCount(t, path, want)
	// A batch that fails on its last row leaves everything as it was.
	rs := batch("f", bulkRTreeMin+1)
	rs[len(rs)-1].ID = "b00000"
	if _, err := st.AddReports(ctx, rs, geo.AuditEntry{}); !errors.Is(err, geo.ErrConflict) || !strings.Contains(err.Error(), `"b00000"`) {
		t.Fatalf("a stored id: %v", err)
	}
	check(want)
	// So does one that gives an id twice; the error names it.
	rs = batch("g", bulkRTreeMin+1)
	rs[1500].ID = "g01234"
	if _, err := st.AddReports(ctx, rs, geo.AuditEntry{}); !errors.Is(err, geo.ErrConflict) || !strings.Contains(err.Error(), `"g01234"`) {
		t.Fatalf("an id given twice: %v", err)
	}
	check(want)
}

// gdalCount checks, when ogrinfo is installed, that GDAL opens the file
// at path and counts, through the R-tree of reports, as many in a box as
// there are, and all of them without a box.
func gdalCount(t *testing.T, path string, all int) {
	t.Helper()
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Log("ogrinfo not on PATH (install gdal-bin): the file is not read with GDAL")
		return
	}
	count := func(args ...string) int {
		t.Helper()
		out, err := exec.Command(ogrinfo, append([]string{"-ro", "-so"}, append(args, path, "reports")...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		m := regexp.MustCompile(`(?m)^Feature Count: (\d+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("ogrinfo %s gives no feature count:\n%s", strings.Join(args, " "), out)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	if n := count(); n != all {
		t.Errorf("ogrinfo counts %d reports, want %d", n, all)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var in int
	if err := s.db.QueryRow(`SELECT count(*) FROM reports WHERE ST_MinX(geom) BETWEEN 106.02 AND 106.05
  AND ST_MinY(geom) BETWEEN 10.03 AND 10.06`).Scan(&in); err != nil {
		t.Fatal(err)
	}
	if n := count("-spat", "106.02", "10.03", "106.05", "10.06"); n != in || in == 0 {
		t.Errorf("ogrinfo counts %d reports in the box, want %d", n, in)
	}
}
