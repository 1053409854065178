package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// This file reads the attribute table of a shapefile, a dBase file (.dbf;
// dBase III layout, also written by FoxPro and Excel), one record at a
// time, checking every size in its header against the file's real size
// before anything is allocated.

// dbfTable is the layout a .dbf header describes.
type dbfTable struct {
	name       string // the file, for messages
	records    int
	headerSize int
	recordSize int
	columns    []dbfColumn
}

type dbfColumn struct {
	rawName []byte
	name    string
	typ     byte
	off     int // from the start of the record, after its deletion flag
	size    int
}

// readDBFHeader reads the header of the .dbf called name, size bytes
// long, from r, leaving r at its first record.
func readDBFHeader(r io.Reader, name string, size int64) (*dbfTable, error) {
	var h [32]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("%s: not a dBase file (%d bytes, shorter than its 32-byte header)", name, size)
	}
	t := &dbfTable{
		name:       name,
		records:    int(binary.LittleEndian.Uint32(h[4:8])),
		headerSize: int(binary.LittleEndian.Uint16(h[8:10])),
		recordSize: int(binary.LittleEndian.Uint16(h[10:12])),
	}
	if t.headerSize < 33 || int64(t.headerSize) > size {
		return nil, fmt.Errorf("%s: header size %d does not fit a file of %d bytes", name, t.headerSize, size)
	}
	if t.recordSize < 1 {
		return nil, fmt.Errorf("%s: record size %d", name, t.recordSize)
	}
	if data := size - int64(t.headerSize); int64(t.records)*int64(t.recordSize) > data {
		return nil, fmt.Errorf("%s: header says %d records of %d bytes (%d bytes) but the file has %d bytes after its header",
			name, t.records, t.recordSize, int64(t.records)*int64(t.recordSize), data)
	}
	desc := make([]byte, t.headerSize-32) // at most 64 KiB, checked against size above
	if _, err := io.ReadFull(r, desc); err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	off := 0
	for i := 0; ; i++ {
		if len(desc) == 0 {
			return nil, fmt.Errorf("%s: field descriptors do not end with 0x0D", name)
		}
		if desc[0] == 0x0D {
			break
		}
		if len(desc) < 32 {
			return nil, fmt.Errorf("%s: field %d: descriptor cut short by the end of the header", name, i+1)
		}
		d := desc[:32]
		desc = desc[32:]
		raw := d[:11]
		if k := bytes.IndexByte(raw, 0); k >= 0 {
			raw = raw[:k]
		}
		c := dbfColumn{rawName: bytes.TrimSpace(raw), typ: d[11], off: off, size: int(d[16])}
		switch c.typ {
		case 'C':
			// Clipper and shapelib keep the high byte of a long text
			// field's width where numbers keep their decimals.
			c.size += 256 * int(d[17])
		case 'N', 'F', 'L', 'D', 'M':
		default:
			return nil, fmt.Errorf("%s: field %q has type %q, which this reader does not support (C, N, F, L, D, M)", name, c.rawName, c.typ)
		}
		off += c.size
		t.columns = append(t.columns, c)
	}
	if 1+off > t.recordSize {
		return nil, fmt.Errorf("%s: fields add up to %d bytes, more than its %d-byte records", name, 1+off, t.recordSize)
	}
	return t, nil
}

// setEncoding decodes the column names with enc.
func (t *dbfTable) setEncoding(enc textEncoding) {
	for i := range t.columns {
		t.columns[i].name = enc.decode(t.columns[i].rawName)
	}
}

// dbfReader reads a table's records in order.
type dbfReader struct {
	t   *dbfTable
	r   io.Reader
	enc textEncoding
	buf []byte
	n   int // records read
}

func newDBFReader(t *dbfTable, r io.Reader, enc textEncoding) *dbfReader {
	return &dbfReader{t: t, r: r, enc: enc, buf: make([]byte, t.recordSize)}
}

// raw reads the next record's bytes; io.EOF after the last one.
func (d *dbfReader) raw() ([]byte, error) {
	if d.n == d.t.records {
		return nil, io.EOF
	}
	if _, err := io.ReadFull(d.r, d.buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: record %d: the file ends early", d.t.name, d.n+1)
		}
		return nil, fmt.Errorf("%s: record %d: %w", d.t.name, d.n+1, err)
	}
	d.n++
	return d.buf, nil
}

// next returns the next record's values by column name, or deleted true
// for a record marked deleted; io.EOF after the last one. Text is
// decoded with the reader's encoding; numbers become int64 or float64,
// logicals bool, dates time.Time (UTC), blanks nil. A number or date
// that does not parse is kept as its text, so that a mapped field reports
// it and an unmapped one keeps it.
func (d *dbfReader) next() (map[string]any, bool, error) {
	rec, err := d.raw()
	if err != nil {
		return nil, false, err
	}
	if rec[0] == '*' {
		return nil, true, nil
	}
	props := make(map[string]any, len(d.t.columns))
	for _, c := range d.t.columns {
		field := rec[1+c.off : 1+c.off+c.size]
		props[c.name] = d.value(c.typ, field)
	}
	return props, false, nil
}

func trimField(b []byte) []byte {
	if k := bytes.IndexByte(b, 0); k >= 0 {
		b = b[:k]
	}
	return bytes.TrimSpace(b)
}

func (d *dbfReader) value(typ byte, field []byte) any {
	b := trimField(field)
	switch typ {
	case 'C':
		return d.enc.decode(b)
	case 'N', 'F':
		s := string(b)
		if s == "" {
			return nil
		}
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return d.enc.decode(b)
	case 'L':
		if len(b) == 1 {
			switch b[0] {
			case 'T', 't', 'Y', 'y':
				return true
			case 'F', 'f', 'N', 'n':
				return false
			}
		}
		return nil
	case 'D':
		s := string(b)
		if s == "" || strings.Trim(s, "0") == "" {
			return nil
		}
		if t, err := time.Parse("20060102", s); err == nil {
			return t
		}
		return d.enc.decode(b)
	}
	return d.enc.decode(b) // M: the memo's block number
}
