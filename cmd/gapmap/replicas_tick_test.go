package main

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/postgis"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// TestReplicasTickOnce: two services over one PostGIS database, their
// clocks past a hole's answer deadline, both checking the deadlines at
// once and again: the hole is announced overdue once (one delivery),
// not once per replica.
func TestReplicasTickOnce(t *testing.T) {
	cluster.Skip(t)
	ctx := context.Background()
	db := cluster.DSN(cluster.NewDatabase(t))
	csv := filepath.Join(t.TempDir(), "weak.csv")
	if err := os.WriteFile(csv, []byte(weakLineCSV()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"import", "areas", filepath.Join("testdata", "areas.geojson")}, {"import", "reports", csv}} {
		if err := run(ctx, append(args, "--db", db), func(string) string { return "" }, nil, os.Stdout, os.Stderr); err != nil {
			t.Fatalf("gapmap %v: %v", args, err)
		}
	}
	var mu sync.Mutex
	now := time.Date(2026, 2, 2, 9, 0, 0, 0, geo.VietnamTime)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	open := func() *service.Service {
		t.Helper()
		st, err := postgis.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svc, err := service.New(ctx, st, service.Options{Now: clock, TickEvery: -1, WatchEvery: 10 * time.Millisecond,
			WebhookAllowHosts: []string{"127.0.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(svc.Close)
		return svc
	}
	a := open()
	if err := a.FlushAnalysis(); err != nil {
		t.Fatal(err)
	}
	admin := &geo.Viewer{User: "ops", Role: geo.RoleAdmin}
	hook, _, err := a.CreateWebhook(ctx, admin, service.WebhookSpec{URL: "http://127.0.0.1:9/hook", Events: []string{geo.EventHoleOverdue}})
	if err != nil {
		t.Fatal(err)
	}
	b := open()
	mu.Lock()
	now = now.AddDate(0, 0, geo.DefaultAnswerDays+2)
	mu.Unlock()
	for range 2 {
		var wg sync.WaitGroup
		for _, svc := range []*service.Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := svc.Tick(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	ds, err := a.WebhookDeliveries(ctx, admin, hook.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	overdue := 0
	for _, d := range ds {
		if d.Event == geo.EventHoleOverdue {
			overdue++
		}
	}
	if overdue != 1 {
		t.Errorf("%d hole.overdue deliveries after both replicas ticked twice, want 1", overdue)
	}
}
