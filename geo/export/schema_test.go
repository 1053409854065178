package export

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/gapmap/gapmap/geo"
)

// TestFieldsMatchFeatures: for every feature encoder, Describe mode names
// the same properties in the same order as the features it writes, each
// with the type of the value written: integers without a decimal point,
// numbers with one, and so on.
func TestFieldsMatchFeatures(t *testing.T) {
	areas, scores := fixtureAreas(), fixtureScores()
	holes, teams := fixtureHoles(), fixtureTeams()
	un := geo.Unobserved{Carrier: geo.CarrierAll, AreaKm2: 1.5, Cells: 3}
	cases := map[string]func(IDMember) []byte{
		"area": func(m IDMember) []byte {
			b, err := AreaFeature(nil, m, &scores[0], &areas[scores[0].Index])
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		"hole":       func(m IDMember) []byte { return HoleFeature(nil, m, &holes[0]) },
		"outline":    func(m IDMember) []byte { return HoleOutlineFeature(nil, m, &holes[0]) },
		"team":       func(m IDMember) []byte { return TeamFeature(nil, m, &teams[0]) },
		"unobserved": func(m IDMember) []byte { return UnobservedFeature(nil, m, &un) },
		"report": func(m IDMember) []byte {
			o := geo.Obs{Lon: 106.1, Lat: 10.5, At: 1756000000, Carrier: geo.Viettel, Tech: geo.Tech4G, SignalDBm: -101.5, DownMbps: 2.5}
			return ReportFeature(nil, "r-1", &o)
		},
	}
	for name, enc := range cases {
		var fields []Field
		if name == "report" {
			fields = ReportFields
		} else {
			var err error
			if fields, err = Fields(enc(Describe)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		keys, values := propsOf(t, enc(WithID))
		if len(keys) != len(fields) {
			t.Errorf("%s: %d properties written, %d described", name, len(keys), len(fields))
			continue
		}
		for i, f := range fields {
			if f.Name != keys[i] {
				t.Errorf("%s: property %d is %q, described as %q", name, i, keys[i], f.Name)
			}
			if v := values[i]; !typeFits(f.Type, v) {
				t.Errorf("%s.%s: value %s does not fit type %s", name, f.Name, v, f.Type)
			}
		}
	}
}

// propsOf returns the keys and raw values of a feature's properties.
func propsOf(t *testing.T, b []byte) ([]string, []json.RawMessage) {
	t.Helper()
	var f struct{ Properties json.RawMessage }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(f.Properties))
	dec.Token()
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		k, _ := dec.Token()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		keys, vals = append(keys, k.(string)), append(vals, v)
	}
	return keys, vals
}

func typeFits(typ string, v json.RawMessage) bool {
	s := string(v)
	if s == "null" {
		return true
	}
	switch typ {
	case "string", "date-time":
		return s[0] == '"'
	case "integer":
		return s[0] == '-' || s[0] >= '0' && s[0] <= '9' && !bytes.ContainsAny(v, ".eE")
	case "number":
		return (s[0] == '-' || s[0] >= '0' && s[0] <= '9') && bytes.ContainsAny(v, ".eE")
	case "boolean":
		return s == "true" || s == "false"
	case "array":
		return s[0] == '['
	case "object":
		return s[0] == '{'
	}
	return false
}
