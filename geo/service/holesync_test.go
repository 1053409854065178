package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// TestRegistrySharedByTwoServices: two services over one store file, as
// two processes would hold it. A carrier's answer and a reviewer's
// ruling given to one are shown by the other — its hole, its snapshot's
// holes — once its watcher has read the registry again, and the other's
// next analysis keeps them.
func TestRegistrySharedByTwoServices(t *testing.T) {
	ctx := context.Background()
	e := newLifeEnv(t)
	e.svc.Close()
	a, err := service.New(ctx, e.store, service.Options{Now: e.clk.now, WatchEvery: 10 * time.Millisecond, TickEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	e.svc = a
	h := e.only(geo.Viettel)
	if err := a.FlushAnalysis(); err != nil {
		t.Fatal(err)
	}
	st2, err := gpkg.Open(ctx, e.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	b, err := service.New(ctx, st2, service.Options{Now: e.clk.now, WatchEvery: 10 * time.Millisecond, TickEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	waitHole := func(what string, ok func(service.HoleView, geo.Hole) bool) {
		t.Helper()
		deadline := time.Now().Add(pickUpWithin)
		for {
			hv, err := b.Hole(ctx, reviewerV, h.ID)
			if err != nil {
				t.Fatalf("hole %s on the second service: %v", h.ID, err)
			}
			var sh geo.Hole
			for _, x := range b.Snapshot().Result.Holes {
				if x.ID == h.ID {
					sh = x
				}
			}
			if ok(hv, sh) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not on the second service after %v: state %s, snapshot %+v", what, pickUpWithin, hv.State, sh.Life)
			}
			time.Sleep(5 * time.Millisecond) // polling with a deadline
		}
	}
	e.answer(viettelUser, h.ID, service.Answer{State: "planned", PlannedDate: "2027-03-01", Plan: "new_site", Note: "trạm mới"})
	waitHole("the answer", func(hv service.HoleView, sh geo.Hole) bool {
		return hv.State == geo.StatePlanned && sh.Life.State == geo.StatePlanned && sh.Life.FixDue == "2027-03-01" &&
			hv.History[len(hv.History)-1].Note == "trạm mới"
	})
	// An answer on the second service, read back by the first after its
	// own reload, then a reviewer's ruling on the first.
	if _, err := b.AnswerHole(ctx, viettelUser, h.ID, service.Answer{State: "disputed", Note: "đã có sóng"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(pickUpWithin)
	for {
		hv, err := e.svc.Hole(ctx, reviewerV, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if hv.State == geo.StateDisputed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second service's answer is not on the first after %v: %s", pickUpWithin, hv.State)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
	if _, err := e.svc.RuleHole(ctx, reviewerV, h.ID, "upheld", "vẫn yếu", ""); err != nil {
		t.Fatal(err)
	}
	waitHole("the ruling", func(hv service.HoleView, sh geo.Hole) bool {
		return hv.State == geo.StatePlanned && sh.Life.State == geo.StatePlanned && len(hv.History) >= 4 &&
			hv.History[len(hv.History)-1].Kind == "ruling"
	})
	// The second service's next analysis keeps what it read.
	e.add(weakLine("x", 105.301, 10, listed)...)
	b.WaitIdle()
	if _, _, err := b.AddReport(ctx, service.CommandLine("test"), weak("z1", 105.302, 10.51), ""); err != nil {
		t.Fatal(err)
	}
	b.WaitIdle()
	waitHole("the ruling after an analysis", func(hv service.HoleView, sh geo.Hole) bool {
		return hv.State == geo.StatePlanned && sh.Life.State == geo.StatePlanned
	})
}
