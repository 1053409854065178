package gpkg

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// TestBulkRTree: a batch large enough to fill the R-tree after its rows
// gives the index the trigger would (one entry per report, at its point),
// keeps the trigger for the next rows, and when the batch fails leaves
// rows, index and trigger as they were.
func TestBulkRTree(t *testing.T) {
	st, _ := openTemp(t)
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
	}
	want := bulkRTreeMin + 510
	check(want)
	// A batch that fails on its last row leaves everything as it was.
	rs := batch("f", bulkRTreeMin+1)
	rs[len(rs)-1].ID = "b00000"
	if _, err := st.AddReports(ctx, rs, geo.AuditEntry{}); !errors.Is(err, geo.ErrConflict) {
		t.Fatalf("a duplicate id: %v", err)
	}
	check(want)
}
