package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/data/gpkg"
)

// TestImportAndServe loads the test areas and reports with gapmap import,
// starts gapmap serve on a free loopback port, reads a layer, submits a
// report, stops the server with its context (as SIGTERM does) and finds
// the report in the store.
func TestImportAndServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.gpkg")
	out, _ := mustRun(t, "import", "areas", "--db", db, filepath.Join("testdata", "areas.geojson"))
	if !strings.Contains(out, "areas: 2 stored, 1 rejected") {
		t.Errorf("import areas said %q", out)
	}
	out, _ = mustRun(t, "import", "reports", filepath.Join("testdata", "reports.csv"), "--db", db)
	if !strings.Contains(out, "reports: 6 stored, 2 rejected") {
		t.Errorf("import reports said %q", out)
	}
	if err, _, _ := runCLI(t, "import", "lakes", "--db", db, "x"); exitCode(err) != 2 {
		t.Errorf("import lakes: %v (exit %d), want a usage error", err, exitCode(err))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--empty"},
			func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v (%v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("no address in %q", line)
	}
	base := strings.Fields(line[i:])[0]
	base = strings.TrimSuffix(base, "/")

	res, err := http.Get(base + "/api/v1/layers/areas")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "Ấp Phú Hòa") {
		t.Errorf("areas layer: %d %.200s", res.StatusCode, body)
	}
	rep := `{"lat":9.05,"lon":105.05,"observed_at":"2026-01-20T08:00:00+07:00","carrier":"452-04","tech":"4G","signal_dbm":-118}`
	res, err = http.Post(base+"/api/v1/reports", "application/json", strings.NewReader(rep))
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		ID string `json:"id"`
	}
	json.NewDecoder(res.Body).Decode(&stored)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || stored.ID == "" {
		t.Fatalf("POST report: %d, id %q", res.StatusCode, stored.ID)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after its context ended", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15 s of its context ending")
	}
	st, err := gpkg.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Report(context.Background(), stored.ID); err != nil {
		t.Errorf("report %s acknowledged but not in the store: %v", stored.ID, err)
	}
}
