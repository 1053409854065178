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

	// The first admin, and a token for a program.
	if err, _, stderr := runCLIInput(t, "short\n", "user", "add", "--db", db, "--name", "admin", "--role", "admin"); exitCode(err) != 2 || !strings.Contains(err.Error(), "password") {
		t.Errorf("short password: %v %s", err, stderr)
	}
	if err, _, _ := runCLIInput(t, "", "user", "add", "--db", db, "--name", "admin", "--role", "king"); exitCode(err) != 2 || !strings.Contains(err.Error(), "role") {
		t.Errorf("bad role: %v", err)
	}
	if err, _, _ := runCLIInput(t, "", "user", "add", "--db", db, "--name", "x", "--role", "staff", "--scope", "NOWHERE", "--no-password"); err == nil || !strings.Contains(err.Error(), "NOWHERE") {
		t.Errorf("unknown scope: %v", err)
	}
	if err, out, stderr := runCLIInput(t, "mật khẩu quản trị\n", "user", "add", "--db", db, "--name", "admin", "--role", "admin"); err != nil {
		t.Fatalf("user add: %v %s %s", err, out, stderr)
	}
	if err, _, _ := runCLIInput(t, "another password\n", "user", "add", "--db", db, "--name", "admin", "--role", "admin"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second admin of the same name: %v", err)
	}
	tok, _ := mustRun(t, "token", "create", "--db", db, "--user", "admin", "--label", "tải lên")
	tok = strings.TrimSpace(tok)
	out, _ = mustRun(t, "user", "list", "--db", db)
	if !strings.Contains(out, "admin") {
		t.Errorf("user list: %q", out)
	}
	out, _ = mustRun(t, "token", "list", "--db", db)
	if !strings.Contains(out, "tải lên") {
		t.Errorf("token list: %q", out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--empty"},
			func(string) string { return "" }, nil, pw, io.Discard)
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
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without a token: %d, want 401", res.StatusCode)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/reports", strings.NewReader(rep))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err = http.DefaultClient.Do(req)
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
	// The audit log names the CLI's writes and the token's report.
	es, err := st.Audit(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Via+":"+e.Action)
	}
	for _, want := range []string{"cli:user.add", "cli:token.create", "token:report.create"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
}
