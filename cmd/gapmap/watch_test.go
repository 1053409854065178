package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCLIWritesReachRunningServer runs gapmap serve as a process and the
// command line as others on the same store, a GeoPackage file and a
// PostGIS database, and finds what the command line wrote served without
// a restart: imported reports, a rejection, new areas, and a user and a
// token that sign in and authenticate.
func TestCLIWritesReachRunningServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildGapmap(t)
	t.Run("gpkg", func(t *testing.T) { testCLIWritesReach(t, bin, filepath.Join(t.TempDir(), "w.gpkg")) })
	t.Run("postgis", func(t *testing.T) { testCLIWritesReach(t, bin, cluster.DSN(cluster.NewDatabase(t))) })
}

// buildGapmap builds the program into a temporary folder.
func buildGapmap(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gapmap")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func testCLIWritesReach(t *testing.T, bin, db string) {
	dir := t.TempDir()
	gapmap := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--db", db)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("gapmap %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
		}
		return string(out)
	}
	gapmap("", "import", "areas", filepath.Join("testdata", "areas.geojson"))
	gapmap("", "user", "add", "--name", "ops", "--role", "admin", "--no-password")
	auth := "Bearer " + strings.TrimSpace(gapmap("", "token", "create", "--user", "ops"))

	_, base := startServe(t, bin, db)
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path, auth string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	features := func(path string) []map[string]any {
		t.Helper()
		status, b := get(path, auth)
		var fc struct {
			Features []struct {
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		if status != 200 || json.Unmarshal(b, &fc) != nil {
			t.Fatalf("%s: %d %.200s", path, status, b)
		}
		var out []map[string]any
		for _, f := range fc.Features {
			out = append(out, f.Properties)
		}
		return out
	}
	// waitFor polls until ok, and returns how long it took since the
	// command line's write ended.
	waitFor := func(what string, ok func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !ok() {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: not served 5 s after the command line wrote it", what)
			}
			time.Sleep(10 * time.Millisecond) // polling with a deadline
		}
		return time.Since(start)
	}
	areaReports := func(code string) int {
		t.Helper()
		status, b := get("/api/v1/areas/"+code, "")
		var a struct {
			Reports int `json:"reports"`
		}
		if status != 200 || json.Unmarshal(b, &a) != nil {
			t.Fatalf("area %s: %d %.200s", code, status, b)
		}
		return a.Reports
	}

	if n := len(features("/api/v1/layers/reports")); n != 0 {
		t.Fatalf("%d reports before the import", n)
	}
	gapmap("", "import", "reports", filepath.Join("testdata", "reports.csv"))
	took := waitFor("the imported reports", func() bool { return len(features("/api/v1/layers/reports")) == 6 })
	t.Logf("reports served %v after gapmap import ended", took)
	h1 := areaReports("90001")
	if h1 < 2 {
		t.Fatalf("area 90001 counts %d reports, want r1 and r2 at least", h1)
	}

	if out := gapmap("", "review", "--id", "r1", "--status", "rejected", "--comment", "trùng lặp"); !strings.Contains(out, "rejected") {
		t.Errorf("review said %q", out)
	}
	took = waitFor("the rejection", func() bool { return areaReports("90001") == h1-1 })
	t.Logf("rejection served %v after gapmap review ended", took)

	// New areas: the same two and a third east of them.
	areas, err := os.ReadFile(filepath.Join("testdata", "areas.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	third := `{"type":"Feature","properties":{"code":"90004","name":"Ấp Tân Hưng","population":400},"geometry":{"type":"Polygon","coordinates":[[[105.2,9.0],[105.3,9.0],[105.3,9.1],[105.2,9.1],[105.2,9.0]]]}},` + "\n"
	i := strings.Index(string(areas), `{"type":"Feature"`)
	more := filepath.Join(dir, "more.geojson")
	if err := os.WriteFile(more, []byte(string(areas[:i])+third+string(areas[i:])), 0o600); err != nil {
		t.Fatal(err)
	}
	gapmap("", "import", "areas", more)
	codes := func() []string {
		var out []string
		for _, p := range features("/api/v1/layers/areas") {
			out = append(out, fmt.Sprint(p["code"]))
		}
		slices.Sort(out)
		return out
	}
	took = waitFor("the new area", func() bool { return slices.Contains(codes(), "90004") })
	t.Logf("areas served %v after gapmap import areas ended", took)
	if got := strings.Join(codes(), " "); got != "90001 90002 90004" {
		t.Errorf("areas %s, want 90001 90002 90004", got)
	}

	// A user and a token made now sign in and authenticate at once.
	gapmap("mật khẩu của Lan\n", "user", "add", "--name", "lan", "--role", "reviewer")
	res, err := client.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"name":"lan","password":"mật khẩu của Lan"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("sign in as the user the command line added: %d", res.StatusCode)
	}
	tok := strings.TrimSpace(gapmap("", "token", "create", "--user", "lan"))
	status, b := get("/api/v1/session", "Bearer "+tok)
	if status != 200 || !strings.Contains(string(b), `"lan"`) {
		t.Errorf("the token the command line made: %d %s", status, b)
	}
}
