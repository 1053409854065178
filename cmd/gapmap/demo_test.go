package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/geo/sim"
	"github.com/paulmach/orb/geojson"
)

// reportSources counts reports.csv's rows by source.
func reportSources(t *testing.T, path string) map[string]int {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(readFile(t, path))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range rows[0] {
		if h == "source" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s has no source column: %v", path, rows[0])
	}
	n := map[string]int{}
	for _, r := range rows[1:] {
		n[r[col]]++
	}
	return n
}

func readConditionsFile(t *testing.T, dir string) sim.Conditions {
	t.Helper()
	var c sim.Conditions
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "demo.json")), &c); err != nil {
		t.Fatalf("demo.json: %v", err)
	}
	return c
}

func TestDemoNoDriveTestsAndBias(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	stdout, _ := mustRun(t, "demo", "--out", dir, "--seed", "5", "--reports", "3000", "--drive-share", "0", "--bias", "2")
	src := reportSources(t, filepath.Join(dir, "reports.csv"))
	if src["drive_test"] != 0 {
		t.Errorf("--drive-share 0: %d drive_test reports, want none (sources %v)", src["drive_test"], src)
	}
	total := 0
	for _, n := range src {
		total += n
	}
	if total != 3000 {
		t.Errorf("%d reports, want 3000", total)
	}
	c := readConditionsFile(t, dir)
	if c.DriveShare != 0 || c.DriveTestReports != 0 || c.ReportBias != 2 || c.Seed != 5 || c.Reports != 3000 || !c.Synthetic {
		t.Errorf("demo.json = %+v, want seed 5, bias 2, no drive tests, 3000 reports, synthetic", c)
	}
	if !strings.Contains(stdout, "0 from drive tests") {
		t.Errorf("stdout does not say there are no drive tests: %q", stdout)
	}
}

func TestDemoBadFlags(t *testing.T) {
	out := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"communes without areas", []string{"--communes", "5"}, "--communes needs --areas"},
		{"negative communes", []string{"--areas", "x.geojson", "--communes", "-2"}, "--communes"},
		{"drive share above 1", []string{"--drive-share", "1.5"}, "--drive-share"},
		{"negative drive share", []string{"--drive-share", "-0.1"}, "--drive-share"},
		{"bias below 1", []string{"--bias", "0.5"}, "--bias"},
		{"negative hamlets", []string{"--hamlets", "-4"}, "--hamlets"},
		{"hamlets with areas", []string{"--hamlets", "16", "--areas", "x.geojson"}, "--hamlets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, _, _ := runCLI(t, append([]string{"demo", "--out", out}, tt.args...)...)
			if err == nil {
				t.Fatal("no error")
			}
			if got := exitCode(err); got != 2 {
				t.Errorf("exitCode = %d, want 2 (%v)", got, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a refused demo wrote %d files", len(entries))
	}
}

// TestDemoHamlets writes the national-scale grid: the areas, reports and
// teams that import and analyze read, and no truth.
func TestDemoHamlets(t *testing.T) {
	out := t.TempDir()
	if err, _, stderr := runCLI(t, "demo", "--out", out, "--hamlets", "16", "--reports", "300"); err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}
	var names []string
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "areas.geojson reports.csv teams.csv" {
		t.Fatalf("wrote %s", got)
	}
	ana := t.TempDir()
	err, _, stderr := runCLI(t, "analyze", "--quiet", "--areas", out+"/areas.geojson", "--reports", out+"/reports.csv",
		"--teams", out+"/teams.csv", "--out", ana)
	if err != nil {
		t.Fatalf("analyze: %v\n%s", err, stderr)
	}
	b, err := os.ReadFile(ana + "/areas.geojson")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"code":"H0`); n != 16 {
		t.Errorf("analysis has %d of the 16 hamlets", n)
	}
}

// TestDemoCommunes simulates over 4 contiguous real Tây Ninh communes
// (skipped when ../shared is absent).
func TestDemoCommunes(t *testing.T) {
	file, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data", "vn-communes-2025", "communes_2025_tay_ninh_80.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Skipf("real boundary data not available: %v", err)
	}
	src, err := geojson.UnmarshalFeatureCollection(readFile(t, file))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "demo")
	mustRun(t, "demo", "--out", dir, "--seed", "3", "--areas", file, "--communes", "4", "--reports", "2000")
	fc, err := geojson.UnmarshalFeatureCollection(readFile(t, filepath.Join(dir, "areas.geojson")))
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 4 {
		t.Fatalf("areas.geojson has %d areas, want 4", len(fc.Features))
	}
	if got, want := fc.Features[0].Properties["code"], src.Features[0].Properties["code"]; got != want {
		t.Errorf("first area %v, want the file's first commune %v", got, want)
	}
	c := readConditionsFile(t, dir)
	if c.Areas != 4 || c.Communes != 4 || c.Source != filepath.Base(file) || c.Synthetic {
		t.Errorf("demo.json = %+v, want 4 areas of %s", c, filepath.Base(file))
	}
	// The same communes again.
	dir2 := filepath.Join(t.TempDir(), "demo")
	mustRun(t, "demo", "--out", dir2, "--seed", "3", "--areas", file, "--communes", "4", "--reports", "2000")
	if !bytes.Equal(readFile(t, filepath.Join(dir, "areas.geojson")), readFile(t, filepath.Join(dir2, "areas.geojson"))) {
		t.Error("--communes 4 twice chose different areas")
	}

	err, _, _ = runCLI(t, "demo", "--out", t.TempDir(), "--areas", file, "--communes", "5000")
	if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "--communes 5000") {
		t.Errorf("--communes 5000: error %v, want a usage error naming --communes", err)
	}
}

func TestEvalTable(t *testing.T) {
	fixture := filepath.Join("..", "..", "geo", "sim", "testdata", "runs.jsonl")
	stdout, _ := mustRun(t, "eval-table", fixture)
	want := readFile(t, filepath.Join("..", "..", "geo", "sim", "testdata", "accuracy-table.md"))
	if stdout != string(want) {
		t.Errorf("eval-table %s:\n%s\nwant:\n%s", fixture, stdout, want)
	}

	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, append(readFile(t, fixture), "{\"label\": 3}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	err, _, _ := runCLI(t, "eval-table", bad)
	if err == nil || !strings.Contains(err.Error(), "row 7") || !strings.Contains(err.Error(), "bad.jsonl") {
		t.Errorf("eval-table with a bad line 7: error %v, want one naming the file and row 7", err)
	}
	err, _, _ = runCLI(t, "eval-table", fixture, fixture)
	if err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Errorf("eval-table with every run twice: error %v, want one saying a seed appears twice", err)
	}
	err, _, _ = runCLI(t, "eval-table")
	if err == nil || exitCode(err) != 2 {
		t.Errorf("eval-table with no file: error %v, want a usage error", err)
	}
}
