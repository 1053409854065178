package export

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Field is one property of a layer's features and its JSON Schema type:
// "string", "integer", "number", "boolean", "array", "object", or
// "date-time" (a string holding an RFC 3339 time).
type Field struct {
	Name, Type string
}

// Fields reads the properties a feature encoder wrote in Describe mode
// (b is one feature), in their order.
func Fields(b []byte) ([]Field, error) {
	var f struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("export: fields: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(f.Properties))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("export: fields: properties are not an object")
	}
	var out []Field
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("export: fields: %w", err)
		}
		v, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("export: fields: %w", err)
		}
		typ, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("export: fields: %v: not written in Describe mode", k)
		}
		out = append(out, Field{Name: k.(string), Type: typ})
	}
	return out, nil
}

// MergeFields adds to fs the fields of more it lacks, in their order; a
// field that is an integer in one and a number in the other is a number.
func MergeFields(fs, more []Field) []Field {
	at := make(map[string]int, len(fs))
	for i, f := range fs {
		at[f.Name] = i
	}
	for _, f := range more {
		i, ok := at[f.Name]
		switch {
		case !ok:
			at[f.Name] = len(fs)
			fs = append(fs, f)
		case fs[i].Type == "integer" && f.Type == "number":
			fs[i].Type = "number"
		}
	}
	return fs
}

// ReportFields are the properties of ReportFeature, which writes them
// directly rather than through the property writer.
var ReportFields = []Field{
	{"id", "string"}, {"observed_at", "date-time"}, {"carrier", "string"}, {"tech", "string"},
	{"signal_dbm", "number"}, {"download_mbps", "number"}, {"no_service", "boolean"},
	{"source", "string"}, {"weak", "boolean"},
}
