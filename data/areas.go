// Package data reads gapmap's input files: area boundaries (GeoJSON,
// shapefile, zipped shapefile) and community digital-technology teams (CSV,
// GeoJSON), turning them into geo values and per-row geo.FieldErrors.
// Weak-signal reports are decoded by package geo/ingest, whose CSV and
// GeoJSON primitives these readers share.
//
// data imports geo and geo/ingest, and never api.
package data

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// AreaOptions says how to map a boundary file's properties (GeoJSON
// properties or DBF columns) onto geo.Area. Empty field names take the
// defaults shown.
type AreaOptions struct {
	CodeField       string // default "code"
	NameField       string // default "name"
	PopulationField string // default "population"
	// ParentField defaults to "parent_code"; when a feature has no such
	// property, "province_code" is used instead.
	ParentField     string
	LevelField      string // default "level"; parsed with geo.ParseLevel
	HouseholdsField string // default "households"

	// Vintage labels the boundary set (e.g. "2025") and is copied into
	// every Area.Vintage.
	Vintage string
	// DefaultLevel is the level of features without a level property. When
	// it is geo.LevelUnknown, features that have a "unit_type" property (the
	// 2025 commune files: Xã, Phường, Đặc khu) are communes and the others
	// hamlets.
	DefaultLevel geo.Level
	// Progress, if not nil, is called every 1000 features with the number
	// read so far.
	Progress func(n int)
}

func (o *AreaOptions) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.CodeField, "code")
	def(&o.NameField, "name")
	def(&o.PopulationField, "population")
	def(&o.ParentField, "parent_code")
	def(&o.LevelField, "level")
	def(&o.HouseholdsField, "households")
}

// AreaSet is what ReadAreas found in a file.
type AreaSet struct {
	// Areas are the valid features, in input order.
	Areas []geo.Area
	// Errors holds one FieldError per rejected feature. Row is the
	// 1-based feature index (in a shapefile, the record's number);
	// Feature is the feature's code when it has one, else "#<row>". When a feature has several problems they are
	// joined into the one error's Reason.
	Errors geo.FieldErrors
	// Read is the number of features read (len(Areas)+len(Errors)).
	Read int
	// Warnings are sentences about the file as a whole that did not stop
	// it from loading, each naming the file it is about: the text
	// encoding assumed for a .dbf without a .cpg.
	Warnings []string
}

// ReadAreas reads area boundaries from path, choosing the format by
// extension: .geojson or .json (a GeoJSON FeatureCollection of Polygon and
// MultiPolygon features, RFC 7946, lon/lat EPSG:4326), .shp (with sibling
// .dbf, optional .prj and .cpg) or .zip (holding one shapefile).
//
// Bad features are rejected one by one into AreaSet.Errors and never stop
// the rest from loading. ReadAreas returns an error, naming path, only when
// the file as a whole cannot be used: it cannot be opened or parsed, it is
// not a FeatureCollection, or its .prj names a projected coordinate system.
//
// Geometry: a Polygon becomes a MultiPolygon of one part; coordinates
// beyond the second (altitude) are dropped; rings are re-ordered where
// needed so that outer rings run counter-clockwise and holes clockwise (RFC
// 7946), without moving any vertex. Unclosed rings are rejected, not
// closed.
//
// Area.Props holds every property except those mapped onto Area fields
// (code, name, parent, level, population, households). GeoJSON numbers are
// float64, as encoding/json decodes them; DBF values are string, int64,
// float64, bool or time.Time. DBF text is read in the encoding a .cpg file
// names (UTF-8, 1258, TCVN3, VNI, windows-1252, …); without one, as UTF-8
// when it is valid UTF-8, else as the legacy Vietnamese encoding
// (Windows-1258, TCVN3 or VNI) it reads best in, said in
// AreaSet.Warnings, and refused when none is clear.
//
// Shapefiles: each record is a feature, Row its number in the .shp; a
// record that cannot be read is rejected on its own. Sizes stated in the
// files are checked against their real sizes before anything is
// allocated, and a .prj over 64 KiB, a .cpg over 1 KiB, a zip of more
// than 1000 files or a member that unpacks to more than 100 times its
// packed size (past 1 MiB) is refused.
func ReadAreas(ctx context.Context, path string, opt AreaOptions) (*AreaSet, error) {
	b := newAreaBuilder(opt)
	var err error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".geojson", ".json":
		err = readAreasGeoJSON(ctx, path, b)
	case ".shp":
		err = readAreasShapefile(ctx, path, false, b)
	case ".zip":
		err = readAreasShapefile(ctx, path, true, b)
	default:
		err = fmt.Errorf("unknown file type %q (want .geojson, .json, .shp or .zip)", ext)
	}
	if err != nil {
		return nil, fmt.Errorf("data: read areas from %s: %w", path, err)
	}
	return b.set, nil
}

func newAreaBuilder(opt AreaOptions) *areaBuilder {
	opt.setDefaults()
	return &areaBuilder{opt: opt, set: &AreaSet{}, seen: map[string]int{}}
}

// areaBuilder turns decoded features into areas, whatever the file format.
type areaBuilder struct {
	opt  AreaOptions
	set  *AreaSet
	seen map[string]int // code → row of the accepted feature
}

// rawFeature is one decoded feature before validation. geomErr, when not
// empty, replaces geometry validation (missing or non-polygon geometry);
// errField names the field it is about when that is not "geometry". row,
// when not 0, is the feature's number in its file (a shapefile record's),
// used in place of its index among the features read.
type rawFeature struct {
	row      int
	props    map[string]any
	mp       orb.MultiPolygon
	geomErr  string
	errField string
}

func (b *areaBuilder) add(ctx context.Context, f rawFeature) error {
	a, es := b.area(f)
	return b.take(ctx, f.row, a, es)
}

// take counts one feature converted by area and keeps it, or its errors,
// after the duplicate-code check, which needs the features before it: the
// rest of area may run for several features at once.
func (b *areaBuilder) take(ctx context.Context, fileRow int, a geo.Area, es geo.FieldErrors) error {
	b.set.Read++
	n := b.set.Read
	if b.opt.Progress != nil && n%1000 == 0 {
		b.opt.Progress(n)
	}
	if n%256 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	row := n
	if fileRow != 0 {
		row = fileRow
	}
	if len(es) == 0 && a.Code != "" {
		if first, dup := b.seen[a.Code]; dup {
			es = geo.FieldErrors{{Field: "code", Reason: fmt.Sprintf("duplicate of feature #%d", first)}}
		}
	}
	if len(es) == 0 {
		b.seen[a.Code] = row
		b.set.Areas = append(b.set.Areas, a)
		return nil
	}
	fe := *es[0]
	for _, e := range es[1:] {
		fe.Reason += "; " + e.Field + ": " + e.Reason
	}
	fe.Row = row
	fe.Feature = a.Code
	if fe.Feature == "" {
		fe.Feature = "#" + strconv.Itoa(row)
	}
	b.set.Errors = append(b.set.Errors, &fe)
	return nil
}

// area converts f and lists its problems, all but a duplicate code (see
// take). It reads only b.opt, so it may run for several features at once.
func (b *areaBuilder) area(f rawFeature) (geo.Area, geo.FieldErrors) {
	var es geo.FieldErrors
	bad := func(field, reason string) {
		es = append(es, &geo.FieldError{Field: field, Reason: reason})
	}
	p := propLookup(f.props)
	a := geo.Area{Vintage: b.opt.Vintage}
	used := map[string]bool{}
	get := func(name string) (any, bool) {
		k, v, ok := p.find(name)
		if k != "" {
			used[k] = true // a null mapped property is dropped, not kept in Props
		}
		return v, ok
	}

	if v, ok := get(b.opt.CodeField); ok {
		s, err := propString(v)
		if err != nil {
			bad("code", err.Error())
		}
		a.Code = strings.TrimSpace(s)
	}
	if v, ok := get(b.opt.NameField); ok {
		s, err := propString(v)
		if err != nil {
			bad("name", err.Error())
		}
		a.Name = strings.TrimSpace(s)
	}
	v, ok := get(b.opt.ParentField)
	if !ok {
		v, ok = get("province_code")
	}
	if ok {
		s, err := propString(v)
		if err != nil {
			bad("parent_code", err.Error())
		}
		a.ParentCode = strings.TrimSpace(s)
	}
	for _, c := range []struct {
		field, name string
		dst         *int64
	}{
		{b.opt.PopulationField, "population", &a.Population},
		{b.opt.HouseholdsField, "households", &a.Households},
	} {
		if v, ok := get(c.field); ok {
			x, err := propCount(v)
			if err != nil {
				bad(c.name, err.Error())
			}
			*c.dst = x
		}
	}
	if v, ok := get(b.opt.LevelField); ok {
		s, err := propString(v)
		if err == nil {
			a.Level, err = geo.ParseLevel(s)
		}
		if err != nil {
			bad("level", err.Error())
		}
	}
	if a.Level == geo.LevelUnknown {
		a.Level = b.opt.DefaultLevel
	}
	if a.Level == geo.LevelUnknown {
		a.Level = geo.LevelHamlet
		if v, ok := p.get("unit_type"); ok && v != nil {
			a.Level = geo.LevelCommune
		}
	}

	for k, v := range f.props {
		if used[k] {
			continue
		}
		if a.Props == nil {
			a.Props = make(map[string]any, len(f.props))
		}
		a.Props[k] = v
	}

	a.Geometry = f.mp
	geomErr := f.geomErr
	if geomErr == "" && !lonLatRange(f.mp) {
		geomErr = "coordinates are not lon/lat degrees (EPSG:4326 expected)"
	}
	if geomErr == "" {
		a.Geometry = normalizeRings(a.Geometry)
	}
	for _, e := range geo.AsFieldErrors(a.Validate()) {
		if e.Field == "geometry" && geomErr != "" {
			continue
		}
		if hasField(es, e.Field) {
			continue // already reported as a parse error
		}
		es = append(es, e)
	}
	if geomErr != "" {
		field := f.errField
		if field == "" {
			field = "geometry"
		}
		bad(field, geomErr)
	}
	return a, es
}

func hasField(es geo.FieldErrors, field string) bool {
	for _, e := range es {
		if e.Field == field {
			return true
		}
	}
	return false
}

// lonLatRange reports whether every position of mp could be lon/lat
// degrees. NaN is left for geo.ValidateMultiPolygon to report.
func lonLatRange(mp orb.MultiPolygon) bool {
	for _, p := range mp {
		for _, r := range p {
			for _, pt := range r {
				if math.Abs(pt[0]) > 180 || math.Abs(pt[1]) > 90 {
					return false
				}
			}
		}
	}
	return true
}

// normalizeRings drops repeated consecutive positions (the 2025 commune
// files have them where coordinates were rounded to 6 decimals) and
// reverses, in place, outer rings that run clockwise and holes
// that run counter-clockwise: shapefiles use the opposite winding, many
// GeoJSON files ignore it, and writers downstream emit RFC 7946. No vertex
// is moved and unclosed rings stay unclosed.
func normalizeRings(mp orb.MultiPolygon) orb.MultiPolygon {
	for _, p := range mp {
		for i, r := range p {
			r = dedupRing(r)
			if len(r) < 3 {
				p[i] = r // too short to wind either way; Validate rejects it
				continue
			}
			o := r.Orientation()
			if (i == 0 && o == orb.CW) || (i > 0 && o == orb.CCW) {
				r.Reverse()
			}
			p[i] = r
		}
	}
	return mp
}

// dedupRing removes positions equal to the one before, in place.
func dedupRing(r orb.Ring) orb.Ring {
	if len(r) < 2 {
		return r
	}
	out := r[:1]
	for _, pt := range r[1:] {
		if pt != out[len(out)-1] {
			out = append(out, pt)
		}
	}
	return out
}

// propLookup finds properties by name: exactly, then ignoring case, then
// (for DBF columns, which hold at most 10 bytes) by the name cut to 10
// bytes, so "parent_code" finds a DBF column "PARENT_COD".
type propLookup map[string]any

func (p propLookup) find(name string) (key string, v any, ok bool) {
	if v, ok := p[name]; ok {
		return name, v, v != nil
	}
	short := name
	if len(short) > 10 {
		short = short[:10]
	}
	for k, v := range p {
		if strings.EqualFold(k, name) || strings.EqualFold(k, short) {
			return k, v, v != nil
		}
	}
	return "", nil, false
}

func (p propLookup) get(name string) (any, bool) {
	_, v, ok := p.find(name)
	return v, ok
}

// propString formats a property as text: strings as they are, whole
// numbers without decimals (80001 → "80001").
func propString(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("not a finite number")
		}
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case int:
		return strconv.Itoa(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", fmt.Errorf("not a string or number")
}

// propCount reads a count (population, households) given as a number or a
// numeric string; fractions are rounded to the nearest whole number, as
// some files hold modelled populations.
func propCount(v any) (int64, error) {
	var f float64
	switch v := v.(type) {
	case nil:
		return 0, nil
	case float64:
		f = v
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			return 0, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("not a number")
		}
		f = x
	default:
		return 0, fmt.Errorf("not a number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not a number")
	}
	return int64(math.Round(f)), nil
}
