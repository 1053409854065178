package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gapmap/gapmap/geo"
)

// CSVTable is an open CSV file whose header has been read.
type CSVTable struct {
	r          *csv.Reader
	Header     []string // lower-cased, trimmed
	headerLine int
	Semicolon  bool
}

// OpenCSV skips a UTF-8 byte order mark, picks the delimiter from the
// header line (semicolon when it has more semicolons than commas, as Excel
// writes in locales with a decimal comma, else comma) and reads the header.
func OpenCSV(r io.Reader) (*CSVTable, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	var line []byte
	for n := 512; ; n *= 2 {
		if n > br.Size() {
			n = br.Size()
		}
		b, err := br.Peek(n)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i]
			break
		}
		if err != nil || n == br.Size() {
			line = b
			break
		}
	}
	t := &CSVTable{r: csv.NewReader(br)}
	if bytes.Count(line, []byte(";")) > bytes.Count(line, []byte(",")) {
		t.Semicolon = true
		t.r.Comma = ';'
	}
	t.r.FieldsPerRecord = -1
	t.r.ReuseRecord = true
	header, err := t.r.Read()
	if err == io.EOF {
		return nil, &geo.FieldError{Reason: "empty file: a header row is required"}
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	t.headerLine, _ = t.r.FieldPos(0)
	t.Header = make([]string, len(header))
	for i, h := range header {
		t.Header[i] = strings.ToLower(strings.TrimSpace(h))
	}
	return t, nil
}

// Columns maps header columns to fields: idx[f] is the column of field f
// or -1. names are the canonical names, aliases other accepted names. A
// column naming a field twice is an error.
func (t *CSVTable) Columns(names []string, aliases map[string]int) ([]int, error) {
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = -1
	}
	var es geo.FieldErrors
	for col, h := range t.Header {
		f := -1
		for i, n := range names {
			if h == n {
				f = i
			}
		}
		if a, ok := aliases[h]; ok {
			f = a
		}
		if f < 0 {
			continue // unknown columns are ignored
		}
		if idx[f] >= 0 {
			es = append(es, &geo.FieldError{Field: names[f], Reason: fmt.Sprintf("column given twice (columns %d and %d)", idx[f]+1, col+1)})
			continue
		}
		idx[f] = col
	}
	return idx, es.Err()
}

// RequireColumns returns a FieldError for each field in req that has no
// column.
func RequireColumns(idx []int, names []string, req []int) error {
	var es geo.FieldErrors
	for _, f := range req {
		if idx[f] < 0 {
			es = append(es, &geo.FieldError{Field: names[f], Reason: "column missing from header"})
		}
	}
	return es.Err()
}

// Next reads the next record. row is the record's start line counted from
// the header line (row 0). rowErr is set, with a nil record, for a record
// that cannot be parsed but after which reading can go on; err ends
// reading (io.EOF at the end).
func (t *CSVTable) Next() (rec []string, row int, rowErr *geo.FieldError, err error) {
	rec, err = t.r.Read()
	if err == nil {
		line, _ := t.r.FieldPos(0)
		return rec, line - t.headerLine, nil, nil
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) && (errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote)) {
		return nil, pe.StartLine - t.headerLine, &geo.FieldError{Reason: "malformed CSV: " + pe.Err.Error()}, nil
	}
	return nil, 0, nil, err
}

// FieldCountError is the row error for a record of the wrong width.
func (t *CSVTable) FieldCountError(n int) *geo.FieldError {
	return &geo.FieldError{Reason: fmt.Sprintf("has %d fields, header has %d", n, len(t.Header))}
}
