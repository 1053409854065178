package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAcknowledgedReportsSurviveSIGKILL posts reports from many clients
// to a real gapmap serve process, kills it with SIGKILL mid-stream,
// restarts it on the same store and expects every report that was
// acknowledged with 201 Created to be there.
func TestAcknowledgedReportsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gapmap")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "d.gpkg")
	if out, err := exec.Command(bin, "import", "areas", "--db", db,
		filepath.Join("testdata", "areas.geojson")).CombinedOutput(); err != nil {
		t.Fatalf("import areas: %v\n%s", err, out)
	}

	if out, err := exec.Command(bin, "user", "add", "--db", db, "--name", "bulk", "--role", "admin", "--no-password").CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	tok, err := exec.Command(bin, "token", "create", "--db", db, "--user", "bulk").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	auth := "Bearer " + strings.TrimSpace(string(tok))

	cmd, base := startServe(t, bin, db)

	const (
		clients = 16
		wantAck = 300
	)
	var (
		mu     sync.Mutex
		acked  []string
		nAck   atomic.Int64
		stop   = make(chan struct{})
		enough = make(chan struct{})
		once   sync.Once
		wg     sync.WaitGroup
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("k-%d-%d", g, i)
				// Points spread over the first test hamlet (105.0–105.1, 9.0–9.1).
				lat := 9.01 + float64(i%80)*0.001
				lon := 105.01 + float64(g)*0.005
				body := fmt.Sprintf(`{"id":%q,"lat":%.5f,"lon":%.5f,"observed_at":"2026-01-20T08:00:00+07:00","carrier":"viettel","tech":"4G","signal_dbm":-115}`, id, lat, lon)
				req, _ := http.NewRequest("POST", base+"/api/v1/reports", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", auth)
				res, err := client.Do(req)
				if err != nil {
					// Not acknowledged: the server is gone or going.
					select {
					case <-stop:
						return
					default:
						time.Sleep(5 * time.Millisecond)
						continue
					}
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusCreated {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
					if nAck.Add(1) >= wantAck {
						once.Do(func() { close(enough) })
					}
				} else {
					t.Errorf("POST %s: status %d", id, res.StatusCode)
				}
			}
		}()
	}

	select {
	case <-enough:
	case <-time.After(5 * time.Second):
	}
	// Kill while the clients are still posting.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()

	mu.Lock()
	ids := append([]string(nil), acked...)
	mu.Unlock()
	if len(ids) == 0 {
		t.Fatal("no report was acknowledged before the kill")
	}
	t.Logf("%d reports acknowledged before SIGKILL", len(ids))

	_, base = startServe(t, bin, db)
	missing := 0
	for _, id := range ids {
		req, _ := http.NewRequest("GET", base+"/api/v1/reports/"+id, nil)
		req.Header.Set("Authorization", auth)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			missing++
			if missing <= 10 {
				t.Errorf("acknowledged report %s: GET status %d after restart", id, res.StatusCode)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged reports lost", missing, len(ids))
	}
}

// startServe starts bin serve on db on a free loopback port and returns
// the process and its base URL. The process is killed at cleanup.
func startServe(t *testing.T, bin, db string) (*exec.Cmd, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, bin, "serve", "--empty", "--db", db, "--addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(out)
		line, _ := br.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, br)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(15 * time.Second):
		t.Fatal("serve printed no address in 15s")
	}
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("no address in %q", line)
	}
	base := strings.TrimSuffix(strings.Fields(line[i:])[0], "/")
	return cmd, base
}
