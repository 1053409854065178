package data

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// checkAreaSet asserts what must hold for whatever a reader accepted.
func checkAreaSet(t *testing.T, as *AreaSet) {
	t.Helper()
	if as.Read != len(as.Areas)+len(as.Errors) {
		t.Fatalf("read %d != %d areas + %d errors", as.Read, len(as.Areas), len(as.Errors))
	}
	codes := map[string]bool{}
	for _, a := range as.Areas {
		if err := a.Validate(); err != nil {
			t.Fatalf("accepted area %q fails Validate: %v", a.Code, err)
		}
		if codes[a.Code] {
			t.Fatalf("code %q accepted twice", a.Code)
		}
		codes[a.Code] = true
	}
	for _, e := range as.Errors {
		if e.Row <= 0 || e.Field == "" || e.Reason == "" || e.Feature == "" {
			t.Fatalf("error without row, field, reason or feature: %+v", e)
		}
	}
}

// hangGuard crashes the fuzzing worker when one input takes more than
// 10 s, so that the fuzzer saves an input that hangs a reader rather than
// stalling on it. Call as defer hangGuard()().
func hangGuard() func() bool {
	return time.AfterFunc(10*time.Second, func() { panic("one input took more than 10 s") }).Stop
}

func memPart(name string, b []byte) *part {
	return &part{name: name, size: int64(len(b)), open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

func FuzzReadAreasGeoJSON(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.geojson")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(shapefileGeoJSON))
	f.Add([]byte(`{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]],[[5,5],[5,6],[6,6],[5,5]]]}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		defer hangGuard()()
		readBoth(t, in)
		b := newAreaBuilder(AreaOptions{})
		if err := readAreasGeoJSONFrom(context.Background(), bytes.NewReader(in), b); err != nil {
			return
		}
		checkAreaSet(t, b.set)
	})
}

// shapefileSeeds returns .shp and .dbf pairs: the legacy fixture in
// testdata and shapefiles written by writeShapefile.
func shapefileSeeds(f *testing.F) [][2][]byte {
	var seeds [][2][]byte
	shp, err1 := os.ReadFile("testdata/areas_cp1258.shp")
	dbf, err2 := os.ReadFile("testdata/areas_cp1258.dbf")
	if err1 != nil || err2 != nil {
		f.Fatal(err1, err2)
	}
	seeds = append(seeds, [2][]byte{shp, dbf})
	dir := f.TempDir()
	for i, recs := range [][]shpRecord{shapefileRecords, shapefileRecords[:1], {{
		rings:  []orb.Ring{{{106, 10}, {106, 10.1}, {106.1, 10.1}, {106.1, 10}, {106, 10}}, {{106.02, 10.02}, {106.04, 10.02}, {106.04, 10.04}, {106.02, 10.02}}},
		values: []string{"X", "Ho\xcca", "", "", ""},
	}}} {
		files := writeShapefile(f, dir, "s"+string(rune('a'+i)), recs, "", "")
		seeds = append(seeds, [2][]byte{files[".shp"], files[".dbf"]})
	}
	return seeds
}

func FuzzReadAreasShapefile(f *testing.F) {
	for _, s := range shapefileSeeds(f) {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, shp, dbf []byte) {
		ps := &shapefileParts{shp: memPart("a.shp", shp)}
		if len(dbf) > 0 {
			ps.dbf = memPart("a.dbf", dbf)
		}
		defer hangGuard()()
		b := newAreaBuilder(AreaOptions{})
		if err := readShapefile(context.Background(), ps, b); err != nil {
			return
		}
		checkAreaSet(t, b.set)
	})
}

func FuzzReadAreasZip(f *testing.F) {
	for _, s := range shapefileSeeds(f) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, m := range []struct {
			name string
			b    []byte
		}{{"a/a.shp", s[0]}, {"a/a.dbf", s[1]}, {"a/a.prj", []byte(wgs84PRJ)}, {"a/a.cpg", []byte("1258")}} {
			w, err := zw.Create(m.name)
			if err != nil {
				f.Fatal(err)
			}
			w.Write(m.b)
		}
		if err := zw.Close(); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		defer hangGuard()()
		zr, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			return
		}
		ps, err := zipParts(zr)
		if err != nil {
			return
		}
		b := newAreaBuilder(AreaOptions{})
		if err := readShapefile(context.Background(), ps, b); err != nil {
			return
		}
		checkAreaSet(t, b.set)
	})
}
