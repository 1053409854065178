// Package postgis is gapmap's store over PostgreSQL with PostGIS, for
// deployments of more than one machine: several gapmap replicas share
// one database. It keeps the contracts of package data/gpkg (geo.Store,
// geo.Accounts and the rest the service and the command line use) in
// tables of the same names, with geometries in EPSG:4326 (lon, lat) sent
// as EWKB and GiST-indexed. The driver is pgx.
//
// It imports geo only, never api.
package postgis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The store keeps the contracts the service works against.
var (
	_ geo.Store    = (*Store)(nil)
	_ geo.Accounts = (*Store)(nil)
)

// migrationLock is the advisory lock key held while migrations run
// (any constant; "gapmap" in ASCII).
const migrationLock = 0x6761706d6170

// Store is an open PostGIS database. Its methods are safe for concurrent
// use, by this process and by other processes over the same database.
type Store struct {
	pool   *pgxpool.Pool
	name   string // the database, for messages
	listen *listener
	lead   leader
}

// IsDSN reports whether s names a PostgreSQL database (a postgres:// or
// postgresql:// URL) rather than a file.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns dsn with its password, if any, replaced by "xxxxx", for
// messages and logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Open connects to the database dsn names (a postgres:// URL, with
// libpq's parameters), creates the postgis extension when it is missing
// and the role may (otherwise the error says what a superuser must run),
// and applies the migrations the database has not seen.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgis: %s: %w", Redact(dsn), err)
	}
	name := cfg.ConnConfig.Database
	// A commit is durable when it returns (the contract), whatever the
	// server's default; a DSN may still say otherwise.
	if _, set := cfg.ConnConfig.RuntimeParams["synchronous_commit"]; !set {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgis: connect to %s: %w", Redact(dsn), classify(err))
	}
	geomOID, err := setUp(ctx, conn, name)
	conn.Close(context.Background())
	if err != nil {
		return nil, fmt.Errorf("postgis: %s: %w", name, err)
	}
	// A connection idle for a while is checked before use, so one the
	// server dropped (a restart, a failover) is replaced rather than
	// failing a request; busy connections are not.
	cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool { return p.IdleDuration > 100*time.Millisecond }
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		registerGeometry(c.TypeMap(), geomOID)
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: %s: %w", name, err)
	}
	s := &Store{pool: pool, name: name}
	s.listen = startListener(cfg.ConnConfig.Copy())
	s.lead.cfg = cfg.ConnConfig.Copy()
	return s, nil
}

// Close closes the store's connections.
func (s *Store) Close() error {
	s.listen.close()
	s.lead.close()
	s.pool.Close()
	return nil
}

// setUp makes sure the postgis extension is there, applies the
// migrations and returns the OID of type geometry.
func setUp(ctx context.Context, conn *pgx.Conn, db string) (uint32, error) {
	if err := ensurePostGIS(ctx, conn, db); err != nil {
		return 0, err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return 0, classify(err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	if err := migrate(ctx, conn); err != nil {
		return 0, err
	}
	var oid uint32
	if err := conn.QueryRow(ctx, `SELECT 'geometry'::regtype::oid`).Scan(&oid); err != nil {
		return 0, classify(err)
	}
	return oid, nil
}

// ensurePostGIS creates the postgis extension when the database lacks
// it. A role that may not (creating it needs a superuser, or the
// database's owner once a superuser has marked it trusted) gets an error
// naming the statement a superuser must run.
func ensurePostGIS(ctx context.Context, conn *pgx.Conn, db string) error {
	var have bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'postgis')`).Scan(&have); err != nil {
		return classify(err)
	}
	if have {
		return nil
	}
	_, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`)
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "42501": // insufficient_privilege
			return fmt.Errorf("the database has no postgis extension and this role may not create it: "+
				"as a superuser, run  CREATE EXTENSION postgis;  in database %q (for example: sudo -u postgres psql -d %s -c 'CREATE EXTENSION postgis;'), then start gapmap again (%s)",
				db, db, pe.Message)
		case "58P01", "0A000", "22023": // the extension's files are not installed
			return fmt.Errorf("PostGIS is not installed on the database server: install it (Debian: apt-get install postgresql-NN-postgis-3 for the server's version NN), "+
				"then as a superuser run  CREATE EXTENSION postgis;  in database %q (%s)", db, pe.Message)
		}
	}
	return fmt.Errorf("create extension postgis: %w", classify(err))
}

func migrate(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS gapmap_migrations (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL
)`); err != nil {
		return classify(err)
	}
	for i, m := range migrations {
		version := i + 1
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM gapmap_migrations WHERE version = $1)`, version).Scan(&done); err != nil {
				return err
			}
			if done {
				return nil
			}
			if _, err := tx.Exec(ctx, m); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO gapmap_migrations (version, applied_at) VALUES ($1, now())`, version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", version, classify(err))
		}
	}
	return nil
}

// registerGeometry makes pgx send and receive values of type geometry
// (oid) as []byte in PostGIS's binary format, which is EWKB.
func registerGeometry(m *pgtype.Map, oid uint32) {
	m.RegisterType(&pgtype.Type{Name: "geometry", OID: oid, Codec: pgtype.ByteaCodec{}})
}

// tx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// Empty reports whether the store holds no areas and no reports. It
// reads a row at most, where counting would read every report.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var empty bool
	if err := s.pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM areas) AND NOT EXISTS (SELECT 1 FROM reports)`).Scan(&empty); err != nil {
		return false, fmt.Errorf("postgis: empty: %w", classify(err))
	}
	return empty, nil
}

// Counts returns the number of rows of each feature table.
func (s *Store) Counts(ctx context.Context) (areas, reports, teams, holes int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT
  (SELECT count(*) FROM areas), (SELECT count(*) FROM reports),
  (SELECT count(*) FROM teams), (SELECT count(*) FROM holes)`).Scan(&areas, &reports, &teams, &holes)
	if err != nil {
		err = fmt.Errorf("postgis: counts: %w", classify(err))
	}
	return
}

// Version returns the store's version from the change counters (see
// migration 1): one query of one small table.
func (s *Store) Version(ctx context.Context) (geo.Version, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, n FROM gapmap_counters`)
	if err != nil {
		return geo.Version{}, fmt.Errorf("postgis: version: %w", classify(err))
	}
	var v geo.Version
	var name string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&name, &n}, func() error {
		switch name {
		case "reports":
			v.Reports = n
		case "areas":
			v.Areas = n
		case "teams":
			v.Teams = n
		case "report_reviews":
			v.Reviews = n
		case "holes":
			v.Holes = n
		}
		return nil
	})
	if err != nil {
		return geo.Version{}, fmt.Errorf("postgis: version: %w", classify(err))
	}
	return v, nil
}

// Changed returns a channel that receives a value soon after another
// connection commits a change that moves the Version (PostgreSQL
// LISTEN/NOTIFY), and after the store reconnected to a server it had
// lost, when notifications may have been missed. It is a hint to call
// Version now rather than at the next poll; a missed one costs only that
// wait.
func (s *Store) Changed() <-chan struct{} { return s.listen.ch }

// unavailableError is a failure to reach the database: the server is
// down, restarting or unreachable. It matches geo.ErrUnavailable.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string        { return "database unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == geo.ErrUnavailable }

// classify marks err as geo.ErrUnavailable when it says the database
// cannot be reached now, so callers answer "try again" rather than fail.
func classify(err error) error {
	if err == nil || errors.Is(err, geo.ErrUnavailable) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01–57P03: the server is
		// shutting down, crashed or is starting; 53300: too many
		// connections.
		if strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300" {
			return &unavailableError{err}
		}
		return err
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return &unavailableError{err}
	}
	// A connection lost mid-query surfaces as an I/O error of pgconn.
	msg := err.Error()
	for _, s := range []string{"conn closed", "connection reset", "broken pipe", "unexpected EOF", "connection refused"} {
		if strings.Contains(msg, s) {
			return &unavailableError{err}
		}
	}
	return err
}

// pgCode returns the SQLSTATE of err, "" when it is not a server error.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// Codes of the errors the store turns into the contract's.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// nullTime is t truncated to the microsecond (PostgreSQL's precision),
// or NULL when t is zero.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Truncate(time.Microsecond)
}

// utc is a timestamptz read back: in UTC, the zero time for NULL.
func utc(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullString is NULL for "" and s otherwise.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
