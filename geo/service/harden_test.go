package service_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/service"
)

// emptyStore opens a new store at path holding testAreas and no reports.
func emptyStore(t *testing.T, path string) *gpkg.Store {
	t.Helper()
	st, err := gpkg.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.ReplaceAreas(context.Background(), "2025", testAreas); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestOneAccountManyNamesNoHole: 60 weak reports from one account under
// 12 typed reporter names, over 10 days and a grid of 600 m, make no
// hole (the evidence rules want 2 reporters, and count accounts); the
// same reports from 12 accounts do.
func TestOneAccountManyNamesNoHole(t *testing.T) {
	ctx := context.Background()
	holes := func(accounts int) int {
		svc := newService(t, emptyStore(t, filepath.Join(t.TempDir(), "s.gpkg")), service.Options{})
		for i := range 60 {
			v := staff(svc, "C1")
			if accounts > 1 {
				v = svc.ViewerOf(&geo.User{Name: fmt.Sprintf("staff-%d", i%accounts), Role: geo.RoleStaff, Scope: []string{"C1"}})
			}
			v.Via = "token"
			r := weak("", 105.104+float64(i%6)*0.001, 10.504+float64(i/6)*0.0006)
			r.Reporter = fmt.Sprintf("Tổ CNS bịa %d", i%12)
			r.ObservedAt = testNow.Add(-time.Duration(1+i%10) * 24 * time.Hour)
			if _, _, err := svc.AddReport(ctx, v, r, ""); err != nil {
				t.Fatal(err)
			}
		}
		svc.WaitIdle()
		n := 0
		for _, h := range svc.Snapshot().Result.Holes {
			if h.Carrier == geo.Viettel {
				n++
			}
		}
		return n
	}
	if n := holes(1); n != 0 {
		t.Errorf("one account under 12 names made %d Viettel holes, want none", n)
	}
	if n := holes(12); n == 0 {
		t.Error("12 accounts made no Viettel hole: the reports are too few to tell")
	}
}

// TestEveryReportAuditedOnce: reports taken at once, with and without
// keys and replays, and imports, each have exactly one audit entry; a
// report whose entry cannot be written is not stored, nor analysed.
func TestEveryReportAuditedOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.gpkg")
	st := emptyStore(t, path)
	svc := newService(t, st, service.Options{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := svc.ViewerOf(&geo.User{Name: fmt.Sprintf("staff-%d", w), Role: geo.RoleStaff, Scope: []string{"C1"}})
			for i := range 25 {
				key := ""
				if i%2 == 0 {
					key = fmt.Sprintf("k-%d", i/4) // every other key sent twice
				}
				r := weak("", 105.104+float64(i%5)*0.001, 10.504+float64(w)*0.001)
				if i%2 == 0 {
					r.Lon = 105.104 + float64(i/4)*0.001
				}
				if _, _, err := svc.AddReport(ctx, v, r, key); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	csv := "lat,lon,observed_at,carrier,no_service\n10.51,105.11,2025-08-30T01:00:00Z,viettel,true\n10.512,105.11,2025-08-30T01:00:00Z,viettel,true\n"
	if _, err := svc.ImportReports(ctx, service.CommandLine("ict"), strings.NewReader(csv), service.ImportOptions{Format: ingest.FormatCSV}); err != nil {
		t.Fatal(err)
	}
	audited := func() (creates map[string]int, imported int) {
		creates = map[string]int{}
		es, err := st.Audit(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			switch e.Action {
			case "report.create":
				creates[e.Target]++
			case "report.import":
				var n int
				fmt.Sscanf(e.Detail, "accepted=%d", &n)
				imported += n
			}
		}
		return creates, imported
	}
	check := func(when string) {
		creates, imported := audited()
		var stored int
		st.EachReport(ctx, func(*geo.Report) error { stored++; return nil })
		if stored != len(creates)+imported {
			t.Errorf("%s: %d reports stored, %d audited (%d created, %d imported)", when, stored, len(creates)+imported, len(creates), imported)
		}
		for id, n := range creates {
			if n != 1 {
				t.Errorf("%s: report %s has %d entries", when, id, n)
			}
			if _, err := st.Report(ctx, id); err != nil {
				t.Errorf("%s: an entry names report %s: %v", when, id, err)
			}
		}
	}
	check("after the posts")

	// A failure between the report and its entry: the entry of reports
	// from "doomed" cannot be written.
	// (Another connection to the file, as a GIS tool's: it waits for the
	// service's background saves like they do.)
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(30000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_log WHEN NEW.actor = 'doomed'
BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`); err != nil {
		t.Fatal(err)
	}
	svc.WaitIdle()
	held := len(svc.Snapshot().IDs)
	doomed := svc.ViewerOf(&geo.User{Name: "doomed", Role: geo.RoleStaff, Scope: []string{"C1"}})
	if _, _, err := svc.AddReport(ctx, doomed, weak("lost", 105.105, 10.505), "k-doomed"); err == nil || errors.Is(err, geo.ErrInvalid) {
		t.Fatalf("a report whose entry failed: %v, want an internal error", err)
	}
	svc.WaitIdle()
	if got := len(svc.Snapshot().IDs); got != held || svc.Reports() != held {
		t.Errorf("the service holds %d reports, %d analysed, want %d", svc.Reports(), got, held)
	}
	check("after the failure")
}
