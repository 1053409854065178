package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
// it with its audit entry (both committed durably, in one transaction,
// before it returns) and puts it into the analysis. A report without a
// reporter is v's; its Submitter, what the evidence rules count, is v's
// account whatever reporter it names (see geo.SubmitterOf).
//
// IDs and keys are v's own when v may not read every report (staff): an
// id v gives is kept as the report's ClientID and the report is stored
// under an ID made from it and v's account (see ownReportID), and an
// idempotency key is looked up among v's reports only, so neither answer
// depends on reports v cannot see. Admins name reports as they like.
// When idempotencyKey is not empty and v already stored a report with
// that key and the same content, nothing is stored and that report is
// returned with created false.
//
// Errors: an invalid report matches ErrInvalid (a FieldErrors naming each
// field); a report outside v's scope is ErrForbidden naming lat and lon;
// an ID already stored (for staff: one of their own), or a key of v's
// whose report v may no longer read, is ErrConflict; a key v used for a
// report of other content is ErrMismatch naming Idempotency-Key; v
// without WriteReports is ErrUnauthenticated or ErrForbidden.
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
	hash := contentHash(&r)
	if r.Reporter == "" {
		r.Reporter = v.User
	}
	s.own(v, &r)
	if r.ID == "" {
		r.ID = newReportID() // here, so that the audit entry names it
	}
	done := s.watch.writing()
	stored, created, err = s.store.AddReport(ctx, r, geo.Submission{Key: idempotencyKey, Hash: hash,
		Audit: s.entry(v, "report.create", r.ID, "")})
	if err == nil && created {
		s.accept([]geo.Report{stored}, []int32{area}, b, true)
	}
	done()
	switch {
	case errors.Is(err, geo.ErrConflict):
		return geo.Report{}, false, geo.NewError(geo.ErrConflict, "a report with this id exists", idTaken())
	case errors.Is(err, geo.ErrMismatch):
		return geo.Report{}, false, geo.NewError(geo.ErrMismatch, "the Idempotency-Key was used for another report",
			&geo.FieldError{Field: "Idempotency-Key", Reason: "already used with a different report; make a new key for a new report"})
	case err != nil:
		return geo.Report{}, false, err
	}
	if !created {
		if a, _ := s.locate(&stored); !v.Covers(a) {
			// v's own key, of a report v may no longer read (the scope
			// changed since).
			return geo.Report{}, false, geo.NewError(geo.ErrConflict, "the Idempotency-Key was already used for another report",
				&geo.FieldError{Field: "Idempotency-Key", Reason: "already used; make a new one for a new report"})
		}
		return stored, false, nil
	}
	return stored, true, nil
}

// own sets r's Submitter, v's (see geo.SubmitterOf), and when v may not
// read every report, makes an id v gave v's own: it becomes r's
// ClientID and r is stored under ownReportID.
func (s *Service) own(v *geo.Viewer, r *geo.Report) {
	r.Submitter, r.ClientID = geo.SubmitterOf(v, r.Reporter), ""
	if r.ID != "" && !v.CoversAll() {
		r.ClientID, r.ID = r.ID, ownReportID(r.Submitter, r.ID)
	}
}

// ownReportID is the stored ID of the report a submitter who may not
// read every report names clientID: "r-" and 16 hex digits of a hash of
// both, the form of a generated ID (a hash, rather than the two side by
// side, so the ID names no account). Such a submitter's IDs are thus
// theirs alone: whether one is taken never depends on reports they
// cannot see.
func ownReportID(submitter, clientID string) string {
	h := sha256.Sum256([]byte("gapmap report id\x00" + submitter + "\x00" + clientID))
	return "r-" + hex.EncodeToString(h[:8])
}

// contentHash identifies a report as it was submitted, before the
// service fills anything in: two requests that decode to the same
// report, however their JSON was spelt, have the same hash.
func contentHash(r *geo.Report) string {
	c := *r
	c.ObservedAt = c.ObservedAt.UTC()
	b, err := json.Marshal(&c)
	if err != nil { // cannot happen: Validate refused NaN and infinities
		b = []byte(c.ID)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Report returns the stored report with the given ID when v may read it.
// A report outside v's scope is ErrNotFound, as one that does not exist,
// so that IDs cannot be probed. A staff member may also name their own
// report by the id they gave it (its ClientID), which comes first.
func (s *Service) Report(ctx context.Context, v *geo.Viewer, id string) (geo.Report, error) {
	if err := v.Check(geo.ReadReports); err != nil {
		return geo.Report{}, err
	}
	var r geo.Report
	err := geo.ErrNotFound
	if !v.CoversAll() && v.Can(geo.WriteReports) {
		r, err = s.store.Report(ctx, ownReportID(geo.SubmitterOf(v, ""), id))
	}
	if errors.Is(err, geo.ErrNotFound) {
		r, err = s.store.Report(ctx, id)
	}
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
//     of the same input (id: already used by another report); for staff,
//     whose ids are their own as in AddReport, only their own reports
//     count.
//
// Reports without an ID get a new one. Every report's Submitter is v's
// account; from the command line, its typed reporter (see
// geo.SubmitterOf). The audit entry is stored with the reports. Idempotency keys belong to single
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
	// Each row is placed, owned and given its ID as it is read, so the
	// import holds one copy of the accepted reports, not every row and
	// then the accepted ones again. The rows rejected here come after the
	// reader's own errors (see rejectLate).
	var (
		seen     = map[string]bool{}
		good     []geo.Report
		areas    []int32
		goodRows []int
		late     []*geo.FieldError
		lateN    int
		lateCut  bool
	)
	b := s.base.Load()
	rejectLate := func(n int, es ...*geo.FieldError) {
		lateN++
		for _, e := range es {
			if len(late) < opt.MaxErrors {
				c := *e
				c.Row = n
				late = append(late, &c)
			} else {
				lateCut = true
			}
		}
	}
	sum, err := ingest.ReadReports(ctx, r, opt.Format,
		ingest.ReportOptions{Now: s.now(), MaxErrors: opt.MaxErrors, Progress: opt.Progress},
		func(n int, rp *geo.Report) error {
			rep := *rp
			area := b.locate(rep.Lon, rep.Lat)
			if !v.Covers(area) {
				rejectLate(n, outsideScope()...)
				return nil
			}
			// Every report gets its ID here, since the store does not
			// return the ones it generates.
			s.own(v, &rep)
			if rep.ID == "" {
				rep.ID = newReportID()
			} else if seen[rep.ID] {
				rejectLate(n, idTaken())
				return nil
			}
			seen[rep.ID] = true
			good = append(good, rep)
			areas = append(areas, area)
			goodRows = append(goodRows, n)
			return nil
		})
	if err != nil {
		if ctx.Err() != nil {
			return ImportResult{}, err
		}
		return ImportResult{}, &geo.Error{Kind: geo.ErrInvalid, Message: "cannot read the file: " + err.Error(),
			Fields: geo.AsFieldErrors(err), Err: err}
	}
	seen = nil
	res := ImportResult{Rejected: sum.Rejected + lateN, Errors: sum.Errors, Truncated: sum.Truncated || lateCut}
	for _, e := range late {
		if len(res.Errors) < opt.MaxErrors {
			res.Errors = append(res.Errors, e)
		} else {
			res.Truncated = true
		}
	}
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
	// entry is the audit entry of the import, stored with its reports.
	entry := func() geo.AuditEntry {
		if len(good) == 0 {
			return geo.AuditEntry{}
		}
		return s.entry(v, "report.import", "", fmt.Sprintf("accepted=%d rejected=%d", len(good), res.Rejected))
	}
	err = func() error {
		defer s.watch.writing()()
		// The IDs already stored are looked up only when the store refuses
		// the batch for one, so an import of new reports makes no lookups.
		_, err := s.store.AddReports(ctx, good, entry())
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
			_, err = s.store.AddReports(ctx, good, entry())
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
	err = s.store.SetReview(ctx, rv, s.entry(v, "report.review", id, "status="+string(st)))
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
	return rv, nil
}

// newReportID returns an ID in the store's format: "r-" and 16 hex digits.
func newReportID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return "r-" + hex.EncodeToString(b[:])
}
