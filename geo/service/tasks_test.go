package service_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// good is a usable Viettel report at (lon, lat) by who.
func good(id, who string, lon, lat float64) geo.Report {
	return geo.Report{ID: id, Lat: lat, Lon: lon, ObservedAt: testNow.Add(-48 * time.Hour),
		Carrier: geo.Viettel, Tech: geo.Tech4G, SignalDBm: ptr(-80), Reporter: who}
}

// TestTasksDoneWhenReportsArrive: the team of a hamlet reported in its
// western half only is asked to measure in the eastern half; a report at
// a task's place marks it done, the team's activity counts it, and the
// task stays done after a restart.
func TestTasksDoneWhenReportsArrive(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.gpkg")
	st := openStoreAt(t, path)
	if err := st.ReplaceTeams(ctx, []geo.Team{{ID: "T1", Name: "Tổ CNS ấp Phú Hòa", AreaCode: "H1", Members: 5}}); err != nil {
		t.Fatal(err)
	}
	var rs []geo.Report
	for i := range 120 {
		lon := 105.1005 + float64(i%12)*0.0005 // the western ≈0.6 km of the 2 km hamlet
		lat := 10.5005 + float64(i/12)*0.0019
		rs = append(rs, good(fmt.Sprintf("g%03d", i), fmt.Sprintf("w%d", i%6), lon, lat))
	}
	if _, err := st.AddReports(ctx, rs, geo.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	svc := newService(t, st, service.Options{})
	admin := service.CommandLine("test")
	list, err := svc.Tasks(ctx, staff(svc, "C1"), "H1")
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Teams) != 1 || list.Teams[0].Team != "T1" || len(list.Tasks) == 0 {
		t.Fatalf("tasks of H1: %+v", list)
	}
	if a := list.Teams[0]; a.Reports7d != 121 || a.Reports30d != 121 || a.TasksOpen != len(list.Tasks) || a.TasksDone != 0 {
		t.Errorf("activity %+v, want 121 reports in 7 and 30 days, %d open, none done", a, len(list.Tasks))
	}
	for _, tk := range list.Tasks {
		if tk.Lon < 105.104 || tk.State != geo.TaskOpen || !tk.ProposedAt.Equal(testNow) {
			t.Errorf("task %s at lon %.4f, %s proposed %v: want open, in the unreported east (lon > 105.104), proposed now", tk.ID, tk.Lon, tk.State, tk.ProposedAt)
		}
	}
	first := list.Tasks[0]
	if _, _, err := svc.AddReport(ctx, admin, good("there", "team", first.Lon, first.Lat), ""); err != nil {
		t.Fatal(err)
	}
	svc.WaitIdle()
	list, err = svc.Tasks(ctx, admin, "C1")
	if err != nil {
		t.Fatal(err)
	}
	var done *geo.Task
	for i := range list.Tasks {
		if list.Tasks[i].ID == first.ID {
			done = &list.Tasks[i]
		}
	}
	if done == nil || done.State != geo.TaskDone || done.DoneBy != "there" || !done.DoneAt.Equal(testNow) {
		t.Fatalf("task %s after a report there: %+v, want done by the report", first.ID, done)
	}
	if a := list.Teams[0]; a.TasksDone != 1 || a.Reports7d != 122 {
		t.Errorf("activity %+v, want 1 task done and 122 reports", a)
	}
	if err := svc.FlushAnalysis(); err != nil {
		t.Fatal(err)
	}
	svc.Close()

	again := newService(t, st, service.Options{})
	list, err = again.Tasks(ctx, admin, "")
	if err != nil {
		t.Fatal(err)
	}
	if a := list.Teams[0]; a.TasksDone != 1 {
		t.Errorf("after a restart: activity %+v, want the done task kept", a)
	}
}

// TestTasksScope: staff read the tasks of their scope only; an unknown
// area is not found; the public and carriers may not read tasks.
func TestTasksScope(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, openStore(t), service.Options{})
	if _, err := svc.Tasks(ctx, staff(svc, "C1"), "H2"); !errors.Is(err, geo.ErrForbidden) {
		t.Errorf("staff of C1 reading H2: %v, want forbidden", err)
	}
	_, err := svc.Tasks(ctx, staff(svc, "C1"), "NOPE")
	wantKind(t, "unknown area", err, geo.ErrNotFound, "area")
	if _, err := svc.Tasks(ctx, &geo.Viewer{}, "H1"); !errors.Is(err, geo.ErrUnauthenticated) {
		t.Errorf("the public: %v, want unauthenticated", err)
	}
	if _, err := svc.Tasks(ctx, &geo.Viewer{User: "vt", Role: geo.RoleCarrier, Carrier: geo.Viettel}, "H1"); !errors.Is(err, geo.ErrForbidden) {
		t.Errorf("a carrier: %v, want forbidden", err)
	}
}
