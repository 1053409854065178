package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// postWeakReports posts n weak MobiFone reports in hamlet H3 (Khóm Mỹ
// Lợi), one at a time, from several reporters over several days.
func postWeakReports(e *env, n int) {
	e.t.Helper()
	for i := range n {
		body := fmt.Sprintf(`{"lat":%.4f,"lon":%.4f,"observed_at":"2025-08-%02dT08:00:00+07:00","carrier":"MobiFone","tech":"4G","signal_dbm":-124,"reporter":"Tổ CNS Mỹ Lợi %d"}`,
			10.702+float64(i%5)*0.003, 105.302+float64(i/5)*0.003, 1+i%25, i%4)
		if r := e.do("POST", "/api/v1/reports", "application/json", []byte(body)); r.status != 201 {
			e.t.Fatalf("report %d: %d %s", i, r.status, r.body)
		}
	}
}

// holesServed is the number of features of the holes layer as served.
func (e *env) holesServed() int {
	e.t.Helper()
	r := e.get("/api/v1/layers/holes")
	if r.status != 200 {
		e.t.Fatalf("holes layer: %d %s", r.status, r.body)
	}
	return len(parseFC(e.t, r.body).Features)
}

func (e *env) holesStored() int {
	e.t.Helper()
	_, _, _, h, err := e.store.Counts(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func TestAnalysisSavedToStore(t *testing.T) {
	e := newEnv(t, Options{SaveAnalysisEvery: time.Millisecond})
	e.srv.WaitIdle()
	before := e.holesServed()
	postWeakReports(e, 25)
	e.srv.WaitIdle()
	if err := e.srv.FlushAnalysis(); err != nil {
		t.Fatal(err)
	}
	served := e.holesServed()
	if served <= before {
		t.Fatalf("the reports in H3 made no new hole: %d holes before, %d after", before, served)
	}
	if stored := e.holesStored(); stored != served {
		t.Errorf("store holds %d holes, the API serves %d", stored, served)
	}
}

func TestCloseSavesNewestAnalysis(t *testing.T) {
	// With an hour between saves, the analyses of the reports posted
	// after the start are saved by Close.
	e := newEnv(t, Options{SaveAnalysisEvery: time.Hour})
	postWeakReports(e, 25)
	e.srv.WaitIdle()
	served := e.holesServed()
	e.srv.Close()
	if stored := e.holesStored(); stored != served {
		t.Errorf("after Close the store holds %d holes, the API served %d", stored, served)
	}
}

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
	e := newEnv(t, Options{})
	rs := &recordingStore{Store: e.store}
	var p persister
	p.init(rs, slog.New(slog.DiscardHandler), time.Hour)
	for i := 1; i <= 100; i++ {
		p.publish(&geo.Result{Summary: geo.Summary{Reports: i}})
	}
	p.close()
	p.publish(&geo.Result{Summary: geo.Summary{Reports: 101}}) // after close: not saved
	// The first save starts at once with the newest analysis published
	// then; the rest wait out the hour, cut short by close, which saves
	// the newest.
	if n := len(rs.saves); n < 1 || n > 2 || rs.saves[n-1] != 100 {
		t.Errorf("saved analyses of %v reports, want at most two, the last of 100", rs.saves)
	}
}

func TestPersisterLogsFailureOnce(t *testing.T) {
	e := newEnv(t, Options{})
	rs := &recordingStore{Store: e.store, fail: true}
	var logs bytes.Buffer
	var p persister
	p.init(rs, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})), time.Hour)
	defer p.close()
	for i := 1; i <= 3; i++ {
		p.publish(&geo.Result{Summary: geo.Summary{Reports: i}})
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
