package gpkg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

const reportColumns = `geom, id, observed_at, carrier, tech, signal_dbm, download_mbps,
  upload_mbps, no_service, source, reporter, note, submitter, client_id`

const insertReport = `INSERT INTO reports (` + reportColumns + `, received_at, request_key, request_hash)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// reportColumnsN is the number of values of insertReport.
const reportColumnsN = 17

// reportRowsBatch is how many rows one INSERT of AddReports carries.
const reportRowsBatch = 64

// insertReports is insertReport for n rows.
func insertReports(n int) string {
	one := "(?" + strings.Repeat(", ?", reportColumnsN-1) + ")"
	return `INSERT INTO reports (` + reportColumns + `, received_at, request_key, request_hash)
  VALUES ` + one + strings.Repeat(", "+one, n-1)
}

// duplicateReport is the conflict error of a statement that inserted n
// reports of args and failed on a unique ID: it names the first ID that
// is stored already or given twice.
func duplicateReport(ctx context.Context, tx *sql.Tx, args []any, n int) error {
	seen := make(map[string]bool, n)
	for k := range n {
		id := args[k*reportColumnsN+1].(string)
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM reports WHERE id = ?`, id).Scan(&one)
		if seen[id] || err == nil {
			return fmt.Errorf("report %q: duplicate id: %w", id, geo.ErrConflict)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		seen[id] = true
	}
	return fmt.Errorf("reports %q…: duplicate id: %w", args[1], geo.ErrConflict)
}

// AddReports stores rs and the audit entry in one transaction and returns
// how many it added. A report without an ID gets a generated one ("r-"
// and 16 hex digits). An ID already stored, or given twice, is a
// conflict (geo.ErrConflict) and nothing is added. An entry with an
// empty Action is not written. Under a context of WithProgress, it
// tells how far it is.
func (s *Store) AddReports(ctx context.Context, rs []geo.Report, audit geo.AuditEntry) (added int, err error) {
	if len(rs) == 0 {
		return 0, nil
	}
	received := time.Now().UTC().Format(time.RFC3339Nano)
	err = s.tx(ctx, func(tx *sql.Tx) error {
		// A large batch fills the R-tree once, after its rows, in the
		// spatial order of the points, rather than through the insert
		// trigger row by row (see bulkRTree).
		var bulk *bulkRTree
		if len(rs) >= bulkRTreeMin {
			if bulk, err = startBulkRTree(ctx, tx, "reports", len(rs)); err != nil {
				return err
			}
		}
		// Many rows a statement: one statement's work (its cursors, the
		// AUTOINCREMENT counter, the driver's call) is shared by them.
		var full *sql.Stmt
		if len(rs) >= reportRowsBatch {
			if full, err = tx.PrepareContext(ctx, insertReports(reportRowsBatch)); err != nil {
				return err
			}
			defer full.Close()
		}
		progress := progressOf(ctx)
		args := make([]any, 0, reportRowsBatch*reportColumnsN)
		var b orb.Bound
		for i := 0; i < len(rs); i += reportRowsBatch {
			if i%10_000 < reportRowsBatch {
				progress(i, len(rs))
			}
			chunk := rs[i:min(i+reportRowsBatch, len(rs))]
			args = args[:0]
			for k := range chunk {
				r := &chunk[k]
				if r.ID == "" {
					id, err := newID()
					if err != nil {
						return err
					}
					// rs is the caller's: the ID is set on a copy.
					c := *r
					c.ID = id
					r = &c
				}
				a, err := reportArgs(r)
				if err != nil {
					return err
				}
				args = append(append(args, a...), received, nil, nil)
				p := orb.Point{r.Lon, r.Lat}
				if i+k == 0 {
					b = p.Bound()
				} else {
					b = b.Extend(p)
				}
			}
			var res sql.Result
			if len(chunk) == reportRowsBatch {
				res, err = full.ExecContext(ctx, args...)
			} else {
				res, err = tx.ExecContext(ctx, insertReports(len(chunk)), args...)
			}
			if err != nil {
				if isUnique(err) {
					return duplicateReport(ctx, tx, args, len(chunk))
				}
				return fmt.Errorf("reports %q…: %w", args[1], err)
			}
			if bulk != nil {
				// The rows of one statement take consecutive fids.
				last, err := res.LastInsertId()
				if err != nil {
					return err
				}
				for k := range chunk {
					bulk.add(last-int64(len(chunk)-1-k), orb.Point{chunk[k].Lon, chunk[k].Lat})
				}
			}
		}
		progress(len(rs), len(rs))
		if bulk != nil {
			if err := bulk.finish(ctx, tx); err != nil {
				return err
			}
		}
		if err := extendBounds(ctx, tx, "reports", b); err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, fmt.Errorf("gpkg: add reports: %w", err)
	}
	return len(rs), nil
}

// AddReport stores r, and sub.Audit in the same transaction, and has
// committed both durably when it returns. A report without an ID gets a
// generated one, and an audit entry without a Target names it. When
// sub.Key is not empty and a report of the same Submitter was already
// stored with it, AddReport stores nothing and returns that report with
// created false, or an error matching geo.ErrMismatch when both have a
// Hash and they differ; concurrent calls with the same submitter and key
// store one row. An ID already stored under another key is a conflict
// (geo.ErrConflict).
func (s *Store) AddReport(ctx context.Context, r geo.Report, sub geo.Submission) (stored geo.Report, created bool, err error) {
	if r.ID == "" {
		if r.ID, err = newID(); err != nil {
			return geo.Report{}, false, fmt.Errorf("gpkg: add report: %w", err)
		}
	}
	args, err := reportArgs(&r)
	if err != nil {
		return geo.Report{}, false, fmt.Errorf("gpkg: add report %q: %w", r.ID, err)
	}
	args = append(args, time.Now().UTC().Format(time.RFC3339Nano), nullString(sub.Key), nullString(sub.Hash))
	audit := sub.Audit
	if audit.Target == "" {
		audit.Target = r.ID
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		q := insertReport
		if sub.Key != "" {
			q += ` ON CONFLICT (submitter, request_key) WHERE request_key IS NOT NULL DO NOTHING`
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			if isUnique(err) {
				return fmt.Errorf("duplicate id: %w", geo.ErrConflict)
			}
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var hash sql.NullString
			row := tx.QueryRowContext(ctx, `SELECT request_hash, `+reportColumns+` FROM reports
  WHERE submitter = ? AND request_key = ?`, r.Submitter, sub.Key)
			if stored, err = scanReport(row, &hash); err != nil {
				return err
			}
			if sub.Hash != "" && hash.Valid && hash.String != sub.Hash {
				return fmt.Errorf("idempotency key used with another report: %w", geo.ErrMismatch)
			}
			return nil
		}
		created = true
		stored = r
		p := orb.Point{r.Lon, r.Lat}
		if err := extendBounds(ctx, tx, "reports", p.Bound()); err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return geo.Report{}, false, fmt.Errorf("gpkg: add report %q: %w", r.ID, err)
	}
	return stored, created, nil
}

// Report returns the report with the given ID, or ErrNotFound.
func (s *Store) Report(ctx context.Context, id string) (geo.Report, error) {
	row := s.rdb.QueryRowContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE id = ?`, id)
	r, err := scanReport(row)
	if errors.Is(err, sql.ErrNoRows) {
		return geo.Report{}, fmt.Errorf("gpkg: report %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return geo.Report{}, fmt.Errorf("gpkg: report %q: %w", id, err)
	}
	return r, nil
}

// EachReport calls fn with each report in insertion (fid) order, stopping
// at fn's first error, which it returns. The report is reused between
// calls. fn must not call the Store: the rows hold one of its read
// connections.
func (s *Store) EachReport(ctx context.Context, fn func(*geo.Report) error) error {
	return s.EachReportSince(ctx, 0, func(_ int64, r *geo.Report) error { return fn(r) })
}

// EachReportSince calls fn with each report whose sequence number (its
// fid) is above after, in that order, with the number, stopping at fn's
// first error, which it returns. The report is reused between calls, and
// fn must not call the Store. fids only grow: reports are never deleted,
// and AUTOINCREMENT never reuses one, so a report committed later always
// has a higher number than every report a reader has seen.
func (s *Store) EachReportSince(ctx context.Context, after int64, fn func(seq int64, r *geo.Report) error) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT fid, `+reportColumns+` FROM reports WHERE fid > ? ORDER BY fid`, after)
	if err != nil {
		return fmt.Errorf("gpkg: reports: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		r, err := scanReport(rows, &seq)
		if err != nil {
			return fmt.Errorf("gpkg: reports: %w", err)
		}
		if err := fn(seq, &r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("gpkg: reports: %w", err)
	}
	return nil
}

// reportArgs are the values of reportColumns for r.
func reportArgs(r *geo.Report) ([]any, error) {
	g, err := encodeGeom(orb.Point{r.Lon, r.Lat})
	if err != nil {
		return nil, err
	}
	return []any{g, r.ID, r.ObservedAt.Format(time.RFC3339Nano), nullString(r.Carrier.String()),
		nullString(r.Tech.String()), nullFloat(r.SignalDBm), nullFloat(r.DownloadMbps),
		nullFloat(r.UploadMbps), r.NoService, nullString(r.Source.String()),
		nullString(r.Reporter), nullString(r.Note), r.Submitter, nullString(r.ClientID)}, nil
}

// scanReport reads the reportColumns of one row, after the columns
// given in before.
func scanReport(row interface{ Scan(...any) error }, before ...any) (geo.Report, error) {
	var (
		r                                geo.Report
		g                                []byte
		observed                         string
		carrier, tech, source, rep, note sql.NullString
		clientID                         sql.NullString
		signal, down, up                 sql.NullFloat64
		noService                        sql.NullBool
	)
	if err := row.Scan(append(before, &g, &r.ID, &observed, &carrier, &tech, &signal, &down, &up,
		&noService, &source, &rep, &note, &r.Submitter, &clientID)...); err != nil {
		return r, err
	}
	og, err := decodeGeom(g)
	if err != nil {
		return r, fmt.Errorf("report %q: %w", r.ID, err)
	}
	p, ok := og.(orb.Point)
	if !ok {
		return r, fmt.Errorf("report %q: geometry is %s, want Point", r.ID, og.GeoJSONType())
	}
	r.Lon, r.Lat = p[0], p[1]
	if r.ObservedAt, err = time.Parse(time.RFC3339Nano, observed); err != nil {
		return r, fmt.Errorf("report %q: observed_at: %w", r.ID, err)
	}
	if carrier.Valid {
		if r.Carrier, err = geo.ParseCarrier(carrier.String); err != nil {
			return r, fmt.Errorf("report %q: carrier: %w", r.ID, err)
		}
	}
	if r.Tech, err = geo.ParseTech(tech.String); err != nil {
		return r, fmt.Errorf("report %q: tech: %w", r.ID, err)
	}
	if r.Source, err = geo.ParseSource(source.String); err != nil {
		return r, fmt.Errorf("report %q: source: %w", r.ID, err)
	}
	r.SignalDBm, r.DownloadMbps, r.UploadMbps = floatPtr(signal), floatPtr(down), floatPtr(up)
	r.NoService = noService.Bool
	r.Reporter, r.Note, r.ClientID = rep.String, note.String, clientID.String
	return r, nil
}

// newID returns "r-" and 16 random hex digits.
func newID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "r-" + hex.EncodeToString(b[:]), nil
}

func nullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func floatPtr(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	v := f.Float64
	return &v
}
