package api

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo/service"
)

// postWeakReports posts n weak MobiFone reports in hamlet H3 (Khóm Mỹ
// Lợi), one at a time, from four accounts (the evidence rules count
// accounts) over several days.
func postWeakReports(e *env, n int) {
	e.t.Helper()
	accounts := e.accounts("mỹ-lợi", 4)
	for i := range n {
		body := fmt.Sprintf(`{"lat":%.4f,"lon":%.4f,"observed_at":"2025-08-%02dT08:00:00+07:00","carrier":"MobiFone","tech":"4G","signal_dbm":-124,"reporter":"Tổ CNS Mỹ Lợi %d"}`,
			10.702+float64(i%5)*0.003, 105.302+float64(i/5)*0.003, 1+i%25, i%4)
		if r := accounts[i%4].do("POST", "/api/v1/reports", "application/json", []byte(body)); r.status != 201 {
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
	e := newEnvSvc(t, Options{}, service.Options{SaveAnalysisEvery: time.Millisecond})
	e.svc.WaitIdle()
	before := e.holesServed()
	postWeakReports(e, 25)
	e.svc.WaitIdle()
	if err := e.svc.FlushAnalysis(); err != nil {
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
	e := newEnvSvc(t, Options{}, service.Options{SaveAnalysisEvery: time.Hour})
	postWeakReports(e, 25)
	e.svc.WaitIdle()
	served := e.holesServed()
	e.svc.Close()
	if stored := e.holesStored(); stored != served {
		t.Errorf("after Close the store holds %d holes, the API served %d", stored, served)
	}
}
