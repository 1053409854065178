package ingest

import (
	"fmt"
	"io"

	"github.com/gapmap/gapmap/geo"
)

// readReportsCSV reads CSV reports from r into s (see ReadReports).
func readReportsCSV(r io.Reader, s *reportSink) error {
	t, err := OpenCSV(r)
	if err != nil {
		return fmt.Errorf("ingest: reports: %w", err)
	}
	idx, err := t.Columns(reportFieldNames[:], reportFieldAliases)
	if err == nil {
		err = RequireColumns(idx, reportFieldNames[:], requiredReportColumns)
	}
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
		rep, es := p.parse(&vals, nil)
		if err := s.take(row, rep, es); err != nil {
			return err
		}
	}
}
