package data

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// maxTestAlloc is the allocation a refused hostile file may cost. The
// files below claim gigabytes.
const maxTestAlloc = 64 << 20

// allocated runs fn and returns the bytes it allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// refused reads path and checks that it is refused, naming want in the
// error, within maxTestAlloc; it returns the error.
func refused(t *testing.T, path string, want ...string) error {
	t.Helper()
	var err error
	n := allocated(func() { _, err = ReadAreas(context.Background(), path, AreaOptions{}) })
	t.Logf("%s: refused after allocating %.1f MiB: %v", filepath.Base(path), float64(n)/(1<<20), err)
	if err == nil {
		t.Fatalf("%s: accepted, want an error", path)
	}
	for _, w := range append(want, path) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if n > maxTestAlloc {
		t.Errorf("allocated %d bytes to refuse it, want at most %d", n, maxTestAlloc)
	}
	return err
}

// bitWriter writes a deflate stream (RFC 1951), least significant bit
// first.
type bitWriter struct {
	buf []byte
	acc uint64
	n   uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.n
	w.n += n
	for w.n >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// code writes a Huffman code, which deflate stores most significant bit
// first.
func (w *bitWriter) code(c uint64, n uint) {
	var r uint64
	for i := range n {
		r |= (c >> i & 1) << (n - 1 - i)
	}
	w.bits(r, n)
}

// deflateRun returns a raw deflate stream of n copies of byte c, written
// as one block of fixed Huffman codes (a literal, then copies of 258
// bytes at distance 1): about 13 bits per 258 bytes, so a gigabyte packs
// into 7 MB without being compressed byte by byte.
func deflateRun(c byte, n int64) []byte {
	w := &bitWriter{buf: make([]byte, 0, n/158+64)}
	w.bits(1, 1) // last block
	w.bits(1, 2) // fixed Huffman codes
	lit := func() {
		if c < 144 {
			w.code(0x30+uint64(c), 8)
		} else {
			w.code(0x190+uint64(c-144), 9)
		}
	}
	lit()
	n--
	for ; n >= 258; n -= 258 {
		w.code(0xC5, 8) // length 258 (symbol 285)
		w.code(0, 5)    // distance 1
	}
	for ; n > 0; n-- {
		lit()
	}
	w.code(0, 7) // end of block (symbol 256)
	if w.n > 0 {
		w.buf = append(w.buf, byte(w.acc))
	}
	return w.buf
}

func crcRun(c byte, n int64) uint32 {
	chunk := bytes.Repeat([]byte{c}, 1<<20)
	var crc uint32
	for ; n > 0; n -= int64(len(chunk)) {
		crc = crc32.Update(crc, crc32.IEEETable, chunk[:min(n, int64(len(chunk)))])
	}
	return crc
}

// zipMember is a file for writeTestZip: data, or run bytes of runByte.
type zipMember struct {
	name    string
	data    []byte
	run     int64
	runByte byte
}

func writeTestZip(t *testing.T, path string, members []zipMember) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, m := range members {
		if m.run == 0 {
			w, err := zw.Create(m.name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(m.data)
			continue
		}
		raw := deflateRun(m.runByte, m.run)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: m.name, Method: zip.Deflate,
			CRC32: crcRun(m.runByte, m.run), CompressedSize64: uint64(len(raw)), UncompressedSize64: uint64(m.run)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDeflateRun(t *testing.T) {
	for _, n := range []int64{1, 257, 258, 259, 10_000} {
		got, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflateRun(' ', n))))
		if err != nil || !bytes.Equal(got, bytes.Repeat([]byte(" "), int(n))) {
			t.Fatalf("n=%d: inflated %d bytes, %v", n, len(got), err)
		}
	}
}

// validParts returns the files of a valid one-area shapefile.
func validParts(t *testing.T) map[string][]byte {
	return writeShapefile(t, t.TempDir(), "ap", shapefileRecords[:1], wgs84PRJ, "")
}

func TestZipBombRefused(t *testing.T) {
	dir := t.TempDir()
	files := validParts(t)
	path := filepath.Join(dir, "bomb.zip")
	writeTestZip(t, path, []zipMember{
		{name: "ap.shp", data: files[".shp"]},
		{name: "ap.dbf", run: 1 << 30, runByte: ' '},
	})
	st, _ := os.Stat(path)
	t.Logf("zip of %.1f MiB holds a .dbf of 1 GiB", float64(st.Size())/(1<<20))
	refused(t, path, "ap.dbf", "zip bomb")
}

func TestPrjTooLargeRefused(t *testing.T) {
	dir := t.TempDir()
	files := validParts(t)
	path := filepath.Join(dir, "prj.zip")
	writeTestZip(t, path, []zipMember{
		{name: "ap.shp", data: files[".shp"]},
		{name: "ap.dbf", data: files[".dbf"]},
		{name: "ap.prj", run: 1 << 30, runByte: ' '},
	})
	refused(t, path, "ap.prj", "more than the 65536")

	// On disk, a .prj of 70 KB.
	shp := filepath.Join(dir, "big.shp")
	os.WriteFile(shp, files[".shp"], 0o644)
	os.WriteFile(filepath.Join(dir, "big.dbf"), files[".dbf"], 0o644)
	os.WriteFile(filepath.Join(dir, "big.prj"), bytes.Repeat([]byte(" "), 70_000), 0o644)
	refused(t, shp, "big.prj", "more than the 65536")
}

func TestZipTooManyMembersRefused(t *testing.T) {
	files := validParts(t)
	members := []zipMember{{name: "ap.shp", data: files[".shp"]}, {name: "ap.dbf", data: files[".dbf"]}}
	for i := range maxZipMembers {
		members = append(members, zipMember{name: filepath.Join("junk", strings.Repeat("x", 1+i%7)+string(rune('a'+i%26))+".txt"), data: []byte{byte(i)}})
	}
	path := filepath.Join(t.TempDir(), "many.zip")
	writeTestZip(t, path, members)
	refused(t, path, "1002 files")
}

func TestZipTwoShapefilesRefused(t *testing.T) {
	files := validParts(t)
	path := filepath.Join(t.TempDir(), "two.zip")
	writeTestZip(t, path, []zipMember{{name: "a.shp", data: files[".shp"]}, {name: "b.shp", data: files[".shp"]}})
	refused(t, path, "2 shapefiles", "a.shp, b.shp")
}

// hugeSHP is a 152-byte .shp whose one record claims 8 GiB.
func hugeSHP() []byte {
	be, le := binary.BigEndian, binary.LittleEndian
	b := make([]byte, 152)
	be.PutUint32(b[0:], 9994)
	be.PutUint32(b[24:], 152/2)
	le.PutUint32(b[28:], 1000)
	le.PutUint32(b[32:], 5)
	be.PutUint32(b[100:], 1)
	be.PutUint32(b[104:], 0xFFFFFFFF) // 16-bit words: 8 GiB
	le.PutUint32(b[108:], 5)
	return b
}

func TestShapefileHugeHeaderRefused(t *testing.T) {
	dir := t.TempDir()
	shp := filepath.Join(dir, "huge.shp")
	os.WriteFile(shp, hugeSHP(), 0o644)
	refused(t, shp, "huge.shp", "record 1", "content length 8589934590 bytes runs past the end of the file (44 bytes left)")

	// The header itself claims 4 GiB.
	b := hugeSHP()
	binary.BigEndian.PutUint32(b[24:], 0x7FFFFFFF)
	long := filepath.Join(dir, "long.shp")
	os.WriteFile(long, b, 0o644)
	refused(t, long, "long.shp", "header says the file has 4294967294 bytes but it has 152")

	zipped := filepath.Join(dir, "huge.zip")
	writeTestZip(t, zipped, []zipMember{{name: "huge.shp", data: hugeSHP()}})
	refused(t, zipped, "huge.shp", "runs past the end of the file")
}

func TestDBFHugeHeaderRefused(t *testing.T) {
	dir := t.TempDir()
	files := writeShapefile(t, dir, "ap", shapefileRecords, "", "")
	dbf := files[".dbf"]
	binary.LittleEndian.PutUint32(dbf[4:], 0xFFFFFFFF) // records
	os.WriteFile(filepath.Join(dir, "ap.dbf"), dbf, 0o644)
	refused(t, filepath.Join(dir, "ap.shp"), "ap.dbf", "header says 4294967295 records")

	binary.LittleEndian.PutUint32(dbf[4:], 2)
	binary.LittleEndian.PutUint16(dbf[8:], 0xFFFF) // header size
	os.WriteFile(filepath.Join(dir, "ap.dbf"), dbf, 0o644)
	refused(t, filepath.Join(dir, "ap.shp"), "ap.dbf", "header size 65535")
}

func TestShapefileRecordCountsDiffer(t *testing.T) {
	dir := t.TempDir()
	files := writeShapefile(t, dir, "ap", shapefileRecords, "", "")
	one := writeShapefile(t, t.TempDir(), "one", shapefileRecords[:1], "", "")
	os.WriteFile(filepath.Join(dir, "ap.dbf"), one[".dbf"], 0o644)
	refused(t, filepath.Join(dir, "ap.shp"), "more records than the 1 of")
	os.WriteFile(filepath.Join(dir, "ap.dbf"), files[".dbf"], 0o644)
	os.WriteFile(filepath.Join(dir, "ap.shp"), one[".shp"], 0o644)
	refused(t, filepath.Join(dir, "ap.shp"), "has 2 records but")
}

// TestShapefilePerRecordErrors: bad records are rejected one by one with
// their record numbers, and the others load.
func TestShapefilePerRecordErrors(t *testing.T) {
	sq := func(x0, y0, x1, y1 float64) orb.Ring { // clockwise, as shapefiles want outer rings
		return orb.Ring{{x0, y0}, {x0, y1}, {x1, y1}, {x1, y0}, {x0, y0}}
	}
	rev := func(r orb.Ring) orb.Ring {
		c := append(orb.Ring(nil), r...)
		c.Reverse()
		return c
	}
	recs := []shpRecord{
		{rings: []orb.Ring{sq(106, 10, 106.1, 10.1)}, values: []string{"A1", "Ấp Một", "10", "", ""}},
		{rings: []orb.Ring{{{106, 10}, {106.2, 10.1}, {106.2, 10}, {106, 10.2}, {106, 10}}}, values: []string{"A2", "Ấp Hai", "", "", ""}},
		{rings: []orb.Ring{sq(106.2, 10, 106.3, 10.1)}, values: []string{"A3", "Ấp Ba", "", "", ""}},
		{rings: []orb.Ring{sq(106.4, 10, 106.5, 10.1), rev(sq(107, 10, 107.05, 10.05))}, values: []string{"A4", "Ấp Bốn", "", "", ""}},
		{rings: []orb.Ring{sq(106.6, 10, 106.7, 10.1)}, values: []string{"A5", "Ấp Năm", "x", "", ""}},
		// Holes listed before their outer rings, and a second part.
		{rings: []orb.Ring{rev(sq(106.82, 10.02, 106.84, 10.04)), sq(106.8, 10, 106.9, 10.1), sq(107.5, 10, 107.6, 10.1), rev(sq(107.52, 10.02, 107.54, 10.04))},
			values: []string{"A6", "Ấp Sáu", "", "", ""}},
		{rings: []orb.Ring{sq(108, 10, 108.1, 10.1)}, values: []string{"A7", "Ấp Bảy", "", "", ""}},
	}
	dir := t.TempDir()
	files := writeShapefile(t, dir, "recs", recs, "", "UTF-8")
	// Record 3 claims 1000 parts.
	shp := files[".shp"]
	off := 100
	for range 2 {
		off += 8 + 2*int(binary.BigEndian.Uint32(shp[off+4:]))
	}
	binary.LittleEndian.PutUint32(shp[off+8+36:], 1000)
	// Record 7 is a point.
	off = 100
	for range 6 {
		off += 8 + 2*int(binary.BigEndian.Uint32(shp[off+4:]))
	}
	binary.LittleEndian.PutUint32(shp[off+8:], 1)
	os.WriteFile(filepath.Join(dir, "recs.shp"), shp, 0o644)

	as, err := ReadAreas(context.Background(), filepath.Join(dir, "recs.shp"), AreaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, a := range as.Areas {
		codes = append(codes, a.Code)
	}
	if strings.Join(codes, ",") != "A1,A6" {
		t.Errorf("accepted %v, want A1, A6", codes)
	}
	if a6 := as.Areas[len(as.Areas)-1]; len(a6.Geometry) != 2 || len(a6.Geometry[0]) != 2 || len(a6.Geometry[1]) != 2 {
		t.Errorf("A6 = %v, want two parts with a hole each", a6.Geometry)
	}
	want := []struct {
		row            int
		feature, field string
		reason         string
	}{
		{2, "A2", "geometry", "ring 1 crosses itself"},
		{3, "A3", "geometry", "cannot hold 1000 parts"},
		{4, "A4", "geometry", "ring 2 is a hole (counter-clockwise) that lies inside no outer ring"},
		{5, "A5", "population", "not a number"},
		{7, "A7", "geometry", "Point is not a Polygon or MultiPolygon"},
	}
	if as.Read != 7 || len(as.Errors) != len(want) {
		t.Fatalf("read %d, errors %v; want 7 read and %d errors", as.Read, as.Errors, len(want))
	}
	for i, w := range want {
		e := as.Errors[i]
		if e.Row != w.row || e.Feature != w.feature || e.Field != w.field || !strings.Contains(e.Reason, w.reason) {
			t.Errorf("error %d = %+v, want row %d feature %s field %s reason containing %q", i, e, w.row, w.feature, w.field, w.reason)
		}
	}
}

// TestReadAreasHoleOutsideShell: a GeoJSON polygon whose hole lies
// outside its outer ring is rejected naming the feature and the ring.
func TestReadAreasHoleOutsideShell(t *testing.T) {
	path := filepath.Join(t.TempDir(), "holes.geojson")
	os.WriteFile(path, []byte(`{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"H1"},"geometry":{"type":"Polygon","coordinates":[
 [[106,10],[107,10],[107,11],[106,11],[106,10]],[[108,10],[108,10.5],[108.5,10.5],[108,10]]]}},
{"type":"Feature","properties":{"code":"H2"},"geometry":{"type":"Polygon","coordinates":[
 [[106,10],[107,10],[107,11],[106,11],[106,10]],[[106.5,10.5],[106.5,10.7],[107.5,10.7],[106.5,10.5]]]}},
{"type":"Feature","properties":{"code":"H3"},"geometry":{"type":"Polygon","coordinates":[
 [[106,10],[107,10],[107,11],[106,11],[106,10]],[[106.5,10.5],[106.5,10.7],[106.7,10.7],[106.5,10.5]]]}}]}`), 0o644)
	as, err := ReadAreas(context.Background(), path, AreaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(as.Areas) != 1 || as.Areas[0].Code != "H3" || len(as.Errors) != 2 {
		t.Fatalf("areas %v errors %v, want H3 only", as.Areas, as.Errors)
	}
	if e := as.Errors[0]; e.Feature != "H1" || e.Field != "geometry" || !strings.Contains(e.Reason, "ring 2 is a hole that does not lie inside ring 1") {
		t.Errorf("H1: %+v", e)
	}
	if e := as.Errors[1]; e.Feature != "H2" || !strings.Contains(e.Reason, "ring 2 crosses ring 1") {
		t.Errorf("H2: %+v", e)
	}
}

func TestReadAreasGeoJSONWithBOM(t *testing.T) {
	b, err := os.ReadFile("testdata/areas.geojson")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bom.geojson")
	os.WriteFile(path, append([]byte("\uFEFF"), b...), 0o644)
	want, err := ReadAreas(context.Background(), "testdata/areas.geojson", AreaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadAreas(context.Background(), path, AreaOptions{})
	if err != nil {
		t.Fatalf("with a BOM: %v", err)
	}
	if got.Read != want.Read || len(got.Areas) != len(want.Areas) || len(got.Errors) != len(want.Errors) {
		t.Errorf("with a BOM: read %d, %d areas, %d errors; without: %d, %d, %d",
			got.Read, len(got.Areas), len(got.Errors), want.Read, len(want.Areas), len(want.Errors))
	}
}
