package service

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
)

// recordingStore is a real store that counts the analyses saved and can
// be made to fail saving them.
type recordingStore struct {
	Store
	mu    sync.Mutex
	fail  bool
	saves []int // Reports of each analysis saved
}

var errSaveRefused = errors.New("disk full")

func (s *recordingStore) SaveAnalysis(ctx context.Context, a geo.Analysis) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errSaveRefused
	}
	if err := s.Store.SaveAnalysis(ctx, a); err != nil {
		return err
	}
	s.saves = append(s.saves, a.Reports)
	return nil
}

func TestPersisterCoalesces(t *testing.T) {
	rs := &recordingStore{Store: openTestStore(t)}
	var p persister
	p.init(rs, slog.New(slog.DiscardHandler), time.Hour)
	for i := 1; i <= 100; i++ {
		p.publish(&Snapshot{Result: &geo.Result{Summary: geo.Summary{Reports: i}}})
	}
	p.close()
	p.publish(&Snapshot{Result: &geo.Result{Summary: geo.Summary{Reports: 101}}}) // after close: not saved
	// The first save starts at once with the newest analysis published
	// then; the rest wait out the hour, cut short by close, which saves
	// the newest.
	if n := len(rs.saves); n < 1 || n > 2 || rs.saves[n-1] != 100 {
		t.Errorf("saved analyses of %v reports, want at most two, the last of 100", rs.saves)
	}
}

func TestPersisterLogsFailureOnce(t *testing.T) {
	rs := &recordingStore{Store: openTestStore(t), fail: true}
	var logs bytes.Buffer
	var p persister
	p.init(rs, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})), time.Hour)
	defer p.close()
	for i := 1; i <= 3; i++ {
		p.publish(&Snapshot{Result: &geo.Result{Summary: geo.Summary{Reports: i}}})
		if err := p.save(); err != nil && !errors.Is(err, errSaveRefused) {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors logged for three failed saves, want 1:\n%s", n, logs.String())
	}
	// The failed analysis is kept: the next save, once the store works
	// again, writes it.
	rs.mu.Lock()
	rs.fail = false
	rs.mu.Unlock()
	if err := p.save(); err != nil {
		t.Fatal(err)
	}
	if len(rs.saves) != 1 || rs.saves[0] != 3 {
		t.Errorf("saved analyses of %v reports, want one of 3", rs.saves)
	}
	if !strings.Contains(logs.String(), "analysis saved to the store again") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
}

// openTestStore opens a fresh GeoPackage store in a temporary folder.
func openTestStore(t *testing.T) *gpkg.Store {
	t.Helper()
	st, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "p.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
