// Package export writes the engine's results as files people open in
// QGIS, Google Earth and spreadsheets: GeoJSON, CSV, KML, XLSX and a
// JSON summary. The gap list's columns are defined once (GapColumns,
// GapRow), for its CSV, XLSX and, in package data/gpkg, GeoPackage.
//
// Output is deterministic: properties come in a fixed order, map keys are
// sorted, and numbers are rounded, so the same analysis gives the same
// bytes. NaN and infinite numbers, which the engine uses for "unknown",
// are written as null (JSON) or an empty cell (CSV). Text is written as
// UTF-8 without HTML escaping, so Vietnamese names stay readable.
package export

import (
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// flushAt is the buffered size at which a writer hands its bytes on.
const flushAt = 32 << 10

// writer collects output in a byte slice and passes it to w in chunks,
// keeping the first error. It implements io.Writer so encoding/xml can
// escape into it.
type writer struct {
	w   io.Writer
	buf []byte
	err error
}

func newWriter(w io.Writer) *writer {
	return &writer{w: w, buf: make([]byte, 0, 4096)}
}

// Write appends p; it never fails, errors surface from flush.
func (w *writer) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *writer) str(s string) { w.buf = append(w.buf, s...) }

// maybeFlush passes the buffer on once it is large.
func (w *writer) maybeFlush() {
	if len(w.buf) >= flushAt {
		w.flush()
	}
}

// flush passes the buffer on and returns the first error seen.
func (w *writer) flush() error {
	if w.err == nil && len(w.buf) > 0 {
		_, w.err = w.w.Write(w.buf)
	}
	w.buf = w.buf[:0]
	return w.err
}

// pow10 holds the scales used for rounding.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7}

// roundTo rounds v to prec decimals; values too large to scale exactly
// are returned as they are.
func roundTo(v float64, prec int) float64 {
	if math.Abs(v) < 1e8 {
		p := pow10[prec]
		v = math.Round(v*p) / p
	}
	if v == 0 {
		return 0 // no "-0"
	}
	return v
}

// appendNum appends v rounded to prec decimals without trailing zeros, or
// null when v is NaN or infinite.
func appendNum(b []byte, v float64, prec int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	if math.Abs(v) < 1e8 {
		return appendFixed(b, int64(math.Round(v*pow10[prec])), prec)
	}
	return strconv.AppendFloat(b, roundTo(v, prec), 'f', -1, 64)
}

// appendFixed appends m/10^prec in decimal without trailing zeros. For
// m = round(v·10^prec), |v| < 1e8, that is what AppendFloat(roundTo(v,
// prec), 'f', -1) writes: the quotient is the double nearest the
// decimal, and below 1e8 doubles are less than a sixth of 10^−prec
// apart, so no other decimal of prec digits or fewer comes as near. It
// skips the search for the shortest digits, a third of the cost of
// encoding an area (TestAppendNumMatchesAppendFloat).
func appendFixed(b []byte, m int64, prec int) []byte {
	if m < 0 {
		b = append(b, '-')
		m = -m
	}
	scale := int64(pow10[prec])
	b = strconv.AppendInt(b, m/scale, 10)
	frac := m % scale
	if frac == 0 {
		return b
	}
	var d [7]byte
	for i := prec - 1; i >= 0; i-- {
		d[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := prec
	for d[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, d[:n]...)
}

// Decimals of the numbers written.
const (
	precCoord = 7 // lon/lat: about 1 cm
	precValue = 6
)

// formatNum is appendNum for CSV: the empty string for NaN/Inf.
func formatNum(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return string(appendNum(nil, v, prec))
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Unlike encoding/json's default
// it does not escape <, > and &, and it writes non-ASCII text as UTF-8.
// Invalid UTF-8 becomes U+FFFD; U+2028 and U+2029 are escaped so the
// output is also valid JavaScript.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
