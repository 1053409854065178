package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gapmap/gapmap/geo/sim"
)

func runEval(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", stderr)
	truthDir := fs.String("truth", "", "directory written by gapmap demo (reads truth.json), or the truth.json file")
	holesPath := fs.String("holes", "", "holes.geojson written by gapmap analyze")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *truthDir == "" || *holesPath == "" {
		return usageError{"eval: --truth and --holes are required"}
	}
	tp := *truthDir
	if st, err := os.Stat(tp); err == nil && st.IsDir() {
		tp = filepath.Join(tp, "truth.json")
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
	fmt.Fprintf(stdout, "%-13s %9s %9s %9s %10s %10s\n", "carrier", "precision", "recall", "F1", "truth km²", "holes km²")
	for _, s := range sim.Evaluate(truth, holes) {
		fmt.Fprintf(stdout, "%-13s %9.3f %9.3f %9.3f %10.2f %10.2f\n", s.Carrier, s.Precision, s.Recall, s.F1, s.TruthKm2, s.PredKm2)
	}
	return nil
}
