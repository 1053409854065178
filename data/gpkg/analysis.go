package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gapmap/gapmap/data/tables"
	"github.com/gapmap/gapmap/geo"
)

// SaveAnalysis replaces the stored analysis with a in one transaction: the
// holes and dead zones (table holes, each with its registry state, 'open'
// when it has none), the area
// scores (table area_scores, drawn with the areas' boundaries by the view
// scored_areas) and the one row of table analysis. NaN and infinite
// figures, such as the median signal of an area without signal readings,
// are stored as NULL; times of computation as GeoPackage DATETIME (UTC,
// milliseconds). A zero a.ComputedAt is an error matching geo.ErrInvalid;
// two holes with one ID, or two scores with one vintage and code, are an
// error matching geo.ErrConflict. On any error the stored analysis is left
// as it was.
func (s *Store) SaveAnalysis(ctx context.Context, a geo.Analysis) error {
	if a.ComputedAt.IsZero() {
		return fmt.Errorf("gpkg: save analysis: %w", &geo.FieldError{Field: "computed_at", Reason: "must be set"})
	}
	at := dateTime(a.ComputedAt)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		dead := 0
		for i := range a.Holes {
			if a.Holes[i].Carrier == geo.CarrierAll {
				dead++
			}
		}
		if err := saveHoles(ctx, tx, a.Holes, at); err != nil {
			return err
		}
		if err := saveScores(ctx, tx, a.Areas, at); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM analysis`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO analysis (computed_at, reports, holes, dead_zones, areas)
  VALUES (?, ?, ?, ?, ?)`, at, a.Reports, len(a.Holes)-dead, dead, len(a.Areas)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET
  last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
WHERE table_name IN ('area_scores', 'analysis')`); err != nil {
			return err
		}
		// The view's geometries are the areas', so are its bounds.
		_, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET
  (min_x, max_x, min_y, max_y) = (SELECT min_x, max_x, min_y, max_y FROM gpkg_contents WHERE table_name = 'areas'),
  last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
WHERE table_name = 'scored_areas'`)
		return err
	})
	if err != nil {
		return fmt.Errorf("gpkg: save analysis: %w", err)
	}
	return nil
}

// saveHoles replaces all rows of holes with hs. area_codes and area_names
// hold the codes and names of the areas a hole touches as JSON arrays.
func saveHoles(ctx context.Context, tx *sql.Tx, hs []geo.Hole, at string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM holes`); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO holes
  (geom, id, carrier, rank, priority, severity, confidence, area_km2, population_affected,
   households_affected, reports, weak_reports, weak_share, median_signal_dbm,
   first_observed, last_observed, area_codes, reporters, cells, weak_low, area_names, computed_at, state)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range hs {
		h := &hs[i]
		g, err := encodeGeom(h.Geometry)
		if err != nil {
			return fmt.Errorf("hole %q: %w", h.ID, err)
		}
		codes := make([]string, len(h.Areas))
		names := make([]string, len(h.Areas))
		for j, a := range h.Areas {
			codes[j], names[j] = a.Code, a.Name
		}
		cj, err := json.Marshal(codes)
		if err != nil {
			return err
		}
		nj, err := json.Marshal(names)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, g, h.ID, nullString(h.Carrier.String()), h.Rank,
			finite(h.Priority), finite(h.Severity), finite(h.Confidence), finite(h.AreaKm2),
			finite(h.Population), finite(h.Households), h.Reports, h.Weak, finite(h.WeakShare),
			finite(h.MedianSignalDBm), timeText(h.FirstObserved), timeText(h.LastObserved), string(cj),
			h.Reporters, h.Cells, finite(h.WeakLow), string(nj), at, holeState(h)); err != nil {
			if isUnique(err) {
				return fmt.Errorf("hole %q: duplicate id: %w", h.ID, geo.ErrConflict)
			}
			return fmt.Errorf("hole %q: %w", h.ID, err)
		}
	}
	return refreshBounds(ctx, tx, "holes")
}

// holeState is the state stored for h: its registry state, 'open' for a
// hole that has none (an analysis outside a running service).
func holeState(h *geo.Hole) string {
	if h.Life.State == "" {
		return string(geo.StateOpen)
	}
	return string(h.Life.State)
}

// saveScores replaces all rows of area_scores with scores.
func saveScores(ctx context.Context, tx *sql.Tx, scores []geo.AreaScore, at string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM area_scores`); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO area_scores (`+strings.Join(tables.ScoreColumns, ", ")+
		`) VALUES (?`+strings.Repeat(", ?", len(tables.ScoreColumns)-1)+`)`)
	if err != nil {
		return err
	}
	defer st.Close()
	row := make([]any, 0, len(tables.ScoreColumns))
	for i := range scores {
		sc := &scores[i]
		row = tables.ScoreRow(row[:0], sc, at)
		if _, err := st.ExecContext(ctx, row...); err != nil {
			if isUnique(err) {
				return fmt.Errorf("area score %q: duplicate code in vintage %q: %w", sc.Code, sc.Vintage, geo.ErrConflict)
			}
			return fmt.Errorf("area score %q: %w", sc.Code, err)
		}
	}
	return nil
}

// finite is v, or NULL when v is NaN or infinite (SQLite has no NaN).
func finite(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// timeText is t in RFC 3339 with its offset, or NULL when t is zero.
func timeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.RFC3339Nano)
}

// dateTime is t as a GeoPackage DATETIME: ISO 8601 in UTC with
// milliseconds (GeoPackage 1.3 §1.1.1.1.3).
func dateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
