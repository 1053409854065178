package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/gapmap/gapmap/geo"
)

// jsonKind says which JSON types a report field's value may have. null is
// always the field left out.
type jsonKind uint8

const (
	kindString jsonKind = iota // a string
	kindNumber                 // a number, or a string holding one
	kindCode                   // a string or a number (a carrier's MCC-MNC code)
	kindBool                   // a boolean, or a number or string parseBool takes
)

var reportFieldKinds = [numReportFields]jsonKind{
	fID: kindString, fLat: kindNumber, fLon: kindNumber, fObservedAt: kindString,
	fCarrier: kindCode, fTech: kindString, fSignal: kindNumber, fDown: kindNumber,
	fUp: kindNumber, fNoService: kindBool, fSource: kindString, fReporter: kindString,
	fNote: kindString,
}

// reasonNotScalar is the problem of an object or array where a report field
// is expected.
const reasonNotScalar = "not a string, number or boolean"

// jsonText returns the text of a JSON value of kind k as a CSV cell would
// hold it: a string's contents, a number's digits as written, "true" or
// "false"; "" for null or absent. reason is set when the value's type does
// not suit k. raw must be well-formed JSON.
func jsonText(k jsonKind, raw json.RawMessage) (text, reason string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", ""
	}
	switch raw[0] {
	case 'n':
		return "", ""
	case '{', '[':
		return "", reasonNotScalar
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			// As written, so that bytes that are not UTF-8 reach parse,
			// which names them as a CSV reader would.
			return string(raw[1 : len(raw)-1]), ""
		}
		if !utf8.Valid(raw) {
			return "", "not valid UTF-8 text (save the file as UTF-8)"
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", "must be a string"
		}
		return s, ""
	case 't', 'f':
		if k == kindBool {
			return string(raw), ""
		}
	default: // a number
		if k != kindString {
			return string(raw), ""
		}
	}
	switch k {
	case kindNumber:
		return "", "must be a number"
	case kindCode:
		return "", "must be a string or a number"
	}
	return "", "must be a string"
}

// decodeMembers fills vals with the text of the report fields in obj, a
// well-formed JSON object, matching names as a CSV header is matched. It
// returns the fields that have a problem and the problems: a name that is
// no field, a field given twice, a value of the wrong type, and in a
// GeoJSON Feature's properties (inFeature) a position, which belongs in the
// geometry.
func decodeMembers(obj json.RawMessage, inFeature bool, vals *[numReportFields]string) (fieldSet, geo.FieldErrors) {
	var (
		skip fieldSet
		es   geo.FieldErrors
		seen [numReportFields]string // the name each field was given as
	)
	bad := func(f int, reason string) {
		es = append(es, &geo.FieldError{Field: reportFieldNames[f], Reason: reason})
		skip |= 1 << f
	}
	d := json.NewDecoder(bytes.NewReader(obj))
	if _, err := d.Token(); err != nil { // '{'
		return allFields, geo.FieldErrors{{Field: "properties", Reason: "malformed JSON: " + err.Error()}}
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return allFields, append(es, &geo.FieldError{Field: "properties", Reason: "malformed JSON: " + err.Error()})
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return allFields, append(es, &geo.FieldError{Field: key, Reason: "malformed JSON: " + err.Error()})
		}
		name := normName(key)
		f, ok := lookupReportField(name)
		switch {
		case !ok:
			es = append(es, unknownFieldError(name, inFeature))
		case inFeature && positionFields.has(f):
			es = append(es, &geo.FieldError{Field: name, Reason: "give the position as the geometry"})
		case seen[f] == name:
			bad(f, "given twice")
		case seen[f] != "":
			bad(f, fmt.Sprintf("given twice (as %s and %s)", seen[f], name))
		default:
			seen[f] = name
			text, reason := jsonText(reportFieldKinds[f], raw)
			if reason != "" {
				bad(f, reason)
				continue
			}
			vals[f] = text
		}
	}
	return skip, es
}

// decodeBody checks that b is one JSON object and nothing more, naming the
// problem (as field "body") when it is not.
func decodeBody(b []byte) (json.RawMessage, geo.FieldErrors) {
	d := json.NewDecoder(bytes.NewReader(b))
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, geo.FieldErrors{{Field: "body", Reason: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)}}
		case errors.Is(err, io.EOF):
			return nil, geo.FieldErrors{{Field: "body", Reason: "empty"}}
		}
		return nil, geo.FieldErrors{{Field: "body", Reason: "malformed JSON: " + err.Error()}}
	}
	if raw[0] != '{' {
		return nil, geo.FieldErrors{{Field: "body", Reason: "must be a JSON object"}}
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, geo.FieldErrors{{Field: "body", Reason: "data after the JSON value"}}
	}
	return raw, nil
}

// DecodeReport decodes one report given as a JSON object whose members are
// the report's fields, named and spelt as the columns of a CSV file (see
// ReadReports): lat and lon are numbers (or strings holding one), carrier a
// string or an MCC-MNC number, no_service a boolean, 0/1 or any of the
// CSV spellings, the other fields strings; null is a field left out. The
// report is checked with geo.Report.Validate against now (time.Now() when
// zero). The error is a geo.FieldErrors naming every problem: "body" when
// b is not one JSON object, else the field (a member that is no field is
// named as given, lower-cased, with the closest field name when one is
// close).
func DecodeReport(b []byte, now time.Time) (geo.Report, error) {
	obj, es := decodeBody(b)
	if es != nil {
		return geo.Report{}, es
	}
	var vals [numReportFields]string
	skip, es := decodeMembers(obj, false, &vals)
	r, es := newReportParser(orNow(now)).parse(&vals, nil, skip, es)
	if len(es) > 0 {
		return geo.Report{}, es
	}
	return *r, nil
}

// DecodeReportFeature decodes one report given as a GeoJSON Feature: a
// Point geometry (lon, lat in EPSG:4326) and the other fields as
// properties, as in a GeoJSON file read by ReadReports. The Feature's own
// id is the report's when the properties have none. Errors are as for
// DecodeReport, with "type", "geometry", "geometry.coordinates" and
// "properties" naming problems of the Feature itself.
func DecodeReportFeature(b []byte, now time.Time) (geo.Report, error) {
	obj, es := decodeBody(b)
	if es != nil {
		return geo.Report{}, es
	}
	var f Feature
	if err := json.Unmarshal(obj, &f); err != nil {
		f.Type = "" // only "type" can have the wrong type
	}
	if f.Type != "Feature" {
		es = append(es, &geo.FieldError{Field: "type", Reason: `must be "Feature"`})
	}
	r, es := newReportParser(orNow(now)).feature(&f, es)
	if len(es) > 0 {
		return geo.Report{}, es
	}
	return *r, nil
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// feature decodes the report of one GeoJSON Feature, after the problems es
// a reader already found in it.
func (p *reportParser) feature(f *Feature, es geo.FieldErrors) (*geo.Report, geo.FieldErrors) {
	var skip fieldSet
	pos, field, reason := decodePoint(f.Geometry)
	if reason != "" {
		es = append(es, &geo.FieldError{Field: field, Reason: reason})
		skip |= positionFields
	}
	var vals [numReportFields]string
	switch props := bytes.TrimSpace(f.Properties); {
	case IsNull(props):
	case props[0] != '{':
		es = append(es, &geo.FieldError{Field: "properties", Reason: "must be a JSON object"})
		skip |= allFields &^ positionFields
	default:
		s, pes := decodeMembers(props, true, &vals)
		skip |= s
		es = append(es, pes...)
	}
	// RFC 7946 §3.2: a Feature's id is a string or a number. A number is
	// left out: GIS programs number the features they export (QGIS, GDAL
	// write 0, 1, 2, …), and taking those as report ids would make a
	// second export of other reports collide with the first.
	if fid := bytes.TrimSpace(f.ID); len(fid) > 0 && (fid[0] == '-' || fid[0] >= '0' && fid[0] <= '9') {
		f.ID = nil
	}
	if !IsNull(f.ID) && !skip.has(fID) && vals[fID] == "" {
		id, reason := jsonText(kindCode, f.ID)
		if reason != "" {
			es = append(es, &geo.FieldError{Field: "id", Reason: reason})
			skip |= 1 << fID
		}
		vals[fID] = id
	}
	return p.parse(&vals, &pos, skip, es)
}

// decodePoint decodes a GeoJSON Point geometry into lon, lat; field and
// reason name the problem when it is not one.
func decodePoint(raw json.RawMessage) (pos [2]float64, field, reason string) {
	if IsNull(raw) {
		return pos, "geometry", "missing"
	}
	var g Geometry
	if err := json.Unmarshal(raw, &g); err != nil {
		return pos, "geometry", "not a GeoJSON geometry object"
	}
	if g.Type != "Point" {
		if g.Type == "" {
			return pos, "geometry", "geometry has no type"
		}
		return pos, "geometry", fmt.Sprintf("%s is not a Point", g.Type)
	}
	var c []float64
	if err := json.Unmarshal(g.Coordinates, &c); err != nil || len(c) < 2 || c[0] != c[0] || c[1] != c[1] {
		return pos, "geometry.coordinates", "Point coordinates are not [lon, lat]"
	}
	return [2]float64{c[0], c[1]}, "", ""
}
