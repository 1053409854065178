package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/ingest"
)

// outsideScope names the fields of a report placed outside the viewer's
// scope.
func outsideScope() geo.FieldErrors {
	return geo.FieldErrors{
		{Field: "lat", Reason: "outside your area scope"},
		{Field: "lon", Reason: "outside your area scope"},
	}
}

// idTaken is the problem of a report ID already stored or given twice.
func idTaken() *geo.FieldError {
	return &geo.FieldError{Field: "id", Reason: "already used by another report"}
}

// MaxIdempotencyKeyLen is the longest Idempotency-Key AddReport takes (a
// UUID is 36 bytes): keys are stored with their report.
const MaxIdempotencyKeyLen = 200

// AddReport validates r, checks that v may submit it where it is, stores
// it (committed durably before it returns) and puts it into the analysis.
// A report without a reporter is v's. When idempotencyKey is not empty
// and a report was already stored with that key, nothing is stored and
// that report is returned with created false.
//
// Errors: an invalid report matches ErrInvalid (a FieldErrors naming each
// field); a report outside v's scope is ErrForbidden naming lat and lon;
// an ID already stored, or a key already used for a report v may not
// read, is ErrConflict; v without WriteReports is ErrUnauthenticated or
// ErrForbidden.
func (s *Service) AddReport(ctx context.Context, v *geo.Viewer, r geo.Report, idempotencyKey string) (stored geo.Report, created bool, err error) {
	if err := v.Check(geo.WriteReports); err != nil {
		return geo.Report{}, false, err
	}
	es := geo.AsFieldErrors(r.Validate(s.now()))
	if len(idempotencyKey) > MaxIdempotencyKeyLen {
		es = append(es, &geo.FieldError{Field: "Idempotency-Key", Reason: fmt.Sprintf("longer than %d bytes", MaxIdempotencyKeyLen)})
	}
	if len(es) > 0 {
		return geo.Report{}, false, fmt.Errorf("invalid report: %w", es)
	}
	area, b := s.locate(&r)
	if !v.Covers(area) {
		return geo.Report{}, false, &geo.Error{Kind: geo.ErrForbidden,
			Message: "the report's place is outside your area scope", Fields: outsideScope()}
	}
	if r.Reporter == "" {
		r.Reporter = v.User
	}
	done := s.watch.writing()
	stored, created, err = s.store.AddReport(ctx, r, idempotencyKey)
	if err == nil && created {
		s.accept([]geo.Report{stored}, []int32{area}, b, true)
	}
	done()
	if errors.Is(err, geo.ErrConflict) {
		return geo.Report{}, false, geo.NewError(geo.ErrConflict, "a report with this id exists", idTaken())
	}
	if err != nil {
		return geo.Report{}, false, err
	}
	if !created {
		if a, _ := s.locate(&stored); !v.Covers(a) {
			// The key was used for a report this viewer may not read.
			return geo.Report{}, false, geo.NewError(geo.ErrConflict, "the Idempotency-Key was already used for another report",
				&geo.FieldError{Field: "Idempotency-Key", Reason: "already used; make a new one for a new report"})
		}
		return stored, false, nil
	}
	s.audit(ctx, v, "report.create", stored.ID, "")
	return stored, true, nil
}

// Report returns the stored report with the given ID when v may read it.
// A report outside v's scope is ErrNotFound, as one that does not exist,
// so that IDs cannot be probed.
func (s *Service) Report(ctx context.Context, v *geo.Viewer, id string) (geo.Report, error) {
	if err := v.Check(geo.ReadReports); err != nil {
		return geo.Report{}, err
	}
	r, err := s.store.Report(ctx, id)
	if err == nil {
		if a, _ := s.locate(&r); !v.Covers(a) {
			err = geo.ErrNotFound
		}
	}
	if errors.Is(err, geo.ErrNotFound) {
		return geo.Report{}, geo.NewError(geo.ErrNotFound, "no report with id "+strconv.Quote(id))
	}
	return r, err
}

// ImportOptions tune ImportReports.
type ImportOptions struct {
	// Format is the input's format (ingest.FormatCSV or
	// ingest.FormatGeoJSON).
	Format ingest.Format
	// MaxErrors caps the errors ImportResult lists; 0 means 1000.
	MaxErrors int
	// Progress, if not nil, is told the rows read and accepted by the
	// reader every 10,000 rows.
	Progress func(read, accepted int)
}

// ImportResult is what an import did.
type ImportResult struct {
	Accepted int // reports stored
	Rejected int // rows not stored
	// Errors lists the problems, by row, up to ImportOptions.MaxErrors.
	Errors    geo.FieldErrors
	Truncated bool // more errors were found than listed
}

// ImportReports reads reports from r and stores those that pass, in one
// transaction: what was stored before is left intact when storing fails.
// Rows are rejected one by one, each with its row number, field and
// reason, and the rest is stored:
//
//   - a row that does not decode or validate (see ingest.ReadReports);
//   - a report outside v's scope (lat and lon: outside your area scope);
//   - a report whose ID is already stored, or was given by an earlier row
//     of the same input (id: already used by another report).
//
// Reports without an ID get a new one. Idempotency keys belong to single
// submissions (AddReport) and play no part here. The reports stored join
// the analysis, which is rebuilt once for them all.
//
// Errors: v without WriteReports is ErrUnauthenticated or ErrForbidden;
// an input that cannot be read as a whole is an *geo.Error of kind
// ErrInvalid whose Err is the reader's error (a cancelled ctx is
// returned as it is); an ID stored meanwhile by another writer is
// ErrConflict and nothing is stored.
func (s *Service) ImportReports(ctx context.Context, v *geo.Viewer, r io.Reader, opt ImportOptions) (ImportResult, error) {
	if err := v.Check(geo.WriteReports); err != nil {
		return ImportResult{}, err
	}
	if opt.MaxErrors <= 0 {
		opt.MaxErrors = 1000
	}
	type row struct {
		n   int
		rep geo.Report
	}
	var rows []row
	sum, err := ingest.ReadReports(ctx, r, opt.Format,
		ingest.ReportOptions{Now: s.now(), MaxErrors: opt.MaxErrors, Progress: opt.Progress},
		func(n int, rep *geo.Report) error {
			rows = append(rows, row{n, *rep})
			return nil
		})
	if err != nil {
		if ctx.Err() != nil {
			return ImportResult{}, err
		}
		return ImportResult{}, &geo.Error{Kind: geo.ErrInvalid, Message: "cannot read the file: " + err.Error(),
			Fields: geo.AsFieldErrors(err), Err: err}
	}
	res := ImportResult{Rejected: sum.Rejected, Errors: sum.Errors, Truncated: sum.Truncated}
	reject := func(n int, es ...*geo.FieldError) {
		res.Rejected++
		for _, e := range es {
			if len(res.Errors) < opt.MaxErrors {
				c := *e
				c.Row = n
				res.Errors = append(res.Errors, &c)
			} else {
				res.Truncated = true
			}
		}
	}
	seen := make(map[string]bool, len(rows))
	good := make([]geo.Report, 0, len(rows))
	areas := make([]int32, 0, len(rows))
	goodRows := make([]int, 0, len(rows))
	b := s.base.Load()
	for i := range rows {
		rep, n := rows[i].rep, rows[i].n
		area := b.locate(rep.Lon, rep.Lat)
		if !v.Covers(area) {
			reject(n, outsideScope()...)
			continue
		}
		// Every report gets its ID here, since the store does not return
		// the ones it generates.
		if rep.ID == "" {
			rep.ID = newReportID()
		} else if seen[rep.ID] {
			reject(n, idTaken())
			continue
		}
		seen[rep.ID] = true
		good = append(good, rep)
		areas = append(areas, area)
		goodRows = append(goodRows, n)
	}
	err = func() error {
		defer s.watch.writing()()
		// The IDs already stored are looked up only when the store refuses
		// the batch for one, so an import of new reports makes no lookups.
		_, err := s.store.AddReports(ctx, good)
		if errors.Is(err, geo.ErrConflict) {
			k := 0
			for i := range good {
				_, err := s.store.Report(ctx, good[i].ID)
				if err == nil {
					reject(goodRows[i], idTaken())
					continue
				}
				if !errors.Is(err, geo.ErrNotFound) {
					return err
				}
				good[k], areas[k] = good[i], areas[i]
				k++
			}
			good, areas = good[:k], areas[:k]
			_, err = s.store.AddReports(ctx, good)
		}
		if err == nil {
			s.accept(good, areas, b, true)
		}
		return err
	}()
	if err != nil {
		if errors.Is(err, geo.ErrConflict) {
			return ImportResult{}, &geo.Error{Kind: geo.ErrConflict,
				Message: "a report ID was stored meanwhile; nothing was imported: " + err.Error(), Err: err}
		}
		return ImportResult{}, err
	}
	slices.SortStableFunc(res.Errors, func(a, b *geo.FieldError) int { return a.Row - b.Row })
	res.Accepted = len(good)
	if len(good) > 0 {
		s.audit(ctx, v, "report.import", "", fmt.Sprintf("accepted=%d rejected=%d", res.Accepted, res.Rejected))
	}
	return res, nil
}

// Review records v's verdict on a stored report, with an optional
// comment. A rejected report leaves the analysis; confirming it again
// brings it back.
//
// Errors: an unknown status or a comment over geo.MaxNoteLen bytes
// matches ErrInvalid; an unknown report is ErrNotFound; v without
// ReviewReports is ErrUnauthenticated or ErrForbidden.
func (s *Service) Review(ctx context.Context, v *geo.Viewer, id string, status geo.ReviewStatus, comment string) (geo.Review, error) {
	if err := v.Check(geo.ReviewReports); err != nil {
		return geo.Review{}, err
	}
	st, err := geo.ParseReviewStatus(string(status))
	if err != nil {
		return geo.Review{}, err
	}
	if len(comment) > geo.MaxNoteLen {
		return geo.Review{}, &geo.FieldError{Field: "comment", Reason: "longer than " + strconv.Itoa(geo.MaxNoteLen) + " bytes"}
	}
	rv := geo.Review{ReportID: id, Status: st, Reviewer: v.User, At: s.now().UTC(), Comment: comment}
	done := s.watch.writing()
	err = s.store.SetReview(ctx, rv)
	if err == nil {
		s.setRejected(id, st == geo.ReviewRejected)
	}
	done()
	if errors.Is(err, geo.ErrNotFound) {
		return geo.Review{}, geo.NewError(geo.ErrNotFound, "no report with id "+strconv.Quote(id))
	}
	if err != nil {
		return geo.Review{}, err
	}
	s.audit(ctx, v, "report.review", id, "status="+string(st))
	return rv, nil
}

// newReportID returns an ID in the store's format: "r-" and 16 hex digits.
func newReportID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return "r-" + hex.EncodeToString(b[:])
}
