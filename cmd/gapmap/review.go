package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
)

// runReview records a verdict on a stored report, as a reviewer does
// over HTTP (PUT /api/v1/reports/{id}/review): a rejected report leaves
// the analysis, of a running server too.
func runReview(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, logger *slog.Logger) error {
	fs := newFlagSet("review", stdout)
	db := fs.String("db", envOr(getenv, "GAPMAP_DB", defaultDB), dbUsage)
	id := fs.String("id", "", "the report's ID")
	status := fs.String("status", "", "confirmed or rejected")
	comment := fs.String("comment", "", "why (optional)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return usageError{"review: --id is required (see gapmap review --help)"}
	}
	if err := storeMustExist("review", *db); err != nil {
		return err
	}
	svc, closeStore, err := openService(ctx, *db, logger)
	if err != nil {
		return err
	}
	defer closeStore()
	rv, err := svc.Review(ctx, service.CommandLine(getenv("USER")), *id, geo.ReviewStatus(*status), *comment)
	if err != nil {
		if errors.Is(err, geo.ErrInvalid) {
			return usageError{"review: " + err.Error()}
		}
		return fmt.Errorf("review: %w", err)
	}
	fmt.Fprintf(stdout, "report %s: %s\n", rv.ReportID, rv.Status)
	return nil
}
