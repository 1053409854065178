package export

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/geo"
)

// collectionOf joins features as the collection writers do.
func collectionOf(features [][]byte) []byte {
	b := []byte(`{"type":"FeatureCollection","features":[`)
	for i, f := range features {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = append(b, f...)
	}
	if len(features) > 0 {
		b = append(b, '\n')
	}
	return append(b, "]}\n"...)
}

// TestCollectionsAreJoinsOfFeatures: each GeoJSON file is its features,
// encoded one at a time, joined.
func TestCollectionsAreJoinsOfFeatures(t *testing.T) {
	out := outputs(t)
	var areas, holes, teams, cells [][]byte
	as := fixtureAreas()
	for _, s := range fixtureScores() {
		if s.Index >= 0 {
			f, err := AreaFeature(nil, NoID, &s, &as[s.Index])
			if err != nil {
				t.Fatal(err)
			}
			areas = append(areas, f)
		}
	}
	for _, h := range fixtureHoles() {
		holes = append(holes, HoleFeature(nil, NoID, &h))
	}
	for _, tm := range fixtureTeams() {
		teams = append(teams, TeamFeature(nil, NoID, &tm))
	}
	for _, c := range fixtureCells() {
		cells = append(cells, CellFeature(nil, &c))
	}
	for name, fs := range map[string][][]byte{"areas.geojson": areas, "holes.geojson": holes, "teams.geojson": teams, "cells.geojson": cells} {
		if got := collectionOf(fs); !bytes.Equal(got, out[name]) {
			t.Errorf("%s: the joined features differ from the file:\n%s\nwant\n%s", name, got, out[name])
		}
	}
	if got := collectionOf(nil); !bytes.Equal(got, mustWrite(t, func(b *bytes.Buffer) error { return WriteHolesGeoJSON(b, nil) })) {
		t.Errorf("empty collection %q", got)
	}
}

func mustWrite(t *testing.T, write func(*bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestFeatureID: WithID adds the identifier as the feature's id member
// and changes nothing else; appending keeps what was there.
func TestFeatureID(t *testing.T) {
	as, ss, hs, ts := fixtureAreas(), fixtureScores(), fixtureHoles(), fixtureTeams()
	cases := []struct {
		name, id string
		enc      func(b []byte, id IDMember) []byte
	}{
		{"area", ss[0].Code, func(b []byte, id IDMember) []byte {
			b, err := AreaFeature(b, id, &ss[0], &as[ss[0].Index])
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
		{"hole", hs[1].ID, func(b []byte, id IDMember) []byte { return HoleFeature(b, id, &hs[1]) }},
		{"hole outline", hs[1].ID, func(b []byte, id IDMember) []byte { return HoleOutlineFeature(b, id, &hs[1]) }},
		{"team", ts[0].ID, func(b []byte, id IDMember) []byte { return TeamFeature(b, id, &ts[0]) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plain := tc.enc(nil, NoID)
			with := tc.enc([]byte("prefix"), WithID)
			if !bytes.HasPrefix(with, []byte("prefix")) {
				t.Fatalf("the bytes appended to are lost: %.40s", with)
			}
			with = with[len("prefix"):]
			q, _ := json.Marshal(tc.id)
			member := `"id":` + string(q) + `,`
			head := `{"type":"Feature",`
			if want := head + member + string(plain[len(head):]); string(with) != want {
				t.Errorf("with id:\n%s\nwant\n%s", with, want)
			}
			var f struct {
				ID any `json:"id"`
			}
			if err := json.Unmarshal(with, &f); err != nil || f.ID != tc.id {
				t.Errorf("id %v, err %v; want %q", f.ID, err, tc.id)
			}
		})
	}
}

// TestHoleOutlineFeature: a hole's outline feature has the full
// feature's geometry and, of its properties, only those that say where
// the hole is, with the same values.
func TestHoleOutlineFeature(t *testing.T) {
	for _, h := range fixtureHoles() {
		var full, outline struct {
			Geometry   json.RawMessage
			Properties map[string]any
		}
		if err := json.Unmarshal(HoleFeature(nil, NoID, &h), &full); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(HoleOutlineFeature(nil, NoID, &h), &outline); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(full.Geometry, outline.Geometry) {
			t.Errorf("%s: outline geometry %s, want %s", h.ID, outline.Geometry, full.Geometry)
		}
		want := []string{"area_codes", "area_km2", "area_names", "carrier", "id", "state"}
		var got []string
		for k, v := range outline.Properties {
			got = append(got, k)
			if fv, ok := full.Properties[k]; !ok || !reflect.DeepEqual(fv, v) {
				t.Errorf("%s: %s = %v, the full feature's %v", h.ID, k, v, fv)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: outline properties %v, want %v", h.ID, got, want)
		}
	}
}

// TestAreaFeatureError: a property JSON cannot hold fails the feature and
// leaves the buffer as it was.
func TestAreaFeatureError(t *testing.T) {
	as, ss := fixtureAreas(), fixtureScores()
	a := as[ss[0].Index]
	a.Props = map[string]any{"bad": make(chan int)}
	b, err := AreaFeature([]byte("kept"), WithID, &ss[0], &a)
	if err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("err = %v, want one naming the property", err)
	}
	if string(b) != "kept" {
		t.Errorf("buffer %q after the error, want %q", b, "kept")
	}
}

// TestAppendIDMatchesEncodingJSON: identifiers are written as
// encoding/json writes strings, whatever they hold.
func TestAppendIDMatchesEncodingJSON(t *testing.T) {
	for _, id := range []string{"", "r-0123abcd", "H1", "a<b>&c", "q\"\\\n\t\x01\b\f", "Ấp 1", "bad\xffbyte", "line\u2028sep", "viettel-8a65b1"} {
		want, _ := json.Marshal(id)
		if got := appendID(nil, id); !bytes.Equal(got, want) {
			t.Errorf("appendID(%q) = %s, want %s", id, got, want)
		}
	}
}

func TestReportFeature(t *testing.T) {
	o := geo.Obs{Lon: 105.1234567, Lat: 10.5, At: 1751328000, Carrier: geo.Viettel, Tech: geo.Tech4G,
		SignalDBm: -121, DownMbps: float32(math.NaN()), Flags: geo.FlagWeak, Source: geo.SourceTeam}
	got := string(ReportFeature([]byte("x"), "r-<1>", &o))
	want := `x{"type":"Feature","id":"r-\u003c1\u003e","geometry":{"type":"Point","coordinates":[105.1234567,10.5]},` +
		`"properties":{"id":"r-\u003c1\u003e","observed_at":"2025-07-01T00:00:00Z","carrier":"viettel","tech":"4G",` +
		`"signal_dbm":-121.0,"download_mbps":null,"no_service":false,"source":"team","weak":true}}`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestHoleLife: a hole with a registry state carries it in its feature,
// its gap-list row and its placemark; one without has none of it.
func TestHoleLife(t *testing.T) {
	h := geo.Hole{ID: "h-1", Carrier: geo.Viettel, Rank: 1, MedianSignalDBm: math.NaN(),
		Life: geo.HoleLife{State: geo.StatePlanned, AnswerDue: "2026-12-02", FixDue: "2027-03-01", Overdue: true,
			Cause: geo.CauseNoPower, Funding: geo.FundPowerFirst}}
	var f struct{ Properties map[string]any }
	if err := json.Unmarshal(HoleFeature(nil, NoID, &h), &f); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"state": "planned", "answer_due": "2026-12-02", "fix_due": "2027-03-01", "overdue": true,
		"lead_carrier": nil, "cause": "no_power", "funding": "power_first"}
	for k, v := range want {
		if got, ok := f.Properties[k]; !ok || got != v {
			t.Errorf("property %s = %v, want %v", k, got, v)
		}
	}
	var csv bytes.Buffer
	if err := WriteGapsCSV(&csv, []geo.Hole{h}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSpace(csv.String()), ",planned,2026-12-02,2027-03-01,true,no_power,power_first") {
		t.Errorf("gap list row:\n%s", csv.String())
	}
	var kml bytes.Buffer
	if err := WriteGapsKML(&kml, geo.Viettel, []geo.Hole{h}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<Data name="state"><displayName>Trạng thái</displayName><value>planned</value></Data>`,
		`<Data name="answer_due"><displayName>Hạn trả lời</displayName><value>2026-12-02</value></Data>`,
		`<Data name="overdue"><displayName>Quá hạn</displayName><value>true</value></Data>`,
		"<b>Trạng thái</b>: Có kế hoạch<br>",
		"<b>Hạn trả lời</b>: 02/12/2026<br>",
		"<b>Hạn khắc phục</b>: 01/03/2027<br>",
		"<b>Quá hạn</b>: Có<br>",
		"<b>Nguyên nhân</b>: Chưa có điện lưới<br>",
		"<b>Nguồn kinh phí</b>: Cần có điện lưới trước<br>",
	} {
		if !strings.Contains(kml.String(), want) {
			t.Errorf("placemark lacks %s:\n%s", want, kml.String())
		}
	}
	// A hole no registry named (analyze's) is open, with no deadlines.
	h.Life = geo.HoleLife{}
	if b := HoleFeature(nil, NoID, &h); !bytes.Contains(b, []byte(`"state":"open"`)) || bytes.Contains(b, []byte(`"answer_due"`)) {
		t.Errorf("a hole without a registry state: %s", b)
	}
}

// TestAppendNumMatchesAppendFloat checks that appendNum writes what
// strconv.AppendFloat writes for the rounded value, at every precision,
// over coordinates, signals, shares, halves at the rounding edge and
// numbers at every magnitude up to and past 1e8.
func TestAppendNumMatchesAppendFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var vals []float64
	for range 200000 {
		vals = append(vals,
			100+rng.Float64()*10, // longitudes
			-rng.Float64()*140,   // signal levels
			rng.Float64(),        // shares
			math.Pow(10, rng.Float64()*10-2)*float64(1-2*rng.IntN(2)), // any magnitude, either sign
			float64(rng.IntN(2000000))/2e6,                            // halves at the rounding edge
		)
	}
	vals = append(vals, 0, math.Copysign(0, -1), -1e-9, 1e-9, 0.5, -0.5, 99999999.99999999, 1e8, -1e8, 123456789.123, 5e-8, -5e-8, 4.9999999e-8)
	for prec := range len(pow10) {
		for _, v := range vals {
			want := strconv.AppendFloat(nil, roundTo(v, prec), 'f', -1, 64)
			if got := appendNum(nil, v, prec); string(got) != string(want) {
				t.Fatalf("appendNum(%v, %d) = %s, AppendFloat gives %s", v, prec, got, want)
			}
		}
	}
}
