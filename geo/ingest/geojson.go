package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Feature is a GeoJSON feature with its parts left undecoded, so that
// each reader decodes properties into what suits it.
type Feature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"` // a string or a number, or absent
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

// Geometry is a GeoJSON geometry with undecoded coordinates.
type Geometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// IsNull reports whether raw is absent or the JSON null.
func IsNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// errNotGeoJSON is returned when the top-level value is not a GeoJSON
// FeatureCollection or Feature.
var errNotGeoJSON = errors.New("not a GeoJSON FeatureCollection or Feature")

// StreamFeatures decodes a GeoJSON FeatureCollection (or a single Feature)
// from r one feature at a time, so files far larger than memory stream.
// fn gets the 1-based feature index, the feature, and a non-nil ferr when
// this feature's JSON was well formed but of the wrong shape (the stream
// goes on). A syntax error ends the stream with an error, as does an error
// returned by fn. A UTF-8 byte-order mark at the start (Windows editors
// and some GIS exports write one) is skipped.
func StreamFeatures(r io.Reader, fn func(i int, f *Feature, ferr error) error) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
	}
	dec := json.NewDecoder(br)
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return fmt.Errorf("empty input: %w", errNotGeoJSON)
		}
		return fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errNotGeoJSON
	}
	var (
		typ       string
		n         int
		sawArray  bool
		single    = map[string]json.RawMessage{}
		singleKey = map[string]bool{"id": true, "geometry": true, "properties": true}
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch {
		case key == "type":
			if err := dec.Decode(&typ); err != nil {
				return fmt.Errorf("type: %w", err)
			}
		case key == "features":
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			if tok == nil {
				continue // "features": null
			}
			if d, ok := tok.(json.Delim); !ok || d != '[' {
				return fmt.Errorf("features: not an array")
			}
			sawArray = true
			for dec.More() {
				n++
				var f Feature
				err := dec.Decode(&f)
				var te *json.UnmarshalTypeError
				switch {
				case errors.As(err, &te):
					err = fmt.Errorf("not a GeoJSON feature: %s has the wrong type", te.Field)
				case err != nil:
					return fmt.Errorf("feature %d: %w", n, err)
				case f.Type != "Feature":
					err = fmt.Errorf("not a GeoJSON feature (type %q)", f.Type)
				}
				if err := fn(n, &f, err); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return err
			}
		case singleKey[key]:
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			single[key] = raw
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return err
	}
	switch typ {
	case "FeatureCollection":
		return nil
	case "Feature":
		f := &Feature{Type: typ, ID: single["id"], Geometry: single["geometry"], Properties: single["properties"]}
		return fn(1, f, nil)
	case "":
		if sawArray {
			return nil // a bare {"features": [...]}: lenient
		}
	}
	return errNotGeoJSON
}
