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
	"github.com/gapmap/gapmap/geo/ingest"
	"github.com/gapmap/gapmap/geo/service"
)

// runImport loads areas, reports or teams into the store. Each load is one
// transaction: rejected rows are listed and skipped, and if storing fails
// the store is left as it was. Reports go through the service core with
// the rules of an import over HTTP, as an admin.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, logger *slog.Logger) error {
	if len(args) == 0 || (args[0] != "areas" && args[0] != "reports" && args[0] != "teams") {
		return usageError{"import: say what to import: gapmap import areas|reports|teams --db FILE INPUT"}
	}
	kind := args[0]
	fs := newFlagSet("import "+kind, stderr)
	db := fs.String("db", envOr(getenv, "GAPMAP_DB", defaultDB), "GeoPackage store (env GAPMAP_DB)")
	vintage := fs.String("vintage", "", "areas: boundary-set label, e.g. 2025")
	codeField := fs.String("code-field", "code", "areas: property holding the unique area code")
	nameField := fs.String("name-field", "name", "areas: property holding the area name")
	popField := fs.String("population-field", "population", "areas: property holding the population")
	parentField := fs.String("parent-field", "parent_code", "areas: property holding the parent area code")
	// The input file is the one positional argument, before or after the flags.
	rest := args[1:]
	var input string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		input, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return usageError{err.Error()}
	}
	if input == "" && fs.NArg() == 1 {
		input = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("import: unexpected argument %q", fs.Arg(0))}
	}
	if input == "" {
		return usageError{"import " + kind + ": the input file is required"}
	}
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
		prog := newProgress(stderr, false)
		prog.stage("read reports")
		res, err := svc.ImportReports(ctx, service.CommandLine(getenv("USER")), bufio.NewReaderSize(f, 1<<20),
			service.ImportOptions{Format: ingest.ReportFormat(input), Progress: func(read, _ int) { prog.count("reports", read) }})
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
