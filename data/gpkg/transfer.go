package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gapmap/gapmap/data/transfer"
	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// The store can be copied whole into another store and back.
var _ transfer.Target = (*Store)(nil)

// Dump hands sink everything the file holds, in transfer.Sink's order.
func (s *Store) Dump(ctx context.Context, sink transfer.Sink) error {
	if err := s.dump(ctx, sink); err != nil {
		return fmt.Errorf("gpkg: dump: %w", err)
	}
	return nil
}

func (s *Store) dump(ctx context.Context, sink transfer.Sink) error {
	areas, err := s.Areas(ctx)
	if err != nil {
		return err
	}
	if err := sink.Areas(ctx, areas); err != nil {
		return err
	}
	teams, err := s.Teams(ctx)
	if err != nil {
		return err
	}
	if err := sink.Teams(ctx, teams); err != nil {
		return err
	}
	if err := s.dumpReports(ctx, sink); err != nil {
		return err
	}
	users, err := s.Users(ctx)
	if err != nil {
		return err
	}
	if err := sink.Users(ctx, users); err != nil {
		return err
	}
	tokens, err := collect(ctx, s.rdb, `SELECT `+tokenColumns+` FROM tokens ORDER BY rowid`, scanToken)
	if err != nil {
		return err
	}
	if err := sink.Tokens(ctx, tokens); err != nil {
		return err
	}
	sessions, err := collect(ctx, s.rdb, `SELECT hash, user, csrf, created_at, expires_at FROM sessions ORDER BY hash`,
		func(row interface{ Scan(...any) error }) (geo.Session, error) {
			var ss geo.Session
			var created, expires sql.NullString
			if err := row.Scan(&ss.Hash, &ss.User, &ss.CSRF, &created, &expires); err != nil {
				return ss, err
			}
			var err error
			if ss.CreatedAt, err = parseUTC(created); err == nil {
				ss.ExpiresAt, err = parseUTC(expires)
			}
			return ss, err
		})
	if err != nil {
		return err
	}
	if err := sink.Sessions(ctx, sessions); err != nil {
		return err
	}
	audit, err := collect(ctx, s.rdb, `SELECT id, at, actor, via, action, target, remote, detail FROM audit_log ORDER BY id`,
		func(row interface{ Scan(...any) error }) (geo.AuditEntry, error) {
			var e geo.AuditEntry
			var at sql.NullString
			if err := row.Scan(&e.ID, &at, &e.Actor, &e.Via, &e.Action, &e.Target, &e.Remote, &e.Detail); err != nil {
				return e, err
			}
			var err error
			e.At, err = parseUTC(at)
			return e, err
		})
	if err != nil {
		return err
	}
	if err := sink.Audit(ctx, audit); err != nil {
		return err
	}
	reviews, err := s.Reviews(ctx)
	if err != nil {
		return err
	}
	if err := sink.Reviews(ctx, reviews); err != nil {
		return err
	}
	tasks, err := s.Tasks(ctx)
	if err != nil {
		return err
	}
	if err := sink.Tasks(ctx, tasks); err != nil {
		return err
	}
	holes, err := s.HoleRecords(ctx)
	if err != nil {
		return err
	}
	if err := sink.HoleRecords(ctx, holes); err != nil {
		return err
	}
	frozen, err := collect(ctx, s.rdb, `SELECT m.month, m.frozen_at, coalesce(g.carrier, ''), coalesce(g.id, ''),
  coalesce(g.rank, 0), coalesce(g.state, ''), g.props, g.geom
  FROM frozen_months m LEFT JOIN frozen_gaps g ON g.month = m.month ORDER BY m.month, g.id`,
		func(row interface{ Scan(...any) error }) (transfer.FrozenGap, error) {
			var f transfer.FrozenGap
			var at string
			var props sql.NullString
			var g []byte
			if err := row.Scan(&f.Month, &at, &f.Carrier, &f.ID, &f.Rank, &f.State, &props, &g); err != nil {
				return f, err
			}
			var err error
			if f.FrozenAt, err = parseUTC(sql.NullString{String: at, Valid: true}); err != nil {
				return f, err
			}
			if props.Valid {
				f.Props = []byte(props.String)
			}
			if g != nil {
				og, err := decodeGeom(g)
				if err != nil {
					return f, err
				}
				f.Geometry, _ = og.(orb.MultiPolygon)
			}
			return f, nil
		})
	if err != nil {
		return err
	}
	if err := sink.FrozenGaps(ctx, frozen); err != nil {
		return err
	}
	hooks, err := s.Webhooks(ctx)
	if err != nil {
		return err
	}
	if err := sink.Webhooks(ctx, hooks); err != nil {
		return err
	}
	deliveries, err := s.deliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries ORDER BY id`)
	if err != nil {
		return err
	}
	return sink.Deliveries(ctx, deliveries)
}

// dumpReports hands sink the reports in fid order, transfer.Batch at a
// time.
func (s *Store) dumpReports(ctx context.Context, sink transfer.Sink) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT received_at, request_key, request_hash, `+reportColumns+` FROM reports ORDER BY fid`)
	if err != nil {
		return err
	}
	defer rows.Close()
	batch := make([]transfer.Report, 0, transfer.Batch)
	for rows.Next() {
		var received, key, hash sql.NullString
		r, err := scanReport(rows, &received, &key, &hash)
		if err != nil {
			return err
		}
		tr := transfer.Report{Report: r, Key: key.String, Hash: hash.String}
		if tr.ReceivedAt, err = parseUTC(received); err != nil {
			return fmt.Errorf("report %q: received_at: %w", r.ID, err)
		}
		if batch = append(batch, tr); len(batch) == transfer.Batch {
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

// collect is every row of query, read by scan.
func collect[T any](ctx context.Context, db *sql.DB, query string, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// transferTables are the tables a Load writes, children first (the
// order they are emptied in).
var transferTables = []struct{ table, name string }{
	{"webhook_deliveries", "deliveries"}, {"webhooks", "webhooks"}, {"frozen_gaps", "frozen"}, {"frozen_months", "frozen"},
	{"hole_history", "holes"}, {"hole_tracks", "holes"}, {"hole_registry", "holes"},
	{"report_reviews", "reviews"}, {"tasks", "tasks"}, {"audit_log", "audit"}, {"sessions", "sessions"},
	{"tokens", "tokens"}, {"users", "users"}, {"reports", "reports"}, {"teams", "teams"}, {"areas", "areas"},
}

// Load runs fill with a Sink that writes into the file, in one
// transaction; see transfer.Target. The GeoPackage's bounds are brought
// up to date at the end.
func (s *Store) Load(ctx context.Context, replace bool, fill func(transfer.Sink) error) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		counts := map[string]int{}
		held := false
		for _, t := range transferTables {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+t.table).Scan(&n); err != nil {
				return err
			}
			counts[t.name] += n
			held = held || n > 0
		}
		if held && !replace {
			return transfer.NotEmpty(counts)
		}
		if held {
			for _, t := range transferTables {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.table); err != nil {
					return err
				}
			}
		}
		if err := fill(&sink{tx: tx}); err != nil {
			return err
		}
		for _, t := range []string{"areas", "reports", "teams"} {
			if err := refreshBounds(ctx, tx, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("gpkg: load: %w", err)
	}
	return nil
}

// sink writes a transfer into the transaction of a Load.
type sink struct{ tx *sql.Tx }

// each prepares query and runs it with the args of every row.
func each[T any](ctx context.Context, tx *sql.Tx, query string, rows []T, args func(*T) ([]any, error)) error {
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range rows {
		a, err := args(&rows[i])
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, a...); err != nil {
			return err
		}
	}
	return nil
}

func (k *sink) Areas(ctx context.Context, as []geo.Area) error {
	return each(ctx, k.tx, `INSERT INTO areas (geom, vintage, code, name, parent_code, level, population, households, props)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, as, func(a *geo.Area) ([]any, error) {
		g, err := encodeGeom(a.Geometry)
		if err != nil {
			return nil, fmt.Errorf("area %q: %w", a.Code, err)
		}
		props, err := encodeProps(a.Props)
		if err != nil {
			return nil, fmt.Errorf("area %q: props: %w", a.Code, err)
		}
		return []any{g, a.Vintage, a.Code, a.Name, nullString(a.ParentCode), nullString(a.Level.String()),
			a.Population, a.Households, props}, nil
	})
}

func (k *sink) Teams(ctx context.Context, ts []geo.Team) error {
	return each(ctx, k.tx, `INSERT INTO teams (geom, id, name, area_code, members, households_reached)
  VALUES (?, ?, ?, ?, ?, ?)`, ts, func(t *geo.Team) ([]any, error) {
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
	return each(ctx, k.tx, insertReport, rs, func(r *transfer.Report) ([]any, error) {
		args, err := reportArgs(&r.Report)
		if err != nil {
			return nil, err
		}
		return append(args, timeUTC(r.ReceivedAt), nullString(r.Key), nullString(r.Hash)), nil
	})
}

func (k *sink) Users(ctx context.Context, us []geo.User) error {
	return each(ctx, k.tx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?)`, us, func(u *geo.User) ([]any, error) {
		return []any{u.Name, string(u.Role), strings.Join(u.Scope, ","), u.Carrier.String(), u.PasswordHash, timeUTC(u.CreatedAt)}, nil
	})
}

func (k *sink) Tokens(ctx context.Context, ts []geo.Token) error {
	return each(ctx, k.tx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ts, func(t *geo.Token) ([]any, error) {
		return []any{t.ID, t.User, t.Hash, t.Label, timeUTC(t.CreatedAt), timeUTC(t.LastUsedAt), timeUTC(t.RevokedAt), t.Parent}, nil
	})
}

func (k *sink) Sessions(ctx context.Context, ss []geo.Session) error {
	return each(ctx, k.tx, `INSERT INTO sessions (hash, user, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`, ss,
		func(s *geo.Session) ([]any, error) {
			return []any{s.Hash, s.User, s.CSRF, timeUTC(s.CreatedAt), timeUTC(s.ExpiresAt)}, nil
		})
}

func (k *sink) Audit(ctx context.Context, es []geo.AuditEntry) error {
	return each(ctx, k.tx, `INSERT INTO audit_log (id, at, actor, via, action, target, remote, detail)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, es, func(e *geo.AuditEntry) ([]any, error) {
		return []any{e.ID, timeUTC(e.At), e.Actor, e.Via, e.Action, e.Target, e.Remote, e.Detail}, nil
	})
}

func (k *sink) Reviews(ctx context.Context, rs []geo.Review) error {
	return each(ctx, k.tx, `INSERT INTO report_reviews (report_id, status, reviewer, at, comment) VALUES (?, ?, ?, ?, ?)`, rs,
		func(r *geo.Review) ([]any, error) {
			return []any{r.ReportID, string(r.Status), r.Reviewer, timeUTC(r.At), r.Comment}, nil
		})
}

func (k *sink) Tasks(ctx context.Context, ts []geo.Task) error {
	return each(ctx, k.tx, `INSERT INTO tasks (id, team, team_name, area_code, area_name, place,
  lat, lon, carrier, why, households, score, rank, state, proposed_at, done_at, done_by)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ts, func(t *geo.Task) ([]any, error) {
		return []any{t.ID, t.Team, t.TeamName, t.Area, t.AreaName, t.Place, t.Lat, t.Lon,
			t.Carrier.String(), string(t.Why), t.Households, t.Score, t.Rank, t.State,
			timeUTC(t.ProposedAt), timeUTC(t.DoneAt), nullString(t.DoneBy)}, nil
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
		if _, err := k.tx.ExecContext(ctx, `INSERT OR IGNORE INTO frozen_months (month, frozen_at) VALUES (?, ?)`,
			g.Month, timeUTC(g.FrozenAt)); err != nil {
			return err
		}
		if g.ID == "" {
			continue // a month frozen without holes
		}
		b, err := encodeGeom(g.Geometry)
		if err != nil {
			return err
		}
		if _, err := k.tx.ExecContext(ctx, `INSERT INTO frozen_gaps (geom, month, carrier, id, rank, state, props)
  VALUES (?, ?, ?, ?, ?, ?, ?)`, b, g.Month, g.Carrier, g.ID, g.Rank, g.State, string(g.Props)); err != nil {
			return err
		}
	}
	return nil
}

func (k *sink) Webhooks(ctx context.Context, ws []geo.Webhook) error {
	return each(ctx, k.tx, `INSERT INTO webhooks (id, url, events, carrier, secret, owner, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)`, ws, func(w *geo.Webhook) ([]any, error) {
		ev, err := json.Marshal(w.Events)
		if err != nil {
			return nil, err
		}
		car := ""
		if w.Carrier != geo.CarrierUnknown {
			car = w.Carrier.String()
		}
		return []any{w.ID, w.URL, string(ev), car, w.Secret, w.Owner, timeUTC(w.CreatedAt)}, nil
	})
}

func (k *sink) Deliveries(ctx context.Context, ds []geo.Delivery) error {
	return each(ctx, k.tx, `INSERT INTO webhook_deliveries (`+deliveryColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ds,
		func(d *geo.Delivery) ([]any, error) {
			return []any{d.ID, d.Webhook, d.Event, d.HoleID, d.Body, timeUTC(d.CreatedAt), d.Attempts, d.Status, d.Error,
				timeUTC(d.NextAt), timeUTC(d.DoneAt), d.Delivered}, nil
		})
}
