package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/internal/geotest"
	"github.com/gapmap/gapmap/geo/service"
)

// pickUpWithin is how long a test waits for a running service to pick up
// a write made by another process; the watcher polls every 500 ms by
// default, and the promise is 2 s.
const pickUpWithin = 5 * time.Second

// twoProcesses returns a running service over a store file (the server)
// and a second handle on the same file with a command-line service over
// it (NoAnalysis), as gapmap serve and gapmap import would hold them.
func twoProcesses(t *testing.T, opt service.Options) (server *service.Service, cliStore *gpkg.Store, cli *service.Service) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.gpkg")
	server = newService(t, openStoreAt(t, path), opt)
	cliStore, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cliStore.Close() })
	cli = newService(t, cliStore, service.Options{NoAnalysis: true})
	return server, cliStore, cli
}

// waitSnapshot polls svc's snapshot until ok accepts it, and fails the
// test after pickUpWithin. It returns the snapshot and how long it took.
func waitSnapshot(t *testing.T, svc *service.Service, what string, ok func(*service.Snapshot) bool) (*service.Snapshot, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(pickUpWithin)
	for {
		snap := svc.Snapshot()
		if ok(snap) {
			return snap, time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not in the server's snapshot after %v (it has %d reports, %d areas)", what, pickUpWithin, len(snap.IDs), len(snap.Areas))
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

func holds(snap *service.Snapshot, ids ...string) bool {
	for _, id := range ids {
		if !slices.Contains(snap.IDs, id) {
			return false
		}
	}
	return true
}

// areaReports is the number of reports the snapshot's analysis counts in
// the area with the given code, -1 when there is no such area.
func areaReports(snap *service.Snapshot, code string) int {
	for _, a := range snap.Result.Areas {
		if a.Code == code {
			return a.Reports
		}
	}
	return -1
}

// TestWatchPicksUpImport: reports imported by another process are in the
// running service's snapshot, analysed (weak, in their area), and the
// log says so.
func TestWatchPicksUpImport(t *testing.T) {
	ctx := context.Background()
	var logBuf syncBuffer
	server, _, cli := twoProcesses(t, service.Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	before := areaReports(server.Snapshot(), "H1")
	csv := "id,lat,lon,observed_at,carrier,tech,signal_dbm\n" +
		"c1,10.506,105.106,2025-08-30T08:00:00+07:00,viettel,4G,-125\n" +
		"c2,10.507,105.107,2025-08-30T08:00:00+07:00,viettel,4G,-124\n" +
		"c3,10.706,105.306,2025-08-30T08:00:00+07:00,mobifone,4G,-80\n"
	res, err := cli.ImportReports(ctx, service.CommandLine("ict"), strings.NewReader(csv), service.ImportOptions{Format: ingest.FormatCSV})
	if err != nil || res.Accepted != 3 {
		t.Fatalf("import: %+v %v", res, err)
	}
	snap, took := waitSnapshot(t, server, "the imported reports", func(s *service.Snapshot) bool {
		return holds(s, "c1", "c2", "c3") && areaReports(s, "H1") == before+2
	})
	t.Logf("picked up in %v", took)
	for i, id := range snap.IDs {
		if id == "c1" && (snap.Obs[i].Area != 0 || snap.Obs[i].Flags&geo.FlagWeak == 0) {
			t.Errorf("c1 held as %+v, want in area 0 (H1) and weak", snap.Obs[i])
		}
	}
	if len(snap.IDs) != 5 {
		t.Errorf("snapshot holds %v, want the 2 reports of the store and the 3 imported", snap.IDs)
	}
	server.WaitIdle()
	if !strings.Contains(logBuf.String(), "picked up reports written by another process") || !strings.Contains(logBuf.String(), "reports=3") {
		t.Errorf("log lacks the pick-up of 3 reports:\n%s", logBuf.String())
	}
}

// TestWatchOwnWritesNotTwice: the server's own reports, which the watcher
// also finds in the store, are held once, while another process imports
// at the same time.
func TestWatchOwnWritesNotTwice(t *testing.T) {
	ctx := context.Background()
	server, _, cli := twoProcesses(t, service.Options{WatchEvery: 2 * time.Millisecond})
	admin := service.CommandLine("ict")
	var wg sync.WaitGroup
	const rounds = 20
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range rounds {
			if _, _, err := server.AddReport(ctx, admin, weak(fmt.Sprintf("own-%d", i), 105.101+float64(i)*0.0005, 10.511), ""); err != nil {
				t.Error(err)
				return
			}
			csv := fmt.Sprintf("id,lat,lon,observed_at,carrier,tech,signal_dbm\nownimp-%d,10.512,105.11,2025-08-30T08:00:00+07:00,viettel,4G,-125\nownimp-%db,10.513,105.11,2025-08-30T08:00:00+07:00,viettel,4G,-125\n", i, i)
			if _, err := server.ImportReports(ctx, admin, strings.NewReader(csv), service.ImportOptions{Format: ingest.FormatCSV}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range rounds {
			csv := fmt.Sprintf("id,lat,lon,observed_at,carrier,tech,signal_dbm\ncli-%d,10.514,105.11,2025-08-30T08:00:00+07:00,viettel,4G,-125\n", i)
			if _, err := cli.ImportReports(ctx, admin, strings.NewReader(csv), service.ImportOptions{Format: ingest.FormatCSV}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	// A last report from the other process: once it is held, everything
	// stored before it has been sorted by the watcher.
	if _, err := cli.ImportReports(ctx, admin, strings.NewReader("id,lat,lon,observed_at,carrier,signal_dbm\nlast,10.515,105.11,2025-08-30T08:00:00+07:00,viettel,-125\n"),
		service.ImportOptions{Format: ingest.FormatCSV}); err != nil {
		t.Fatal(err)
	}
	waitSnapshot(t, server, "the last report", func(s *service.Snapshot) bool { return holds(s, "last") })
	server.WaitIdle()
	snap := server.Snapshot()
	want := 2 + rounds*3 + rounds + 1
	if server.Reports() != want || len(snap.IDs) != want {
		t.Errorf("the server holds %d reports (snapshot %d), want %d", server.Reports(), len(snap.IDs), want)
	}
	seen := map[string]bool{}
	for _, id := range snap.IDs {
		if seen[id] {
			t.Errorf("report %s held twice", id)
		}
		seen[id] = true
	}
	if got := areaReports(snap, "H1"); got != want-1 {
		t.Errorf("H1 counts %d reports, want %d (every report but s2)", got, want-1)
	}
}

// TestWatchPicksUpReview: a report rejected by another process leaves the
// running analysis, and comes back when confirmed again.
func TestWatchPicksUpReview(t *testing.T) {
	ctx := context.Background()
	server, _, cli := twoProcesses(t, service.Options{})
	before := areaReports(server.Snapshot(), "H1")
	if _, err := cli.Review(ctx, service.CommandLine("ict"), "s1", geo.ReviewRejected, "trùng lặp"); err != nil {
		t.Fatal(err)
	}
	_, took := waitSnapshot(t, server, "the rejection", func(s *service.Snapshot) bool { return areaReports(s, "H1") == before-1 })
	t.Logf("rejection picked up in %v", took)
	if _, err := cli.Review(ctx, service.CommandLine("ict"), "s1", geo.ReviewConfirmed, ""); err != nil {
		t.Fatal(err)
	}
	waitSnapshot(t, server, "the confirmation", func(s *service.Snapshot) bool { return areaReports(s, "H1") == before })
}

// TestWatchPicksUpAreasAndTeams: areas replaced by another process become
// the running service's, with every report placed again in them, and
// its staff scopes resolved over them; so do new teams.
func TestWatchPicksUpAreasAndTeams(t *testing.T) {
	ctx := context.Background()
	server, cliStore, _ := twoProcesses(t, service.Options{})
	if got := areaReports(server.Snapshot(), "H3"); got != -1 {
		t.Fatalf("H3 before the import: %d reports", got)
	}
	// A new vintage adds H3, which holds s2's place, and drops H2.
	h3 := geo.Area{Code: "H3", Name: "Ấp Mới", ParentCode: "C2", Level: geo.LevelHamlet, Population: 500,
		Geometry: geotest.Square(105.30, 10.70, 105.31, 10.71)}
	if err := cliStore.ReplaceAreas(ctx, "2025", []geo.Area{testAreas[0], h3}); err != nil {
		t.Fatal(err)
	}
	snap, took := waitSnapshot(t, server, "the new areas", func(s *service.Snapshot) bool { return areaReports(s, "H3") == 1 })
	t.Logf("areas picked up in %v", took)
	if len(snap.Areas) != 2 || snap.Areas[1].Code != "H3" {
		t.Errorf("snapshot areas %v, want H1 and H3", codes(snap.Areas))
	}
	if got := areaReports(snap, "H2"); got != -1 {
		t.Errorf("H2 still scored (%d reports) after it was dropped", got)
	}
	for i, id := range snap.IDs {
		if id == "s2" && snap.Obs[i].Area != 1 {
			t.Errorf("s2 in area %d, want 1 (H3)", snap.Obs[i].Area)
		}
	}
	if a := server.Areas(); len(a) != 2 || a[1].Code != "H3" {
		t.Errorf("Areas() %v, want H1 and H3", codes(a))
	}
	if i := server.Locate(105.305, 10.705); i != 1 {
		t.Errorf("Locate in H3: %d, want 1", i)
	}
	// A staff scope over C2 now covers H3, and a report there is stored
	// in it.
	c2 := staff(server, "C2")
	if !c2.Covers(1) || c2.Covers(0) {
		t.Errorf("staff of C2 covers %v, want H3 only", c2.Areas)
	}
	if _, _, err := server.AddReport(ctx, c2, weak("in-h3", 105.306, 10.706), ""); err != nil {
		t.Fatalf("staff of C2 adds a report in H3: %v", err)
	}
	server.WaitIdle()
	if got := areaReports(server.Snapshot(), "H3"); got != 2 {
		t.Errorf("H3 counts %d reports after one more, want 2", got)
	}

	if err := cliStore.ReplaceTeams(ctx, []geo.Team{{ID: "t1", Name: "Tổ CNS ấp Mới", AreaCode: "H3", Members: 6, HouseholdsReached: 40}}); err != nil {
		t.Fatal(err)
	}
	waitSnapshot(t, server, "the new team", func(s *service.Snapshot) bool {
		return len(s.Result.Teams) == 1 && s.Result.Teams[0].ID == "t1"
	})
}

func codes(as []geo.Area) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Code)
	}
	return out
}

// TestCLIAccountsReachServer: a user and a token made by another process
// sign in and authenticate on a running service at once, since accounts
// are read from the store on every request; with the watcher off too.
func TestCLIAccountsReachServer(t *testing.T) {
	ctx := context.Background()
	server, _, cli := twoProcesses(t, service.Options{WatchEvery: -1})
	root := service.CommandLine("root")
	if _, err := cli.AddUser(ctx, root, service.UserSpec{Name: "lan", Role: "reviewer", Password: "mật khẩu đủ dài"}); err != nil {
		t.Fatal(err)
	}
	_, tok, err := cli.CreateToken(ctx, root, "lan", "máy tính bảng")
	if err != nil {
		t.Fatal(err)
	}
	u, _, secret, err := server.SignIn(ctx, &geo.Viewer{Remote: "192.0.2.9"}, "lan", "mật khẩu đủ dài", "", nil)
	if err != nil || u.Role != geo.RoleReviewer {
		t.Fatalf("sign in on the server as the user made by the CLI: %+v %v", u, err)
	}
	if v, _, err := server.SessionViewer(ctx, secret); err != nil || v.User != "lan" {
		t.Errorf("session viewer %+v %v", v, err)
	}
	if v, _, err := server.TokenViewer(ctx, tok); err != nil || v.User != "lan" || v.Via != "token" {
		t.Errorf("the CLI's token on the server: %+v %v", v, err)
	}
	if err := cli.SetPassword(ctx, root, "lan", "một mật khẩu khác"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := server.SignIn(ctx, &geo.Viewer{}, "lan", "mật khẩu đủ dài", "", nil); err == nil {
		t.Error("the old password still signs in on the server after the CLI changed it")
	}
	if v, _, err := server.SessionViewer(ctx, secret); err != nil || !v.Anonymous() {
		t.Errorf("the session after the CLI changed the password: %+v %v", v, err)
	}
	ts, err := cli.Tokens(ctx, root, "lan")
	if err != nil || len(ts) != 1 {
		t.Fatalf("tokens of lan: %v %v", ts, err)
	}
	if err := cli.RevokeToken(ctx, root, ts[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := server.TokenViewer(ctx, tok); err == nil {
		t.Error("the token revoked by the CLI still authenticates on the server")
	}
}

// syncBuffer is a strings.Builder safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
