package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gapmap/gapmap/data"
	"github.com/gapmap/gapmap/geo/sim"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", stdout)
	outDir := fs.String("out", "", "output directory (created if missing)")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same files")
	areasPath := fs.String("areas", "", "real boundaries to simulate over (GeoJSON/Shapefile); default: a synthetic province")
	communes := fs.Int("communes", 0, "with --areas: simulate over N contiguous areas only, grown from the file's first area by centroid distance (default: all)")
	reports := fs.Int("reports", 0, "number of reports (default: scaled to the population)")
	months := fs.Int("months", 6, "months of reports")
	bias := fs.Float64("bias", 0, "how many times more likely a weak-signal user reports than a good-signal one, at least 1 (default 6)")
	driveShare := fs.Float64("drive-share", sim.DefaultDriveShare, "share of the reports from drive tests along roads, 0 to 1; 0 means none, as in most real uploads")
	hamlets := fs.Int("hamlets", 0, "instead of the simulated province: a national-scale grid of N hamlets of about 200 vertices with clustered reports (--reports, default 100 a hamlet) and no radio truth, for benchmarks")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *hamlets != 0 {
		if *outDir == "" {
			return usageError{"demo: --out is required"}
		}
		if *hamlets < 0 || *areasPath != "" {
			return usageError{"demo: --hamlets: must be positive, and cannot go with --areas"}
		}
		return writeScale(stdout, *outDir, sim.ScaleOptions{Seed: *seed, Hamlets: *hamlets, Reports: *reports})
	}
	switch {
	case *outDir == "":
		return usageError{"demo: --out is required"}
	case *communes != 0 && *areasPath == "":
		return usageError{"demo: --communes needs --areas"}
	case *communes < 0:
		return usageError{"demo: --communes: must be positive"}
	case *bias != 0 && !(*bias >= 1):
		return usageError{fmt.Sprintf("demo: --bias %g: must be at least 1", *bias)}
	case !(*driveShare >= 0 && *driveShare <= 1):
		return usageError{fmt.Sprintf("demo: --drive-share %g: must be between 0 and 1", *driveShare)}
	}
	opt := sim.Options{Seed: *seed, Reports: *reports, Months: *months, ReportBias: *bias, DriveShare: *driveShare}
	if *driveShare == 0 {
		opt.DriveShare = sim.NoDriveTests
	}
	if *areasPath != "" {
		as, err := data.ReadAreas(ctx, *areasPath, data.AreaOptions{})
		if err != nil {
			return err
		}
		showWarnings(stderr, as.Warnings)
		showErrors(stderr, "areas", *areasPath, as.Errors, len(as.Errors))
		if len(as.Areas) == 0 {
			return fmt.Errorf("%s: no usable areas", *areasPath)
		}
		opt.Areas = as.Areas
		if *communes > 0 {
			if *communes > len(as.Areas) {
				return usageError{fmt.Sprintf("demo: --communes %d: %s has only %d usable areas", *communes, *areasPath, len(as.Areas))}
			}
			if opt.Areas, err = sim.NearestContiguous(as.Areas, *communes); err != nil {
				return err
			}
		}
	}
	start := time.Now()
	w, err := sim.Generate(opt)
	if err != nil {
		return err
	}
	cond := w.Conditions()
	if *areasPath != "" {
		cond.Source, cond.Communes = filepath.Base(*areasPath), *communes
	}
	if err := writeFiles(*outDir, []namedWriter{
		{"areas.geojson", w.WriteAreasGeoJSON},
		{"reports.csv", w.WriteReportsCSV},
		{"teams.csv", w.WriteTeamsCSV},
		{"towers.geojson", w.WriteTowersGeoJSON},
		{"truth.json", w.Truth.WriteJSON},
		{"truth-holes.geojson", w.Truth.HolesGeoJSON},
		{"demo.json", func(out io.Writer) error { return writeJSONIndent(out, cond) }},
	}); err != nil {
		return err
	}
	what := "synthetic province"
	if *areasPath != "" {
		what = "simulation over " + cond.Source
	}
	fmt.Fprintf(stdout, "%s (seed %d): %d areas, %d towers, %d reports (%.1f/km², %.0f/area, %d from drive tests), %d teams → %s (%.1fs)\n",
		what, *seed, len(w.Areas), len(w.Towers), len(w.Reports), cond.ReportsPerKm2, cond.ReportsPerArea, cond.DriveTestReports,
		len(w.Teams), *outDir, time.Since(start).Seconds())
	return nil
}

// writeScale writes a national-scale data set (see sim.Scale): areas,
// reports and teams, no truth.
func writeScale(stdout io.Writer, outDir string, opt sim.ScaleOptions) error {
	start := time.Now()
	w, err := sim.Scale(opt)
	if err != nil {
		return err
	}
	if err := writeFiles(outDir, []namedWriter{
		{"areas.geojson", w.WriteAreasGeoJSON},
		{"reports.csv", w.WriteReportsCSV},
		{"teams.csv", w.WriteTeamsCSV},
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "national-scale grid (seed %d): %d hamlets, %d reports, %d teams → %s (%.1fs)\n",
		opt.Seed, len(w.Areas), len(w.Reports), len(w.Teams), outDir, time.Since(start).Seconds())
	return nil
}

// namedWriter is one output file: its name and what writes it.
type namedWriter struct {
	name  string
	write func(io.Writer) error
}

// writeFiles creates dir if missing and writes each file into it
// atomically.
func writeFiles(dir string, files []namedWriter) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}

// writeJSONIndent writes v as indented JSON, non-ASCII letters as they are.
func writeJSONIndent(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
