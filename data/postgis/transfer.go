package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gapmap/gapmap/data/transfer"
	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/paulmach/orb"
)

// The store can be copied whole into another store and back.
var _ transfer.Target = (*Store)(nil)

// Dump hands sink everything the database holds, in transfer.Sink's
// order, from one snapshot (a repeatable-read, read-only transaction),
// so a copy taken while replicas write is consistent.
func (s *Store) Dump(ctx context.Context, sink transfer.Sink) error {
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return dump(ctx, tx, sink)
	})
	if err != nil {
		return fmt.Errorf("postgis: dump: %w", classify(err))
	}
	return nil
}

func dump(ctx context.Context, tx pgx.Tx, sink transfer.Sink) error {
	areas, err := collect(ctx, tx, `SELECT `+columnList(areaColumns)+` FROM areas ORDER BY fid`, scanArea)
	if err != nil {
		return err
	}
	if err := sink.Areas(ctx, areas); err != nil {
		return err
	}
	teams, err := collect(ctx, tx, `SELECT `+columnList(teamColumns)+` FROM teams ORDER BY fid`, scanTeam)
	if err != nil {
		return err
	}
	if err := sink.Teams(ctx, teams); err != nil {
		return err
	}
	if err := dumpReports(ctx, tx, sink); err != nil {
		return err
	}
	users, err := collect(ctx, tx, `SELECT `+userColumns+` FROM users ORDER BY name COLLATE "C"`, func(r pgx.Row) (geo.User, error) { return scanUser(r) })
	if err != nil {
		return err
	}
	if err := sink.Users(ctx, users); err != nil {
		return err
	}
	tokens, err := collect(ctx, tx, `SELECT `+tokenColumns+` FROM tokens ORDER BY n`, func(r pgx.Row) (geo.Token, error) { return scanToken(r) })
	if err != nil {
		return err
	}
	if err := sink.Tokens(ctx, tokens); err != nil {
		return err
	}
	sessions, err := collect(ctx, tx, `SELECT hash, user_name, csrf, created_at, expires_at FROM sessions ORDER BY hash COLLATE "C"`,
		func(r pgx.Row) (geo.Session, error) {
			var ss geo.Session
			var created, expires pgtype.Timestamptz
			err := r.Scan(&ss.Hash, &ss.User, &ss.CSRF, &created, &expires)
			ss.CreatedAt, ss.ExpiresAt = utc(created), utc(expires)
			return ss, err
		})
	if err != nil {
		return err
	}
	if err := sink.Sessions(ctx, sessions); err != nil {
		return err
	}
	audit, err := collect(ctx, tx, `SELECT id, at, actor, via, action, target, remote, detail FROM audit_log ORDER BY id`,
		func(r pgx.Row) (geo.AuditEntry, error) {
			var e geo.AuditEntry
			var at pgtype.Timestamptz
			err := r.Scan(&e.ID, &at, &e.Actor, &e.Via, &e.Action, &e.Target, &e.Remote, &e.Detail)
			e.At = utc(at)
			return e, err
		})
	if err != nil {
		return err
	}
	if err := sink.Audit(ctx, audit); err != nil {
		return err
	}
	reviews, err := collect(ctx, tx, `SELECT report_id, status, reviewer, at, comment FROM report_reviews ORDER BY report_id COLLATE "C"`,
		func(r pgx.Row) (geo.Review, error) {
			var rv geo.Review
			var at pgtype.Timestamptz
			err := r.Scan(&rv.ReportID, &rv.Status, &rv.Reviewer, &at, &rv.Comment)
			rv.At = utc(at)
			return rv, err
		})
	if err != nil {
		return err
	}
	if err := sink.Reviews(ctx, reviews); err != nil {
		return err
	}
	tasks, err := collect(ctx, tx, `SELECT `+columnList(taskColumns)+` FROM tasks ORDER BY id COLLATE "C"`, scanTask)
	if err != nil {
		return err
	}
	if err := sink.Tasks(ctx, tasks); err != nil {
		return err
	}
	holes, err := holeRecords(ctx, tx)
	if err != nil {
		return err
	}
	if err := sink.HoleRecords(ctx, holes); err != nil {
		return err
	}
	frozen, err := collect(ctx, tx, `SELECT m.month, m.frozen_at, coalesce(g.carrier, ''), coalesce(g.id, ''),
  coalesce(g.rank, 0), coalesce(g.state, ''), g.props, g.geom
  FROM frozen_months m LEFT JOIN frozen_gaps g ON g.month = m.month ORDER BY m.month COLLATE "C", g.id COLLATE "C"`,
		func(r pgx.Row) (transfer.FrozenGap, error) {
			var f transfer.FrozenGap
			var g []byte
			if err := r.Scan(&f.Month, &f.FrozenAt, &f.Carrier, &f.ID, &f.Rank, &f.State, &f.Props, &g); err != nil {
				return f, err
			}
			f.FrozenAt = f.FrozenAt.UTC()
			var err error
			f.Geometry, err = multiPolygon(g)
			return f, err
		})
	if err != nil {
		return err
	}
	if err := sink.FrozenGaps(ctx, frozen); err != nil {
		return err
	}
	hooks, err := collect(ctx, tx, `SELECT id, url, events, carrier, secret, owner, created_at FROM webhooks
  ORDER BY created_at, id COLLATE "C"`, scanWebhook)
	if err != nil {
		return err
	}
	if err := sink.Webhooks(ctx, hooks); err != nil {
		return err
	}
	deliveries, err := collect(ctx, tx, `SELECT `+deliveryColumns+` FROM webhook_deliveries ORDER BY id`, scanDelivery)
	if err != nil {
		return err
	}
	return sink.Deliveries(ctx, deliveries)
}

// dumpReports hands sink the reports in sequence order, transfer.Batch
// at a time.
func dumpReports(ctx context.Context, tx pgx.Tx, sink transfer.Sink) error {
	rows, err := tx.Query(ctx, `SELECT received_at, request_key, request_hash, `+selectReport[len("SELECT "):]+` ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	batch := make([]transfer.Report, 0, transfer.Batch)
	for rows.Next() {
		var (
			received  pgtype.Timestamptz
			key, hash pgtype.Text
		)
		r, err := scanReport(rowAfter{rows, []any{&received, &key, &hash}}, nil)
		if err != nil {
			return err
		}
		batch = append(batch, transfer.Report{Report: r, ReceivedAt: utc(received), Key: key.String, Hash: hash.String})
		if len(batch) == transfer.Batch {
			if err := sink.Reports(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return sink.Reports(ctx, batch)
	}
	return nil
}

// rowAfter is a row whose first columns go to before, the rest to the
// Scan's arguments.
type rowAfter struct {
	row    pgx.Row
	before []any
}

func (r rowAfter) Scan(dest ...any) error { return r.row.Scan(append(r.before, dest...)...) }

// collect is every row of query, read by scan.
func collect[T any](ctx context.Context, tx pgx.Tx, query string, scan func(pgx.Row) (T, error)) ([]T, error) {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}

// transferTables are the tables a Load writes, as transfer names them.
var transferTables = []struct{ table, name string }{
	{"webhook_deliveries", "deliveries"}, {"webhooks", "webhooks"}, {"frozen_gaps", "frozen"}, {"frozen_months", "frozen"},
	{"hole_history", "holes"}, {"hole_tracks", "holes"}, {"hole_registry", "holes"},
	{"report_reviews", "reviews"}, {"tasks", "tasks"}, {"audit_log", "audit"}, {"sessions", "sessions"},
	{"tokens", "tokens"}, {"users", "users"}, {"reports", "reports"}, {"teams", "teams"}, {"areas", "areas"},
}

// Load runs fill with a Sink that writes into the database with COPY, in
// one transaction; see transfer.Target. Reports get sequence numbers
// above every one handed out before, in the order they come.
func (s *Store) Load(ctx context.Context, replace bool, fill func(transfer.Sink) error) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Writers of reports wait for the load; others see it whole.
		if _, err := takeSeq(ctx, tx, 0); err != nil {
			return err
		}
		counts := map[string]int{}
		held := false
		for _, t := range transferTables {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+t.table).Scan(&n); err != nil {
				return err
			}
			counts[t.name] += n
			held = held || n > 0
		}
		if held && !replace {
			return transfer.NotEmpty(counts)
		}
		if held {
			tables := ""
			for i, t := range transferTables {
				if i > 0 {
					tables += ", "
				}
				tables += t.table
			}
			if _, err := tx.Exec(ctx, `TRUNCATE `+tables); err != nil {
				return err
			}
		}
		if err := fill(&sink{tx: tx}); err != nil {
			return err
		}
		// The audit log's and the deliveries' IDs were kept: new ones go
		// after them.
		for _, t := range []string{"audit_log", "webhook_deliveries"} {
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'),
  greatest(1, (SELECT max(id) FROM `+t+`)), (SELECT count(*) > 0 FROM `+t+`))`); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgis: load: %w", classify(err))
	}
	return nil
}

// sink writes a transfer into the transaction of a Load, with COPY.
type sink struct{ tx pgx.Tx }

// copyRows copies rows into table's columns, each row's values from
// values.
func copyRows[T any](ctx context.Context, tx pgx.Tx, table string, columns []string, rows []T, values func(*T) ([]any, error)) error {
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(rows) {
			return nil, nil
		}
		v, err := values(&rows[i])
		i++
		return v, err
	})
	_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	return nil
}

func (k *sink) Areas(ctx context.Context, as []geo.Area) error {
	return copyRows(ctx, k.tx, "areas", areaColumns, as, func(a *geo.Area) ([]any, error) { return areaRow(a, a.Vintage) })
}

func (k *sink) Teams(ctx context.Context, ts []geo.Team) error {
	return copyRows(ctx, k.tx, "teams", teamColumns, ts, func(t *geo.Team) ([]any, error) {
		var g any
		if t.HasLocation {
			b, err := encodeGeom(orb.Point{t.Lon, t.Lat})
			if err != nil {
				return nil, err
			}
			g = b
		}
		return []any{g, t.ID, t.Name, nullString(t.AreaCode), t.Members, t.HouseholdsReached}, nil
	})
}

func (k *sink) Reports(ctx context.Context, rs []transfer.Report) error {
	last, err := takeSeq(ctx, k.tx, len(rs))
	if err != nil {
		return err
	}
	first := last - int64(len(rs)) + 1
	i := int64(0)
	return copyRows(ctx, k.tx, "reports", append([]string{"seq"}, reportColumns...), rs, func(r *transfer.Report) ([]any, error) {
		row, err := reportRow(first+i, &r.Report, r.ReceivedAt, geo.Submission{Key: r.Key, Hash: r.Hash})
		i++
		return row, err
	})
}

func (k *sink) Users(ctx context.Context, us []geo.User) error {
	return copyRows(ctx, k.tx, "users", []string{"name", "role", "scope", "carrier", "password_hash", "created_at"}, us,
		func(u *geo.User) ([]any, error) {
			scope := u.Scope
			if scope == nil {
				scope = []string{}
			}
			return []any{u.Name, string(u.Role), scope, u.Carrier.String(), u.PasswordHash, nullTime(u.CreatedAt)}, nil
		})
}

func (k *sink) Tokens(ctx context.Context, ts []geo.Token) error {
	return copyRows(ctx, k.tx, "tokens", []string{"id", "user_name", "hash", "label", "created_at", "last_used_at", "revoked_at", "parent"}, ts,
		func(t *geo.Token) ([]any, error) {
			return []any{t.ID, t.User, t.Hash, t.Label, nullTime(t.CreatedAt), nullTime(t.LastUsedAt), nullTime(t.RevokedAt), t.Parent}, nil
		})
}

func (k *sink) Sessions(ctx context.Context, ss []geo.Session) error {
	return copyRows(ctx, k.tx, "sessions", []string{"hash", "user_name", "csrf", "created_at", "expires_at"}, ss,
		func(s *geo.Session) ([]any, error) {
			return []any{s.Hash, s.User, s.CSRF, nullTime(s.CreatedAt), nullTime(s.ExpiresAt)}, nil
		})
}

func (k *sink) Audit(ctx context.Context, es []geo.AuditEntry) error {
	return copyRows(ctx, k.tx, "audit_log", []string{"id", "at", "actor", "via", "action", "target", "remote", "detail"}, es,
		func(e *geo.AuditEntry) ([]any, error) {
			at := e.At
			if at.IsZero() {
				at = time.Unix(0, 0)
			}
			return []any{e.ID, at.Truncate(time.Microsecond), e.Actor, e.Via, e.Action, e.Target, e.Remote, e.Detail}, nil
		})
}

func (k *sink) Reviews(ctx context.Context, rs []geo.Review) error {
	return copyRows(ctx, k.tx, "report_reviews", []string{"report_id", "status", "reviewer", "at", "comment"}, rs,
		func(r *geo.Review) ([]any, error) {
			return []any{r.ReportID, string(r.Status), r.Reviewer, nullTime(r.At), r.Comment}, nil
		})
}

func (k *sink) Tasks(ctx context.Context, ts []geo.Task) error {
	return copyRows(ctx, k.tx, "tasks", taskColumns, ts, func(t *geo.Task) ([]any, error) {
		return taskRow(t), nil
	})
}

func (k *sink) HoleRecords(ctx context.Context, rs []geo.HoleRecord) error {
	for i := range rs {
		if err := saveHoleRecord(ctx, k.tx, &rs[i]); err != nil {
			return fmt.Errorf("hole %s: %w", rs[i].ID, err)
		}
	}
	return nil
}

func (k *sink) FrozenGaps(ctx context.Context, gs []transfer.FrozenGap) error {
	for i := range gs {
		g := &gs[i]
		if _, err := k.tx.Exec(ctx, `INSERT INTO frozen_months (month, frozen_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			g.Month, nullTime(g.FrozenAt)); err != nil {
			return err
		}
		if g.ID == "" {
			continue // a month frozen without holes
		}
		b, err := encodeGeom(g.Geometry)
		if err != nil {
			return err
		}
		if _, err := k.tx.Exec(ctx, `INSERT INTO frozen_gaps (geom, month, carrier, id, rank, state, props)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`, b, g.Month, g.Carrier, g.ID, g.Rank, g.State, string(g.Props)); err != nil {
			return err
		}
	}
	return nil
}

func (k *sink) Webhooks(ctx context.Context, ws []geo.Webhook) error {
	return copyRows(ctx, k.tx, "webhooks", []string{"id", "url", "events", "carrier", "secret", "owner", "created_at"}, ws,
		func(w *geo.Webhook) ([]any, error) {
			ev, err := json.Marshal(w.Events)
			if err != nil {
				return nil, err
			}
			car := ""
			if w.Carrier != geo.CarrierUnknown {
				car = w.Carrier.String()
			}
			return []any{w.ID, w.URL, string(ev), car, w.Secret, w.Owner, nullTime(w.CreatedAt)}, nil
		})
}

func (k *sink) Deliveries(ctx context.Context, ds []geo.Delivery) error {
	for _, d := range ds {
		if _, err := k.tx.Exec(ctx, `INSERT INTO webhook_deliveries (`+deliveryColumns+`) OVERRIDING SYSTEM VALUE
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, d.ID, d.Webhook, d.Event, d.HoleID, d.Body,
			nullTime(d.CreatedAt), d.Attempts, d.Status, d.Error, nullTime(d.NextAt), nullTime(d.DoneAt), d.Delivered); err != nil {
			return err
		}
	}
	return nil
}
