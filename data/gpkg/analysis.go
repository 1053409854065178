package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// ReplaceHoles replaces all holes with hs in one transaction. A NaN median
// signal and zero observation times are stored as NULL; area_codes holds
// the codes of the areas a hole touches as a JSON array.
func (s *Store) ReplaceHoles(ctx context.Context, hs []geo.Hole) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM holes`); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO holes
  (geom, id, carrier, rank, priority, severity, confidence, area_km2, population_affected,
   households_affected, reports, weak_reports, weak_share, median_signal_dbm,
   first_observed, last_observed, area_codes)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
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
			for j, a := range h.Areas {
				codes[j] = a.Code
			}
			cj, err := json.Marshal(codes)
			if err != nil {
				return err
			}
			var median any
			if !math.IsNaN(h.MedianSignalDBm) && !math.IsInf(h.MedianSignalDBm, 0) {
				median = h.MedianSignalDBm
			}
			if _, err := st.ExecContext(ctx, g, h.ID, nullString(h.Carrier.String()), h.Rank,
				finite(h.Priority), finite(h.Severity), finite(h.Confidence), finite(h.AreaKm2),
				finite(h.Population), finite(h.Households), h.Reports, h.Weak, finite(h.WeakShare),
				median, timeText(h.FirstObserved), timeText(h.LastObserved), string(cj)); err != nil {
				if isUnique(err) {
					return fmt.Errorf("hole %q: duplicate id: %w", h.ID, geo.ErrConflict)
				}
				return fmt.Errorf("hole %q: %w", h.ID, err)
			}
		}
		return refreshBounds(ctx, tx, "holes")
	})
	if err != nil {
		return fmt.Errorf("gpkg: replace holes: %w", err)
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
