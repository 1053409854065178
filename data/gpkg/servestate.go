package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// SaveServeState replaces the kept serving state with st. The state is
// large (a province of 100,000 areas keeps about 180 MB) and the store has
// one writer, which reports wait on: it is written in parts of
// servePart bytes, each in its own transaction, under a new generation
// number (table serve_state_parts), then made the kept state in one short
// transaction that points serve_state at it, after which the parts of
// earlier generations are deleted. A reader sees the old state or the
// new, whole; a save cut short leaves parts that the next save deletes.
func (s *Store) SaveServeState(ctx context.Context, st geo.ServeState) error {
	if err := s.saveServeState(ctx, st); err != nil {
		return fmt.Errorf("gpkg: save serve state: %w", err)
	}
	return nil
}

// servePart is the size of a part of the kept serving state.
const servePart = 4 << 20

func (s *Store) saveServeState(ctx context.Context, st geo.ServeState) error {
	var gen int64
	if err := s.db.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(generation) FROM serve_state), 0),
  coalesce((SELECT max(generation) FROM serve_state_parts), 0)) + 1`).Scan(&gen); err != nil {
		return err
	}
	for part, off := 0, 0; off < len(st.Data) || part == 0; part, off = part+1, off+servePart {
		chunk := st.Data[off:min(off+servePart, len(st.Data))]
		if _, err := s.db.ExecContext(ctx, `INSERT INTO serve_state_parts (generation, part, data) VALUES (?, ?, ?)`,
			gen, part, chunk); err != nil {
			return err
		}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO serve_state (id, areas_version, teams_version, reports, data, saved_at, generation)
  VALUES (1, ?, ?, ?, x'', ?, ?)
  ON CONFLICT (id) DO UPDATE SET areas_version = excluded.areas_version, teams_version = excluded.teams_version,
    reports = excluded.reports, data = excluded.data, saved_at = excluded.saved_at, generation = excluded.generation`,
			st.Areas, st.Teams, st.Reports, time.Now().UTC().Format(time.RFC3339Nano), gen)
		return err
	})
	if err != nil {
		return err
	}
	// The earlier generations' parts, one at a time.
	for {
		res, err := s.db.ExecContext(ctx, `DELETE FROM serve_state_parts WHERE rowid IN
  (SELECT rowid FROM serve_state_parts WHERE generation <> ? LIMIT 4)`, gen)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
	}
}

// ServeState returns the kept serving state; ok is false when none is
// kept.
func (s *Store) ServeState(ctx context.Context) (geo.ServeState, bool, error) {
	var st geo.ServeState
	var ok bool
	// One read transaction, so that the row and its parts are of one
	// save.
	err := readTx(ctx, s.rdb, func(tx *sql.Tx) error {
		var gen sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT areas_version, teams_version, reports, data, generation FROM serve_state WHERE id = 1`).
			Scan(&st.Areas, &st.Teams, &st.Reports, &st.Data, &gen)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil || !gen.Valid {
			ok = err == nil
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT data FROM serve_state_parts WHERE generation = ? ORDER BY part`, gen.Int64)
		if err != nil {
			return err
		}
		defer rows.Close()
		st.Data = st.Data[:0]
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				return err
			}
			st.Data = append(st.Data, b...)
		}
		ok = true
		return rows.Err()
	})
	if err != nil {
		return geo.ServeState{}, false, fmt.Errorf("gpkg: serve state: %w", err)
	}
	if !ok {
		return geo.ServeState{}, false, nil
	}
	return st, true, nil
}

// readTx runs fn in a transaction of db that only reads: its reads see
// one state of the file.
func readTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}
