package gpkg

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
)

// Tasks returns every measurement task kept (see geo.TaskStore).
func (s *Store) Tasks(ctx context.Context) ([]geo.Task, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, team, team_name, area_code, area_name, place, lat, lon,
  carrier, why, households, score, rank, state, proposed_at, done_at, done_by, hole FROM tasks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("gpkg: tasks: %w", err)
	}
	defer rows.Close()
	var out []geo.Task
	for rows.Next() {
		var t geo.Task
		var carrier, why string
		var proposed, done, by, hole sql.NullString
		if err := rows.Scan(&t.ID, &t.Team, &t.TeamName, &t.Area, &t.AreaName, &t.Place, &t.Lat, &t.Lon,
			&carrier, &why, &t.Households, &t.Score, &t.Rank, &t.State, &proposed, &done, &by, &hole); err != nil {
			return nil, fmt.Errorf("gpkg: tasks: %w", err)
		}
		if t.Carrier, err = geo.ParseCarrier(carrier); err != nil {
			return nil, fmt.Errorf("gpkg: task %s: carrier: %w", t.ID, err)
		}
		if t.Cell, err = index.ParseCell(t.Place); err != nil {
			return nil, fmt.Errorf("gpkg: task %s: place: %w", t.ID, err)
		}
		t.Why, t.DoneBy, t.Hole = geo.TaskWhy(why), by.String, hole.String
		if t.ProposedAt, err = parseUTC(proposed); err != nil {
			return nil, fmt.Errorf("gpkg: task %s: proposed_at: %w", t.ID, err)
		}
		if t.DoneAt, err = parseUTC(done); err != nil {
			return nil, fmt.Errorf("gpkg: task %s: done_at: %w", t.ID, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gpkg: tasks: %w", err)
	}
	return out, nil
}

// SaveTasks replaces the tasks kept with ts, in one transaction.
func (s *Store) SaveTasks(ctx context.Context, ts []geo.Task) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tasks`); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO tasks (id, team, team_name, area_code, area_name, place,
  lat, lon, carrier, why, households, score, rank, state, proposed_at, done_at, done_by, hole)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range ts {
			t := &ts[i]
			var by any
			if t.DoneBy != "" {
				by = t.DoneBy
			}
			if _, err := st.ExecContext(ctx, t.ID, t.Team, t.TeamName, t.Area, t.AreaName, t.Place, t.Lat, t.Lon,
				t.Carrier.String(), string(t.Why), t.Households, t.Score, t.Rank, t.State,
				timeUTC(t.ProposedAt), timeUTC(t.DoneAt), by, nullString(t.Hole)); err != nil {
				return fmt.Errorf("task %s: %w", t.ID, err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
WHERE table_name = 'tasks'`)
		return err
	})
	if err != nil {
		return fmt.Errorf("gpkg: save tasks: %w", err)
	}
	return nil
}
