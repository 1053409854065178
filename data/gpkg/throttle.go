package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
)

var _ geo.ThrottleStore = (*Store)(nil)

// ThrottleCounts returns the sign-in throttle's counts of those of keys
// that have one (migration 9).
func (s *Store) ThrottleCounts(ctx context.Context, keys []string) ([]geo.ThrottleCount, error) {
	cs, err := throttleCounts(ctx, s.rdb, keys)
	if err != nil {
		return nil, fmt.Errorf("gpkg: throttle counts: %w", err)
	}
	return cs, nil
}

// UpdateThrottle calls fn with the counts of keys and stores what it
// left them, in one transaction over the store's writer (see
// geo.ThrottleStore).
func (s *Store) UpdateThrottle(ctx context.Context, keys []string, prune time.Time, fn func([]geo.ThrottleCount)) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if !prune.IsZero() {
			if _, err := tx.ExecContext(ctx, `DELETE FROM signin_throttle WHERE last < ?`, timeUTC(prune)); err != nil {
				return err
			}
		}
		have, err := throttleCounts(ctx, tx, keys)
		if err != nil {
			return err
		}
		cs := make([]geo.ThrottleCount, len(keys))
		for i, k := range keys {
			cs[i].Key = k
			for _, h := range have {
				if h.Key == k {
					cs[i] = h
				}
			}
		}
		fn(cs)
		for _, c := range cs {
			if c.Fails <= 0 {
				_, err = tx.ExecContext(ctx, `DELETE FROM signin_throttle WHERE key = ?`, c.Key)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO signin_throttle (key, fails, last, mark) VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET fails = excluded.fails, last = excluded.last, mark = excluded.mark`,
					c.Key, c.Fails, timeUTC(c.Last), timeUTC(c.Mark))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("gpkg: update throttle: %w", err)
	}
	return nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func throttleCounts(ctx context.Context, q queryer, keys []string) ([]geo.ThrottleCount, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := q.QueryContext(ctx, `SELECT key, fails, last, mark FROM signin_throttle WHERE key IN (?`+
		strings.Repeat(", ?", len(keys)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []geo.ThrottleCount
	for rows.Next() {
		var c geo.ThrottleCount
		var last, mark sql.NullString
		if err := rows.Scan(&c.Key, &c.Fails, &last, &mark); err != nil {
			return nil, err
		}
		if c.Last, err = parseUTC(last); err != nil {
			return nil, err
		}
		if c.Mark, err = parseUTC(mark); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}
