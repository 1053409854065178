package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// ictZone is Vietnam time (UTC+7, no daylight saving), the zone of an
// observed_at given without one, as in report files.
var ictZone = time.FixedZone("+07", 7*3600)

// mediaType returns the request's media type, lower-cased, without
// parameters ("" when absent or malformed).
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

// readBody reads the whole body through the size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
}

// reportField decodes one JSON member into r.
type reportField func(r *geo.Report, raw json.RawMessage) string

var reportFields = map[string]reportField{
	"id":            strField(func(r *geo.Report, v string) string { r.ID = v; return "" }),
	"lat":           numField(func(r *geo.Report, v *float64) { r.Lat = deref(v) }, true),
	"lon":           numField(func(r *geo.Report, v *float64) { r.Lon = deref(v) }, true),
	"signal_dbm":    numField(func(r *geo.Report, v *float64) { r.SignalDBm = v }, false),
	"download_mbps": numField(func(r *geo.Report, v *float64) { r.DownloadMbps = v }, false),
	"upload_mbps":   numField(func(r *geo.Report, v *float64) { r.UploadMbps = v }, false),
	"observed_at": strField(func(r *geo.Report, v string) string {
		t, ok := parseTime(v)
		if !ok {
			return "not an RFC 3339 time such as 2025-07-01T08:30:00+07:00"
		}
		r.ObservedAt = t
		return ""
	}),
	"carrier": func(r *geo.Report, raw json.RawMessage) string {
		var s string
		if len(raw) > 0 && (raw[0] >= '0' && raw[0] <= '9') {
			s = string(raw) // an MCC-MNC code as a number: 45204
		} else if err := json.Unmarshal(raw, &s); err != nil {
			return "must be a string"
		}
		c, err := geo.ParseCarrier(s)
		if err != nil {
			return err.Error()
		}
		r.Carrier = c
		return ""
	},
	"tech": strField(func(r *geo.Report, v string) string {
		t, err := geo.ParseTech(v)
		if err != nil {
			return err.Error()
		}
		r.Tech = t
		return ""
	}),
	"source": strField(func(r *geo.Report, v string) string {
		x, err := geo.ParseSource(v)
		if err != nil {
			return err.Error()
		}
		r.Source = x
		return ""
	}),
	"reporter": strField(func(r *geo.Report, v string) string { r.Reporter = v; return "" }),
	"note":     strField(func(r *geo.Report, v string) string { r.Note = v; return "" }),
	"no_service": func(r *geo.Report, raw json.RawMessage) string {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return "must be true or false"
		}
		switch x := v.(type) {
		case nil:
			r.NoService = false
		case bool:
			r.NoService = x
		case float64:
			if x != 0 && x != 1 {
				return "must be true or false"
			}
			r.NoService = x == 1
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "1", "yes", "y":
				r.NoService = true
			case "false", "0", "no", "n", "":
				r.NoService = false
			default:
				return "must be true or false"
			}
		default:
			return "must be true or false"
		}
		return ""
	},
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// strField decodes a JSON string (null is "").
func strField(set func(*geo.Report, string) string) reportField {
	return func(r *geo.Report, raw json.RawMessage) string {
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "must be a string"
		}
		if s == nil {
			return set(r, "")
		}
		return set(r, *s)
	}
}

// numField decodes a JSON number or a string holding one; null is nil,
// which a required field rejects.
func numField(set func(*geo.Report, *float64), required bool) reportField {
	return func(r *geo.Report, raw json.RawMessage) string {
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return "must be a number"
		}
		var text string
		switch x := v.(type) {
		case nil:
			if required {
				return "required"
			}
			set(r, nil)
			return ""
		case json.Number:
			text = string(x)
		case string:
			text = strings.TrimSpace(x)
			if text == "" {
				if required {
					return "required"
				}
				set(r, nil)
				return ""
			}
		default:
			return "must be a number"
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return "out of range"
			}
			return "not a number"
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return "not a finite number"
		}
		set(r, &f)
		return ""
	}
}

// parseTime accepts RFC 3339, with a space for the T, and a time without
// a zone as Vietnam time.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, ictZone); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// decodeObject decodes a JSON object strictly into its members, naming
// the problem when the input is not one object.
func decodeObject(b []byte, what string) (map[string]json.RawMessage, geo.FieldErrors) {
	d := json.NewDecoder(bytes.NewReader(b))
	var m map[string]json.RawMessage
	if err := d.Decode(&m); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, geo.FieldErrors{{Field: what, Reason: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}}
		case errors.As(err, &te):
			return nil, geo.FieldErrors{{Field: what, Reason: "must be a JSON object"}}
		case errors.Is(err, io.EOF):
			return nil, geo.FieldErrors{{Field: what, Reason: "empty"}}
		}
		return nil, geo.FieldErrors{{Field: what, Reason: "malformed JSON: " + err.Error()}}
	}
	if m == nil {
		return nil, geo.FieldErrors{{Field: what, Reason: "must be a JSON object"}}
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, geo.FieldErrors{{Field: what, Reason: "data after the JSON value"}}
	}
	return m, nil
}

// decodeReportFields fills r from an object's members; unknown members
// and values of the wrong type are errors naming the member, after prefix.
func decodeReportFields(r *geo.Report, m map[string]json.RawMessage, prefix string) geo.FieldErrors {
	var es geo.FieldErrors
	for _, k := range sortedKeys(m) {
		f, ok := reportFields[k]
		if !ok {
			es = append(es, &geo.FieldError{Field: prefix + k, Reason: "unknown field"})
			continue
		}
		if reason := f(r, m[k]); reason != "" {
			es = append(es, &geo.FieldError{Field: prefix + k, Reason: reason})
		}
	}
	return es
}

// decodeReportJSON decodes a report object with the CSV column names.
func decodeReportJSON(b []byte) (geo.Report, geo.FieldErrors) {
	r := geo.Report{Lat: math.NaN(), Lon: math.NaN()}
	m, es := decodeObject(b, "body")
	if es != nil {
		return r, es
	}
	es = decodeReportFields(&r, m, "")
	for _, k := range []string{"lat", "lon"} {
		if _, ok := m[k]; !ok {
			es = append(es, &geo.FieldError{Field: k, Reason: "required"})
		}
	}
	return r, es
}

// decodeReportFeature decodes a GeoJSON Feature with a Point geometry and
// the report's fields as properties.
func decodeReportFeature(b []byte) (geo.Report, geo.FieldErrors) {
	r := geo.Report{Lat: math.NaN(), Lon: math.NaN()}
	m, es := decodeObject(b, "body")
	if es != nil {
		return r, es
	}
	add := func(field, reason string) { es = append(es, &geo.FieldError{Field: field, Reason: reason}) }
	for _, k := range sortedKeys(m) {
		switch k {
		case "type", "geometry", "properties", "id", "bbox":
		default:
			add(k, "unknown member of a Feature")
		}
	}
	var typ string
	if err := json.Unmarshal(m["type"], &typ); err != nil || typ != "Feature" {
		add("type", `must be "Feature"`)
	}
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if raw, ok := m["geometry"]; !ok || string(raw) == "null" {
		add("geometry", "required: a Point")
	} else if err := json.Unmarshal(raw, &g); err != nil || g.Type != "Point" {
		add("geometry", "must be a Point")
	} else {
		var c []json.RawMessage
		if err := json.Unmarshal(g.Coordinates, &c); err != nil || len(c) < 2 || len(c) > 3 {
			add("geometry.coordinates", "must be [lon, lat]")
		} else {
			for i, k := range []string{"lon", "lat"} {
				var f float64
				if err := json.Unmarshal(c[i], &f); err != nil {
					add("geometry.coordinates", k+" must be a number")
					continue
				}
				if k == "lon" {
					r.Lon = f
				} else {
					r.Lat = f
				}
			}
		}
	}
	if raw, ok := m["properties"]; ok && string(raw) != "null" {
		pm, pes := decodeObject(raw, "properties")
		if pes != nil {
			es = append(es, pes...)
		} else {
			for _, k := range []string{"lat", "lon"} {
				if _, ok := pm[k]; ok {
					add("properties."+k, "give the position as the geometry")
					delete(pm, k)
				}
			}
			es = append(es, decodeReportFields(&r, pm, "")...)
		}
	}
	if raw, ok := m["id"]; ok && r.ID == "" {
		var id string
		if err := json.Unmarshal(raw, &id); err != nil {
			add("id", "must be a string")
		}
		r.ID = id
	}
	return r, es
}

func sortedKeys(m map[string]json.RawMessage) []string {
	return slices.Sorted(maps.Keys(m)) // a stable order of errors
}
