package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// replicaClient speaks to replicas with one API token.
type replicaClient struct {
	t    *testing.T
	c    *http.Client
	auth string
}

func (rc replicaClient) do(method, url, body string, header ...string) (int, []byte) {
	rc.t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", rc.auth)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := rc.c.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// reportIDs are the IDs of the reports layer of the replica at base.
func (rc replicaClient) reportIDs(base string) map[string]bool {
	rc.t.Helper()
	status, b := rc.do("GET", base+"/api/v1/layers/reports", "")
	var fc struct {
		Features []struct {
			ID         any            `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if status != 200 || json.Unmarshal(b, &fc) != nil {
		rc.t.Fatalf("reports layer of %s: %d %.200s", base, status, b)
	}
	ids := map[string]bool{}
	for _, f := range fc.Features {
		ids[fmt.Sprint(f.Properties["id"])] = true
		ids[fmt.Sprint(f.ID)] = true
	}
	return ids
}

// TestReplicas runs two gapmap serve processes over one PostGIS database
// and finds them one service: a report posted to one is in the other's
// layer within a second; one Idempotency-Key sent to both stores one
// report; a token revoked through one fails on the other at once; and
// when one is killed (SIGKILL) amid submissions, every report it
// acknowledged is found through the other.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildGapmap(t)
	db := cluster.DSN(cluster.NewDatabase(t))
	gapmap := seedDB(t, bin, db)
	auth := "Bearer " + strings.TrimSpace(gapmap("token", "create", "--user", "ops"))
	other := "Bearer " + strings.TrimSpace(gapmap("token", "create", "--user", "ops", "--label", "to revoke"))
	cmdA, a := startServe(t, bin, db)
	_, b := startServe(t, bin, db)
	rc := replicaClient{t: t, c: &http.Client{Timeout: 5 * time.Second}, auth: auth}
	report := func(id string, i int) string {
		return fmt.Sprintf(`{"id":%q,"lat":%.4f,"lon":105.05,"observed_at":"2026-01-20T08:00:00+07:00","carrier":"viettel","tech":"4G","signal_dbm":-118}`,
			id, 9.01+float64(i%80)*0.001)
	}

	t.Run("a report posted to one is in the other's layer within 1 s", func(t *testing.T) {
		var delays []time.Duration
		for i := range 5 {
			id := fmt.Sprintf("rep-%d", i)
			if status, body := rc.do("POST", a+"/api/v1/reports", report(id, i)); status != http.StatusCreated {
				t.Fatalf("POST to A: %d %s", status, body)
			}
			acked := time.Now()
			for !rc.reportIDs(b)[id] {
				if time.Since(acked) > time.Second {
					t.Fatalf("report %s not in B's layer 1 s after A acknowledged it", id)
				}
				time.Sleep(5 * time.Millisecond) // polling with a deadline
			}
			delays = append(delays, time.Since(acked))
		}
		sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
		t.Logf("from A's 201 to B's layer: %v (sorted)", delays)
	})

	t.Run("one key sent to both stores one report", func(t *testing.T) {
		var wg sync.WaitGroup
		ids := make([]string, 6)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				base := a
				if i%2 == 1 {
					base = b
				}
				status, body := rc.do("POST", base+"/api/v1/reports", report("", 7), "Idempotency-Key", "one-key")
				var r struct {
					ID string `json:"id"`
				}
				if (status != http.StatusCreated && status != http.StatusOK) || json.Unmarshal(body, &r) != nil {
					t.Errorf("POST with the key to %s: %d %s", base, status, body)
				}
				ids[i] = r.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id == "" || id != ids[0] {
				t.Fatalf("the replicas answered ids %v, want one", ids)
			}
		}
		n := 0
		for _, base := range []string{a, b} {
			if status, _ := rc.do("GET", base+"/api/v1/reports/"+ids[0], ""); status == 200 {
				n++
			}
		}
		if n != 2 {
			t.Errorf("report %s found on %d replicas, want 2", ids[0], n)
		}
	})

	t.Run("a token revoked through one fails on the other", func(t *testing.T) {
		oc := replicaClient{t: t, c: rc.c, auth: other}
		if status, _ := oc.do("GET", b+"/api/v1/session", ""); status != 200 {
			t.Fatalf("the token before revoking: %d", status)
		}
		status, body := oc.do("GET", a+"/api/v1/tokens", "")
		var list struct {
			Tokens []struct {
				ID    string `json:"id"`
				Label string `json:"label"`
			} `json:"tokens"`
		}
		if status != 200 || json.Unmarshal(body, &list) != nil {
			t.Fatalf("tokens: %d %s", status, body)
		}
		id := ""
		for _, tk := range list.Tokens {
			if tk.Label == "to revoke" {
				id = tk.ID
			}
		}
		if id == "" {
			t.Fatalf("no token labelled \"to revoke\" in %s", body)
		}
		if status, body := rc.do("DELETE", a+"/api/v1/tokens/"+id, ""); status/100 != 2 {
			t.Fatalf("revoke through A: %d %s", status, body)
		}
		if status, _ := oc.do("GET", b+"/api/v1/session", ""); status != http.StatusUnauthorized {
			t.Errorf("the revoked token on B: %d, want 401", status)
		}
	})

	t.Run("SIGKILL of one replica loses no acknowledged report", func(t *testing.T) {
		var (
			mu    sync.Mutex
			acked []string
			stop  = make(chan struct{})
			wg    sync.WaitGroup
		)
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("kill-%d-%d", g, i)
					status, _ := rc.do("POST", a+"/api/v1/reports", report(id, i))
					if status == 0 {
						return // A is gone
					}
					if status == http.StatusCreated {
						mu.Lock()
						acked = append(acked, id)
						mu.Unlock()
					}
				}
			}()
		}
		for start := time.Now(); ; time.Sleep(10 * time.Millisecond) { // until enough are in flight, at most 5 s
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 100 || time.Since(start) > 5*time.Second {
				break
			}
		}
		if err := cmdA.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmdA.Wait()
		close(stop)
		wg.Wait()
		if len(acked) == 0 {
			t.Fatal("A acknowledged nothing before the kill")
		}
		missing := 0
		for _, id := range acked {
			if status, _ := rc.do("GET", b+"/api/v1/reports/"+id, ""); status != 200 {
				missing++
			}
		}
		if missing > 0 {
			t.Errorf("%d of %d reports A acknowledged are not found through B", missing, len(acked))
		}
		t.Logf("%d reports acknowledged by A before SIGKILL, all found through B", len(acked))
	})
}

// seedDB imports the test areas into the store at db and adds an admin
// "ops" without a password, through the binary bin; it returns a function
// that runs bin with args against db and returns its standard output,
// failing the test on an error.
func seedDB(t *testing.T, bin, db string) func(args ...string) string {
	t.Helper()
	gapmap := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append(args, "--db", db)...).Output()
		if err != nil {
			t.Fatalf("gapmap %s: %v %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	gapmap("import", "areas", filepath.Join("testdata", "areas.geojson"))
	gapmap("user", "add", "--name", "ops", "--role", "admin", "--no-password")
	return gapmap
}
