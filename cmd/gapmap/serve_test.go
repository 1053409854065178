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

// TestServeSettings: --public-holes and --base-url (and their
// environment variables) reach the server, and bad values are usage
// errors naming the flag.
func TestServeSettings(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.gpkg")
	mustRun(t, "import", "areas", "--db", db, filepath.Join("testdata", "areas.geojson"))
	mustRun(t, "import", "reports", filepath.Join("testdata", "reports.csv"), "--db", db)
	for _, bad := range [][]string{{"--public-holes", "some"}, {"--base-url", "gapmap.example.vn"}} {
		err, _, _ := runCLI(t, append([]string{"serve", "--db", db, "--empty", "--addr", "127.0.0.1:0"}, bad...)...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("serve %v: %v (exit %d), want a usage error naming the flag", bad, err, exitCode(err))
		}
	}

	env := map[string]string{"GAPMAP_PUBLIC_HOLES": "none", "GAPMAP_BASE_URL": "https://gapmap.example.vn/"}
	base, stop := runServeFor(t, func(k string) string { return env[k] }, "--db", db, "--empty")
	res, err := http.Get(base + "/api/v1/layers/holes")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("holes for the public with GAPMAP_PUBLIC_HOLES=none: %d, want 401", res.StatusCode)
	}
	var landing struct{ Links []struct{ Href, Rel string } }
	res, err = http.Get(base + "/ogc")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&landing)
	res.Body.Close()
	if len(landing.Links) == 0 || landing.Links[0].Href != "https://gapmap.example.vn/ogc" {
		t.Errorf("landing links %+v, want them on GAPMAP_BASE_URL", landing.Links)
	}
	stop()

	// The flag wins over the environment.
	base, stop = runServeFor(t, func(k string) string { return env[k] }, "--db", db, "--empty", "--public-holes", "outline")
	defer stop()
	res, err = http.Get(base + "/api/v1/layers/holes")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("holes for the public with --public-holes outline: %d, want 200", res.StatusCode)
	}
}

// runServeFor runs gapmap serve on a free loopback port with args and
// returns its URL and a function that stops it.
func runServeFor(t *testing.T, getenv func(string) string, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, nil, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed nothing: %v (%v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	i := strings.Index(line, "http://")
	if i < 0 {
		cancel()
		t.Fatalf("no address in %q", line)
	}
	return strings.TrimSuffix(strings.Fields(line[i:])[0], "/"), func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}
