package postgis

import (
	"context"
	"errors"
	"fmt"

	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
)

// SaveServeState replaces the kept serving state with st, in one row of
// table serve_state.
func (s *Store) SaveServeState(ctx context.Context, st geo.ServeState) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO serve_state (id, areas_version, teams_version, reports, data, saved_at)
  VALUES (1, $1, $2, $3, $4, now())
  ON CONFLICT (id) DO UPDATE SET areas_version = excluded.areas_version, teams_version = excluded.teams_version,
    reports = excluded.reports, data = excluded.data, saved_at = excluded.saved_at`,
		st.Areas, st.Teams, st.Reports, st.Data)
	if err != nil {
		return fmt.Errorf("postgis: save serve state: %w", classify(err))
	}
	return nil
}

// ServeState returns the kept serving state; ok is false when none is
// kept.
func (s *Store) ServeState(ctx context.Context) (geo.ServeState, bool, error) {
	var st geo.ServeState
	err := s.pool.QueryRow(ctx, `SELECT areas_version, teams_version, reports, data FROM serve_state WHERE id = 1`).
		Scan(&st.Areas, &st.Teams, &st.Reports, &st.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return geo.ServeState{}, false, nil
	}
	if err != nil {
		return geo.ServeState{}, false, fmt.Errorf("postgis: serve state: %w", classify(err))
	}
	return st, true, nil
}
