package postgis

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

var _ geo.ThrottleStore = (*Store)(nil)

// ThrottleCounts returns the sign-in throttle's counts of those of keys
// that have one (migration 2).
func (s *Store) ThrottleCounts(ctx context.Context, keys []string) ([]geo.ThrottleCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, fails, last, mark FROM signin_throttle WHERE key = ANY($1)`, byteKeys(keys))
	if err != nil {
		return nil, fmt.Errorf("postgis: throttle counts: %w", classify(err))
	}
	cs, err := scanThrottle(rows)
	if err != nil {
		return nil, fmt.Errorf("postgis: throttle counts: %w", classify(err))
	}
	return cs, nil
}

// UpdateThrottle calls fn with the counts of keys and stores what it
// left them, in one transaction holding their rows (see
// geo.ThrottleStore): a row is made for each key first, in sorted order
// so that two replicas never wait on each other's rows, and locked.
func (s *Store) UpdateThrottle(ctx context.Context, keys []string, prune time.Time, fn func([]geo.ThrottleCount)) error {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	bs := byteKeys(slices.Compact(sorted))
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if !prune.IsZero() {
			if _, err := tx.Exec(ctx, `DELETE FROM signin_throttle WHERE last < $1`, prune); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO signin_throttle (key, fails, last, mark)
SELECT k, 0, '-infinity', '-infinity' FROM unnest($1::bytea[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING`, bs); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT key, fails, last, mark FROM signin_throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE`, bs)
		if err != nil {
			return err
		}
		have, err := scanThrottle(rows)
		if err != nil {
			return err
		}
		cs := make([]geo.ThrottleCount, len(keys))
		for i, k := range keys {
			cs[i].Key = k
			for _, h := range have {
				if h.Key == k && h.Fails > 0 {
					cs[i] = h
				}
			}
		}
		fn(cs)
		for _, c := range cs {
			if c.Fails <= 0 {
				_, err = tx.Exec(ctx, `DELETE FROM signin_throttle WHERE key = $1`, []byte(c.Key))
			} else {
				_, err = tx.Exec(ctx, `UPDATE signin_throttle SET fails = $2, last = $3, mark = $4 WHERE key = $1`,
					[]byte(c.Key), c.Fails, c.Last, c.Mark)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgis: update throttle: %w", classify(err))
	}
	return nil
}

// byteKeys is keys as the bytea the table keeps them in.
func byteKeys(keys []string) [][]byte {
	bs := make([][]byte, len(keys))
	for i, k := range keys {
		bs[i] = []byte(k)
	}
	return bs
}

func scanThrottle(rows pgx.Rows) ([]geo.ThrottleCount, error) {
	var cs []geo.ThrottleCount
	var key []byte
	var fails int
	var last, mark pgtype.Timestamptz
	_, err := pgx.ForEachRow(rows, []any{&key, &fails, &last, &mark}, func() error {
		if fails > 0 {
			cs = append(cs, geo.ThrottleCount{Key: string(key), Fails: fails, Last: last.Time.UTC(), Mark: mark.Time.UTC()})
		}
		return nil
	})
	return cs, err
}
