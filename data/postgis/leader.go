package postgis

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// The store elects one replica for work that runs once.
var _ interface {
	Lead(context.Context, string) (bool, error)
} = (*Store)(nil)

// leader holds the connection whose session-level advisory locks say
// which work this process leads: PostgreSQL releases them when the
// connection ends, so a replica that stops or is cut off hands its work
// to the next one to ask.
type leader struct {
	mu   sync.Mutex
	cfg  *pgx.ConnConfig
	conn *pgx.Conn
	held map[string]bool
}

// Lead reports whether this process leads work, taking the lead when no
// other process holds it (pg_try_advisory_lock on hashtext of "gapmap:"
// and work, over a connection of its own). It never waits for another
// process. Safe for concurrent use.
func (s *Store) Lead(ctx context.Context, work string) (bool, error) {
	l := &s.lead
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil && l.conn.Ping(ctx) != nil {
		l.conn.Close(context.Background())
		l.conn, l.held = nil, nil
	}
	if l.conn == nil {
		c, err := pgx.ConnectConfig(ctx, l.cfg)
		if err != nil {
			return false, fmt.Errorf("postgis: lead %s: %w", work, classify(err))
		}
		l.conn, l.held = c, map[string]bool{}
	}
	if l.held[work] {
		return true, nil
	}
	var ok bool
	if err := l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('gapmap:' || $1))`, work).Scan(&ok); err != nil {
		return false, fmt.Errorf("postgis: lead %s: %w", work, classify(err))
	}
	l.held[work] = ok
	return ok, nil
}

func (l *leader) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		l.conn.Close(context.Background())
		l.conn = nil
	}
}
