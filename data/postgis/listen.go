package postgis

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyChannel is the channel the change counters notify (migration 1).
const notifyChannel = "gapmap_changes"

// listener holds one connection of its own that LISTENs on
// notifyChannel and turns each notification into a value on ch
// (capacity 1, so a burst of commits is one wake-up). When the
// connection is lost it reconnects, backing off up to 5 s, and sends on
// ch once it listens again: notifications sent meanwhile are lost, and
// the receiver catches up by reading the Version.
type listener struct {
	ch     chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func startListener(cfg *pgx.ConnConfig) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{ch: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go l.run(ctx, cfg)
	return l
}

func (l *listener) run(ctx context.Context, cfg *pgx.ConnConfig) {
	defer close(l.done)
	backoff := 50 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+notifyChannel); err == nil {
				if !first {
					l.wake()
				}
				first = false
				backoff = 50 * time.Millisecond
				for err == nil {
					_, err = conn.WaitForNotification(ctx)
					if err == nil {
						l.wake()
					}
				}
			}
			conn.Close(context.Background())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (l *listener) wake() {
	select {
	case l.ch <- struct{}{}:
	default:
	}
}

func (l *listener) close() {
	l.cancel()
	<-l.done
}
