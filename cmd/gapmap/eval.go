package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gapmap/gapmap/geo/sim"
)

func runEval(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", stdout)
	truthDir := fs.String("truth", "", "directory written by gapmap demo (reads truth.json, and demo.json when there), or the truth.json file")
	holesPath := fs.String("holes", "", "holes.geojson written by gapmap analyze")
	format := fs.String("format", "text", "text: a table; json: one JSON line (label, the demo's conditions, the scores) for gapmap eval-table")
	label := fs.String("label", "", "with --format json: the case this run belongs to, e.g. dense (default: the demo's areas file, synthetic, or the truth's folder without demo.json)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *truthDir == "" || *holesPath == "" {
		return usageError{"eval: --truth and --holes are required"}
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("eval: --format %q: must be text or json", *format)}
	}
	tp := *truthDir
	var cond *sim.Conditions
	if st, err := os.Stat(tp); err == nil && st.IsDir() {
		tp = filepath.Join(tp, "truth.json")
		c, err := readConditions(filepath.Join(*truthDir, "demo.json"))
		if err != nil {
			return err
		}
		cond = c
	}
	tf, err := os.Open(tp)
	if err != nil {
		return fmt.Errorf("truth: %w", err)
	}
	defer tf.Close()
	truth, err := sim.ReadTruth(tf)
	if err != nil {
		return fmt.Errorf("truth %s: %w", tp, err)
	}
	hf, err := os.Open(*holesPath)
	if err != nil {
		return fmt.Errorf("holes: %w", err)
	}
	defer hf.Close()
	holes, err := sim.ReadHolesGeoJSON(hf)
	if err != nil {
		return fmt.Errorf("holes %s: %w", *holesPath, err)
	}
	acc := sim.Summarize(sim.Evaluate(truth, holes))
	if *format == "json" {
		run := sim.Run{Label: *label, Conditions: cond, Accuracy: acc}
		switch {
		case run.Label != "":
		case cond == nil: // no demo.json: name the run after the truth's folder
			run.Label = filepath.Base(filepath.Dir(tp))
		case cond.Source != "":
			run.Label = cond.Source
		default:
			run.Label = "synthetic"
		}
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(run)
	}
	fmt.Fprintf(stdout, "%-13s %9s %9s %9s %10s %10s\n", "carrier", "precision", "recall", "F1", "truth km²", "holes km²")
	line := func(name string, s sim.Score) {
		fmt.Fprintf(stdout, "%-13s %9.3f %9.3f %9.3f %10.2f %10.2f\n", name, s.Precision, s.Recall, s.F1, s.TruthKm2, s.PredKm2)
	}
	for _, s := range acc.Carriers {
		line(s.Carrier.String(), s)
	}
	line("holes", acc.Holes)
	line("mean", acc.CarrierMean)
	line("all", acc.DeadZones)
	fmt.Fprintln(stdout, "(holes: the four carriers' holes pooled by area; mean: the mean of the four carriers' scores; all: dead zones)")
	return nil
}

// readConditions reads a demo's demo.json; a missing file (a demo
// written before it existed) is no error and gives nil.
func readConditions(path string) (*sim.Conditions, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c sim.Conditions
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// runEvalTable prints the Markdown accuracy table of the runs in the
// given JSON lines files (what gapmap eval --format json wrote).
func runEvalTable(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval-table", stdout)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{"eval-table: give one or more files written by gapmap eval --format json"}
	}
	var runs []sim.Run
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		rs, err := sim.ReadRuns(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		runs = append(runs, rs...)
	}
	if len(runs) == 0 {
		return fmt.Errorf("%v: no runs", files)
	}
	rows, err := sim.AccuracyTable(runs)
	if err != nil {
		return err
	}
	return sim.WriteAccuracyMarkdown(stdout, rows)
}
