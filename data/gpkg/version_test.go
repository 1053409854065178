package gpkg

import (
	"context"
	"testing"

	"github.com/gapmap/gapmap/geo"
)

const changesVersion = 5

// TestVersionSeesGISEdits: an area edited in place by another program
// (QGIS) moves the other handle's Version.Areas, through the triggers.
func TestVersionSeesGISEdits(t *testing.T) {
	ctx := context.Background()
	a, path := openTemp(t)
	b, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	fill(t, a)
	before, err := a.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.ExecContext(ctx, `UPDATE areas SET name = 'Phường Đổi Tên' WHERE code = '001' AND vintage = '2025'`); err != nil {
		t.Fatal(err)
	}
	after, err := a.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (geo.Version{Reports: before.Reports, Areas: after.Areas, Teams: before.Teams, Reviews: before.Reviews}); after != want || after.Areas == before.Areas {
		t.Errorf("Version after an area edit: %+v, was %+v; want Areas moved only", after, before)
	}
}

// TestVersionAfterReopenAndError: a version read over a new connection
// (after a reopen, or after the watching connection was dropped) equals
// the one before when nothing was written.
func TestVersionAfterReopenAndError(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	fill(t, s)
	v1, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	s.ver.mu.Lock()
	s.ver.seen = -1 // force a read of the counters, which the cancelled context fails
	s.ver.mu.Unlock()
	if _, err := s.Version(cctx); err == nil {
		t.Error("Version with a cancelled context: no error")
	}
	if v, err := s.Version(ctx); err != nil || v != v1 {
		t.Errorf("Version after an error: %+v, %v; want %+v", v, err, v1)
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if v, err := s2.Version(ctx); err != nil || v != v1 {
		t.Errorf("Version after reopening: %+v, %v; want %+v", v, err, v1)
	}
}

// TestChangesMigration opens a file made before the change counters and
// finds them working.
func TestChangesMigration(t *testing.T) {
	ctx := context.Background()
	s := migratedFrom(t, changesVersion, nil)
	v1, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Reports == 0 {
		t.Errorf("Version on the migrated file %+v: no reports", v1)
	}
	if err := s.ReplaceTeams(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if v2, err := s.Version(ctx); err != nil || v2.Teams == v1.Teams || v2.Areas != v1.Areas {
		t.Errorf("Version after replacing the teams: %+v, %v (was %+v)", v2, err, v1)
	}
}
