package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo/sim"
	"github.com/paulmach/orb/geojson"
)

// runCLI runs the program with args and an empty environment, returning
// its error, stdout and stderr.
func runCLI(t *testing.T, args ...string) (error, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(string) string { return "" }
	err := run(context.Background(), args, getenv, strings.NewReader(""), &stdout, &stderr)
	return err, stdout.String(), stderr.String()
}

// runCLIInput is runCLI with stdin.
func runCLIInput(t *testing.T, stdin string, args ...string) (error, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(string) string { return "" }
	err := run(context.Background(), args, getenv, strings.NewReader(stdin), &stdout, &stderr)
	return err, stdout.String(), stderr.String()
}

func mustRun(t *testing.T, args ...string) (string, string) {
	t.Helper()
	err, stdout, stderr := runCLI(t, args...)
	if err != nil {
		t.Fatalf("gapmap %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout, stderr
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var carrierNames = []string{"viettel", "vinaphone", "mobifone", "vietnamobile"}

func TestDemoAnalyzeEval(t *testing.T) {
	tmp := t.TempDir()
	demo1 := filepath.Join(tmp, "demo1")
	demo2 := filepath.Join(tmp, "demo2")
	out := filepath.Join(tmp, "out")

	mustRun(t, "demo", "--out", demo1, "--seed", "5", "--reports", "4000")
	mustRun(t, "demo", "--out", demo2, "--seed", "5", "--reports", "4000")
	if a, b := readFile(t, filepath.Join(demo1, "reports.csv")), readFile(t, filepath.Join(demo2, "reports.csv")); !bytes.Equal(a, b) {
		t.Errorf("demo with the same seed wrote different reports.csv (%d vs %d bytes)", len(a), len(b))
	}

	mustRun(t, "analyze",
		"--areas", filepath.Join(demo1, "areas.geojson"),
		"--reports", filepath.Join(demo1, "reports.csv"),
		"--teams", filepath.Join(demo1, "teams.csv"),
		"--out", out, "--quiet")

	want := []string{"areas.geojson", "holes.geojson", "unobserved.geojson", "teams.geojson", "cells.geojson", "tasks.csv", "summary.json", "rejected.csv"}
	for _, c := range carrierNames {
		for _, ext := range []string{"csv", "xlsx", "geojson", "kml", "gpkg"} {
			want = append(want, "gaps-"+c+"."+ext)
		}
	}
	for _, name := range want {
		st, err := os.Stat(filepath.Join(out, name))
		if err != nil {
			t.Errorf("missing output: %v", err)
			continue
		}
		if st.Size() == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	// Unobserved land: one feature per carrier and one for all, the last
	// no larger than any carrier's (land no carrier reaches is land each
	// does not reach).
	un, err := geojson.UnmarshalFeatureCollection(readFile(t, filepath.Join(out, "unobserved.geojson")))
	if err != nil {
		t.Fatal(err)
	}
	if len(un.Features) != 5 {
		t.Fatalf("unobserved.geojson: %d features, want 5", len(un.Features))
	}
	all := un.Features[4].Properties.MustFloat64("area_km2")
	for _, f := range un.Features[:4] {
		if km := f.Properties.MustFloat64("area_km2"); km < all {
			t.Errorf("unobserved %v: %.2f km², less than for all carriers (%.2f)", f.Properties["carrier"], km, all)
		}
	}
	for _, c := range carrierNames {
		name := "gaps-" + c + ".csv"
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			continue // reported above
		}
		if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
			t.Errorf("%s does not start with the UTF-8 BOM: % x", name, b[:min(len(b), 3)])
		}
	}

	var summary struct {
		Read struct {
			Reports struct {
				Accepted int `json:"accepted"`
			} `json:"reports"`
		} `json:"read"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(out, "summary.json")), &summary); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	// Every row the demo wrote must be accepted.
	rows := bytes.Count(readFile(t, filepath.Join(demo1, "reports.csv")), []byte("\n")) - 1
	if got := summary.Read.Reports.Accepted; got != rows {
		t.Errorf("summary.json read.reports.accepted = %d, want %d (rows of reports.csv)", got, rows)
	}
	if got := summary.Read.Reports.Accepted; got != 4000 {
		t.Errorf("read.reports.accepted = %d, want the 4000 reports asked of demo", got)
	}

	stdout, _ := mustRun(t, "eval", "--truth", demo1, "--holes", filepath.Join(out, "holes.geojson"))
	lines := map[string]bool{}
	for _, l := range strings.Split(stdout, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[strings.ToLower(f[0])] = true
		}
	}
	for _, c := range append(append([]string{}, carrierNames...), "holes", "mean", "all") {
		if !lines[c] {
			t.Errorf("eval output has no line for %q:\n%s", c, stdout)
		}
	}

	// The same evaluation as a JSON line, and two of them as a table.
	jsonOut, _ := mustRun(t, "eval", "--truth", demo1, "--holes", filepath.Join(out, "holes.geojson"), "--format", "json")
	var run sim.Run
	if err := json.Unmarshal([]byte(jsonOut), &run); err != nil {
		t.Fatalf("eval --format json: %v\n%s", err, jsonOut)
	}
	if run.Label != "synthetic" || run.Conditions == nil || run.Conditions.Seed != 5 || run.Conditions.Reports != 4000 {
		t.Errorf("eval --format json: label %q, conditions %+v; want synthetic, seed 5, 4000 reports", run.Label, run.Conditions)
	}
	if len(run.Accuracy.Carriers) != 4 || run.Accuracy.Holes.PredKm2 <= 0 || run.Accuracy.Holes.TruthKm2 <= 0 {
		t.Errorf("eval --format json: accuracy %+v, want four carriers and pooled holes", run.Accuracy)
	}
	labelled, _ := mustRun(t, "eval", "--truth", demo1, "--holes", filepath.Join(out, "holes.geojson"), "--format", "json", "--label", "other")
	runs := filepath.Join(tmp, "runs.jsonl")
	if err := os.WriteFile(runs, []byte(jsonOut+labelled), 0o644); err != nil {
		t.Fatal(err)
	}
	table, _ := mustRun(t, "eval-table", runs)
	holesP := fmt.Sprintf("| %.2f (%.2f) |", run.Accuracy.Holes.Precision, run.Accuracy.Holes.Precision)
	for _, label := range []string{"synthetic", "other"} {
		found := false
		for _, l := range strings.Split(table, "\n") {
			if strings.HasPrefix(l, "| "+label+" |") && strings.Contains(l, holesP) {
				found = true
			}
		}
		if !found {
			t.Errorf("eval-table has no row %q with holes precision %s:\n%s", label, holesP, table)
		}
	}
}

func TestAnalyzeBadRows(t *testing.T) {
	out := t.TempDir()
	_, stderr := mustRun(t, "analyze",
		"--areas", filepath.Join("testdata", "areas.geojson"),
		"--reports", filepath.Join("testdata", "reports.csv"),
		"--out", out, "--quiet")

	for _, field := range []string{"lat:", "carrier:"} {
		if !strings.Contains(stderr, field) {
			t.Errorf("stderr does not name field %q:\n%s", field, stderr)
		}
	}

	f, err := os.Open(filepath.Join(out, "rejected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("rejected.csv: %v", err)
	}
	if len(recs) == 0 {
		t.Fatal("rejected.csv is empty")
	}
	rows := recs[1:]
	if len(rows) != 3 {
		t.Errorf("rejected.csv has %d data rows, want 3: %q", len(rows), rows)
	}
	count := map[string]int{}
	fields := map[string]bool{}
	for _, r := range rows {
		count[r[0]]++
		fields[r[0]+"."+r[3]] = true
	}
	if count["areas"] != 1 || count["reports"] != 2 {
		t.Errorf("rejected.csv rows by input = %v, want areas 1, reports 2", count)
	}
	for _, k := range []string{"areas.geometry", "reports.lat", "reports.carrier"} {
		if !fields[k] {
			t.Errorf("rejected.csv has no %s row: %q", k, rows)
		}
	}

	areas := readFile(t, filepath.Join(out, "areas.geojson"))
	for _, name := range []string{"Ấp Phú Hòa", "Khóm 3"} {
		if !bytes.Contains(areas, []byte(name)) {
			t.Errorf("areas.geojson does not contain %q byte for byte", name)
		}
	}
	if bytes.Contains(areas, []byte("Vòng hở")) {
		t.Errorf("areas.geojson contains the rejected area")
	}
}

func TestAnalyzeUnusableInput(t *testing.T) {
	out := t.TempDir()
	reports := filepath.Join("testdata", "reports.csv")

	t.Run("missing areas flag", func(t *testing.T) {
		err, _, _ := runCLI(t, "analyze", "--reports", reports, "--out", out)
		if err == nil {
			t.Fatal("no error")
		}
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("error %v (%T) is not a usage error", err, err)
		}
		if got := exitCode(err); got != 2 {
			t.Errorf("exitCode = %d, want 2", got)
		}
	})

	t.Run("no usable areas", func(t *testing.T) {
		err, _, _ := runCLI(t, "analyze", "--areas", filepath.Join("testdata", "areas_invalid.geojson"),
			"--reports", reports, "--out", out, "--quiet")
		if err == nil {
			t.Fatal("no error")
		}
		if got := exitCode(err); got != 1 {
			t.Errorf("exitCode = %d, want 1", got)
		}
		if !strings.Contains(err.Error(), "no usable areas") {
			t.Errorf("error %q does not mention no usable areas", err)
		}
	})

	t.Run("nonexistent reports", func(t *testing.T) {
		err, _, _ := runCLI(t, "analyze", "--areas", filepath.Join("testdata", "areas.geojson"),
			"--reports", filepath.Join(t.TempDir(), "nope.csv"), "--out", out, "--quiet")
		if err == nil {
			t.Fatal("no error")
		}
		if got := exitCode(err); got != 1 {
			t.Errorf("exitCode = %d, want 1", got)
		}
	})
}

func TestUnknownCommand(t *testing.T) {
	err, stdout, stderr := runCLI(t, "frobnicate")
	if err == nil {
		t.Fatal("no error")
	}
	if got := exitCode(err); got != 2 {
		t.Errorf("exitCode = %d, want 2", got)
	}
	if !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("error %q does not name the command", err)
	}
	if !strings.Contains(stderr, "usage:") {
		t.Errorf("stderr has no usage:\n%s", stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want empty", stdout)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		err, stdout, _ := runCLI(t, arg)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if want := "gapmap " + version + "\n"; stdout != want {
			t.Errorf("%s: stdout = %q, want %q", arg, stdout, want)
		}
	}
}

func TestLogWriter(t *testing.T) {
	var out syncBuffer
	lw := newLogWriter(&out, time.Hour) // no periodic flush in this part
	log := newLogger("info", "", lw)
	log.Info("request", "path", "/a")
	if out.String() != "" {
		t.Errorf("an info line was written at once: %q", out.String())
	}
	log.Warn("disk nearly full")
	if s := out.String(); !strings.Contains(s, "path=/a") || !strings.Contains(s, "disk nearly full") {
		t.Errorf("a warning did not flush the buffer: %q", s)
	}
	log.With("k", "v").Info("last")
	lw.Close()
	if !strings.Contains(out.String(), "msg=last k=v") {
		t.Errorf("Close did not flush: %q", out.String())
	}

	// The periodic flush.
	var out2 syncBuffer
	lw2 := newLogWriter(&out2, 10*time.Millisecond)
	defer lw2.Close()
	newLogger("info", "", lw2).Info("later")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out2.String(), "msg=later") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(out2.String(), "msg=later") {
		t.Error("an info line was not flushed by the ticker")
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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
