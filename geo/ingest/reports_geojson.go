package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/gapmap/gapmap/geo"
)

// reportProps holds a report feature's properties undecoded, so that
// strings, numbers and booleans can all be read as text and parsed like
// CSV fields.
type reportProps struct {
	ID           json.RawMessage `json:"id"`
	ObservedAt   json.RawMessage `json:"observed_at"`
	Carrier      json.RawMessage `json:"carrier"`
	Tech         json.RawMessage `json:"tech"`
	SignalDBm    json.RawMessage `json:"signal_dbm"`
	DownloadMbps json.RawMessage `json:"download_mbps"`
	UploadMbps   json.RawMessage `json:"upload_mbps"`
	NoService    json.RawMessage `json:"no_service"`
	Source       json.RawMessage `json:"source"`
	Reporter     json.RawMessage `json:"reporter"`
	Note         json.RawMessage `json:"note"`
}

// readReportsGeoJSON reads GeoJSON Point features from r into s (see
// ReadReports).
func readReportsGeoJSON(r io.Reader, s *reportSink) error {
	p := newReportParser(s.opt.Now)
	err := StreamFeatures(r, func(row int, f *Feature, ferr error) error {
		if ferr != nil {
			return s.take(row, nil, geo.FieldErrors{{Field: "feature", Reason: ferr.Error()}})
		}
		var es geo.FieldErrors
		lonLat, reason := DecodePoint(f.Geometry)
		if reason != "" {
			es = append(es, &geo.FieldError{Field: "geometry", Reason: reason})
		}
		var props reportProps
		var vals [numReportFields]string
		if !IsNull(f.Properties) {
			if err := json.Unmarshal(f.Properties, &props); err != nil {
				es = append(es, &geo.FieldError{Field: "properties", Reason: "not a JSON object of strings, numbers and booleans"})
			}
		}
		for _, c := range []struct {
			f   int
			raw json.RawMessage
		}{
			{fID, props.ID}, {fObservedAt, props.ObservedAt}, {fCarrier, props.Carrier},
			{fTech, props.Tech}, {fSignal, props.SignalDBm}, {fDown, props.DownloadMbps},
			{fUp, props.UploadMbps}, {fNoService, props.NoService}, {fSource, props.Source},
			{fReporter, props.Reporter}, {fNote, props.Note},
		} {
			v, ok := JSONScalarText(c.raw)
			if !ok {
				es = append(es, &geo.FieldError{Field: reportFieldNames[c.f], Reason: "not a string, number or boolean"})
				continue
			}
			vals[c.f] = v
		}
		if len(es) > 0 {
			return s.take(row, nil, es)
		}
		rep, pes := p.parse(&vals, &lonLat)
		return s.take(row, rep, pes)
	})
	if err != nil {
		return fmt.Errorf("ingest: reports: %w", err)
	}
	return nil
}

// DecodePoint decodes a GeoJSON Point geometry into lon, lat.
func DecodePoint(raw json.RawMessage) ([2]float64, string) {
	if IsNull(raw) {
		return [2]float64{}, "missing"
	}
	var g Geometry
	if err := json.Unmarshal(raw, &g); err != nil {
		return [2]float64{}, "not a GeoJSON geometry object"
	}
	if g.Type != "Point" {
		if g.Type == "" {
			return [2]float64{}, "geometry has no type"
		}
		return [2]float64{}, fmt.Sprintf("%s is not a Point", g.Type)
	}
	var c []float64
	if err := json.Unmarshal(g.Coordinates, &c); err != nil || len(c) < 2 {
		return [2]float64{}, "Point coordinates are not [lon, lat]"
	}
	if math.IsNaN(c[0]) || math.IsNaN(c[1]) {
		return [2]float64{}, "Point coordinates are not [lon, lat]"
	}
	return [2]float64{c[0], c[1]}, ""
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
