package postgis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/paulmach/orb"
)

// reportColumns are the columns a report is written to and read from,
// after seq.
var reportColumns = []string{"geom", "id", "observed_at", "observed_offset", "carrier", "tech",
	"signal_dbm", "download_mbps", "upload_mbps", "no_service", "source", "reporter", "note",
	"submitter", "client_id", "received_at", "request_key", "request_hash"}

const selectReport = `SELECT seq, geom, id, observed_at, observed_offset, carrier, tech, signal_dbm,
  download_mbps, upload_mbps, no_service, source, reporter, note, submitter, client_id FROM reports`

// takeSeq reserves n sequence numbers for reports inserted by tx and
// returns the last; the counter row stays locked until tx ends, so
// numbers are handed out in commit order (see migration 1).
func takeSeq(ctx context.Context, tx pgx.Tx, n int) (int64, error) {
	var last int64
	err := tx.QueryRow(ctx, `UPDATE gapmap_counters SET n = n + $1 WHERE name = 'reports' RETURNING n`, n).Scan(&last)
	return last, err
}

// AddReports stores rs and the audit entry in one transaction, the
// reports with COPY, and returns how many it added. A report without an
// ID gets a generated one ("r-" and 16 hex digits). An ID already stored,
// or given twice, is a conflict (geo.ErrConflict) and nothing is added.
// An entry with an empty Action is not written.
func (s *Store) AddReports(ctx context.Context, rs []geo.Report, audit geo.AuditEntry) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	received := time.Now()
	err := s.tx(ctx, func(tx pgx.Tx) error {
		last, err := takeSeq(ctx, tx, len(rs))
		if err != nil {
			return err
		}
		first := last - int64(len(rs)) + 1
		seen := make(map[string]bool, len(rs))
		i := 0
		var rowErr error
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(rs) {
				return nil, nil
			}
			r := rs[i]
			if r.ID == "" {
				if r.ID, rowErr = newID(); rowErr != nil {
					return nil, rowErr
				}
			}
			if seen[r.ID] {
				rowErr = fmt.Errorf("report %q: duplicate id: %w", r.ID, geo.ErrConflict)
				return nil, rowErr
			}
			seen[r.ID] = true
			row, err := reportRow(first+int64(i), &r, received, geo.Submission{})
			if err != nil {
				rowErr = fmt.Errorf("report %q: %w", r.ID, err)
				return nil, rowErr
			}
			i++
			return row, nil
		})
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"reports"}, append([]string{"seq"}, reportColumns...), src)
		if rowErr != nil {
			return rowErr
		}
		if pgCode(err) == uniqueViolation {
			return fmt.Errorf("an id is already stored: %w", geo.ErrConflict)
		}
		if err != nil {
			return err
		}
		return addAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, fmt.Errorf("postgis: add reports: %w", classify(err))
	}
	return len(rs), nil
}

// AddReport stores r, and sub.Audit in the same transaction, and has
// committed both when it returns. A report without an ID gets a
// generated one, and an audit entry without a Target names it. When
// sub.Key is not empty and a report of the same Submitter was already
// stored with it, by this process or another, AddReport stores nothing
// and returns that report with created false, or an error matching
// geo.ErrMismatch when both have a Hash and they differ; concurrent
// calls with the same submitter and key store one row (the pair is
// unique in the database). An ID already stored under another key is a
// conflict (geo.ErrConflict).
func (s *Store) AddReport(ctx context.Context, r geo.Report, sub geo.Submission) (stored geo.Report, created bool, err error) {
	if r.ID == "" {
		if r.ID, err = newID(); err != nil {
			return geo.Report{}, false, fmt.Errorf("postgis: add report: %w", err)
		}
	}
	audit := sub.Audit
	if audit.Target == "" {
		audit.Target = r.ID
	}
	var replayed bool
	err = s.tx(ctx, func(tx pgx.Tx) error {
		// Every inserter takes the counter's lock first, so one that used
		// the same key has committed (or rolled back) by now.
		seq, err := takeSeq(ctx, tx, 1)
		if err != nil {
			return err
		}
		row, err := reportRow(seq, &r, time.Now(), sub)
		if err != nil {
			return err
		}
		q := `INSERT INTO reports (seq, ` + columnList(reportColumns) + `) VALUES (` + placeholders(len(row)) + `)`
		if sub.Key != "" {
			q += ` ON CONFLICT (submitter, request_key) WHERE request_key IS NOT NULL DO NOTHING`
		}
		tag, err := tx.Exec(ctx, q, row...)
		if pgCode(err) == uniqueViolation {
			return fmt.Errorf("duplicate id: %w", geo.ErrConflict)
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var hash pgtype.Text
			if err := tx.QueryRow(ctx, `SELECT request_hash FROM reports WHERE submitter = $1 AND request_key = $2`,
				r.Submitter, sub.Key).Scan(&hash); err != nil {
				return err
			}
			if sub.Hash != "" && hash.Valid && hash.String != sub.Hash {
				return fmt.Errorf("idempotency key used with another report: %w", geo.ErrMismatch)
			}
			if stored, err = scanReport(tx.QueryRow(ctx, selectReport+` WHERE submitter = $1 AND request_key = $2`,
				r.Submitter, sub.Key), nil); err != nil {
				return err
			}
			replayed = true
			return errRollback // the sequence number goes back
		}
		return addAudit(ctx, tx, audit)
	})
	if replayed {
		return stored, false, nil
	}
	if err != nil {
		return geo.Report{}, false, fmt.Errorf("postgis: add report %q: %w", r.ID, classify(err))
	}
	return r, true, nil
}

// errRollback ends a transaction without a change and without an error
// for the caller.
var errRollback = errors.New("rollback")

// Report returns the report with the given ID, or an error matching
// geo.ErrNotFound.
func (s *Store) Report(ctx context.Context, id string) (geo.Report, error) {
	r, err := scanReport(s.pool.QueryRow(ctx, selectReport+` WHERE id = $1`, id), nil)
	if errors.Is(err, pgx.ErrNoRows) {
		return geo.Report{}, fmt.Errorf("postgis: report %q: %w", id, geo.ErrNotFound)
	}
	if err != nil {
		return geo.Report{}, fmt.Errorf("postgis: report %q: %w", id, classify(err))
	}
	return r, nil
}

// EachReport calls fn with each report in sequence (commit) order,
// stopping at fn's first error, which it returns. The report is reused
// between calls.
func (s *Store) EachReport(ctx context.Context, fn func(*geo.Report) error) error {
	return s.EachReportSince(ctx, 0, func(_ int64, r *geo.Report) error { return fn(r) })
}

// EachReportSince calls fn with each report whose sequence number is
// above after, in that order, with the number, stopping at fn's first
// error, which it returns. Numbers are handed out in commit order (see
// takeSeq), so a report committed later always has a higher number than
// every report a reader has seen. The report is reused between calls.
func (s *Store) EachReportSince(ctx context.Context, after int64, fn func(seq int64, r *geo.Report) error) error {
	rows, err := s.pool.Query(ctx, selectReport+` WHERE seq > $1 ORDER BY seq`, after)
	if err != nil {
		return fmt.Errorf("postgis: reports: %w", classify(err))
	}
	defer rows.Close()
	var r geo.Report
	var seq int64
	for rows.Next() {
		if r, err = scanReport(rows, &seq); err != nil {
			return fmt.Errorf("postgis: reports: %w", classify(err))
		}
		if err := fn(seq, &r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgis: reports: %w", classify(err))
	}
	return nil
}

// reportRow is the values of seq and reportColumns for r, submitted as
// sub.
func reportRow(seq int64, r *geo.Report, received time.Time, sub geo.Submission) ([]any, error) {
	g, err := encodeGeom(orb.Point{r.Lon, r.Lat})
	if err != nil {
		return nil, err
	}
	_, off := r.ObservedAt.Zone()
	return []any{seq, g, r.ID, r.ObservedAt.Truncate(time.Microsecond), off, nullString(r.Carrier.String()),
		nullString(r.Tech.String()), r.SignalDBm, r.DownloadMbps, r.UploadMbps, r.NoService,
		nullString(r.Source.String()), nullString(r.Reporter), nullString(r.Note), r.Submitter,
		nullString(r.ClientID), nullTime(received), nullString(sub.Key), nullString(sub.Hash)}, nil
}

// scanReport reads one row of selectReport; the sequence number goes to
// *seq when seq is not nil.
func scanReport(row pgx.Row, seq *int64) (geo.Report, error) {
	var (
		r                                geo.Report
		n                                int64
		g                                []byte
		observed                         time.Time
		offset                           int32
		carrier, tech, source, rep, note pgtype.Text
		clientID                         pgtype.Text
	)
	if err := row.Scan(&n, &g, &r.ID, &observed, &offset, &carrier, &tech, &r.SignalDBm, &r.DownloadMbps,
		&r.UploadMbps, &r.NoService, &source, &rep, &note, &r.Submitter, &clientID); err != nil {
		return r, err
	}
	if seq != nil {
		*seq = n
	}
	p, err := point(g)
	if err != nil {
		return r, fmt.Errorf("report %q: %w", r.ID, err)
	}
	r.Lon, r.Lat = p[0], p[1]
	r.ObservedAt = inOffset(observed, int(offset))
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
	r.Reporter, r.Note, r.ClientID = rep.String, note.String, clientID.String
	return r, nil
}

// inOffset is t at the UTC offset it was given with: UTC for 0, as
// time.Parse reads "Z".
func inOffset(t time.Time, offset int) time.Time {
	if offset == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", offset))
}

// newID returns "r-" and 16 random hex digits.
func newID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "r-" + hex.EncodeToString(b[:]), nil
}

// columnList joins column names with commas.
func columnList(cs []string) string {
	out := ""
	for i, c := range cs {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

// placeholders is "$1, $2, …, $n".
func placeholders(n int) string {
	out := ""
	for i := 1; i <= n; i++ {
		if i > 1 {
			out += ", "
		}
		out += fmt.Sprintf("$%d", i)
	}
	return out
}
