package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	nameHamlet  = "Ấp Bình Hòa"
	nameWard    = "Khu phố 3, Phường Tân An"
	nameFormula = "=HYPERLINK(\"http://x\";\"Ấp 1\")"
)

func square(lon, lat, d float64) orb.Ring {
	return orb.Ring{{lon, lat}, {lon + d, lat}, {lon + d, lat + d}, {lon, lat + d}, {lon, lat}}
}

func fixtureAreas() []geo.Area {
	return []geo.Area{
		{
			Code: "89001", Name: nameHamlet, ParentCode: "890", Level: geo.LevelHamlet, Vintage: "2025",
			Population: 1200, Households: 310,
			Geometry: orb.MultiPolygon{{square(105.1, 10.3, 0.01)}},
			Props: map[string]any{
				"code":     "ignored, already written",
				"source":   "khảo sát <2024> & đo",
				"đơn_vị":   "Xã Tân Phú",
				"verified": true,
				"score":    math.NaN(),
				"tags":     []string{"a", "b"},
			},
		},
		{
			Code: "89002", Name: nameWard, ParentCode: "890", Level: geo.LevelHamlet, Vintage: "2025",
			Population: 3000,
			Geometry: orb.MultiPolygon{
				{square(105.2, 10.3, 0.02), square(105.205, 10.305, 0.005)},
				{square(105.3, 10.3, 0.01)},
			},
		},
	}
}

func fixtureScores() []geo.AreaScore {
	return []geo.AreaScore{
		{
			Code: "89001", Name: nameHamlet, ParentCode: "890", Level: geo.LevelHamlet, Index: 0,
			LandKm2: 1.2345678, Population: 1200, Households: 310,
			Reports: 40, Weak: 12, WeakShare: 0.3, WeakLow: 0.1791234567,
			Carriers: []geo.CarrierStats{
				{Carrier: geo.Viettel, Reports: 30, Weak: 10, WeakShare: 1.0 / 3, WeakLow: 0.19, MedianSignalDBm: -112.5, HoleKm2: 0.4, HoleShare: 0.324},
				{Carrier: geo.MobiFone, Reports: 10, Weak: 2, WeakShare: 0.2, WeakLow: 0.05, MedianSignalDBm: math.NaN()},
			},
			HoleKm2: 0.4, HoleShare: 0.324, DeadKm2: 0.1, DeadShare: 0.081,
			PopulationAffected: 250.123456789, HouseholdsAffected: 64.6,
			Reach:  geo.TeamReach{Teams: 1, Members: 6, MembersPer1000HH: 19.35483870967742, HouseholdsReached: 120, ReachedShare: 0.3870967741935484, NearestTeamKm: 0.8},
			Action: geo.ActionCarrier, Priority: 12.3456789, Rank: 1,
		},
		{
			Code: "89002", Name: nameWard, ParentCode: "890", Level: geo.LevelHamlet, Index: 1,
			LandKm2: 6.5, Population: 3000, Households: 833, HouseholdsEstimated: true,
			Reach:  geo.TeamReach{MembersPer1000HH: 0, NearestTeamKm: math.NaN(), Low: true},
			Action: geo.ActionTeam, Rank: 2,
		},
		{
			Code: "890", Name: "Xã Tân Phú", Level: geo.LevelCommune, Index: -1, Children: 2,
			Population: 4200, Households: 1143, Reach: geo.TeamReach{NearestTeamKm: math.NaN()},
			Action: geo.ActionBoth, Rank: 1,
		},
	}
}

func fixtureHoles() []geo.Hole {
	t0 := time.Date(2025, 3, 1, 8, 30, 0, 0, time.FixedZone("ICT", 7*3600))
	return []geo.Hole{
		{
			ID: "viettel-8a65b1", Carrier: geo.Viettel,
			Geometry: orb.MultiPolygon{{square(105.1, 10.3, 0.004)}},
			Centroid: orb.Point{105.102, 10.302}, AreaKm2: 0.1912345678, Cells: 3,
			Areas:      []geo.AreaRef{{Code: "89001", Name: nameHamlet, Km2: 0.19}},
			Population: 80.5, Households: 22.36111111, Reports: 14, Weak: 11, Reporters: 5,
			WeakShare: 0.7857142857, WeakLow: 0.52, MedianSignalDBm: -118,
			FirstObserved: t0, LastObserved: t0.Add(36 * time.Hour),
			Severity: 0.8, Confidence: 0.9, Priority: 16.1, Rank: 1,
		},
		{
			ID: "-all-77c0", Carrier: geo.CarrierAll,
			Geometry: orb.MultiPolygon{
				{square(105.2, 10.3, 0.02), square(105.205, 10.305, 0.005)},
				{square(105.3, 10.3, 0.01)},
			},
			Centroid: orb.Point{105.23456789, 10.31}, AreaKm2: 4.5, Cells: 20,
			Areas: []geo.AreaRef{
				{Code: "@89003", Name: nameFormula, Km2: 3},
				{Code: "89002", Name: nameWard, Km2: 1.5},
			},
			Population: 500, Households: 139, Reports: 9, Weak: 9, Reporters: 2,
			WeakShare: 1, WeakLow: 0.7, MedianSignalDBm: math.NaN(),
			Severity: 1, Confidence: 0.5, Priority: 69.5, Rank: 2,
		},
	}
}

func fixtureTeams() []geo.TeamOut {
	return []geo.TeamOut{
		{Team: geo.Team{ID: "T1", Name: "Tổ công nghệ số " + nameHamlet, AreaCode: "89001", Members: 6, HouseholdsReached: 120, Lat: 10.305, Lon: 105.105, HasLocation: true}, Area: 0, AreaName: nameHamlet},
		{Team: geo.Team{ID: "T2", Name: "Tổ CNS khu phố 3", AreaCode: "89002", Members: 4}, Area: 1, AreaName: nameWard},
	}
}

func fixtureCells() []geo.CellStat {
	return []geo.CellStat{
		{Cell: index.CellAt(105.105, 10.305, 8), Carrier: geo.Viettel, Reports: 9, Weak: 7, WeakLow: 0.45, Reporters: 3, Days: 2, MedianSignalDBm: -117, Children: 3},
		{Cell: index.CellAt(105.215, 10.315, 8), Carrier: geo.CarrierAll, Reports: 2, Weak: 2, WeakLow: 0.34, Reporters: 1, Days: 1, MedianSignalDBm: math.NaN(), Children: 1},
	}
}

func fixtureSummary() any {
	s := fixtureScores()
	return map[string]any{
		"version": "test",
		"summary": geo.Summary{
			Areas: 2, Reports: 49, Weak: 21, Teams: 2,
			Holes:         map[string]int{"viettel": 1, "all": 1},
			HoleKm2:       map[string]float64{"viettel": 0.19, "all": math.Inf(1)},
			Actions:       map[geo.Action]int{geo.ActionCarrier: 1, geo.ActionTeam: 1},
			FirstObserved: time.Date(2025, 3, 1, 1, 30, 0, 0, time.UTC),
		},
		"rollups": s[2:],
		"area":    s[0],
		"config":  geo.DefaultConfig(),
		"note":    nameHamlet + " <&>",
		"nothing": nil,
	}
}

// outputs renders every writer over the fixtures.
func outputs(t *testing.T) map[string][]byte {
	t.Helper()
	holes := fixtureHoles()
	writers := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"areas.geojson", func(w io.Writer) error { return WriteAreasGeoJSON(w, fixtureAreas(), fixtureScores()) }},
		{"holes.geojson", func(w io.Writer) error { return WriteHolesGeoJSON(w, holes) }},
		{"teams.geojson", func(w io.Writer) error { return WriteTeamsGeoJSON(w, fixtureTeams()) }},
		{"cells.geojson", func(w io.Writer) error { return WriteCellsGeoJSON(w, fixtureCells()) }},
		{"gaps.csv", func(w io.Writer) error { return WriteGapsCSV(w, holes) }},
		{"gaps.geojson", func(w io.Writer) error { return WriteGapsGeoJSON(w, holes[:1]) }},
		{"gaps.kml", func(w io.Writer) error { return WriteGapsKML(w, geo.Viettel, holes) }},
		{"summary.json", func(w io.Writer) error { return WriteSummaryJSON(w, fixtureSummary()) }},
	}
	out := map[string][]byte{}
	for _, wr := range writers {
		var b bytes.Buffer
		if err := wr.write(&b); err != nil {
			t.Fatalf("%s: %v", wr.name, err)
		}
		out[wr.name] = b.Bytes()
	}
	return out
}

func TestGolden(t *testing.T) {
	for name, got := range outputs(t) {
		path := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run go test -update and review the diff):\n%s", name, path, got)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := outputs(t), outputs(t)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s: two runs differ", name)
		}
	}
}

func TestGeoJSONParses(t *testing.T) {
	out := outputs(t)
	cases := []struct {
		file  string
		n     int
		geoms []string
		key   string
		names []string
	}{
		{"areas.geojson", 2, []string{"Polygon", "MultiPolygon"}, "name", []string{nameHamlet, nameWard}},
		{"holes.geojson", 2, []string{"Polygon", "MultiPolygon"}, "id", []string{"viettel-8a65b1", "-all-77c0"}},
		{"gaps.geojson", 1, []string{"Polygon"}, "carrier", []string{"viettel"}},
		{"teams.geojson", 2, []string{"Point", ""}, "area_name", []string{nameHamlet, nameWard}},
		{"cells.geojson", 2, []string{"Polygon", "Polygon"}, "carrier", []string{"viettel", "all"}},
	}
	for _, c := range cases {
		raw := out[c.file]
		if !bytes.HasSuffix(raw, []byte("]}\n")) {
			t.Errorf("%s: does not end with a newline", c.file)
		}
		fc, err := geojson.UnmarshalFeatureCollection(raw)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(fc.Features) != c.n {
			t.Fatalf("%s: %d features, want %d", c.file, len(fc.Features), c.n)
		}
		for i, f := range fc.Features {
			got := ""
			if f.Geometry != nil {
				got = f.Geometry.GeoJSONType()
			}
			if got != c.geoms[i] {
				t.Errorf("%s feature %d: geometry %q, want %q", c.file, i, got, c.geoms[i])
			}
			if v := f.Properties[c.key]; v != c.names[i] {
				t.Errorf("%s feature %d: %s = %q, want %q", c.file, i, c.key, v, c.names[i])
			}
			if !bytes.Contains(raw, []byte(`"`+c.names[i]+`"`)) {
				t.Errorf("%s: %q is not written as UTF-8 bytes", c.file, c.names[i])
			}
		}
	}

	fc, _ := geojson.UnmarshalFeatureCollection(out["areas.geojson"])
	p0, p1 := fc.Features[0].Properties, fc.Features[1].Properties
	if v, ok := p0["mobifone_median_signal_dbm"]; !ok || v != nil {
		t.Errorf("NaN median: got %v (present %v), want null", v, ok)
	}
	if v, ok := p1["nearest_team_km"]; !ok || v != nil {
		t.Errorf("NaN nearest_team_km: got %v, want null", v)
	}
	if p0["code"] != "89001" || p0["source"] != "khảo sát <2024> & đo" || p0["đơn_vị"] != "Xã Tân Phú" {
		t.Errorf("area props: %v", p0)
	}
	if mp, ok := fc.Features[1].Geometry.(orb.MultiPolygon); !ok || len(mp[0]) != 2 {
		t.Errorf("area 2 geometry lost its hole: %v", fc.Features[1].Geometry)
	}

	fc, _ = geojson.UnmarshalFeatureCollection(out["holes.geojson"])
	h := fc.Features[1].Properties
	if h["carrier"] != "all" || h["first_observed"] != nil || h["median_signal_dbm"] != nil {
		t.Errorf("dead zone props: %v", h)
	}
	if names, _ := h["area_names"].([]any); len(names) != 2 || names[0] != nameFormula {
		t.Errorf("area_names = %v", h["area_names"])
	}
	if got := fc.Features[0].Properties["first_observed"]; got != "2025-03-01T01:30:00Z" {
		t.Errorf("first_observed = %v", got)
	}
}

func TestGapsCSV(t *testing.T) {
	raw := outputs(t)["gaps.csv"]
	if !bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatal("no byte-order mark")
	}
	if n, crlf := bytes.Count(raw, []byte("\n")), bytes.Count(raw, []byte("\r\n")); n != crlf || n != 3 {
		t.Errorf("%d line ends, %d CRLF; want 3 CRLF", n, crlf)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "rank,id,carrier,centroid_lat,centroid_lon,area_km2,area_codes,area_names,population_affected,households_affected,reports,weak_reports,reporters,weak_share,weak_low,median_signal_dbm,first_observed,last_observed,severity,confidence,priority,prob_weak,weak_share_p05,weak_share_p95,state,answer_due,fix_due,overdue,cause,funding" {
		t.Errorf("header: %v", rows[0])
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	r1, r2 := rows[1], rows[2]
	for _, c := range []struct {
		row       []string
		key, want string
	}{
		{r1, "area_names", nameHamlet},
		{r1, "median_signal_dbm", "-118"},
		{r1, "centroid_lat", "10.302"},
		{r1, "first_observed", "2025-03-01T08:30:00+07:00"},
		{r1, "last_observed", "2025-03-02T20:30:00+07:00"},
		{r2, "id", "'-all-77c0"},
		{r2, "carrier", "all"},
		{r2, "area_codes", "'@89003; 89002"},
		{r2, "area_names", "'" + nameFormula + "; " + nameWard},
		{r2, "median_signal_dbm", ""},
		{r2, "first_observed", ""},
		{r2, "centroid_lon", "105.2345679"},
	} {
		if got := c.row[col[c.key]]; got != c.want {
			t.Errorf("%s = %q, want %q", c.key, got, c.want)
		}
	}
	// RFC 4180: every record has every field; numbers are never quoted
	// text.
	for i, r := range rows {
		if len(r) != len(GapColumns) {
			t.Errorf("record %d has %d fields, want %d", i, len(r), len(GapColumns))
		}
	}
	line := strings.Split(string(raw), "\r\n")[1]
	for _, want := range []string{"1,viettel-8a65b1,viettel,10.302,105.102,0.191235,", ",80.5,22.361111,14,11,5,0.785714,0.52,-118,"} {
		if !strings.Contains(line, want) {
			t.Errorf("row 1 %q lacks %q", line, want)
		}
	}
}

// TestTasksCSV: the teams' task list, its times in Vietnam time with
// the offset; a task not yet done has an empty done_at.
func TestTasksCSV(t *testing.T) {
	tasks := []geo.Task{
		{Team: "T1", TeamName: "Tổ công nghệ số " + nameHamlet, Rank: 1, Area: "89001", AreaName: nameHamlet,
			Place: "891f1d4b2bbffff", Lat: 10.3, Lon: 105.1, Carrier: geo.CarrierAll, Why: geo.TaskHoleEdge,
			Households: 12.5, Score: 3.25, State: geo.TaskDone,
			ProposedAt: time.Date(2025, 6, 30, 17, 0, 0, 0, time.UTC), DoneAt: time.Date(2025, 7, 2, 1, 15, 0, 0, time.UTC), DoneBy: "r-1"},
		{Team: "T1", TeamName: "=cmd", Rank: 2, Area: "89001", AreaName: nameHamlet, Place: "891f1d4b2c3ffff",
			Carrier: geo.Viettel, Why: geo.TaskUnobserved, State: geo.TaskOpen, ProposedAt: time.Date(2025, 6, 30, 17, 0, 0, 0, time.UTC)},
	}
	var b bytes.Buffer
	if err := WriteTasksCSV(&b, tasks); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte(bom)) {
		t.Fatal("no byte-order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(b.Bytes()[len(bom):])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, c := range []struct {
		row       int
		key, want string
	}{
		{1, "proposed_at", "2025-07-01T00:00:00+07:00"},
		{1, "done_at", "2025-07-02T08:15:00+07:00"},
		{1, "team_name", "Tổ công nghệ số " + nameHamlet},
		{1, "households", "12.5"},
		{2, "done_at", ""},
		{2, "team_name", "'=cmd"},
	} {
		if got := rows[c.row][col[c.key]]; got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.key, got, c.want)
		}
	}
}

func TestGapsKML(t *testing.T) {
	raw := outputs(t)["gaps.kml"]
	var doc struct {
		XMLName  xml.Name `xml:"http://www.opengis.net/kml/2.2 kml"`
		Document struct {
			Name      string `xml:"name"`
			Placemark []struct {
				Name        string `xml:"name"`
				Description string `xml:"description"`
				Data        []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value"`
				} `xml:"ExtendedData>Data"`
				Polygon *struct {
					Outer string   `xml:"outerBoundaryIs>LinearRing>coordinates"`
					Inner []string `xml:"innerBoundaryIs>LinearRing>coordinates"`
				} `xml:"Polygon"`
				Multi []struct {
					Outer string   `xml:"outerBoundaryIs>LinearRing>coordinates"`
					Inner []string `xml:"innerBoundaryIs>LinearRing>coordinates"`
				} `xml:"MultiGeometry>Polygon"`
			} `xml:"Placemark"`
		}
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	d := doc.Document
	if d.Name != "gapmap — Vùng lõm sóng Viettel" {
		t.Errorf("document name %q", d.Name)
	}
	if len(d.Placemark) != 2 {
		t.Fatalf("%d placemarks", len(d.Placemark))
	}
	p0, p1 := d.Placemark[0], d.Placemark[1]
	if p0.Name != "#1 "+nameHamlet || p1.Name != "#2 "+nameFormula {
		t.Errorf("names %q, %q", p0.Name, p1.Name)
	}
	if p0.Polygon == nil || p0.Polygon.Outer != "105.1,10.3 105.104,10.3 105.104,10.304 105.1,10.304 105.1,10.3" {
		t.Errorf("polygon %+v", p0.Polygon)
	}
	if len(p1.Multi) != 2 || len(p1.Multi[0].Inner) != 1 {
		t.Errorf("multigeometry %+v", p1.Multi)
	}
	if !strings.Contains(p1.Description, "<b>Địa bàn</b>: "+html.EscapeString(nameFormula+"; "+nameWard)+"<br>") {
		t.Errorf("description %q", p1.Description)
	}
	if len(p0.Data) == 0 || p0.Data[0].Name != "id" || p0.Data[0].Value != "viettel-8a65b1" {
		t.Errorf("extended data %+v", p0.Data)
	}
}

// TestKMLEscapesNames: Google Earth renders a description as HTML, so an
// area name holding markup reaches it escaped, and the name and the
// ExtendedData keep the text as it is.
func TestKMLEscapesNames(t *testing.T) {
	const evil = `<script>alert(1)</script> Ấp "A" & B ]]> C`
	holes := fixtureHoles()
	holes[0].Areas[0].Name = evil
	holes[0].ID = "viettel-<b>]]>"
	var b bytes.Buffer
	if err := WriteGapsKML(&b, geo.Viettel, holes[:1]); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Document struct {
			Style struct {
				Balloon string `xml:"BalloonStyle>text"`
			} `xml:"Style"`
			Placemark []struct {
				Name        string `xml:"name"`
				Description string `xml:"description"`
				Data        []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value"`
				} `xml:"ExtendedData>Data"`
			} `xml:"Placemark"`
		}
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.Bytes())
	}
	if len(doc.Document.Placemark) != 1 {
		t.Fatalf("%d placemarks", len(doc.Document.Placemark))
	}
	pm := doc.Document.Placemark[0]
	if want := "#1 " + evil; pm.Name != want {
		t.Errorf("name %q, want %q", pm.Name, want)
	}
	// The description as Google Earth reads it: HTML whose only markup is
	// ours, the data's text escaped.
	for _, bad := range []string{"<script", "</script", `"A"`, "& B", "<b>]]>"} {
		if strings.Contains(pm.Description, bad) {
			t.Errorf("the description holds %q: %s", bad, pm.Description)
		}
	}
	for _, want := range []string{
		"<h3>#1 " + html.EscapeString(evil) + "</h3>",
		"<b>Địa bàn</b>: &lt;script&gt;alert(1)&lt;/script&gt; Ấp &#34;A&#34; &amp; B ]]&gt; C<br>",
		"<b>Mã vùng lõm sóng</b>: viettel-&lt;b&gt;]]&gt;<br>",
	} {
		if !strings.Contains(pm.Description, want) {
			t.Errorf("the description lacks %q: %s", want, pm.Description)
		}
	}
	data := map[string]string{}
	for _, d := range pm.Data {
		data[d.Name] = d.Value
	}
	if data["areas"] != evil || data["id"] != holes[0].ID {
		t.Errorf("extended data %q, %q; want the text as it is", data["areas"], data["id"])
	}
	if doc.Document.Style.Balloon != "$[description]" {
		t.Errorf("balloon text %q, want the description only", doc.Document.Style.Balloon)
	}
	if bytes.Contains(b.Bytes(), []byte("<script")) {
		t.Errorf("the file holds raw markup from the data:\n%s", b.Bytes())
	}
}

func TestSummaryJSON(t *testing.T) {
	raw := outputs(t)["summary.json"]
	if !bytes.Contains(raw, []byte(`"note": "Ấp Bình Hòa <&>"`)) {
		t.Errorf("text escaped:\n%s", raw)
	}
	var v struct {
		Area struct {
			Reach map[string]any `json:"team_reach"`
		} `json:"area"`
		Rollups []map[string]any `json:"rollups"`
		Summary map[string]any   `json:"summary"`
		Config  geo.Config       `json:"config"`
		Nothing *int             `json:"nothing"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if r := v.Rollups[0]["team_reach"].(map[string]any); r["nearest_team_km"] != nil {
		t.Errorf("NaN written as %v", r["nearest_team_km"])
	}
	if _, ok := v.Rollups[0]["team_reach"].(map[string]any)["nearest_team_km"]; !ok {
		t.Error("NaN field dropped, want null")
	}
	if hk := v.Summary["hole_km2"].(map[string]any); hk["all"] != nil || hk["viettel"] != 0.19 {
		t.Errorf("hole_km2 %v", hk)
	}
	if _, ok := v.Rollups[0]["Index"]; ok {
		t.Error(`json:"-" field written`)
	}
	if v.Config.CellRes != geo.DefaultConfig().CellRes {
		t.Errorf("config did not round-trip: %+v", v.Config)
	}
}

type textKey struct{ a, b string }

func (k textKey) MarshalText() ([]byte, error) { return []byte(k.a + "/" + k.b), nil }

type inner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
	C int
}

type deep struct{ D int }

type sample struct {
	inner
	*deep
	Name    string            `json:"name"`
	Skip    int               `json:"-"`
	Dash    int               `json:"-,"`
	Empty   []int             `json:"empty,omitempty"`
	Nil     []int             `json:"nil"`
	Zero    time.Time         `json:"zero,omitzero"`
	When    time.Time         `json:"when"`
	Quoted  int64             `json:"quoted,string"`
	Bytes   []byte            `json:"bytes"`
	Ints    map[int]string    `json:"ints"`
	Keys    map[textKey]int   `json:"keys"`
	Carrier geo.Carrier       `json:"carrier"`
	Raw     json.RawMessage   `json:"raw"`
	Any     any               `json:"any"`
	Arr     [2]float32        `json:"arr"`
	Ptr     *inner            `json:"ptr"`
	Small   float64           `json:"small"`
	Big     float64           `json:"big"`
	Nested  map[string][]bool `json:"nested"`
	private int
}

// TestSummaryMatchesEncodingJSON checks that, NaN aside, WriteSummaryJSON
// writes what encoding/json would.
func TestSummaryMatchesEncodingJSON(t *testing.T) {
	values := []any{
		geo.DefaultConfig(),
		fixtureTeams(),
		sample{
			inner: inner{A: 1, C: 3}, deep: &deep{D: 4}, Name: "<Ấp>", Skip: 1, Dash: 2,
			When: time.Date(2025, 7, 1, 0, 0, 0, 5, time.UTC), Quoted: 42, Bytes: []byte("hi"),
			Ints: map[int]string{10: "x", 2: "y"}, Keys: map[textKey]int{{"b", "1"}: 1, {"a", "2"}: 2},
			Carrier: geo.VinaPhone, Raw: json.RawMessage(`{"z": 1, "a": [1, 2]}`), Any: map[string]any{"k": []any{1.5, "v"}},
			Arr: [2]float32{0.1, 2}, Ptr: &inner{A: 5}, Small: 1e-9, Big: 1e22,
			Nested: map[string][]bool{"n": {true}}, private: 1,
		},
		sample{},
		map[string]any{},
		[]any{},
	}
	for i, v := range values {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteSummaryJSON(&got, v); err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		if got.String() != want.String() {
			t.Errorf("value %d:\ngot  %s\nwant %s", i, got.String(), want.String())
		}
	}
}

var errFull = errors.New("disk full")

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	holes := fixtureHoles()
	writers := map[string]func(io.Writer) error{
		"areas":   func(w io.Writer) error { return WriteAreasGeoJSON(w, fixtureAreas(), fixtureScores()) },
		"holes":   func(w io.Writer) error { return WriteHolesGeoJSON(w, holes) },
		"gaps":    func(w io.Writer) error { return WriteGapsGeoJSON(w, holes) },
		"teams":   func(w io.Writer) error { return WriteTeamsGeoJSON(w, fixtureTeams()) },
		"cells":   func(w io.Writer) error { return WriteCellsGeoJSON(w, fixtureCells()) },
		"csv":     func(w io.Writer) error { return WriteGapsCSV(w, holes) },
		"kml":     func(w io.Writer) error { return WriteGapsKML(w, geo.Viettel, holes) },
		"xlsx":    func(w io.Writer) error { return WriteGapsXLSX(w, geo.Viettel, holes) },
		"summary": func(w io.Writer) error { return WriteSummaryJSON(w, fixtureSummary()) },
	}
	for name, write := range writers {
		for _, n := range []int{0, 3, 100} {
			if err := write(&failingWriter{n: n}); !errors.Is(err, errFull) {
				t.Errorf("%s after %d bytes: err = %v, want %v", name, n, err, errFull)
			}
		}
	}
}

func TestLargeOutputFlushes(t *testing.T) {
	var cells []geo.CellStat
	for i := range 2000 {
		cells = append(cells, geo.CellStat{Cell: index.CellAt(105+float64(i)*0.01, 10, 8), Carrier: geo.Viettel, Reports: i})
	}
	var b bytes.Buffer
	if err := WriteCellsGeoJSON(&b, cells); err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b.Bytes())
	if err != nil || len(fc.Features) != len(cells) {
		t.Fatalf("%d features, err %v", len(fc.Features), err)
	}
	if err := WriteCellsGeoJSON(&failingWriter{n: 40000}, cells); !errors.Is(err, errFull) {
		t.Errorf("err = %v", err)
	}
}

func TestAreaIndexOutOfRange(t *testing.T) {
	s := fixtureScores()
	s[1].Index = 5
	if err := WriteAreasGeoJSON(io.Discard, fixtureAreas(), s); err == nil {
		t.Error("no error for a score index past the areas")
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"Ấp <a&b>":      `"Ấp <a&b>"`,
		"q\"\\\n\t\x01": `"q\"\\\n\t\u0001"`,
		"bad\xffbyte":   `"bad\ufffdbyte"`,
		"line\u2028sep": `"line\u2028sep"`,
	} {
		if got := string(appendString(nil, in)); got != want {
			t.Errorf("appendString(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestKMLVietnamese: a placemark's description reads as Vietnamese
// writes figures, times and words; its ExtendedData keeps the machine
// values.
func TestKMLVietnamese(t *testing.T) {
	h := fixtureHoles()[0]
	h.Households, h.Priority = 1234.56, 1234567.891
	var b bytes.Buffer
	if err := WriteGapsKML(&b, geo.CarrierAll, []geo.Hole{h}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"<name>gapmap — Vùng lõm sóng mọi nhà mạng</name>",
		"<b>Hộ bị ảnh hưởng</b>: 1.234,6<br>",
		"<b>Điểm ưu tiên</b>: 1.234.567,89<br>",
		"<b>Tỉ lệ sóng yếu</b>: 78,6%<br>",
		"<b>Cường độ sóng trung vị (dBm)</b>: -118<br>",
		"<b>Ghi nhận lần đầu</b>: 01/03/2025 08:30<br>",
		`<Data name="households_affected"><displayName>Hộ bị ảnh hưởng</displayName><value>1234.6</value></Data>`,
		`<Data name="first_observed"><displayName>Ghi nhận lần đầu</displayName><value>2025-03-01T01:30:00Z</value></Data>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the KML lacks %s", want)
		}
	}
	for _, english := range []string{"Carrier", "Households affected", "coverage gaps", "Weak share"} {
		if strings.Contains(out, "<b>"+english) || strings.Contains(out, "<name>gapmap — "+english) {
			t.Errorf("the KML still labels %q in English", english)
		}
	}
}

func TestViNum(t *testing.T) {
	for _, c := range []struct {
		v    float64
		prec int
		want string
	}{
		{0, 2, "0"}, {16.1, 2, "16,1"}, {-118, 1, "-118"}, {-92.5, 1, "-92,5"}, {999.96, 1, "1.000"},
		{1234567.891, 2, "1.234.567,89"}, {-1234, 0, "-1.234"}, {math.NaN(), 1, ""}, {math.Inf(1), 1, ""},
	} {
		if got := viNum(c.v, c.prec); got != c.want {
			t.Errorf("viNum(%v, %d) = %q, want %q", c.v, c.prec, got, c.want)
		}
	}
}
