package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/gapmap/gapmap/data"
	"github.com/gapmap/gapmap/data/gpkg"
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/service"
)

// runImport loads areas, reports or teams into the store. Each load is one
// transaction: rejected rows are listed and skipped, and if storing fails
// the store is left as it was. Reports go through the service core with
// the rules of an import over HTTP, as an admin.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, logger *slog.Logger) error {
	if len(args) > 0 && isHelp(args[0]) {
		writeHelp(stdout, "import", nil)
		fmt.Fprint(stdout, "\nwhat (gapmap import WHAT --help for its flags):\n  areas     area boundaries: GeoJSON, Shapefile (.shp) or zipped Shapefile (.zip); replaces the areas of the same vintage\n  reports   reports: CSV or GeoJSON; added to those stored\n  teams     teams: CSV or GeoJSON; replaces the teams\n")
		return errHelpShown
	}
	if len(args) == 0 || (args[0] != "areas" && args[0] != "reports" && args[0] != "teams") {
		return usageError{"import: say what to import: gapmap import areas|reports|teams --db FILE INPUT (see gapmap import --help)"}
	}
	kind := args[0]
	fs := newFlagSet("import "+kind, stdout)
	db := fs.String("db", envOr(getenv, "GAPMAP_DB", defaultDB), dbUsage+", created if missing")
	var vintage, codeField, nameField, popField, parentField *string
	if kind == "areas" {
		vintage = fs.String("vintage", "", "boundary-set label, e.g. 2025 (codes are compared only within one vintage)")
		codeField = fs.String("code-field", "code", "property holding the unique area code")
		nameField = fs.String("name-field", "name", "property holding the area name")
		popField = fs.String("population-field", "population", "property holding the population")
		parentField = fs.String("parent-field", "parent_code", "property holding the parent area code")
	}
	// The input file is the one other argument, before, between or after
	// the flags.
	rest, err := parseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usageError{fmt.Sprintf("import %s: one input file, not %d (%q, %q, …)", kind, len(rest), rest[0], rest[1])}
	}
	if len(rest) == 0 {
		return usageError{"import " + kind + ": the input file is required: gapmap import " + kind + " --db FILE INPUT"}
	}
	input := rest[0]
	store, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	switch kind {
	case "areas":
		as, err := data.ReadAreas(ctx, input, data.AreaOptions{
			CodeField: *codeField, NameField: *nameField, PopulationField: *popField,
			ParentField: *parentField, Vintage: *vintage,
		})
		if err != nil {
			return err
		}
		showWarnings(stderr, as.Warnings)
		showErrors(stderr, "areas", input, as.Errors, len(as.Errors))
		if len(as.Areas) == 0 {
			return fmt.Errorf("%s: no usable areas (%d features read, %d rejected)", input, as.Read, len(as.Errors))
		}
		if err := store.ReplaceAreas(ctx, as.Areas[0].Vintage, as.Areas); err != nil {
			return fmt.Errorf("import areas: %w (the store is unchanged)", err)
		}
		fmt.Fprintf(stdout, "areas: %d stored, %d rejected (%.1fs)\n", len(as.Areas), len(as.Errors), time.Since(start).Seconds())
	case "reports":
		f, err := os.Open(input)
		if err != nil {
			return fmt.Errorf("reports: %w", err)
		}
		defer f.Close()
		// The same rules as an import over HTTP, by an admin: see
		// service.ImportReports.
		svc, err := service.New(ctx, store, service.Options{Logger: logger, NoAnalysis: true})
		if err != nil {
			return err
		}
		defer svc.Close()
		// The reading shows its share of the file, the storing its share
		// of the rows read, then the index is built.
		var size int64
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		in := &countingReader{r: f}
		prog := newProgress(stderr, false)
		prog.stage("read reports")
		sctx := gpkg.WithProgress(ctx, func(stored, total int) {
			switch stored {
			case 0:
				prog.done()
				prog.stage("store reports")
			case total:
				prog.done()
				prog.stage("index reports")
				return
			}
			prog.countOf("reports", stored, total, "")
		})
		res, err := svc.ImportReports(sctx, service.CommandLine(getenv("USER")), bufio.NewReaderSize(in, 1<<20),
			service.ImportOptions{Format: ingest.ReportFormat(input), Progress: func(read, _ int) {
				if size > 0 {
					prog.countOf("reports", read, 0, fmt.Sprintf("%.0f%% of %.1f MB", 100*float64(in.n)/float64(size), float64(size)/1e6))
				} else {
					prog.count("reports", read)
				}
			}})
		if err != nil {
			return fmt.Errorf("import reports %s: %w (the store is unchanged)", input, err)
		}
		prog.done()
		showErrors(stderr, "reports", input, res.Errors, res.Rejected)
		fmt.Fprintf(stdout, "reports: %d stored, %d rejected (%.1fs)\n", res.Accepted, res.Rejected, time.Since(start).Seconds())
	case "teams":
		teams, errs, err := data.ReadTeams(ctx, input)
		if err != nil {
			return err
		}
		showErrors(stderr, "teams", input, errs, len(errs))
		if err := store.ReplaceTeams(ctx, teams); err != nil {
			return fmt.Errorf("import teams: %w (the store is unchanged)", err)
		}
		fmt.Fprintf(stdout, "teams: %d stored, %d rejected (%.1fs)\n", len(teams), len(errs), time.Since(start).Seconds())
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
