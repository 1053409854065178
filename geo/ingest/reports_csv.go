package ingest

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/gapmap/gapmap/geo"
)

// readReportsCSV reads CSV reports from r into s (see ReadReports).
//
// A file of millions of rows is read in three parts at once: this
// goroutine's reader splits rows into their fields, workers parse
// batches of rows, and the rows are handed to s in file order, so the
// caller sees exactly what one reader would have given it, and
// memory holds a few batches.
func readReportsCSV(r io.Reader, s *reportSink) error {
	t, err := OpenCSV(r)
	if err != nil {
		return fmt.Errorf("ingest: reports: %w", err)
	}
	idx, unnamed, err := reportColumns(t.Header)
	if err != nil {
		return fmt.Errorf("ingest: reports: header: %w", err)
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *csvBatch, workers)
	order := make(chan *csvBatch, 2*workers+2)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newReportParser(s.opt.Now)
			p.commaDecimal = t.Semicolon
			for b := range work {
				b.parse(p)
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(work)
		for {
			b, more := readCSVBatch(t, idx, unnamed)
			select {
			case work <- b:
			case <-stop:
				return
			}
			select {
			case order <- b:
			case <-stop:
				return
			}
			if !more {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		for range order { // let the reader end
		}
		wg.Wait()
	}()
	for b := range order {
		<-b.done
		for i := range b.rows {
			if err := s.take(b.rows[i].row, b.reps[i], b.errs[i]); err != nil {
				return err
			}
		}
		if b.err != nil {
			return fmt.Errorf("ingest: reports: %w", b.err)
		}
	}
	return nil
}

// csvBatchRows is the number of rows in a csvBatch.
const csvBatchRows = 1024

// csvBatch is a run of CSV rows on their way to the sink: their fields
// as read, then, once done is closed, each row's report or problems.
type csvBatch struct {
	rows []csvRow
	reps []*geo.Report
	errs []geo.FieldErrors
	err  error // what ended reading after these rows (not io.EOF)
	done chan struct{}
}

// csvRow is one CSV row's fields by report field, or the problem that
// makes the row unreadable.
type csvRow struct {
	row    int
	rowErr *geo.FieldError
	vals   [numReportFields]string
}

// readCSVBatch reads up to csvBatchRows rows of t; more is false once the
// file has ended or reading has failed (b.err).
func readCSVBatch(t *CSVTable, idx [numReportFields]int, unnamed []int) (b *csvBatch, more bool) {
	b = &csvBatch{rows: make([]csvRow, 0, csvBatchRows), done: make(chan struct{})}
	for len(b.rows) < csvBatchRows {
		rec, row, rowErr, err := t.Next()
		if err == io.EOF {
			return b, false
		}
		if err != nil {
			b.err = err
			return b, false
		}
		if rowErr == nil && len(rec) != len(t.Header) {
			rowErr = t.FieldCountError(len(rec))
		}
		for _, c := range unnamed {
			if rowErr == nil && strings.TrimSpace(rec[c]) != "" {
				rowErr = &geo.FieldError{Reason: fmt.Sprintf("a value in column %d, which has no name in the header", c+1)}
			}
		}
		b.rows = append(b.rows, csvRow{row: row, rowErr: rowErr})
		if rowErr != nil {
			continue
		}
		// The fields are strings of their own (the record is reused, its
		// strings are not).
		vals := &b.rows[len(b.rows)-1].vals
		for f, c := range idx {
			if c >= 0 {
				vals[f] = rec[c]
			}
		}
	}
	return b, true
}

// parse parses the batch's rows with p and closes done.
func (b *csvBatch) parse(p *reportParser) {
	b.reps = make([]*geo.Report, len(b.rows))
	b.errs = make([]geo.FieldErrors, len(b.rows))
	for i := range b.rows {
		row := &b.rows[i]
		if row.rowErr != nil {
			b.errs[i] = geo.FieldErrors{row.rowErr}
			continue
		}
		b.reps[i], b.errs[i] = p.parse(&row.vals, nil, 0, nil)
	}
	close(b.done)
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
