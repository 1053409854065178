package ingest

import (
	"fmt"
	"io"
	"strings"

	"github.com/gapmap/gapmap/geo"
)

// readReportsCSV reads CSV reports from r into s (see ReadReports).
func readReportsCSV(r io.Reader, s *reportSink) error {
	t, err := OpenCSV(r)
	if err != nil {
		return fmt.Errorf("ingest: reports: %w", err)
	}
	idx, unnamed, err := reportColumns(t.Header)
	if err != nil {
		return fmt.Errorf("ingest: reports: header: %w", err)
	}
	p := newReportParser(s.opt.Now)
	p.commaDecimal = t.Semicolon
	var vals [numReportFields]string
	for {
		rec, row, rowErr, err := t.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ingest: reports: %w", err)
		}
		if rowErr == nil && len(rec) != len(t.Header) {
			rowErr = t.FieldCountError(len(rec))
		}
		for _, c := range unnamed {
			if rowErr == nil && strings.TrimSpace(rec[c]) != "" {
				rowErr = &geo.FieldError{Reason: fmt.Sprintf("a value in column %d, which has no name in the header", c+1)}
			}
		}
		if rowErr != nil {
			if err := s.take(row, nil, geo.FieldErrors{rowErr}); err != nil {
				return err
			}
			continue
		}
		for f, c := range idx {
			if c >= 0 {
				vals[f] = rec[c]
			}
		}
		rep, es := p.parse(&vals, nil, 0, nil)
		if err := s.take(row, rep, es); err != nil {
			return err
		}
	}
}

// reportColumns maps a header, already lower-cased and trimmed, to report
// fields: idx[f] is the column of field f or -1. unnamed lists the columns
// without a name, which rows must leave empty. The error names every
// column that is no field, every field given twice and every required
// field missing.
func reportColumns(header []string) (idx [numReportFields]int, unnamed []int, err error) {
	for f := range idx {
		idx[f] = -1
	}
	var es geo.FieldErrors
	for col, h := range header {
		if h == "" {
			unnamed = append(unnamed, col)
			continue
		}
		f, ok := lookupReportField(h)
		switch {
		case !ok:
			es = append(es, unknownFieldError(h, false))
		case idx[f] >= 0:
			es = append(es, &geo.FieldError{Field: reportFieldNames[f], Reason: fmt.Sprintf("column given twice (columns %d and %d)", idx[f]+1, col+1)})
		default:
			idx[f] = col
		}
	}
	for _, f := range requiredReportColumns {
		if idx[f] < 0 {
			es = append(es, &geo.FieldError{Field: reportFieldNames[f], Reason: "column missing from header"})
		}
	}
	return idx, unnamed, es.Err()
}
