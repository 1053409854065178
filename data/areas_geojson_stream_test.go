package data

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// readBoth reads in with the parallel reader and with the serial one,
// through encoding/json alone, and fails t unless both give the same
// areas and errors, or both fail.
func readBoth(t *testing.T, in []byte) {
	t.Helper()
	for _, oneByte := range []bool{false, true} {
		fast, slow := newAreaBuilder(AreaOptions{}), newAreaBuilder(AreaOptions{})
		r := bytes.NewReader(in)
		var err1 error
		if oneByte {
			err1 = readAreasGeoJSONFrom(context.Background(), iotest.OneByteReader(r), fast)
		} else {
			err1 = readAreasGeoJSONFrom(context.Background(), r, fast)
		}
		err2 := readAreasGeoJSONSerial(context.Background(), bytes.NewReader(in), slow)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("parallel reader error %v, serial reader error %v, input %.300q", err1, err2, in)
		}
		if err1 != nil {
			continue
		}
		if !reflect.DeepEqual(fast.set, slow.set) {
			t.Fatalf("parallel and serial readers differ on %.300q:\nparallel %+v\nserial   %+v", in, fast.set, slow.set)
		}
	}
}

func TestReadAreasGeoJSONParallelMatchesSerial(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.geojson")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		readBoth(t, b)
	}
	sq := `[[[106,10],[106.1,10],[106.1,10.1],[106,10.1],[106,10]]]`
	for _, in := range []string{
		``, ` `, `[]`, `null`, `{}`, `{"type":"FeatureCollection"}`, `{"features":null}`, `{"features":[]}`,
		`{"features":{}}`, `{"features":[1,2]}`, `{"features":[null]}`, `{"features":["x"]}`, `{"features":[,]}`,
		`{"features":[{}],}`, `{"features":[{}]`, `{"features":[{"type":"Feature"}]} trailing`,
		`{"features":[{"type":"Feature"} {"type":"Feature"}]}`, `{"features":[{"type":"Feature"}}`,
		`{"type":"Topology","features":[]}`, `{"type":1,"features":[]}`, `{"bbox":[1,2,3,4],"features":[]}`,
		`{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}`,
		`{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":` + sq + `},"features":[{"type":"Feature"}]}`,
		"\xEF\xBB\xBF" + `{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1","name":"\u1ea4p B\u00ecnh"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"Type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"Geometry":{"type":"Point","coordinates":[1,2]},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"properties":{"code":"2"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","properties":5,"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[[106,10],[106.1],[106,10]]]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[[106,10,5],[106.1,10,"x"],[106,10]]]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[[106,1e400],[106.1,10],[106,10]]]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[[106,null],[106.1,10],[106,10]]]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":null}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[]]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"MultiPolygon","coordinates":[` + sq + `,[]]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"coordinates":` + sq + `,"type":"Polygon","bbox":[0,0,1,1]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[[106,10],[106.1,10],[106.1,10.1],[106,10.1],[106,10]]]]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[[106,10],[106.1,10],[106.1,10.1],[106,10.1],[106,10]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":[[[106,10],[106.1,10],[106.1,10.1],[106,10.1],[106,10.]]]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1","x":"\q"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1","x":"a` + "\x01" + `"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","id":{"a":[1,2,{"b":null}]},"properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","id":tru,"properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":null},{"type":"Feature","properties":{"code":"1"}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":"x"}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Point","coordinates":[1,2]}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":` + sq + `}},{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":` + sq + `}}],"features":[{"type":"Feature","properties":{"code":"2"},"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"geometry":{"type":"Polygon","coordinates":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}}]}`,
		`{"features":[{"type":"Feature","properties":{"code":"1"},"id":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `,"geometry":{"type":"Polygon","coordinates":` + sq + `}}]}`,
	} {
		readBoth(t, []byte(in))
	}
}

// TestReadAreasGeoJSONParallelManyFeatures crosses many batches: names
// in Vietnamese, escapes, duplicates far apart and bad features among
// good ones.
func TestReadAreasGeoJSONParallelManyFeatures(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range 3000 {
		if i > 0 {
			buf.WriteString(",\n")
		}
		x, y := 105+float64(i%60)*0.01, 10+float64(i/60)*0.01
		code := fmt.Sprintf("H%05d", i)
		if i%997 == 996 {
			code = "H00003" // a duplicate of an earlier feature
		}
		geom := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`,
			x, y, x+0.01, y, x+0.01, y+0.01, x, y+0.01, x, y)
		switch i % 50 {
		case 7:
			geom = `{"type":"Point","coordinates":[105,10]}`
		case 13:
			geom = fmt.Sprintf(`{"type":"MultiPolygon","coordinates":[[[[%v,%v],[%v,%v],[%v,%v],[%v,%v]]],[[[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]]}`,
				x, y, x+0.004, y, x+0.004, y+0.004, x, y, x+0.006, y+0.006, x+0.01, y+0.006, x+0.01, y+0.01, x+0.006, y+0.006)
		}
		fmt.Fprintf(&buf, `{"type":"Feature","properties":{"code":%q,"name":"Ấp Phước Lợi \"%d\" \u1ea4","population":%d,"note":"thôn\tmới"},"geometry":%s}`,
			code, i, i*3, geom)
	}
	buf.WriteString("]}")
	readBoth(t, buf.Bytes())
	as := newAreaBuilder(AreaOptions{})
	if err := readAreasGeoJSONFrom(context.Background(), bytes.NewReader(buf.Bytes()), as); err != nil {
		t.Fatal(err)
	}
	if as.set.Read != 3000 || len(as.set.Errors) == 0 || as.set.Areas[1].Name != `Ấp Phước Lợi "1" Ấ` {
		t.Fatalf("read %d, %d errors, area 1 named %q", as.set.Read, len(as.set.Errors), as.set.Areas[1].Name)
	}
	// Cut short anywhere, the reader fails as the serial one does.
	for _, n := range []int{1, 40, 300_000, buf.Len() / 2, buf.Len() - 1} {
		readBoth(t, buf.Bytes()[:n])
	}
}
