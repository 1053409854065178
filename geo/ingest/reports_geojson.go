package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/gapmap/gapmap/geo"
)

// readReportsGeoJSON reads GeoJSON Point features from r into s (see
// ReadReports).
func readReportsGeoJSON(r io.Reader, s *reportSink) error {
	p := newReportParser(s.opt.Now)
	err := StreamFeatures(r, func(row int, f *Feature, ferr error) error {
		if ferr != nil {
			return s.take(row, nil, geo.FieldErrors{{Field: "feature", Reason: ferr.Error()}})
		}
		rep, es := p.feature(f, nil)
		return s.take(row, rep, es)
	})
	if err != nil {
		return fmt.Errorf("ingest: reports: %w", err)
	}
	return nil
}

// DecodePoint decodes a GeoJSON Point geometry into lon, lat; the reason
// is set when raw is not one.
func DecodePoint(raw json.RawMessage) ([2]float64, string) {
	pos, _, reason := decodePoint(raw)
	return pos, reason
}

// JSONScalarText returns a JSON scalar as text: a string's contents, a
// number's digits, "true"/"false", "" for null or absent. ok is false for
// objects, arrays and malformed strings.
func JSONScalarText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", true
	}
	switch raw[0] {
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 && len(raw) >= 2 {
			return string(raw[1 : len(raw)-1]), true
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case 'n':
		return "", true
	case 't', 'f':
		return string(raw), true
	case '{', '[':
		return "", false
	}
	if _, err := strconv.ParseFloat(string(raw), 64); err != nil && !isRangeErr(err) {
		return "", false
	}
	return string(raw), true
}
