package data

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// shpRecord is one polygon record for writeShapefile: rings as a
// shapefile stores them (outer clockwise, holes counter-clockwise) and DBF
// values in the order of shpFields.
type shpRecord struct {
	rings  []orb.Ring
	values []string
}

type dbfField struct {
	name    string
	typ     byte // 'C' or 'N'
	length  int
	decimal int
}

var shpFields = []dbfField{
	{"CODE", 'C', 10, 0},
	{"NAME", 'C', 60, 0},
	{"POPULATION", 'N', 10, 0},
	{"PARENT_COD", 'C', 5, 0},
	{"NOTE", 'C', 40, 0},
}

// writeShapefile writes base.shp, .shx, .dbf, and .prj and .cpg when not
// empty, following the ESRI Shapefile Technical Description (1998) and
// dBase III. It returns the files' contents by extension.
func writeShapefile(t testing.TB, dir, base string, recs []shpRecord, prj, cpg string) map[string][]byte {
	t.Helper()
	be, le := binary.BigEndian, binary.LittleEndian

	// Records.
	var shpRecs [][]byte
	bbox := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, r := range recs {
		var pts []orb.Point
		var parts []int32
		rb := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		for _, ring := range r.rings {
			parts = append(parts, int32(len(pts)))
			for _, p := range ring {
				pts = append(pts, p)
				rb = [4]float64{min(rb[0], p[0]), min(rb[1], p[1]), max(rb[2], p[0]), max(rb[3], p[1])}
			}
		}
		bbox = [4]float64{min(bbox[0], rb[0]), min(bbox[1], rb[1]), max(bbox[2], rb[2]), max(bbox[3], rb[3])}
		var c bytes.Buffer
		binary.Write(&c, le, int32(5)) // Polygon
		binary.Write(&c, le, rb)
		binary.Write(&c, le, int32(len(parts)))
		binary.Write(&c, le, int32(len(pts)))
		binary.Write(&c, le, parts)
		for _, p := range pts {
			binary.Write(&c, le, [2]float64{p[0], p[1]})
		}
		shpRecs = append(shpRecs, c.Bytes())
	}
	header := func(fileBytes int) []byte {
		h := make([]byte, 100)
		be.PutUint32(h[0:], 9994)
		be.PutUint32(h[24:], uint32(fileBytes/2))
		le.PutUint32(h[28:], 1000)
		le.PutUint32(h[32:], 5)
		for i, v := range bbox {
			le.PutUint64(h[36+8*i:], math.Float64bits(v))
		}
		return h
	}
	shpLen := 100
	for _, c := range shpRecs {
		shpLen += 8 + len(c)
	}
	var shp, shx bytes.Buffer
	shp.Write(header(shpLen))
	shx.Write(header(100 + 8*len(shpRecs)))
	offset := 100
	for i, c := range shpRecs {
		binary.Write(&shp, be, [2]int32{int32(i + 1), int32(len(c) / 2)})
		shp.Write(c)
		binary.Write(&shx, be, [2]int32{int32(offset / 2), int32(len(c) / 2)})
		offset += 8 + len(c)
	}

	// DBF.
	var dbf bytes.Buffer
	recSize := 1
	for _, f := range shpFields {
		recSize += f.length
	}
	dbf.Write([]byte{0x03, 125, 7, 1})
	binary.Write(&dbf, le, uint32(len(recs)))
	binary.Write(&dbf, le, uint16(32+32*len(shpFields)+1))
	binary.Write(&dbf, le, uint16(recSize))
	dbf.Write(make([]byte, 20))
	for _, f := range shpFields {
		d := make([]byte, 32)
		copy(d, f.name)
		d[11] = f.typ
		d[16] = byte(f.length)
		d[17] = byte(f.decimal)
		dbf.Write(d)
	}
	dbf.WriteByte(0x0d)
	for _, r := range recs {
		dbf.WriteByte(' ')
		for i, f := range shpFields {
			v := r.values[i]
			if len(v) > f.length {
				t.Fatalf("value %q longer than field %s", v, f.name)
			}
			pad := strings.Repeat(" ", f.length-len(v))
			if f.typ == 'N' {
				dbf.WriteString(pad + v)
			} else {
				dbf.WriteString(v + pad)
			}
		}
	}
	dbf.WriteByte(0x1a)

	files := map[string][]byte{".shp": shp.Bytes(), ".shx": shx.Bytes(), ".dbf": dbf.Bytes()}
	if prj != "" {
		files[".prj"] = []byte(prj)
	}
	if cpg != "" {
		files[".cpg"] = []byte(cpg)
	}
	for ext, b := range files {
		if err := os.WriteFile(filepath.Join(dir, base+ext), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func writeZip(t *testing.T, path, base string, files map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for ext, b := range files {
		w, err := zw.Create(base + "/" + base + ext)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

const wgs84PRJ = `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`

const utmPRJ = `PROJCS["WGS_1984_UTM_Zone_48N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],UNIT["Meter",1.0]]`

// The shapefile holds the same two areas as shapefileGeoJSON, with
// shapefile winding.
var shapefileRecords = []shpRecord{
	{
		// Polygon with a hole: outer clockwise, hole counter-clockwise.
		rings: []orb.Ring{
			{{106.2, 10.0}, {106.2, 10.3}, {106.5, 10.3}, {106.5, 10.0}, {106.2, 10.0}},
			{{106.3, 10.1}, {106.4, 10.1}, {106.4, 10.2}, {106.3, 10.2}, {106.3, 10.1}},
		},
		values: []string{"80002", "Ấp Phước Lợi (Tân Ninh)", "1234", "25459", "có lỗ"},
	},
	{
		// Two parts: a MultiPolygon.
		rings: []orb.Ring{
			{{105.0, 9.0}, {105.0, 9.1}, {105.1, 9.1}, {105.1, 9.0}, {105.0, 9.0}},
			{{105.2, 9.0}, {105.2, 9.1}, {105.3, 9.0}, {105.2, 9.0}},
		},
		values: []string{"80003", "Khóm Đông Hải", "", "25459", ""},
	},
}

const shapefileGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"CODE":"80002","NAME":"Ấp Phước Lợi (Tân Ninh)","POPULATION":1234,"PARENT_COD":"25459","NOTE":"có lỗ"},
 "geometry":{"type":"Polygon","coordinates":[
  [[106.2,10.0],[106.5,10.0],[106.5,10.3],[106.2,10.3],[106.2,10.0]],
  [[106.3,10.1],[106.3,10.2],[106.4,10.2],[106.4,10.1],[106.3,10.1]]]}},
{"type":"Feature","properties":{"CODE":"80003","NAME":"Khóm Đông Hải","POPULATION":null,"PARENT_COD":"25459","NOTE":""},
 "geometry":{"type":"MultiPolygon","coordinates":[
  [[[105.0,9.0],[105.1,9.0],[105.1,9.1],[105.0,9.1],[105.0,9.0]]],
  [[[105.2,9.0],[105.3,9.0],[105.2,9.1],[105.2,9.0]]]]}}]}`

func TestReadAreasShapefile(t *testing.T) {
	dir := t.TempDir()
	files := writeShapefile(t, dir, "ap", shapefileRecords, wgs84PRJ, "UTF-8")
	writeZip(t, filepath.Join(dir, "ap.zip"), "ap", files)
	// Without .cpg, DBF text is still read as UTF-8.
	writeShapefile(t, dir, "nocpg", shapefileRecords, "", "")
	gj := filepath.Join(dir, "ap.geojson")
	if err := os.WriteFile(gj, []byte(shapefileGeoJSON), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	want, err := ReadAreas(ctx, gj, AreaOptions{Vintage: "2025"})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Areas) != 2 || len(want.Errors) != 0 {
		t.Fatalf("GeoJSON twin: %d areas, errors %v", len(want.Areas), want.Errors)
	}
	if _, kept := want.Areas[1].Props["POPULATION"]; kept || want.Areas[1].Props["NOTE"] != "" {
		got := want.Areas[1]
		t.Errorf("GeoJSON twin area 1 props = %v, want NOTE kept and null POPULATION dropped", got.Props)
	}
	if got := want.Areas[0]; got.Name != "Ấp Phước Lợi (Tân Ninh)" || got.Population != 1234 || got.ParentCode != "25459" || len(got.Geometry[0]) != 2 {
		t.Fatalf("GeoJSON twin area 0 = %+v", got)
	}

	for _, tc := range []struct{ name, path string }{
		{"shp with cpg", filepath.Join(dir, "ap.shp")},
		{"zip", filepath.Join(dir, "ap.zip")},
		{"shp without cpg", filepath.Join(dir, "nocpg.shp")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAreas(ctx, tc.path, AreaOptions{Vintage: "2025"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Read != want.Read || len(got.Errors) != 0 {
				t.Errorf("read %d, errors %v; want %d, none", got.Read, got.Errors, want.Read)
			}
			if !reflect.DeepEqual(got.Areas, want.Areas) {
				t.Errorf("areas differ from the GeoJSON twin:\ngot  %+v\nwant %+v", got.Areas, want.Areas)
			}
		})
	}
}

func TestReadAreasShapefileProjected(t *testing.T) {
	dir := t.TempDir()
	recs := []shpRecord{{
		rings:  []orb.Ring{{{580000, 1150000}, {580000, 1160000}, {590000, 1160000}, {580000, 1150000}}},
		values: []string{"1", "x", "", "", ""},
	}}
	files := writeShapefile(t, dir, "utm", recs, utmPRJ, "")
	writeZip(t, filepath.Join(dir, "utm.zip"), "utm", files)
	for _, path := range []string{filepath.Join(dir, "utm.shp"), filepath.Join(dir, "utm.zip")} {
		_, err := ReadAreas(context.Background(), path, AreaOptions{})
		if err == nil || !strings.Contains(err.Error(), "must be EPSG:4326 lon/lat") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got error %v, want one naming the file and EPSG:4326", path, err)
		}
	}

	// Without a .prj the coordinates themselves give it away, per feature.
	writeShapefile(t, dir, "noprj", recs, "", "")
	as, err := ReadAreas(context.Background(), filepath.Join(dir, "noprj.shp"), AreaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(as.Errors) != 1 || as.Errors[0].Reason != "coordinates are not lon/lat degrees (EPSG:4326 expected)" || as.Errors[0].Feature != "1" {
		t.Errorf("errors = %v, want one about lon/lat degrees for feature 1", as.Errors)
	}
}

func TestReadAreasShapefileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.shp")
	if _, err := ReadAreas(context.Background(), path, AreaOptions{}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("got %v, want an error naming %s", err, path)
	}
}
