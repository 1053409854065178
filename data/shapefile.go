package data

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// This file reads ESRI shapefiles (ESRI Shapefile Technical Description,
// 1998): the .shp geometry, the .dbf attributes (dbf.go), the .prj
// coordinate system and the .cpg text encoding, from a folder or a zip.
// Every length a file states is checked against the file's real size
// before it is allocated, members of a zip are refused past a size and a
// packing ratio, and a bad record is rejected on its own.

// Limits on what a shapefile may hold.
const (
	// maxPRJBytes: a .prj is one WKT definition, a few hundred bytes.
	maxPRJBytes = 64 << 10
	// maxCPGBytes: a .cpg is one encoding name.
	maxCPGBytes = 1 << 10
	// maxPartBytes: a .shp counts its length in 16-bit words in an int32;
	// a .dbf is held to the same.
	maxPartBytes = 4 << 30
	// maxZipMembers: a zipped shapefile has a handful of files.
	maxZipMembers = 1000
	// maxZipRatio is the most a zip member may unpack to per byte packed,
	// once it unpacks to more than zipRatioFloor. Shapefiles pack 2 to 20
	// times; a zip bomb packs a thousand.
	maxZipRatio   = 100
	zipRatioFloor = 1 << 20
	// maxAssignWork bounds the point-in-ring tests that match a record's
	// holes with its outer rings (ring pairs times vertices).
	maxAssignWork = 1 << 26
)

// part is one file of a shapefile, on disk or in a zip.
type part struct {
	name string // the path or the zip member, for messages
	size int64  // bytes, unpacked
	open func() (io.ReadCloser, error)
}

// readAll reads a small part whole, refusing one larger than limit.
func (p *part) readAll(limit int64) ([]byte, error) {
	if p.size > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a %s file may hold", p.name, p.size, limit, path.Ext(p.name))
	}
	rc, err := p.open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than the %d bytes a %s file may hold", p.name, limit, path.Ext(p.name))
	}
	return b, nil
}

// shapefileParts are the files of one shapefile; dbf, prj and cpg may be
// nil.
type shapefileParts struct {
	shp, dbf, prj, cpg *part
}

// diskParts finds the files beside the .shp at shpPath, matching their
// extensions in any case.
func diskParts(shpPath string) (*shapefileParts, error) {
	st, err := os.Stat(shpPath)
	if err != nil {
		return nil, err
	}
	dir, base := filepath.Split(shpPath)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	// Parts are named by their file names: the error that reaches the
	// caller names the path of the .shp already.
	onDisk := func(p string, size int64) *part {
		return &part{name: filepath.Base(p), size: size, open: func() (io.ReadCloser, error) { return os.Open(p) }}
	}
	ps := &shapefileParts{shp: onDisk(shpPath, st.Size())}
	entries, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if !strings.EqualFold(strings.TrimSuffix(name, filepath.Ext(name)), stem) || e.IsDir() {
			continue
		}
		var dst **part
		switch ext {
		case ".dbf":
			dst = &ps.dbf
		case ".prj":
			dst = &ps.prj
		case ".cpg":
			dst = &ps.cpg
		default:
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, name)
		// The exact name wins over one differing in case.
		if *dst == nil || name == stem+ext {
			*dst = onDisk(p, info.Size())
		}
	}
	return ps, nil
}

// zipParts finds the shapefile in the zip zr, refusing a zip of too many
// members and members too large or packed too tightly.
func zipParts(zr *zip.Reader) (*shapefileParts, error) {
	if len(zr.File) > maxZipMembers {
		return nil, fmt.Errorf("the zip holds %d files, more than the %d a zipped shapefile may", len(zr.File), maxZipMembers)
	}
	byExt := map[string][]*zip.File{}
	for _, f := range zr.File {
		name := f.Name
		if strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(path.Base(name), "._") || strings.HasSuffix(name, "/") {
			continue
		}
		ext := strings.ToLower(path.Ext(name))
		byExt[ext] = append(byExt[ext], f)
	}
	shps := byExt[".shp"]
	switch len(shps) {
	case 0:
		return nil, errors.New("the zip holds no .shp file")
	case 1:
	default:
		names := make([]string, len(shps))
		for i, f := range shps {
			names[i] = f.Name
		}
		return nil, fmt.Errorf("the zip holds %d shapefiles (%s); put one in each zip", len(shps), strings.Join(names, ", "))
	}
	stem := strings.TrimSuffix(shps[0].Name, path.Ext(shps[0].Name))
	member := func(f *zip.File, limit int64) (*part, error) {
		size, packed := f.UncompressedSize64, f.CompressedSize64
		if size > uint64(limit) {
			return nil, fmt.Errorf("%s: unpacks to %d bytes, more than the %d a %s file may hold", f.Name, size, limit, path.Ext(f.Name))
		}
		if size > zipRatioFloor && size > maxZipRatio*packed {
			return nil, fmt.Errorf("%s: unpacks to %d bytes from %d (%d:1, more than %d:1): a zip bomb or a damaged zip", f.Name, size, packed, size/max(packed, 1), maxZipRatio)
		}
		return &part{name: f.Name, size: int64(size), open: func() (io.ReadCloser, error) {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			// archive/zip fails a member that unpacks to more than it
			// says; the limit is a second guard.
			return struct {
				io.Reader
				io.Closer
			}{io.LimitReader(rc, int64(size)), rc}, nil
		}}, nil
	}
	pick := func(ext string, limit int64) (*part, error) {
		fs := byExt[ext]
		var chosen *zip.File
		for _, f := range fs {
			if strings.EqualFold(strings.TrimSuffix(f.Name, path.Ext(f.Name)), stem) {
				chosen = f
			}
		}
		if chosen == nil {
			switch len(fs) {
			case 0:
				return nil, nil
			case 1:
				chosen = fs[0]
			default:
				return nil, fmt.Errorf("the zip holds %d %s files and none is named like %s", len(fs), ext, shps[0].Name)
			}
		}
		return member(chosen, limit)
	}
	var ps shapefileParts
	var err error
	if ps.shp, err = member(shps[0], maxPartBytes); err != nil {
		return nil, err
	}
	if ps.dbf, err = pick(".dbf", maxPartBytes); err != nil {
		return nil, err
	}
	if ps.prj, err = pick(".prj", maxPRJBytes); err != nil {
		return nil, err
	}
	if ps.cpg, err = pick(".cpg", maxCPGBytes); err != nil {
		return nil, err
	}
	return &ps, nil
}

// readAreasShapefile reads the shapefile at path (basename.shp with its
// sibling files, or a .zip holding one shapefile) into b.
//
// DBF text is read in the encoding its .cpg names; without a .cpg, as
// UTF-8 (what QGIS and GDAL write) when it is valid UTF-8, else as the
// legacy Vietnamese encoding (Windows-1258, TCVN3 or VNI) it reads best
// in, with a warning in b.set.Warnings, or refused when none is clear.
func readAreasShapefile(ctx context.Context, p string, zipped bool, b *areaBuilder) error {
	var (
		ps  *shapefileParts
		err error
	)
	if zipped {
		zr, err := zip.OpenReader(p)
		if err != nil {
			return err
		}
		defer zr.Close()
		if ps, err = zipParts(&zr.Reader); err != nil {
			return err
		}
	} else if ps, err = diskParts(p); err != nil {
		return err
	}
	return readShapefile(ctx, ps, b)
}

// readShapefile reads the shapefile of ps into b.
func readShapefile(ctx context.Context, ps *shapefileParts, b *areaBuilder) error {
	if ps.prj != nil {
		wkt, err := ps.prj.readAll(maxPRJBytes)
		if err != nil {
			return err
		}
		if err := checkPRJ(string(wkt)); err != nil {
			return err
		}
	}
	var enc *textEncoding
	if ps.cpg != nil {
		name, err := ps.cpg.readAll(maxCPGBytes)
		if err != nil {
			return err
		}
		e, err := cpgEncoding(string(name))
		if err != nil {
			return fmt.Errorf("%s: %w", ps.cpg.name, err)
		}
		enc = &e
	}

	var dbf *dbfReader
	if ps.dbf != nil {
		if ps.dbf.size > maxPartBytes {
			return fmt.Errorf("%s: %d bytes, more than the %d a .dbf may hold", ps.dbf.name, ps.dbf.size, int64(maxPartBytes))
		}
		if enc == nil {
			e, warning, err := guessDBFEncoding(ps.dbf)
			if err != nil {
				return err
			}
			if warning != "" {
				b.set.Warnings = append(b.set.Warnings, ps.dbf.name+": "+warning)
			}
			enc = &e
		}
		rc, err := ps.dbf.open()
		if err != nil {
			return fmt.Errorf("%s: %w", ps.dbf.name, err)
		}
		defer rc.Close()
		br := bufio.NewReaderSize(rc, 256<<10)
		t, err := readDBFHeader(br, ps.dbf.name, ps.dbf.size)
		if err != nil {
			return err
		}
		t.setEncoding(*enc)
		dbf = newDBFReader(t, br, *enc)
	}

	rc, err := ps.shp.open()
	if err != nil {
		return fmt.Errorf("%s: %w", ps.shp.name, err)
	}
	defer rc.Close()
	shp, err := newSHPReader(bufio.NewReaderSize(rc, 1<<20), ps.shp.name, ps.shp.size)
	if err != nil {
		return err
	}
	for {
		n, content, err := shp.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		rf := rawFeature{row: n}
		if dbf != nil {
			props, deleted, err := dbf.next()
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%s has more records than the %d of %s", ps.shp.name, dbf.t.records, ps.dbf.name)
			}
			if err != nil {
				return err
			}
			if deleted {
				continue
			}
			rf.props = props
		}
		rf.mp, rf.geomErr = decodeSHPPolygon(content)
		if err := b.add(ctx, rf); err != nil {
			return err
		}
	}
	if dbf != nil && dbf.n < dbf.t.records {
		return fmt.Errorf("%s has %d records but %s has %d", ps.dbf.name, dbf.t.records, ps.shp.name, shp.n)
	}
	return nil
}

// guessDBFEncoding reads the text fields of the .dbf p to pick its
// encoding when no .cpg says it.
func guessDBFEncoding(p *part) (textEncoding, string, error) {
	rc, err := p.open()
	if err != nil {
		return textEncoding{}, "", fmt.Errorf("%s: %w", p.name, err)
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 256<<10)
	t, err := readDBFHeader(br, p.name, p.size)
	if err != nil {
		return textEncoding{}, "", err
	}
	g := newEncodingGuess()
	for _, c := range t.columns {
		g.add(c.rawName)
	}
	d := newDBFReader(t, br, encUTF8)
	for {
		rec, err := d.raw()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return textEncoding{}, "", err
		}
		if rec[0] == '*' {
			continue
		}
		for _, c := range t.columns {
			if c.typ == 'C' {
				g.add(trimField(rec[1+c.off : 1+c.off+c.size]))
			}
		}
	}
	enc, warning, err := g.result()
	if err != nil {
		return textEncoding{}, "", fmt.Errorf("%s: %w", p.name, err)
	}
	return enc, warning, nil
}

// shpReader reads the records of a .shp in order.
type shpReader struct {
	r    io.Reader
	name string
	end  int64 // where the records end: the length the header states
	off  int64 // where the next record starts
	n    int   // records read
	buf  []byte
}

func newSHPReader(r io.Reader, name string, size int64) (*shpReader, error) {
	var h [100]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("%s: not a shapefile (%d bytes, shorter than its 100-byte header)", name, size)
	}
	if code := int32(binary.BigEndian.Uint32(h[0:4])); code != 9994 {
		return nil, fmt.Errorf("%s: not a shapefile (file code %d, want 9994)", name, code)
	}
	if v := int32(binary.LittleEndian.Uint32(h[28:32])); v != 1000 {
		return nil, fmt.Errorf("%s: shapefile version %d, want 1000", name, v)
	}
	stated := 2 * int64(binary.BigEndian.Uint32(h[24:28]))
	if stated > size {
		return nil, fmt.Errorf("%s: header says the file has %d bytes but it has %d (cut short?)", name, stated, size)
	}
	if stated < 100 {
		return nil, fmt.Errorf("%s: header says the file has %d bytes, less than its header", name, stated)
	}
	// Bytes past the stated length are ignored, as other readers do.
	return &shpReader{r: r, name: name, end: stated, off: 100}, nil
}

// next returns the next record's number (1-based, its place in the file)
// and content; io.EOF after the last. A record whose stated length runs
// past the end of the file is an error: the records after it cannot be
// found.
func (s *shpReader) next() (int, []byte, error) {
	left := s.end - s.off
	if left < 8 {
		// Fewer than 8 bytes cannot hold a record header; trailing
		// padding is ignored.
		return 0, nil, io.EOF
	}
	var h [8]byte
	if _, err := io.ReadFull(s.r, h[:]); err != nil {
		return 0, nil, fmt.Errorf("%s: record %d: %w", s.name, s.n+1, err)
	}
	s.n++
	length := 2 * int64(binary.BigEndian.Uint32(h[4:8]))
	if length > left-8 {
		return 0, nil, fmt.Errorf("%s: record %d: content length %d bytes runs past the end of the file (%d bytes left)", s.name, s.n, length, left-8)
	}
	if int64(cap(s.buf)) < length {
		s.buf = make([]byte, length)
	}
	s.buf = s.buf[:length]
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		return 0, nil, fmt.Errorf("%s: record %d: %w", s.name, s.n, err)
	}
	s.off += 8 + length
	return s.n, s.buf, nil
}

// decodeSHPPolygon decodes one record's content into a MultiPolygon in x
// (lon), y (lat) order, dropping Z and M. The string is the reason it
// cannot, for a FieldError on "geometry".
func decodeSHPPolygon(c []byte) (orb.MultiPolygon, string) {
	if len(c) < 4 {
		return nil, fmt.Sprintf("record content of %d bytes holds no shape type", len(c))
	}
	le := binary.LittleEndian
	switch t := int32(le.Uint32(c)); t {
	case 0:
		return nil, "missing"
	case 5, 15, 25:
	case 1, 11, 21:
		return nil, "Point is not a Polygon or MultiPolygon"
	case 8, 18, 28:
		return nil, "MultiPoint is not a Polygon or MultiPolygon"
	case 3, 13, 23:
		return nil, "LineString is not a Polygon or MultiPolygon"
	case 31:
		return nil, "MultiPatch is not a Polygon or MultiPolygon"
	default:
		return nil, fmt.Sprintf("shape type %d is not a Polygon or MultiPolygon", t)
	}
	if len(c) < 44 {
		return nil, fmt.Sprintf("polygon record of %d bytes, too short for its header", len(c))
	}
	numParts, numPoints := int64(int32(le.Uint32(c[36:]))), int64(int32(le.Uint32(c[40:])))
	if numParts < 1 || numPoints < 1 {
		return nil, fmt.Sprintf("polygon with %d parts and %d points", numParts, numPoints)
	}
	if need := 44 + 4*numParts + 16*numPoints; need > int64(len(c)) {
		return nil, fmt.Sprintf("record of %d bytes cannot hold %d parts and %d points (%d bytes)", len(c), numParts, numPoints, need)
	}
	starts := make([]int, numParts+1)
	for i := range numParts {
		starts[i] = int(int32(le.Uint32(c[44+4*i:])))
	}
	starts[numParts] = int(numPoints)
	if starts[0] != 0 {
		return nil, fmt.Sprintf("part 1 starts at point %d, want 0", starts[0])
	}
	for i := 1; i <= int(numParts); i++ {
		if starts[i] <= starts[i-1] {
			return nil, fmt.Sprintf("part %d starts at point %d, not after part %d (at %d)", i+1, starts[i], i, starts[i-1])
		}
	}
	pts := c[44+4*numParts:]
	rings := make([]orb.Ring, numParts)
	for i := range rings {
		r := make(orb.Ring, starts[i+1]-starts[i])
		for k := range r {
			o := 16 * (starts[i] + k)
			r[k] = orb.Point{math.Float64frombits(le.Uint64(pts[o:])), math.Float64frombits(le.Uint64(pts[o+8:]))}
		}
		rings[i] = r
	}
	return assemblePolygons(rings)
}

// assemblePolygons groups a record's rings into polygons. The shapefile
// specification makes outer rings clockwise and holes counter-clockwise
// and does not fix their order, so each hole goes to the smallest outer
// ring that contains it; a hole inside none is the reason to reject the
// record. When every ring winds the same way the writer ignored the
// specification (as some do), and rings are told apart by nesting: rings
// inside an even number of others are outer rings.
func assemblePolygons(rings []orb.Ring) (orb.MultiPolygon, string) {
	if len(rings) == 1 {
		return orb.MultiPolygon{{rings[0]}}, ""
	}
	area := make([]float64, len(rings))
	bounds := make([]orb.Bound, len(rings))
	cw, ccw := 0, 0
	for i, r := range rings {
		area[i] = geo.RingArea2(r)
		bounds[i] = r.Bound()
		switch {
		case area[i] < 0:
			cw++
		case area[i] > 0:
			ccw++
		}
	}
	work := 0
	// container returns the smallest ring among cands that contains ring
	// i, or -1.
	container := func(i int, cands []int) (int, bool) {
		best := -1
		for _, j := range cands {
			if j == i || !bounds[j].Contains(bounds[i].Min) || !bounds[j].Contains(bounds[i].Max) {
				continue
			}
			if best >= 0 && math.Abs(area[j]) >= math.Abs(area[best]) {
				continue
			}
			work += len(rings[j]) + 1
			if work > maxAssignWork {
				return -1, false
			}
			if ringHolds(rings[j], rings[i]) {
				best = j
			}
		}
		return best, true
	}
	outerOf := make([]int, len(rings)) // -1: an outer ring
	all := make([]int, len(rings))
	for i := range all {
		all[i] = i
	}
	tooMany := fmt.Sprintf("%d rings, too many to match holes with their outer rings", len(rings))
	if cw == 0 || ccw == 0 {
		// Larger rings first, so that a ring's container is placed before it.
		order := append([]int(nil), all...)
		sort.SliceStable(order, func(a, b int) bool { return math.Abs(area[order[a]]) > math.Abs(area[order[b]]) })
		depth := make([]int, len(rings))
		for k, i := range order {
			c, ok := container(i, order[:k])
			if !ok {
				return nil, tooMany
			}
			outerOf[i] = -1
			if c >= 0 {
				depth[i] = depth[c] + 1
				if depth[i]%2 == 1 {
					outerOf[i] = c
				}
			}
		}
	} else {
		var outers []int
		for i := range rings {
			if area[i] <= 0 {
				outers = append(outers, i)
			}
		}
		for i := range rings {
			outerOf[i] = -1
			if area[i] <= 0 {
				continue
			}
			c, ok := container(i, outers)
			if !ok {
				return nil, tooMany
			}
			if c < 0 {
				return nil, fmt.Sprintf("ring %d is a hole (counter-clockwise) that lies inside no outer ring", i+1)
			}
			outerOf[i] = c
		}
	}
	var mp orb.MultiPolygon
	index := make([]int, len(rings))
	for i := range rings {
		if outerOf[i] < 0 {
			index[i] = len(mp)
			mp = append(mp, orb.Polygon{rings[i]})
		}
	}
	for i := range rings {
		if o := outerOf[i]; o >= 0 {
			mp[index[o]] = append(mp[index[o]], rings[i])
		}
	}
	return mp, ""
}

// ringHolds reports whether ring h lies inside ring r as far as its first
// vertex off r's boundary tells (the rings' full relation is
// ValidateMultiPolygon's to check); a ring all on r's boundary counts as
// inside.
func ringHolds(r, h orb.Ring) bool {
	for _, p := range h {
		in, on := pointInRing(r, p)
		if !on {
			return in
		}
	}
	return true
}

// pointInRing reports whether p is inside ring r (even-odd rule) or on its
// boundary.
func pointInRing(r orb.Ring, p orb.Point) (in, on bool) {
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		cross := (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
		if cross == 0 && min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1]) {
			return false, true
		}
		if (a[1] > p[1]) != (b[1] > p[1]) {
			x := a[0] + (p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1])
			if p[0] < x {
				in = !in
			}
		}
	}
	return in, false
}

// checkPRJ rejects a .prj that is clearly not geographic lon/lat: any
// projected coordinate system. Geographic systems on other datums (VN-2000
// geographic) are accepted; they differ from WGS 84 by metres, less than
// the accuracy of the boundaries we use.
func checkPRJ(wkt string) error {
	u := strings.ToUpper(strings.TrimSpace(wkt))
	if u == "" {
		return nil
	}
	if strings.HasPrefix(u, "PROJCS") || strings.HasPrefix(u, "PROJCRS") || strings.Contains(u, "PROJECTION[") {
		name := wkt
		if i := strings.IndexByte(name, '"'); i >= 0 {
			name = name[i+1:]
			if j := strings.IndexByte(name, '"'); j >= 0 {
				name = name[:j]
			}
		}
		return fmt.Errorf(".prj names the projected coordinate system %q; the file must be EPSG:4326 lon/lat (reproject it, e.g. ogr2ogr -t_srs EPSG:4326)", name)
	}
	return nil
}
