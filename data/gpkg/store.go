// Package gpkg is gapmap's embedded store: one SQLite file laid out as an
// OGC GeoPackage 1.3, so GDAL and QGIS open it as it is. Geometry is in
// EPSG:4326 (lon, lat). The driver is the pure-Go modernc.org/sqlite.
package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned when a record does not exist; it is geo.ErrNotFound.
var ErrNotFound = geo.ErrNotFound

// Store implements the storage contract the api package works against.
var _ geo.Store = (*Store)(nil)

// File header values (GeoPackage 1.3 §1.1.1.1.1): application_id is "GPKG"
// and user_version is 10300 for version 1.3.0.
const (
	applicationID = 0x47504B47 // 1196444487
	userVersion   = 10300
)

// Store is an open GeoPackage file. Its methods are safe for concurrent use;
// writes are serialised over a single connection, and reads run on a small
// pool of read-only connections beside it (WAL lets them proceed while a
// write commits), so a sign-in check never waits for a report's fsync.
type Store struct {
	db  *sql.DB     // the one writer
	rdb *sql.DB     // readers
	ver versionConn // watches the file for commits (see Version)
	// saving serialises SaveAnalysis; saved is what its last save wrote
	// (see lastSave).
	saving sync.Mutex
	saved  *lastSave
}

// readers is the size of the read pool.
const readers = 4

// Open opens the GeoPackage at path, creating it if needed, and applies any
// migrations it has not seen.
func Open(ctx context.Context, path string) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("gpkg: path %q: must not contain ? or #", path)
	}
	if err := registerFunctions(); err != nil {
		return nil, err
	}
	// A new store is readable by its owner only: it holds password and
	// token hashes. SQLite gives the -wal and -shm files the same mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("gpkg: create %s: %w", path, err)
	}
	// The pragmas run on every new connection. synchronous=FULL makes a
	// commit durable in WAL mode (the WAL is synced on each commit).
	// temp_store=MEMORY keeps the statement journals of writes (each row of
	// a batch whose triggers fill the R-tree needs one) in memory, not in a
	// temporary file; cache_size is 64 MiB, so a batch of a million
	// reports does not spill pages to the WAL before it commits.
	dsn := path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("gpkg: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("gpkg: open %s: %w", path, err)
	}
	// The file is in WAL mode now; readers only read.
	rdb, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("gpkg: open %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers)
	rdb.SetConnMaxLifetime(0)
	rdb.SetConnMaxIdleTime(0)
	s.rdb = rdb
	vdb, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		rdb.Close()
		db.Close()
		return nil, fmt.Errorf("gpkg: open %s: %w", path, err)
	}
	vdb.SetMaxOpenConns(1)
	vdb.SetMaxIdleConns(1)
	vdb.SetConnMaxLifetime(0)
	vdb.SetConnMaxIdleTime(0)
	s.ver.db = vdb
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return errors.Join(s.ver.close(), s.rdb.Close(), s.db.Close()) }

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS gapmap_migrations (
  version INTEGER PRIMARY KEY,
  applied_at TEXT
)`); err != nil {
		return err
	}
	for i, m := range migrations {
		version := i + 1
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM gapmap_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO gapmap_migrations (version, applied_at) VALUES (?, ?)`,
				version, time.Now().UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", version, err)
		}
	}
	var app, uv int64
	if err := s.db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
		return err
	}
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&uv); err != nil {
		return err
	}
	if app != applicationID {
		if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d`, applicationID)); err != nil {
			return err
		}
	}
	if uv != userVersion {
		if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, userVersion)); err != nil {
			return err
		}
	}
	return nil
}

// tx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Empty reports whether the store holds no areas and no reports. It
// reads a row at most, where counting would read every report.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var empty bool
	if err := s.rdb.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM areas) AND NOT EXISTS (SELECT 1 FROM reports)`).Scan(&empty); err != nil {
		return false, fmt.Errorf("gpkg: empty: %w", err)
	}
	return empty, nil
}

// Counts returns the number of rows of each feature table.
func (s *Store) Counts(ctx context.Context) (areas, reports, teams, holes int, err error) {
	err = s.rdb.QueryRowContext(ctx, `SELECT
  (SELECT count(*) FROM areas), (SELECT count(*) FROM reports),
  (SELECT count(*) FROM teams), (SELECT count(*) FROM holes)`).Scan(&areas, &reports, &teams, &holes)
	if err != nil {
		err = fmt.Errorf("gpkg: counts: %w", err)
	}
	return
}

// refreshBounds recomputes table's bounds in gpkg_contents from its rows
// and sets last_change. table is one of our constant table names.
func refreshBounds(ctx context.Context, tx *sql.Tx, table string) error {
	_, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET
  (min_x, max_x, min_y, max_y) = (SELECT min(ST_MinX(geom)), max(ST_MaxX(geom)), min(ST_MinY(geom)), max(ST_MaxY(geom))
    FROM `+table+` WHERE geom NOT NULL AND NOT ST_IsEmpty(geom)),
  last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
WHERE table_name = ?`, table)
	return err
}

// extendBounds grows table's bounds in gpkg_contents to cover b and sets
// last_change.
func extendBounds(ctx context.Context, tx *sql.Tx, table string, b orb.Bound) error {
	_, err := tx.ExecContext(ctx, `UPDATE gpkg_contents SET
  min_x = min(coalesce(min_x, ?1), ?1), max_x = max(coalesce(max_x, ?2), ?2),
  min_y = min(coalesce(min_y, ?3), ?3), max_y = max(coalesce(max_y, ?4), ?4),
  last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
WHERE table_name = ?5`, b.Min[0], b.Max[0], b.Min[1], b.Max[1], table)
	return err
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

var (
	registerOnce sync.Once
	registerErr  error
)

// registerFunctions gives the driver the SQL functions that the
// gpkg_rtree_index triggers call (GeoPackage 1.3 Table 31). They read the
// blob's envelope; NULL in gives NULL out.
func registerFunctions() error {
	registerOnce.Do(func() {
		env := func(i int) func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
			return func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				b, ok := args[0].([]byte)
				if !ok {
					return nil, nil
				}
				e, ok, err := envelope(b)
				if err != nil || !ok {
					return nil, err
				}
				return e[i], nil
			}
		}
		fns := []struct {
			name string
			fn   func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error)
		}{
			{"ST_MinX", env(0)}, {"ST_MaxX", env(1)}, {"ST_MinY", env(2)}, {"ST_MaxY", env(3)},
			{"ST_IsEmpty", func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				b, ok := args[0].([]byte)
				if !ok {
					return nil, nil
				}
				_, ok, err := envelope(b)
				if err != nil {
					return nil, err
				}
				if ok {
					return int64(0), nil
				}
				return int64(1), nil
			}},
		}
		for _, f := range fns {
			err := sqlite.RegisterDeterministicScalarFunction(f.name, 1, f.fn)
			if err != nil && !strings.Contains(err.Error(), "already registered") {
				registerErr = fmt.Errorf("gpkg: register %s: %w", f.name, err)
				return
			}
		}
	})
	return registerErr
}
