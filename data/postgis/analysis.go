package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/gapmap/gapmap/data/tables"
	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
)

// analysisLock is the advisory lock key SaveAnalysis holds: replicas
// saving at once take turns, each replacing the whole analysis.
const analysisLock = 0x6761706d6171

var holeColumns = []string{"geom", "id", "carrier", "rank", "priority", "severity", "confidence", "area_km2",
	"population_affected", "households_affected", "reports", "weak_reports", "weak_share", "median_signal_dbm",
	"first_observed", "last_observed", "area_codes", "reporters", "cells", "weak_low", "area_names", "computed_at", "state"}

// SaveAnalysis replaces the stored analysis with a in one transaction:
// the holes and dead zones (table holes, each with its registry state,
// 'open' when it has none), the area
// scores (area_scores, drawn with the areas' boundaries by the view
// scored_areas) and the one row of analysis. NaN and infinite figures are
// stored as NULL. A zero a.ComputedAt is an error matching
// geo.ErrInvalid; two holes with one ID, or two scores with one vintage
// and code, an error matching geo.ErrConflict. On any error the stored
// analysis is left as it was.
func (s *Store) SaveAnalysis(ctx context.Context, a geo.Analysis) error {
	if a.ComputedAt.IsZero() {
		return fmt.Errorf("postgis: save analysis: %w", &geo.FieldError{Field: "computed_at", Reason: "must be set"})
	}
	at := a.ComputedAt.Truncate(time.Microsecond)
	holes := make([][]any, len(a.Holes))
	dead := 0
	ids := make(map[string]bool, len(a.Holes))
	for i := range a.Holes {
		h := &a.Holes[i]
		if ids[h.ID] {
			return fmt.Errorf("postgis: save analysis: hole %q: duplicate id: %w", h.ID, geo.ErrConflict)
		}
		ids[h.ID] = true
		if h.Carrier == geo.CarrierAll {
			dead++
		}
		row, err := holeRow(h, at)
		if err != nil {
			return fmt.Errorf("postgis: save analysis: hole %q: %w", h.ID, err)
		}
		holes[i] = row
	}
	scores := make([][]any, len(a.Areas))
	codes := make(map[[2]string]bool, len(a.Areas))
	for i := range a.Areas {
		sc := &a.Areas[i]
		k := [2]string{sc.Vintage, sc.Code}
		if codes[k] {
			return fmt.Errorf("postgis: save analysis: area score %q: duplicate code in vintage %q: %w", sc.Code, sc.Vintage, geo.ErrConflict)
		}
		codes[k] = true
		scores[i] = tables.ScoreRow(nil, sc, at)
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(analysisLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM holes`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"holes"}, holeColumns, pgx.CopyFromRows(holes)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM area_scores`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"area_scores"}, tables.ScoreColumns, pgx.CopyFromRows(scores)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM analysis`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO analysis (computed_at, reports, holes, dead_zones, areas) VALUES ($1, $2, $3, $4, $5)`,
			at, a.Reports, len(a.Holes)-dead, dead, len(a.Areas))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgis: save analysis: %w", classify(err))
	}
	return nil
}

func holeRow(h *geo.Hole, at time.Time) ([]any, error) {
	g, err := encodeGeom(h.Geometry)
	if err != nil {
		return nil, err
	}
	codes := make([]string, len(h.Areas))
	names := make([]string, len(h.Areas))
	for j, a := range h.Areas {
		codes[j], names[j] = a.Code, a.Name
	}
	cj, err := json.Marshal(codes)
	if err != nil {
		return nil, err
	}
	nj, err := json.Marshal(names)
	if err != nil {
		return nil, err
	}
	return []any{g, h.ID, nullString(h.Carrier.String()), h.Rank, finite(h.Priority), finite(h.Severity),
		finite(h.Confidence), finite(h.AreaKm2), finite(h.Population), finite(h.Households), h.Reports, h.Weak,
		finite(h.WeakShare), finite(h.MedianSignalDBm), nullTime(h.FirstObserved), nullTime(h.LastObserved),
		string(cj), h.Reporters, h.Cells, finite(h.WeakLow), string(nj), at, holeState(h)}, nil
}

// holeState is the state stored for h: its registry state, 'open' for a
// hole that has none (an analysis outside a running service).
func holeState(h *geo.Hole) string {
	if h.Life.State == "" {
		return string(geo.StateOpen)
	}
	return string(h.Life.State)
}

// finite is v, or NULL when v is NaN or infinite: GIS tools read NULL
// as "no value", as in the GeoPackage.
func finite(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}
