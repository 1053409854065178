package main

import (
	"flag"
	"fmt"
	"math/rand"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var replicaFigures = flag.Bool("replica-figures", false, "TestReplicaFigures: measure catch-up latency and window req/s through one and two replicas")

// TestReplicaFigures measures, over two gapmap serve processes and one
// PostgreSQL on this machine: the time from a report's 201 on one
// replica to its being found on the other (p50, p99 over 300 posts), and
// the bbox windows of the areas layer served per second by one replica
// and by two (requests spread over both), for 5 s each with 8 clients.
// It prints figures and asserts nothing of speed; it runs only with
// -replica-figures.
func TestReplicaFigures(t *testing.T) {
	if !*replicaFigures {
		t.Skip("figures only: go test ./cmd/gapmap -run TestReplicaFigures -replica-figures -v")
	}
	bin := buildGapmap(t)
	db := cluster.DSN(cluster.NewDatabase(t))
	gapmap := seedDB(t, bin, db)
	rc := replicaClient{t: t, c: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		auth: "Bearer " + strings.TrimSpace(gapmap("token", "create", "--user", "ops"))}
	_, a := startServe(t, bin, db)
	_, b := startServe(t, bin, db)

	const posts = 300
	delays := make([]time.Duration, 0, posts)
	for i := range posts {
		id := fmt.Sprintf("fig-%d", i)
		body := fmt.Sprintf(`{"id":%q,"lat":%.4f,"lon":105.05,"observed_at":"2026-01-20T08:00:00+07:00","carrier":"viettel","tech":"4G","signal_dbm":-118}`,
			id, 9.01+float64(i%80)*0.001)
		if status, out := rc.do("POST", a+"/api/v1/reports", body); status != http.StatusCreated {
			t.Fatalf("POST to A: %d %s", status, out)
		}
		acked := time.Now()
		for {
			if status, _ := rc.do("GET", b+"/api/v1/reports/"+id, ""); status == 200 && heldOn(rc, b, id) {
				break
			}
			if time.Since(acked) > 10*time.Second {
				t.Fatalf("report %s not on B after 10 s", id)
			}
			time.Sleep(time.Millisecond) // polling with a deadline
		}
		delays = append(delays, time.Since(acked))
	}
	slices.Sort(delays)
	t.Logf("catch-up from A's 201 to B's reports layer, %d posts: p50 %v, p99 %v, max %v",
		posts, delays[posts/2].Round(10*time.Microsecond), delays[posts*99/100].Round(10*time.Microsecond), delays[posts-1].Round(10*time.Microsecond))

	windows := func(bases []string) float64 {
		var n atomic.Int64
		var wg sync.WaitGroup
		stop := time.Now().Add(5 * time.Second)
		for c := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewSource(int64(c)))
				for i := 0; time.Now().Before(stop); i++ {
					x, y := 105.0+r.Float64()*0.18, 9.0+r.Float64()*0.08
					url := fmt.Sprintf("%s/api/v1/layers/areas?bbox=%.5f,%.5f,%.5f,%.5f", bases[i%len(bases)], x, y, x+0.02, y+0.02)
					if status, _ := rc.do("GET", url, ""); status != 200 {
						t.Errorf("GET %s: %d", url, status)
						return
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		return float64(n.Load()) / 5
	}
	for round := range 2 { // alternately, as timings here are noisy
		one, two := windows([]string{a}), windows([]string{a, b})
		t.Logf("round %d: areas bbox windows, 8 clients: one replica %.0f req/s, two replicas %.0f req/s", round+1, one, two)
	}
}

// heldOn reports whether the reports layer of the replica at base holds
// id, i.e. the replica's analysis took it in.
func heldOn(rc replicaClient, base, id string) bool {
	return rc.reportIDs(base)[id]
}
