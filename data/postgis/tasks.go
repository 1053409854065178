package postgis

import (
	"context"
	"fmt"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The store keeps the measurement tasks as well.
var _ geo.TaskStore = (*Store)(nil)

// tasksLock is the advisory lock key SaveTasks holds, so that replicas
// saving at once take turns.
const tasksLock = 0x6761706d6172

var taskColumns = []string{"id", "team", "team_name", "area_code", "area_name", "place", "lat", "lon",
	"carrier", "why", "households", "score", "rank", "state", "proposed_at", "done_at", "done_by"}

// Tasks returns every measurement task kept (see geo.TaskStore), by ID.
func (s *Store) Tasks(ctx context.Context) ([]geo.Task, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columnList(taskColumns)+` FROM tasks ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgis: tasks: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.Task, error) { return scanTask(r) })
	if err != nil {
		return nil, fmt.Errorf("postgis: tasks: %w", classify(err))
	}
	return out, nil
}

// scanTask reads the taskColumns of one row.
func scanTask(row pgx.Row) (geo.Task, error) {
	var (
		t              geo.Task
		carrier, why   string
		proposed, done pgtype.Timestamptz
		by             pgtype.Text
	)
	if err := row.Scan(&t.ID, &t.Team, &t.TeamName, &t.Area, &t.AreaName, &t.Place, &t.Lat, &t.Lon,
		&carrier, &why, &t.Households, &t.Score, &t.Rank, &t.State, &proposed, &done, &by); err != nil {
		return t, err
	}
	var err error
	if t.Carrier, err = geo.ParseCarrier(carrier); err != nil {
		return t, fmt.Errorf("task %s: carrier: %w", t.ID, err)
	}
	if t.Cell, err = index.ParseCell(t.Place); err != nil {
		return t, fmt.Errorf("task %s: place: %w", t.ID, err)
	}
	t.Why, t.DoneBy = geo.TaskWhy(why), by.String
	t.ProposedAt, t.DoneAt = utc(proposed), utc(done)
	return t, nil
}

// taskRow is the values of taskColumns for t.
func taskRow(t *geo.Task) []any {
	return []any{t.ID, t.Team, t.TeamName, t.Area, t.AreaName, t.Place, t.Lat, t.Lon,
		t.Carrier.String(), string(t.Why), t.Households, t.Score, t.Rank, t.State,
		nullTime(t.ProposedAt), nullTime(t.DoneAt), nullString(t.DoneBy)}
}

// SaveTasks replaces the tasks kept with ts, in one transaction (COPY).
func (s *Store) SaveTasks(ctx context.Context, ts []geo.Task) error {
	rows := make([][]any, len(ts))
	for i := range ts {
		rows[i] = taskRow(&ts[i])
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(tasksLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM tasks`); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"tasks"}, taskColumns, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgis: save tasks: %w", classify(err))
	}
	return nil
}
