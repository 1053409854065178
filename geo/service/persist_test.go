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
	delay time.Duration // how long each save takes, at least
	saves []int         // Reports of each analysis saved
}

var errSaveRefused = errors.New("disk full")

func (s *recordingStore) SaveAnalysis(ctx context.Context, a geo.Analysis) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errSaveRefused
	}
	time.Sleep(s.delay)
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

// TestPersisterPacesSlowSaves publishes an analysis every millisecond
// for a second to a store whose saves take 40 ms, with an interval of
// 1 ms: the saves are paced by their duration (saveShare), so reports
// are not kept waiting on the store's writer most of the time, and the
// newest analysis is still saved on close.
func TestPersisterPacesSlowSaves(t *testing.T) {
	const delay = 40 * time.Millisecond
	rs := &recordingStore{Store: openTestStore(t), delay: delay}
	var p persister
	p.init(rs, slog.New(slog.DiscardHandler), time.Millisecond)
	start := time.Now()
	n := 0
	for time.Since(start) < time.Second {
		n++
		p.publish(&Snapshot{Result: &geo.Result{Summary: geo.Summary{Reports: n}}})
		time.Sleep(time.Millisecond)
	}
	p.close()
	elapsed := time.Since(start)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	// Unpaced, the saves would follow one another: elapsed/delay of them.
	most := int(elapsed/(saveShare*delay)) + 2
	if len(rs.saves) > most || len(rs.saves) < 2 {
		t.Errorf("%d saves in %v of 40 ms each, want 2 to %d", len(rs.saves), elapsed, most)
	}
	if last := rs.saves[len(rs.saves)-1]; last != n {
		t.Errorf("last save of %d reports, want the newest, %d", last, n)
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
