package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gapmap/gapmap/geo"
)

// A member is one field of a report as a client writes it. val is a string,
// a num (a JSON number as written), a bool, nil (JSON null, an empty CSV
// cell) or a rawJSON (a JSON value no CSV cell can hold).
type member struct {
	name string
	val  any
}

type (
	num     string
	rawJSON string
)

// cellText is a member's value as a CSV cell.
func cellText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case num:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	panic(fmt.Sprintf("no CSV cell for %T", v))
}

// jsonValue writes a member's value as JSON. Strings are quoted by hand so
// that bytes that are not UTF-8 stay as they are, as a careless client
// would send them.
func jsonValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case string:
		b.WriteByte('"')
		for i := 0; i < len(x); i++ {
			switch c := x[i]; {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20:
				fmt.Fprintf(b, `\u%04x`, c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	case num:
		b.WriteString(string(x))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case nil:
		b.WriteString("null")
	case rawJSON:
		b.WriteString(string(x))
	default:
		panic(fmt.Sprintf("no JSON for %T", v))
	}
}

func jsonObject(ms []member) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		jsonValue(&b, m.name)
		b.WriteByte(':')
		jsonValue(&b, m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// isPosition tells the members a GeoJSON Feature gives as its geometry.
// It lists the names itself rather than asking the code under test.
func isPosition(name string) (lon, ok bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "lat", "latitude":
		return false, true
	case "lon", "longitude", "lng":
		return true, true
	}
	return false, false
}

// feature is ms as a GeoJSON Feature: the position members as a Point's
// coordinates (only those given, so a missing lat leaves one), the rest as
// properties.
func feature(ms []member) []byte {
	var lon, lat []member
	var props []member
	for _, m := range ms {
		if isLon, ok := isPosition(m.name); ok {
			if s, isStr := m.val.(string); isStr {
				if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
					m.val = num(strings.TrimSpace(s)) // coordinates are numbers
				}
			}
			if isLon {
				lon = append(lon, m)
			} else {
				lat = append(lat, m)
			}
			continue
		}
		props = append(props, m)
	}
	var b bytes.Buffer
	b.WriteString(`{"type":"Feature","geometry":{"type":"Point","coordinates":[`)
	for i, m := range append(lon, lat...) {
		if i > 0 {
			b.WriteByte(',')
		}
		jsonValue(&b, m.val)
	}
	b.WriteString(`]},"properties":`)
	b.Write(jsonObject(props))
	b.WriteByte('}')
	return b.Bytes()
}

// csvFile is ms as a CSV header and one row.
func csvFile(ms []member, comma rune) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = comma
	header := make([]string, len(ms))
	row := make([]string, len(ms))
	for i, m := range ms {
		header[i], row[i] = m.name, cellText(m.val)
	}
	w.Write(header)
	w.Write(row)
	w.Flush()
	return b.Bytes()
}

// outcome is what one path made of a report.
type outcome struct {
	rep    *geo.Report
	errors geo.FieldErrors
}

// fields are the fields the errors name, sorted, each once.
func (o outcome) fields() []string {
	var fs []string
	for _, e := range o.errors {
		fs = append(fs, e.Field)
	}
	slices.Sort(fs)
	return slices.Compact(fs)
}

func fromDecoder(rep geo.Report, err error) outcome {
	if err != nil {
		return outcome{errors: geo.AsFieldErrors(err)}
	}
	return outcome{rep: &rep}
}

func fromFile(t *testing.T, in []byte, f Format) outcome {
	t.Helper()
	var reps []*geo.Report
	sum, err := ReadReports(context.Background(), bytes.NewReader(in), f, ReportOptions{Now: testNow}, func(_ int, r *geo.Report) error {
		reps = append(reps, r)
		return nil
	})
	switch {
	case err != nil && !errors.Is(err, geo.ErrInvalid):
		t.Fatalf("%v: %v\n%s", f, err, in)
	case err != nil:
		return outcome{errors: geo.AsFieldErrors(err)} // the header
	case sum.Read != 1:
		t.Fatalf("%v: read %d reports, want 1: %+v\n%s", f, sum.Read, sum, in)
	case len(reps) == 1:
		return outcome{rep: reps[0]}
	}
	for _, e := range sum.Errors {
		if e.Row != 1 {
			t.Errorf("%v: error %v is not on row 1", f, e)
		}
	}
	return outcome{errors: sum.Errors}
}

// sameReport compares reports field by field; times must be the same
// instant with the same offset.
func sameReport(a, b *geo.Report) bool {
	_, oa := a.ObservedAt.Zone()
	_, ob := b.ObservedAt.Zone()
	if !a.ObservedAt.Equal(b.ObservedAt) || oa != ob {
		return false
	}
	ac, bc := *a, *b
	ac.ObservedAt, bc.ObservedAt = time.Time{}, time.Time{}
	return reflect.DeepEqual(ac, bc)
}

// TestSpellingsAgree feeds one report, spelt many ways, through every way a
// report arrives — a POST body (JSON object or GeoJSON Feature), a CSV file
// (comma or semicolon) and a GeoJSON file — and checks that they agree: the
// same report when accepted, the same fields named when refused.
func TestSpellingsAgree(t *testing.T) {
	ict := time.FixedZone("", 7*3600)
	base := []member{
		{"id", "r1"}, {"lat", num("10.5")}, {"lon", num("106.1")},
		{"observed_at", "2025-07-01T08:30:00+07:00"}, {"carrier", "viettel"}, {"tech", "4G"},
		{"signal_dbm", num("-110")}, {"download_mbps", num("1.5")}, {"upload_mbps", num("0.4")},
		{"no_service", false}, {"source", "team"}, {"reporter", "Tổ CNS ấp 3"},
		{"note", "Sóng yếu ở cuối ấp Bình Thạnh"},
	}
	baseRep := geo.Report{
		ID: "r1", Lat: 10.5, Lon: 106.1, ObservedAt: time.Date(2025, 7, 1, 8, 30, 0, 0, ict),
		Carrier: geo.Viettel, Tech: geo.Tech4G, SignalDBm: fp(-110), DownloadMbps: fp(1.5), UploadMbps: fp(0.4),
		Source: geo.SourceTeam, Reporter: "Tổ CNS ấp 3", Note: "Sóng yếu ở cuối ấp Bình Thạnh",
	}
	// set replaces the member named name (or appends one); rename renames
	// it; drop removes it.
	type edit func([]member) []member
	set := func(name string, v any) edit {
		return func(ms []member) []member {
			for i := range ms {
				if ms[i].name == name {
					ms[i].val = v
					return ms
				}
			}
			return append(ms, member{name, v})
		}
	}
	rename := func(from, to string) edit {
		return func(ms []member) []member {
			for i := range ms {
				if ms[i].name == from {
					ms[i].name = to
				}
			}
			return ms
		}
	}
	drop := func(name string) edit {
		return func(ms []member) []member {
			return slices.DeleteFunc(ms, func(m member) bool { return m.name == name })
		}
	}
	upper := func(ms []member) []member {
		for i := range ms {
			ms[i].name = strings.ToUpper(ms[i].name)
		}
		return ms
	}
	type change func(*geo.Report)
	tests := []struct {
		name  string
		edits []edit
		want  change   // the base report changed so; nil for the base itself
		bad   []string // fields refused (in a flat body or CSV)
		// badFeature, when set, are those a GeoJSON Feature refuses.
		badFeature []string
		reason     string // part of the errors' text, on every path
		jsonOnly   bool   // a JSON type no CSV cell can hold
		// commaOnly leaves out the semicolon file, whose decimal comma
		// is its own rule.
		commaOnly bool
	}{
		{name: "canonical names"},
		{name: "latitude and longitude", edits: []edit{rename("lat", "latitude"), rename("lon", "longitude")}},
		{name: "lng", edits: []edit{rename("lon", "lng")}},
		{name: "names in upper case", edits: []edit{upper}},
		{name: "names with spaces and mixed case", edits: []edit{rename("signal_dbm", " Signal_dBm "), rename("observed_at", "Observed_At")}},
		{name: "lat and lon as strings", edits: []edit{set("lat", "10.5"), set("lon", " 106.1 ")}},
		{name: "numbers as strings", edits: []edit{set("signal_dbm", "-110"), set("download_mbps", "1.5")}},
		{name: "carrier label", edits: []edit{set("carrier", "Viettel")}},
		{name: "carrier shouting", edits: []edit{set("carrier", "VIETTEL")}},
		{name: "carrier short name", edits: []edit{set("carrier", "vtl")}},
		{name: "MCC-MNC with a dash", edits: []edit{set("carrier", "452-04")}},
		{name: "MCC-MNC with a space", edits: []edit{set("carrier", "452 04")}},
		{name: "MCC-MNC as a string", edits: []edit{set("carrier", "45204")}},
		{name: "MCC-MNC as a number", edits: []edit{set("carrier", num("45204"))}},
		{name: "Viettel's second MNC", edits: []edit{set("carrier", "452-08")}},
		{name: "vnpt", edits: []edit{set("carrier", "vnpt")}, want: func(r *geo.Report) { r.Carrier = geo.VinaPhone }},
		{name: "MCC-MNC of VinaPhone", edits: []edit{set("carrier", num("45202"))}, want: func(r *geo.Report) { r.Carrier = geo.VinaPhone }},
		{name: "mobi", edits: []edit{set("carrier", "mobi")}, want: func(r *geo.Report) { r.Carrier = geo.MobiFone }},
		{name: "vnmobile", edits: []edit{set("carrier", "vnmobile")}, want: func(r *geo.Report) { r.Carrier = geo.Vietnamobile }},
		{name: "tech LTE", edits: []edit{set("tech", "lte")}},
		{name: "tech NR", edits: []edit{set("tech", "NR")}, want: func(r *geo.Report) { r.Tech = geo.Tech5G }},
		{name: "tech WCDMA", edits: []edit{set("tech", "wcdma")}, want: func(r *geo.Report) { r.Tech = geo.Tech3G }},
		{name: "tech none", edits: []edit{set("tech", "none"), drop("signal_dbm")}, want: func(r *geo.Report) { r.Tech, r.SignalDBm = geo.TechNone, nil }},
		{name: "tech empty", edits: []edit{set("tech", "")}, want: func(r *geo.Report) { r.Tech = geo.TechUnknown }},
		{name: "source drive-test", edits: []edit{set("source", "drive-test")}, want: func(r *geo.Report) { r.Source = geo.SourceDriveTest }},
		{name: "no_service có", edits: []edit{set("no_service", "có")}, want: func(r *geo.Report) { r.NoService = true }},
		{name: "no_service CÓ", edits: []edit{set("no_service", "CÓ")}, want: func(r *geo.Report) { r.NoService = true }},
		{name: "no_service có decomposed", edits: []edit{set("no_service", "co\u0301")}, want: func(r *geo.Report) { r.NoService = true }},
		{name: "no_service không", edits: []edit{set("no_service", "không")}},
		{name: "no_service Không decomposed", edits: []edit{set("no_service", "Kho\u0302ng")}},
		{name: "no_service true", edits: []edit{set("no_service", true)}, want: func(r *geo.Report) { r.NoService = true }},
		{name: "no_service TRUE string", edits: []edit{set("no_service", "TRUE")}, want: func(r *geo.Report) { r.NoService = true }},
		{name: "no_service 1", edits: []edit{set("no_service", num("1"))}, want: func(r *geo.Report) { r.NoService = true }},
		{name: "no_service 1 string", edits: []edit{set("no_service", "1")}, want: func(r *geo.Report) { r.NoService = true }},
		{name: "no_service yes", edits: []edit{set("no_service", "yes")}, want: func(r *geo.Report) { r.NoService = true }},
		{name: "no_service y", edits: []edit{set("no_service", "y")}, want: func(r *geo.Report) { r.NoService = true }},
		{name: "no_service t", edits: []edit{set("no_service", "t")}, want: func(r *geo.Report) { r.NoService = true }},
		{name: "no_service 0", edits: []edit{set("no_service", num("0"))}},
		{name: "no_service no", edits: []edit{set("no_service", "no")}},
		{name: "no_service empty", edits: []edit{set("no_service", "")}},
		{name: "no_service null", edits: []edit{set("no_service", nil)}},
		{name: "no_service left out", edits: []edit{drop("no_service")}},
		{name: "time without offset is Vietnam time", edits: []edit{set("observed_at", "2025-07-01T08:30:00")}},
		{name: "time with a space", edits: []edit{set("observed_at", "2025-07-01 08:30:00")}},
		{name: "time with offset without colon", edits: []edit{set("observed_at", "2025-07-01T08:30:00+0700")}},
		{name: "time in UTC", edits: []edit{set("observed_at", "2025-07-01T01:30:00Z")},
			want: func(r *geo.Report) { r.ObservedAt = time.Date(2025, 7, 1, 1, 30, 0, 0, time.UTC) }},
		{name: "time in lower case", edits: []edit{set("observed_at", "2025-07-01t01:30:00z")},
			want: func(r *geo.Report) { r.ObservedAt = time.Date(2025, 7, 1, 1, 30, 0, 0, time.UTC) }},
		{name: "time with fraction", edits: []edit{set("observed_at", "2025-07-01T08:30:00.25+07:00")},
			want: func(r *geo.Report) { r.ObservedAt = time.Date(2025, 7, 1, 8, 30, 0, 250e6, ict) }},
		{name: "note with quotes, comma, semicolon and newline", edits: []edit{set("note", "Mất sóng, gần UBND xã; \"Cái Nước\"\nấp 3")},
			want: func(r *geo.Report) { r.Note = "Mất sóng, gần UBND xã; \"Cái Nước\"\nấp 3" }},
		{name: "note decomposed kept byte for byte", edits: []edit{set("note", "a\u0302\u0301p Bi\u0300nh Tha\u0323nh")},
			want: func(r *geo.Report) { r.Note = "a\u0302\u0301p Bi\u0300nh Tha\u0323nh" }},
		{name: "note spaces kept, reporter and id trimmed", edits: []edit{set("note", "  ghi chú  "), set("reporter", " Tổ CNS ấp 3 "), set("id", " r1 ")},
			want: func(r *geo.Report) { r.Note = "  ghi chú  " }},
		{name: "optional numbers null", edits: []edit{set("signal_dbm", nil), set("download_mbps", ""), drop("upload_mbps")},
			want: func(r *geo.Report) { r.SignalDBm, r.DownloadMbps, r.UploadMbps = nil, nil, nil }},

		{name: "misspelt signal with no_service có", edits: []edit{rename("signal_dbm", "singal_dbm"), set("no_service", "có")},
			bad: []string{"singal_dbm"}, reason: "unknown field (did you mean signal_dbm?)"},
		{name: "misspelt in mixed case", edits: []edit{rename("observed_at", "Obsreved_At")},
			bad: []string{"observed_at", "obsreved_at"}, reason: "obsreved_at: unknown field (did you mean observed_at?)"},
		{name: "signal without unit", edits: []edit{rename("signal_dbm", "signal")},
			bad: []string{"signal"}, reason: "unknown field (did you mean signal_dbm?)"},
		{name: "unknown field far from any", edits: []edit{set("colour", "red")}, bad: []string{"colour"}, reason: "unknown field"},
		{name: "carrier twice", edits: []edit{set("CARRIER", "mobifone")}, bad: []string{"carrier"}, reason: "given twice"},
		{name: "missing lat", edits: []edit{drop("lat")}, bad: []string{"lat"}, badFeature: []string{"geometry.coordinates"}},
		{name: "lat not a number", edits: []edit{set("lat", "abc")}, bad: []string{"lat"}, badFeature: []string{"geometry.coordinates"}},
		{name: "lon out of range", edits: []edit{set("lon", num("200"))}, bad: []string{"lon"}, reason: "must be between -180 and 180"},
		{name: "lat out of range", edits: []edit{set("lat", num("95"))}, bad: []string{"lat"}, reason: "must be between -90 and 90"},
		{name: "missing carrier", edits: []edit{set("carrier", "")}, bad: []string{"carrier"}},
		{name: "unknown carrier", edits: []edit{set("carrier", "sfone")}, bad: []string{"carrier"}, reason: `unknown carrier "sfone"`},
		{name: "carrier all", edits: []edit{set("carrier", "all")}, bad: []string{"carrier"}},
		{name: "unknown tech", edits: []edit{set("tech", "6G")}, bad: []string{"tech"}, reason: `unknown technology "6G"`},
		{name: "no_service maybe", edits: []edit{set("no_service", "maybe")}, bad: []string{"no_service"}, reason: "not a boolean"},
		{name: "no_service 2", edits: []edit{set("no_service", num("2"))}, bad: []string{"no_service"}, reason: "not a boolean"},
		{name: "no_service 1.0", edits: []edit{set("no_service", num("1.0"))}, bad: []string{"no_service"}, reason: "not a boolean"},
		{name: "no_service co without its accent", edits: []edit{set("no_service", "co")}, bad: []string{"no_service"}},
		{name: "time not RFC 3339", edits: []edit{set("observed_at", "01/07/2025 08:30")}, bad: []string{"observed_at"}, reason: "not an RFC 3339 time"},
		{name: "date only", edits: []edit{set("observed_at", "2025-07-01")}, bad: []string{"observed_at"}},
		{name: "time in the future", edits: []edit{set("observed_at", "2030-01-01T00:00:00+07:00")}, bad: []string{"observed_at"}, reason: "in the future"},
		{name: "time missing", edits: []edit{set("observed_at", nil)}, bad: []string{"observed_at"}, reason: "required"},
		{name: "signal NaN", edits: []edit{set("signal_dbm", "NaN")}, bad: []string{"signal_dbm"}, reason: "not a finite number"},
		{name: "signal out of range", edits: []edit{set("signal_dbm", num("-10"))}, bad: []string{"signal_dbm"}, reason: "must be between"},
		{name: "signal 1e999", edits: []edit{set("signal_dbm", num("1e999"))}, bad: []string{"signal_dbm"}, reason: "not a finite number"},
		{name: "decimal comma in a comma file", edits: []edit{set("download_mbps", "1,5")}, bad: []string{"download_mbps"}, reason: "not a number", commaOnly: true},
		{name: "note not UTF-8", edits: []edit{set("note", "S\xf3ng y\xea\xfa")}, bad: []string{"note"}, reason: "not valid UTF-8"},
		{name: "two problems", edits: []edit{set("lon", num("200")), set("tech", "6G")}, bad: []string{"lon", "tech"}},

		{name: "note a number", edits: []edit{set("note", num("5"))}, bad: []string{"note"}, reason: "must be a string", jsonOnly: true},
		{name: "signal a boolean", edits: []edit{set("signal_dbm", true)}, bad: []string{"signal_dbm"}, reason: "must be a number", jsonOnly: true},
		{name: "carrier an object", edits: []edit{set("carrier", rawJSON(`{"name":"viettel"}`))}, bad: []string{"carrier"}, reason: "not a string, number or boolean", jsonOnly: true},
		{name: "tech an array", edits: []edit{set("tech", rawJSON(`["4G"]`))}, bad: []string{"tech"}, reason: "not a string, number or boolean", jsonOnly: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms := slices.Clone(base)
			for _, e := range tc.edits {
				ms = e(ms)
			}
			body, feat := jsonObject(ms), feature(ms)
			type path struct {
				name    string
				feature bool // the position is a geometry
				out     outcome
			}
			paths := []path{
				{"POST JSON", false, fromDecoder(DecodeReport(body, testNow))},
				{"POST Feature", true, fromDecoder(DecodeReportFeature(feat, testNow))},
				{"GeoJSON file", true, fromFile(t, []byte(`{"type":"FeatureCollection","features":[`+string(feat)+`]}`), FormatGeoJSON)},
			}
			if !tc.jsonOnly {
				paths = append(paths, path{"CSV", false, fromFile(t, csvFile(ms, ','), FormatCSV)})
				if !tc.commaOnly {
					paths = append(paths, path{"CSV;", false, fromFile(t, csvFile(ms, ';'), FormatCSV)})
				}
			}
			for _, p := range paths {
				got := p.out
				if tc.bad == nil {
					want := baseRep
					if tc.want != nil {
						tc.want(&want)
					}
					if got.rep == nil {
						t.Errorf("%s: refused: %v", p.name, got.errors)
					} else if !sameReport(got.rep, &want) {
						t.Errorf("%s:\ngot  %s\nwant %s", p.name, fmtReport(got.rep), fmtReport(&want))
					}
					continue
				}
				wantFields := tc.bad
				if p.feature && tc.badFeature != nil {
					wantFields = tc.badFeature
				}
				if got.rep != nil {
					t.Errorf("%s: accepted %s, want %v refused", p.name, fmtReport(got.rep), wantFields)
					continue
				}
				if f := got.fields(); !slices.Equal(f, wantFields) {
					t.Errorf("%s: refused %v (%v), want %v", p.name, f, got.errors, wantFields)
					continue
				}
				if tc.reason != "" && !strings.Contains(got.errors.Error(), tc.reason) {
					t.Errorf("%s: %v, want …%s…", p.name, got.errors, tc.reason)
				}
				for _, e := range got.errors {
					if !utf8.ValidString(e.Reason) && !strings.Contains(tc.name, "UTF-8") {
						t.Errorf("%s: reason not UTF-8: %q", p.name, e.Reason)
					}
				}
			}
		})
	}
}

// TestFeatureReports covers what only a GeoJSON Feature has: its geometry,
// its own id and its foreign members, as a POST body and in a file alike.
func TestFeatureReports(t *testing.T) {
	const props = `"observed_at":"2025-07-01T08:30:00+07:00","carrier":"viettel"`
	const point = `{"type":"Point","coordinates":[106.1,10.5]}`
	tests := []struct {
		name   string
		feat   string
		wantID string   // when accepted
		bad    []string // fields refused
	}{
		{"Feature id", `{"type":"Feature","id":"f1","geometry":` + point + `,"properties":{` + props + `}}`, "f1", nil},
		{"Feature id a number is a GIS row number, left out", `{"type":"Feature","id":7,"geometry":` + point + `,"properties":{` + props + `}}`, "", nil},
		{"properties id wins", `{"type":"Feature","id":7,"geometry":` + point + `,"properties":{"id":"r1",` + props + `}}`, "r1", nil},
		{"Feature id a boolean", `{"type":"Feature","id":true,"geometry":` + point + `,"properties":{` + props + `}}`, "", []string{"id"}},
		{"no id", `{"type":"Feature","geometry":` + point + `,"properties":{` + props + `}}`, "", nil},
		{"foreign members", `{"type":"Feature","bbox":[106.1,10.5,106.1,10.5],"title":"x","geometry":` + point + `,"properties":{` + props + `}}`, "", nil},
		{"altitude", `{"type":"Feature","geometry":{"type":"Point","coordinates":[106.1,10.5,3]},"properties":{` + props + `}}`, "", nil},
		{"lat property", `{"type":"Feature","geometry":` + point + `,"properties":{"lat":10.5,` + props + `}}`, "", []string{"lat"}},
		{"Latitude property", `{"type":"Feature","geometry":` + point + `,"properties":{"Latitude":10.5,` + props + `}}`, "", []string{"latitude"}},
		{"misspelt lat property gets no position suggestion", `{"type":"Feature","geometry":` + point + `,"properties":{"lattitude":10.5,` + props + `}}`, "", []string{"lattitude"}},
		{"properties null", `{"type":"Feature","geometry":` + point + `,"properties":null}`, "", []string{"carrier", "observed_at"}},
		{"properties an array", `{"type":"Feature","geometry":` + point + `,"properties":[1]}`, "", []string{"properties"}},
		{"no geometry", `{"type":"Feature","properties":{` + props + `}}`, "", []string{"geometry"}},
		{"line", `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{` + props + `}}`, "", []string{"geometry"}},
		{"string coordinates", `{"type":"Feature","geometry":{"type":"Point","coordinates":["106.1",10.5]},"properties":{` + props + `}}`, "", []string{"geometry.coordinates"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, out := range []struct {
				path string
				outcome
			}{
				{"POST Feature", fromDecoder(DecodeReportFeature([]byte(tc.feat), testNow))},
				{"GeoJSON file", fromFile(t, []byte(`{"type":"FeatureCollection","features":[`+tc.feat+`]}`), FormatGeoJSON)},
			} {
				switch {
				case tc.bad == nil && out.rep == nil:
					t.Errorf("%s: refused: %v", out.path, out.errors)
				case tc.bad == nil && out.rep.ID != tc.wantID:
					t.Errorf("%s: id %q, want %q", out.path, out.rep.ID, tc.wantID)
				case tc.bad != nil && out.rep != nil:
					t.Errorf("%s: accepted, want %v refused", out.path, tc.bad)
				case tc.bad != nil && !slices.Equal(out.fields(), tc.bad):
					t.Errorf("%s: refused %v (%v), want %v", out.path, out.fields(), out.errors, tc.bad)
				}
				for _, e := range out.errors {
					if strings.Contains(e.Reason, "did you mean lat") {
						t.Errorf("%s: %v suggests a position property", out.path, e)
					}
				}
			}
		})
	}
}

func TestDecodeReportBody(t *testing.T) {
	tests := []struct {
		name, body string
		field      string // the one field refused; "" when accepted
	}{
		{"object", `{"lat":10.5,"lon":106.1,"observed_at":"2025-07-01T08:30:00+07:00","carrier":"viettel"}`, ""},
		{"surrounding space", " \n{\"lat\":10.5,\"lon\":106.1,\"observed_at\":\"2025-07-01T08:30:00+07:00\",\"carrier\":\"viettel\"}\n", ""},
		{"empty", ``, "body"},
		{"malformed", `{"lat":`, "body"},
		{"an array", `[{}]`, "body"},
		{"null", `null`, "body"},
		{"data after", `{"lat":10.5,"lon":106.1,"observed_at":"2025-07-01T08:30:00+07:00","carrier":"viettel"} {}`, "body"},
		{"same name twice", `{"lat":10.5,"lat":10.6,"lon":106.1,"observed_at":"2025-07-01T08:30:00+07:00","carrier":"viettel"}`, "lat"},
		{"a Feature sent as JSON", `{"type":"Feature","geometry":null,"properties":{}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeReport([]byte(tc.body), testNow)
			es := geo.AsFieldErrors(err)
			switch {
			case tc.name == "a Feature sent as JSON":
				// Every member is unknown and the fields are missing.
				got := outcome{errors: es}.fields()
				if want := []string{"carrier", "geometry", "lat", "lon", "observed_at", "properties", "type"}; !slices.Equal(got, want) {
					t.Errorf("got %v, want %v named", err, want)
				}
			case tc.field == "" && err != nil:
				t.Errorf("got %v", err)
			case tc.field != "" && (len(es) != 1 || es[0].Field != tc.field):
				t.Errorf("got %v, want one error naming %s", err, tc.field)
			case err != nil && !errors.Is(err, geo.ErrInvalid):
				t.Errorf("%v does not match geo.ErrInvalid", err)
			}
		})
	}
}

func TestSuggestField(t *testing.T) {
	tests := []struct {
		name       string
		noPosition bool
		want       string
	}{
		{"singal_dbm", false, "signal_dbm"},
		{"signal", false, "signal_dbm"},
		{"observed", false, "observed_at"},
		{"obseved_at", false, "observed_at"},
		{"carier", false, "carrier"},
		{"noservice", false, "no_service"},
		{"dowload_mbps", false, "download_mbps"},
		{"lattitude", false, "latitude"},
		{"lattitude", true, ""},
		{"lan", false, "lat"},
		{"nte", false, "note"},
		{"colour", false, ""},
		{"reporter_name", false, ""},
		{"x", false, ""},
		{"", false, ""},
		{strings.Repeat("a", 100), false, ""},
	}
	for _, tc := range tests {
		if got := suggestField(tc.name, tc.noPosition); got != tc.want {
			t.Errorf("suggestField(%q, %v) = %q, want %q", tc.name, tc.noPosition, got, tc.want)
		}
	}
}
