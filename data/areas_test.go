package data

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

func TestReadAreasGeoJSON(t *testing.T) {
	as, err := ReadAreas(context.Background(), "testdata/areas.geojson", AreaOptions{Vintage: "2025"})
	if err != nil {
		t.Fatal(err)
	}
	if as.Read != 11 {
		t.Errorf("Read = %d, want 11", as.Read)
	}

	wantAreas := []geo.Area{
		{
			Code: "80001", Name: "Ấp Bình Thạnh", ParentCode: "25459", Level: geo.LevelHamlet, Vintage: "2025",
			Population: 1200,
			Geometry:   orb.MultiPolygon{{{{106.0, 10.0}, {106.1, 10.0}, {106.1, 10.1}, {106.0, 10.1}, {106.0, 10.0}}}},
			Props:      map[string]any{"note": "ấp 1"},
		},
		{
			Code: "80002", Name: "Ấp Phước Lợi", ParentCode: "80", Level: geo.LevelHamlet, Vintage: "2025",
			Households: 300,
			Geometry: orb.MultiPolygon{
				{
					{{106.2, 10.0}, {106.5, 10.0}, {106.5, 10.3}, {106.2, 10.3}, {106.2, 10.0}},
					{{106.3, 10.1}, {106.3, 10.2}, {106.4, 10.2}, {106.4, 10.1}, {106.3, 10.1}},
				},
				{{{106.6, 10.0}, {106.7, 10.0}, {106.7, 10.1}, {106.6, 10.0}}},
			},
		},
		{
			// Given clockwise; returned counter-clockwise (RFC 7946).
			Code: "80011", Name: "Xã Mỹ An", ParentCode: "80", Level: geo.LevelCommune, Vintage: "2025",
			Population: 2500,
			Geometry:   orb.MultiPolygon{{{{105.0, 10.0}, {105.1, 10.0}, {105.1, 10.1}, {105.0, 10.1}, {105.0, 10.0}}}},
		},
	}
	if len(as.Areas) != len(wantAreas) {
		t.Fatalf("got %d areas, want %d: %+v", len(as.Areas), len(wantAreas), as.Areas)
	}
	for i, want := range wantAreas {
		if got := as.Areas[i]; !reflect.DeepEqual(got, want) {
			t.Errorf("area %d:\ngot  %+v\nwant %+v", i, got, want)
		}
	}

	wantErrs := []struct {
		row             int
		feature, field  string
		reasonSubstring string
	}{
		{3, "80001", "code", "duplicate of feature #1"},
		{4, "80004", "geometry", "ring 1 is not closed"},
		{5, "80005", "geometry", "missing"},
		{6, "80006", "geometry", "Point is not a Polygon or MultiPolygon"},
		{7, "80007", "population", "not a number"},
		{8, "80008", "geometry", "coordinates are not lon/lat degrees (EPSG:4326 expected)"},
		{9, "80009", "geometry", "empty geometry"},
		{10, "#10", "code", "required"},
	}
	if len(as.Errors) != len(wantErrs) {
		t.Fatalf("got %d errors, want %d: %v", len(as.Errors), len(wantErrs), as.Errors)
	}
	for i, w := range wantErrs {
		e := as.Errors[i]
		if e.Row != w.row || e.Feature != w.feature || e.Field != w.field || !strings.Contains(e.Reason, w.reasonSubstring) {
			t.Errorf("error %d = %+v, want row %d feature %q field %q reason containing %q", i, e, w.row, w.feature, w.field, w.reasonSubstring)
		}
	}
}

func TestReadAreasOptions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	const doc = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"MA":"001","TEN":"Thôn Đông","DAN_SO":"350","HO":"90","CAP":"thôn","CHA":"00004"},
 "geometry":{"type":"Polygon","coordinates":[[[105.0,21.0,12.5],[105.01,21.0,12.5],[105.01,21.01,12.5],[105.0,21.0,12.5]]]}},
{"type":"Feature","properties":{"MA":"002","TEN":"Thôn Tây"},
 "geometry":{"type":"Polygon","coordinates":[[[105.1,21.0],[105.11,21.0],[105.11,21.01],[105.1,21.0]]]}}]}`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	var progress []int
	as, err := ReadAreas(context.Background(), path, AreaOptions{
		CodeField: "MA", NameField: "TEN", PopulationField: "DAN_SO", HouseholdsField: "HO",
		LevelField: "CAP", ParentField: "CHA", DefaultLevel: geo.LevelDistrict,
		Progress: func(n int) { progress = append(progress, n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(as.Errors) != 0 || len(as.Areas) != 2 {
		t.Fatalf("got %d areas, errors %v; want 2 areas, no errors", len(as.Areas), as.Errors)
	}
	a := as.Areas[0]
	if a.Code != "001" || a.Name != "Thôn Đông" || a.Population != 350 || a.Households != 90 ||
		a.Level != geo.LevelHamlet || a.ParentCode != "00004" || a.Props != nil {
		t.Errorf("area 0 = %+v", a)
	}
	if got := as.Areas[1].Level; got != geo.LevelDistrict {
		t.Errorf("area 1 level = %v, want DefaultLevel district", got)
	}
	if got := a.Geometry[0][0][1]; got != (orb.Point{105.01, 21.0}) {
		t.Errorf("second position = %v, want altitude dropped", got)
	}
	if len(progress) != 0 {
		t.Errorf("progress called %v for 2 features", progress)
	}
}

func TestReadAreasFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
	}{
		{"missing file", filepath.Join(dir, "nope.geojson")},
		{"not JSON", write("text.geojson", "code,name\n1,a\n")},
		{"JSON array", write("array.json", "[1,2,3]")},
		{"geometry not feature collection", write("point.geojson", `{"type":"Point","coordinates":[1,2]}`)},
		{"truncated", write("trunc.geojson", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null`)},
		{"unknown extension", write("areas.kml", "<kml/>")},
		{"empty", write("empty.geojson", "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as, err := ReadAreas(context.Background(), tc.path, AreaOptions{})
			if err == nil {
				t.Fatalf("got %+v, want error", as)
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not name the path", err)
			}
		})
	}
}

func TestReadAreasCancelled(t *testing.T) {
	// 300 features, so the context is checked at least once.
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range 300 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"type":"Feature","properties":{"code":"x"},"geometry":null}`)
	}
	b.WriteString("]}")
	path := filepath.Join(t.TempDir(), "many.geojson")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadAreas(ctx, path, AreaOptions{}); err == nil {
		t.Fatal("got nil error for a cancelled context")
	}
}

// communeDir holds the real 2025 commune boundaries (see its README).
const communeDir = "../../shared/data/vn-communes-2025"

func TestReadAreasRealCommunes(t *testing.T) {
	tests := []struct {
		file     string
		province string
		features int
		popSum   int64 // 0: not checked
		code     string
		name     string
	}{
		{"communes_2025_tay_ninh_80.geojson", "80", 96, 2_766_442, "25459", "Tân Ninh"},
		{"communes_2025_ca_mau_96.geojson", "96", 64, 1_808_725, "", ""},
		{"communes_2025_dong_thap_82.geojson", "82", 102, 0, "", ""},
		{"communes_2025_an_giang_91.geojson", "91", 102, 0, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(communeDir, tc.file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("real commune data not available: %v", err)
			}
			as, err := ReadAreas(context.Background(), path, AreaOptions{Vintage: "2025"})
			if err != nil {
				t.Fatal(err)
			}
			if len(as.Errors) != 0 {
				t.Errorf("got %d errors, want none: %v", len(as.Errors), as.Errors)
			}
			if as.Read != tc.features || len(as.Areas) != tc.features {
				t.Errorf("read %d, accepted %d, want %d", as.Read, len(as.Areas), tc.features)
			}
			var pop int64
			names := map[string]string{}
			for _, a := range as.Areas {
				pop += a.Population
				names[a.Code] = a.Name
				if a.Level != geo.LevelCommune || a.ParentCode != tc.province || a.Vintage != "2025" || len(a.Code) != 5 {
					t.Errorf("area %s: level %v parent %q vintage %q, want commune, %q, 2025", a.Code, a.Level, a.ParentCode, a.Vintage, tc.province)
				}
				if _, ok := a.Props["unit_type"]; !ok {
					t.Errorf("area %s: Props lacks unit_type: %v", a.Code, a.Props)
				}
			}
			if tc.popSum != 0 && pop != tc.popSum {
				t.Errorf("population sum = %d, want %d", pop, tc.popSum)
			}
			if tc.code != "" && names[tc.code] != tc.name {
				t.Errorf("name of %s = %q (% x), want %q", tc.code, names[tc.code], names[tc.code], tc.name)
			}
		})
	}
}

func TestReadAreasRealCommuneNamesByteExact(t *testing.T) {
	path := filepath.Join(communeDir, "communes_2025_ca_mau_96.geojson")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("real commune data not available: %v", err)
	}
	as, err := ReadAreas(context.Background(), path, AreaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Every name, as UTF-8 bytes, appears verbatim in the file.
	for _, a := range as.Areas {
		if !strings.Contains(string(raw), `"name":"`+a.Name+`"`) {
			t.Errorf("name %q of %s not found verbatim in the file", a.Name, a.Code)
		}
	}
	for _, a := range as.Areas {
		if a.Name == "Bạc Liêu" {
			return
		}
	}
	t.Error(`no commune named "Bạc Liêu" in Cà Mau`)
}
