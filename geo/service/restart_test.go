package service_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// heldStore is a store whose reading of the reports waits until release
// is closed, so a test sees a restarted service before it caught up.
type heldStore struct {
	*gpkg.Store
	release chan struct{}
}

func (s *heldStore) EachReportSince(ctx context.Context, seq int64, fn func(int64, *geo.Report) error) error {
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Store.EachReportSince(ctx, seq, fn)
}

// keptless is a store without a kept analysis: a service over it
// analyses everything as it starts.
type keptless struct{ service.Store }

// layersOf is what the layers are drawn from in snap: the area scores,
// the holes with their registry state, the teams, the unobserved land
// and the summary, printed (fmt prints NaN as itself and maps sorted).
func layersOf(snap *service.Snapshot) string {
	r := snap.Result
	return fmt.Sprintf("areas %v\nholes %v\nteams %v\nunobserved %v\nsummary %v\nbias %v %v",
		r.Areas, r.Holes, r.Teams, r.Unobserved, r.Summary, r.ReportBias, r.ReportBiasFrom)
}

func TestRestartServesKeptAnalysisThenCatchesUp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.gpkg")
	st := openStoreAt(t, path)
	if _, err := st.AddReports(ctx, weakLine("w", 105.101, 40, testNow), geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	opt := service.Options{WatchEvery: -1, TickEvery: -1}
	first := newService(t, st, opt)
	before := first.Snapshot()
	if len(before.Result.Holes) == 0 {
		t.Fatal("the first analysis has no hole; the test needs one")
	}
	if s := first.Status(); s.CatchingUp || s.Reports != 42 {
		t.Fatalf("first service: status %+v, want current with 42 reports", s)
	}
	first.Close() // saves the analysis

	held := &heldStore{Store: st, release: make(chan struct{})}
	second := newService(t, held, opt)
	snap := second.Snapshot()
	if s := second.Status(); !s.CatchingUp || s.Reports != 0 {
		t.Fatalf("restarted service before reading the reports: status %+v, want catching up with 0", s)
	}
	if len(snap.IDs) != 0 || len(snap.Obs) != 0 {
		t.Errorf("restarted snapshot holds %d reports, want none before they are read", len(snap.IDs))
	}
	if got, want := layersOf(snap), layersOf(before); got != want {
		t.Errorf("restarted service serves\n%s\nwant the analysis published before the restart\n%s", got, want)
	}

	// A report taken while catching up is stored, and shows once caught up.
	added, created, err := second.AddReport(ctx, service.CommandLine("test"), weak("late", 105.3052, 10.7052), "")
	if err != nil || !created {
		t.Fatalf("report during catch-up: created %v, %v", created, err)
	}
	if _, err := st.Report(ctx, added.ID); err != nil {
		t.Fatalf("report during catch-up not in the store: %v", err)
	}
	if second.Snapshot() != snap {
		t.Error("a report during catch-up published an analysis before the reports were read")
	}
	close(held.release)
	second.WaitIdle()
	if s := second.Status(); s.CatchingUp || s.Reports != 43 {
		t.Fatalf("after catching up: status %+v, want current with 43 reports", s)
	}
	after := second.Snapshot()
	if n := countID(after.IDs, added.ID); n != 1 {
		t.Errorf("the report taken during catch-up is held %d times, want once", n)
	}

	// The analysis caught up with is the one a service analysing every
	// report as it starts publishes.
	fresh := newService(t, keptless{st}, opt)
	if !slices.Equal(sorted(after.IDs), sorted(fresh.Snapshot().IDs)) {
		t.Errorf("caught up over reports %v, want %v", after.IDs, fresh.Snapshot().IDs)
	}
	if got, want := layersOf(after), layersOf(fresh.Snapshot()); got != want {
		t.Errorf("caught up with\n%s\nwant\n%s", got, want)
	}
}

func TestRestartWithChangedAreasAnalysesAfresh(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	opt := service.Options{WatchEvery: -1, TickEvery: -1}
	first := newService(t, st, opt)
	first.Close()
	// Areas replaced while no service ran: the kept analysis indexes
	// areas that are gone.
	if err := st.ReplaceAreas(ctx, "2025", testAreas[:1]); err != nil {
		t.Fatal(err)
	}
	held := &heldStore{Store: st, release: make(chan struct{})}
	close(held.release)
	second := newService(t, held, opt)
	if s := second.Status(); s.CatchingUp {
		t.Fatalf("status %+v after the areas changed, want an analysis afresh", s)
	}
	if n := len(second.Snapshot().Result.Areas); n == 0 || second.Snapshot().Result.Areas[0].Code != "H1" || len(second.Snapshot().Areas) != 1 {
		t.Errorf("areas %v, want H1 only", second.Snapshot().Areas)
	}
}

func countID(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

func sorted(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestRestartTakesOtherWritesDuringCatchUpOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.gpkg")
	st := openStoreAt(t, path)
	opt := service.Options{WatchEvery: 5 * time.Millisecond, TickEvery: -1}
	first := newService(t, st, opt)
	first.Close()

	held := &heldStore{Store: st, release: make(chan struct{})}
	server := newService(t, held, opt)
	if !server.Status().CatchingUp {
		t.Fatal("restarted service is not catching up")
	}
	// One report through the service, one by another process (the
	// command line), both while the service reads the reports.
	own, _, err := server.AddReport(ctx, service.CommandLine("test"), weak("own", 105.3052, 10.7052), "")
	if err != nil {
		t.Fatal(err)
	}
	cliStore, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cliStore.Close()
	cli := newService(t, cliStore, service.Options{NoAnalysis: true})
	other, _, err := cli.AddReport(ctx, service.CommandLine("test"), weak("other", 105.1052, 10.5052), "")
	if err != nil {
		t.Fatal(err)
	}
	close(held.release)
	snap, _ := waitSnapshot(t, server, "the other process's report", func(s *service.Snapshot) bool { return holds(s, other.ID) })
	server.WaitIdle()
	snap = server.Snapshot()
	for _, id := range []string{"s1", "s2", own.ID, other.ID} {
		if n := countID(snap.IDs, id); n != 1 {
			t.Errorf("report %s held %d times, want once (held: %v)", id, n, snap.IDs)
		}
	}
	if len(snap.IDs) != 4 {
		t.Errorf("held %v, want 4 reports", snap.IDs)
	}
}
