package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gapmap/gapmap/data"
	"github.com/gapmap/gapmap/geo/sim"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stderr)
	outDir := fs.String("out", "", "output directory (created if missing)")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same files")
	areasPath := fs.String("areas", "", "real boundaries to simulate over (GeoJSON/Shapefile); default: a synthetic province")
	reports := fs.Int("reports", 0, "number of reports (default: scaled to the population)")
	months := fs.Int("months", 6, "months of reports")
	bias := fs.Float64("bias", 0, "how many times more likely a weak-signal user reports than a good-signal one (default 6)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *outDir == "" {
		return usageError{"demo: --out is required"}
	}
	opt := sim.Options{Seed: *seed, Reports: *reports, Months: *months, ReportBias: *bias}
	if *areasPath != "" {
		as, err := data.ReadAreas(ctx, *areasPath, data.AreaOptions{})
		if err != nil {
			return err
		}
		showErrors(stderr, "areas", *areasPath, as.Errors, len(as.Errors))
		if len(as.Areas) == 0 {
			return fmt.Errorf("%s: no usable areas", *areasPath)
		}
		opt.Areas = as.Areas
	}
	start := time.Now()
	w, err := sim.Generate(opt)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"areas.geojson", w.WriteAreasGeoJSON},
		{"reports.csv", w.WriteReportsCSV},
		{"teams.csv", w.WriteTeamsCSV},
		{"towers.geojson", w.WriteTowersGeoJSON},
		{"truth.json", w.Truth.WriteJSON},
		{"truth-holes.geojson", w.Truth.HolesGeoJSON},
	} {
		if err := writeFileAtomic(filepath.Join(*outDir, f.name), f.write); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "synthetic province (seed %d): %d areas, %d towers, %d reports, %d teams → %s (%.1fs)\n",
		*seed, len(w.Areas), len(w.Towers), len(w.Reports), len(w.Teams), *outDir, time.Since(start).Seconds())
	return nil
}
