package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// SaveServeState replaces the kept serving state with st, in one row of
// table serve_state.
func (s *Store) SaveServeState(ctx context.Context, st geo.ServeState) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO serve_state (id, areas_version, teams_version, reports, data, saved_at)
  VALUES (1, ?, ?, ?, ?, ?)
  ON CONFLICT (id) DO UPDATE SET areas_version = excluded.areas_version, teams_version = excluded.teams_version,
    reports = excluded.reports, data = excluded.data, saved_at = excluded.saved_at`,
			st.Areas, st.Teams, st.Reports, st.Data, time.Now().UTC().Format(time.RFC3339Nano))
		return err
	})
	if err != nil {
		return fmt.Errorf("gpkg: save serve state: %w", err)
	}
	return nil
}

// ServeState returns the kept serving state; ok is false when none is
// kept.
func (s *Store) ServeState(ctx context.Context) (geo.ServeState, bool, error) {
	var st geo.ServeState
	err := s.rdb.QueryRowContext(ctx, `SELECT areas_version, teams_version, reports, data FROM serve_state WHERE id = 1`).
		Scan(&st.Areas, &st.Teams, &st.Reports, &st.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return geo.ServeState{}, false, nil
	}
	if err != nil {
		return geo.ServeState{}, false, fmt.Errorf("gpkg: serve state: %w", err)
	}
	return st, true, nil
}
