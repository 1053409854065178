package ingest

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// ReportOptions tune ReadReports.
type ReportOptions struct {
	// Now is the time observed_at is checked against (a report more than
	// geo.MaxClockSkew in the future is rejected); zero means time.Now().
	Now time.Time
	// MaxErrors caps the errors kept in ReadSummary.Errors; 0 means 1000.
	// Rows go on being read and counted beyond the cap.
	MaxErrors int
	// Progress, if not nil, is called every 10,000 rows with the rows
	// read and accepted so far.
	Progress func(read, accepted int)
}

// ReadSummary counts what ReadReports did.
type ReadSummary struct {
	Read     int // data rows or features read
	Accepted int // reports handed to fn without error
	Rejected int // rows with at least one error
	// Errors lists the problems found, up to ReportOptions.MaxErrors, in
	// input order, each with Row, Field and Reason. For CSV, Row counts
	// lines with the header line as row 0, so row N is line N+1 of the
	// file (row N+1 in a spreadsheet) when no quoted field spans lines
	// and there are no blank lines before the header. For GeoJSON, Row is
	// the 1-based index of the feature.
	Errors geo.FieldErrors
	// Truncated is true when more errors were found than kept.
	Truncated bool
}

// Format is a report file format.
type Format int

// Report file formats.
const (
	FormatUnknown Format = iota
	FormatCSV
	FormatGeoJSON
)

func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatGeoJSON:
		return "geojson"
	}
	return "unknown"
}

// ReportFormat guesses a report file's format from its extension: .geojson
// and .json are GeoJSON; .csv, .txt and anything else are CSV.
func ReportFormat(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".geojson", ".json":
		return FormatGeoJSON
	}
	return FormatCSV
}

// ReadReports decodes weak-signal reports from r and calls fn, in input
// order, with each report that passes geo.Report.Validate. Each call gets a
// fresh *geo.Report that fn may keep. Rows with problems are counted as
// rejected and their FieldErrors collected in the summary; they never stop
// the rest. Report IDs are left empty when the input has none.
//
// Fields are named, typed and checked alike in every format, and alike in
// the POST bodies DecodeReport and DecodeReportFeature read: id, lat (or
// latitude), lon (or longitude, lng), observed_at, carrier, tech,
// signal_dbm, download_mbps, upload_mbps, no_service, source, reporter,
// note, matched ignoring case and surrounding spaces. A name that is none
// of these is an error naming it, with the closest field name when one is
// close ("singal_dbm: unknown field (did you mean signal_dbm?)"); so is a
// field given twice. observed_at is RFC 3339 ("2025-07-01T08:30:00+07:00";
// a space or "t" may replace the T, the offset may be "Z", ±hh:mm or
// ±hhmm); without an offset it is Vietnam time (UTC+7, Asia/Ho_Chi_Minh,
// which has no daylight saving). carrier accepts names and MCC-MNC codes
// (geo.ParseCarrier), tech and source their names and aliases
// (geo.ParseTech, geo.ParseSource). no_service is true/false, 1/0, yes/no,
// t/f, y/n or có/không in any case, or empty (false). Empty optional
// numbers are nil; NaN and infinities are rejected. Text must be UTF-8;
// note is kept byte for byte, id and reporter are trimmed.
//
// CSV (FormatCSV): a header row is required and a UTF-8 byte order mark is
// skipped. lat, lon, observed_at and carrier are required columns. A
// column that is no field is an error for the whole file, reported once; a
// column without a name may only hold empty cells. The delimiter is a
// comma, or a semicolon when the header line has more semicolons than
// commas (as Excel writes in the vi-VN locale); then "," is also accepted
// as the decimal separator, in this kind of file only.
//
// GeoJSON (FormatGeoJSON): a FeatureCollection, or a single Feature, of
// Point features (lon, lat in EPSG:4326) with the other fields as
// properties: strings; numbers for the numeric fields (or strings holding
// one); for carrier a string or an MCC-MNC number; for no_service a
// boolean, 0/1 or any of the spellings above; null for a field left out.
// A position given as a property is an error. The Feature's own id is the
// report's when the properties have none. Features are decoded one at a
// time, so large files stream.
//
// ReadReports returns an error when the input as a whole cannot be read: a
// CSV header lacking a required column or holding an unknown or repeated
// one (geo.FieldErrors naming the columns),
// input that is not CSV or not GeoJSON past repair, a read error, a
// cancelled ctx, or an error from fn. The summary counts what was done
// until then.
func ReadReports(ctx context.Context, r io.Reader, f Format, opt ReportOptions, fn func(row int, rep *geo.Report) error) (ReadSummary, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.MaxErrors <= 0 {
		opt.MaxErrors = 1000
	}
	s := &reportSink{ctx: ctx, opt: opt, fn: fn}
	var err error
	switch f {
	case FormatCSV, FormatUnknown:
		err = readReportsCSV(r, s)
	case FormatGeoJSON:
		err = readReportsGeoJSON(r, s)
	default:
		err = fmt.Errorf("ingest: unknown report format %d", f)
	}
	return s.sum, err
}

// reportSink counts rows, keeps errors up to the cap and hands valid
// reports to the caller.
type reportSink struct {
	ctx context.Context
	opt ReportOptions
	fn  func(row int, rep *geo.Report) error
	sum ReadSummary
}

// take finishes one row: rep is valid when es is empty.
func (s *reportSink) take(row int, rep *geo.Report, es geo.FieldErrors) error {
	if len(es) == 0 {
		if err := s.fn(row, rep); err != nil {
			return err
		}
		s.sum.Accepted++
	} else {
		s.sum.Rejected++
		for _, e := range es {
			if len(s.sum.Errors) >= s.opt.MaxErrors {
				s.sum.Truncated = true
				break
			}
			e.Row = row
			s.sum.Errors = append(s.sum.Errors, e)
		}
	}
	s.sum.Read++
	if s.sum.Read%10_000 == 0 && s.opt.Progress != nil {
		s.opt.Progress(s.sum.Read, s.sum.Accepted)
	}
	if s.sum.Read%4096 == 0 {
		return s.ctx.Err()
	}
	return nil
}
