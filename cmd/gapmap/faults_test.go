package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPostgresRestart stops the database server under two replicas and
// starts it again: while it is down, writes and authenticated reads get
// 503 with Retry-After and the public layers are still served from
// memory; once it is back the replicas reconnect, take writes again, and
// every report acknowledged before, and after, is found through both.
func TestPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	cluster.Skip(t)
	bin := buildGapmap(t)
	db := cluster.DSN(cluster.NewDatabase(t))
	gapmap := seedDB(t, bin, db)
	auth := "Bearer " + strings.TrimSpace(gapmap("token", "create", "--user", "ops"))
	_, a := startServe(t, bin, db)
	_, b := startServe(t, bin, db)
	rc := replicaClient{t: t, c: &http.Client{Timeout: 10 * time.Second}, auth: auth}
	report := func(id string) string {
		return fmt.Sprintf(`{"id":%q,"lat":9.02,"lon":105.05,"observed_at":"2026-01-20T08:00:00+07:00","carrier":"viettel","tech":"4G","signal_dbm":-118}`, id)
	}
	var acked []string
	for i := range 3 {
		id := fmt.Sprintf("before-%d", i)
		if status, body := rc.do("POST", a+"/api/v1/reports", report(id)); status != http.StatusCreated {
			t.Fatalf("POST before the stop: %d %s", status, body)
		}
		acked = append(acked, id)
	}

	if err := cluster.StopServer(); err != nil {
		t.Fatal(err)
	}
	stopped := true
	t.Cleanup(func() {
		if stopped {
			cluster.StartServer()
		}
	})
	for _, base := range []string{a, b} {
		req, _ := http.NewRequest("POST", base+"/api/v1/reports", strings.NewReader(report("during")))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		res, err := rc.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("POST to %s with the database down: %d, Retry-After %q, %s; want 503 with Retry-After, a problem",
				base, res.StatusCode, res.Header.Get("Retry-After"), res.Header.Get("Content-Type"))
		}
		public, _ := http.Get(base + "/api/v1/layers/areas")
		if public == nil || public.StatusCode != 200 {
			t.Errorf("public layer of %s with the database down: %v, want 200 from memory", base, public)
		}
		if public != nil {
			public.Body.Close()
		}
	}

	if err := cluster.StartServer(); err != nil {
		t.Fatal(err)
	}
	stopped = false
	start := time.Now()
	for {
		status, body := rc.do("POST", b+"/api/v1/reports", report("after"))
		if status == http.StatusCreated {
			break
		}
		if status != http.StatusServiceUnavailable || time.Since(start) > 20*time.Second {
			t.Fatalf("POST after the restart: %d %s (%v after the start)", status, body, time.Since(start))
		}
		time.Sleep(100 * time.Millisecond) // retrying as Retry-After asks, faster
	}
	t.Logf("writes taken again %v after the database started", time.Since(start).Round(time.Millisecond))
	acked = append(acked, "after")
	for _, base := range []string{a, b} {
		for _, id := range acked {
			if status, body := rc.do("GET", base+"/api/v1/reports/"+id, ""); status != 200 {
				t.Errorf("%s: report %s after the restart: %d %s", base, id, status, body)
			}
		}
	}
	// A, which never wrote it, picks the report B took after the restart
	// up in its layer (its watcher reconnects).
	for !rc.reportIDs(a)["after"] {
		if time.Since(start) > 20*time.Second {
			t.Fatal("the report taken by B after the restart is not in A's layer")
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
}
