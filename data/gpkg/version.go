package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/gapmap/gapmap/geo"
)

// versionConn is the connection Version watches the file over, and what
// it saw last.
//
// SQLite's PRAGMA data_version changes, on one connection, whenever
// another connection commits a write to the file: the store's own writer
// (a connection of its own), another gapmap process, GDAL or QGIS. It
// reads the WAL index header only, so polling it costs microseconds and
// touches no table. It only works while the same connection is kept, so
// Version holds one of its own, outside the read pool, and drops it on
// any error (a new connection's value is not comparable to the old one's,
// so the counters are then read afresh). When data_version has moved,
// Version reads the counters that say what changed: max(fid) of reports
// (append-only) and the per-table counters that migration 5's triggers
// keep in gapmap_changes.
type versionConn struct {
	mu   sync.Mutex
	db   *sql.DB   // one connection, read-only
	conn *sql.Conn // nil until first use and after an error
	seen int64     // data_version when ver was read
	ver  geo.Version
}

// Version returns the store's version: it changes whenever a write that
// adds reports or changes areas, teams, reviews or the hole registry is committed, by this
// Store or any other connection to the file. It costs one PRAGMA when
// nothing was committed since the last call. Safe for concurrent use.
func (s *Store) Version(ctx context.Context) (geo.Version, error) {
	v := &s.ver
	v.mu.Lock()
	defer v.mu.Unlock()
	ver, err := v.read(ctx)
	if err != nil {
		if v.conn != nil {
			v.conn.Close()
			v.conn = nil
		}
		return geo.Version{}, fmt.Errorf("gpkg: version: %w", err)
	}
	return ver, nil
}

func (v *versionConn) read(ctx context.Context) (geo.Version, error) {
	fresh := false
	if v.conn == nil {
		c, err := v.db.Conn(ctx)
		if err != nil {
			return geo.Version{}, err
		}
		v.conn, fresh = c, true
	}
	var dv int64
	if err := v.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&dv); err != nil {
		return geo.Version{}, err
	}
	if !fresh && dv == v.seen {
		return v.ver, nil
	}
	// A commit after the PRAGMA and before this read is counted here and
	// moves data_version again, so the next call reads once more: the
	// result is never older than the file was at the PRAGMA.
	var ver geo.Version
	err := v.conn.QueryRowContext(ctx, `SELECT
  coalesce((SELECT max(fid) FROM reports), 0),
  (SELECT n FROM gapmap_changes WHERE tbl = 'areas'),
  (SELECT n FROM gapmap_changes WHERE tbl = 'teams'),
  (SELECT n FROM gapmap_changes WHERE tbl = 'report_reviews'),
  (SELECT n FROM gapmap_changes WHERE tbl = 'holes')`).Scan(&ver.Reports, &ver.Areas, &ver.Teams, &ver.Reviews, &ver.Holes)
	if err != nil {
		return geo.Version{}, err
	}
	v.seen, v.ver = dv, ver
	return ver, nil
}

func (v *versionConn) close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	var err error
	if v.conn != nil {
		err = v.conn.Close()
		v.conn = nil
	}
	return errors.Join(err, v.db.Close())
}
