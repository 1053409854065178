package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
)

// A collection writes a GeoJSON FeatureCollection, one feature a line:
// the features are those the per-feature encoders (AreaFeature,
// HoleFeature, ...) append, joined.
type collection struct {
	*writer
	n int
}

func newCollection(w io.Writer) *collection {
	c := &collection{writer: newWriter(w)}
	c.str(`{"type":"FeatureCollection","features":[`)
	return c
}

// next starts the line of the next feature, which the caller appends.
func (c *collection) next() {
	if c.n > 0 {
		c.buf = append(c.buf, ',')
	}
	c.n++
	c.buf = append(c.buf, '\n')
}

// close ends the collection and flushes.
func (c *collection) close() error {
	if c.n > 0 {
		c.buf = append(c.buf, '\n')
	}
	c.str("]}\n")
	return c.flush()
}

// IDMember says whether a feature carries its identifier (an area's code,
// a hole's or a team's ID) as the GeoJSON "id" member. The files leave it
// out; the API's features have it, as OGC API - Features wants.
//
// Describe asks a feature encoder for its properties' types instead of
// their values: each property's value is written as the name of its JSON
// Schema type ("string", "integer", "number", "boolean", "array", or
// "date-time" for a time), which Fields reads back. It is how the API's
// schemas come from the encoders themselves, so they cannot drift apart.
type IDMember uint8

const (
	NoID IDMember = iota
	WithID
	Describe
)

// featureHead starts a feature, up to its geometry's value.
func featureHead(b []byte, withID IDMember, id string) []byte {
	b = append(b, `{"type":"Feature",`...)
	if withID == WithID {
		b = append(b, `"id":`...)
		b = appendID(b, id)
		b = append(b, ',')
	}
	return append(b, `"geometry":`...)
}

// appendID appends id as a JSON string the way encoding/json writes it
// (with <, > and & escaped), as the API has always written identifiers.
func appendID(b []byte, id string) []byte {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(id) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, id...)
	return append(b, '"')
}

// props appends the members of a JSON object to b in the order they are
// given.
type props struct {
	b []byte
	n int
	// describe writes each property's type instead of its value (see
	// Describe).
	describe bool
}

// startProps ends a feature's geometry and opens its properties; with
// Describe, the properties' types are written instead of their values.
func startProps(b []byte, m IDMember) *props {
	return &props{b: append(b, `,"properties":{`...), describe: m == Describe}
}

// typed writes, in describe mode, k with its type, and says so.
func (p *props) typed(k, typ string) bool {
	if !p.describe {
		return false
	}
	p.key(k)
	p.b = appendString(p.b, typ)
	return true
}

func (p *props) key(k string) {
	if p.n > 0 {
		p.b = append(p.b, ',')
	}
	p.n++
	p.b = appendString(p.b, k)
	p.b = append(p.b, ':')
}

func (p *props) str(k, v string) {
	if p.typed(k, "string") {
		return
	}
	p.key(k)
	p.b = appendString(p.b, v)
}

// nullStr writes v, or null when it is empty.
func (p *props) nullStr(k, v string) {
	if p.typed(k, "string") {
		return
	}
	p.key(k)
	if v == "" {
		p.b = append(p.b, "null"...)
		return
	}
	p.b = appendString(p.b, v)
}

func (p *props) int(k string, v int64) {
	if p.typed(k, "integer") {
		return
	}
	p.key(k)
	p.b = strconv.AppendInt(p.b, v, 10)
}

// num writes a real number, always with a decimal point (-92.0, not
// -92), so that clients which type a GeoJSON property from its values
// (GDAL, QGIS) read it as a real number, not as an integer that would cut
// the -92.5 of another feature to -92.
func (p *props) num(k string, v float64) {
	if p.typed(k, "number") {
		return
	}
	p.key(k)
	p.b = appendReal(p.b, v, precValue)
}

func (p *props) coord(k string, v float64) {
	if p.typed(k, "number") {
		return
	}
	p.key(k)
	p.b = appendReal(p.b, v, precCoord)
}

// appendReal is appendNum with a decimal point in every number.
func appendReal(b []byte, v float64, prec int) []byte {
	n := len(b)
	b = appendNum(b, v, prec)
	if bytes.IndexAny(b[n:], ".en") < 0 { // not 1.5, 1e+21 or null
		b = append(b, ".0"...)
	}
	return b
}

func (p *props) bool(k string, v bool) {
	if p.typed(k, "boolean") {
		return
	}
	p.key(k)
	p.b = strconv.AppendBool(p.b, v)
}

// time writes t in RFC 3339 (UTC), or null when t is zero.
func (p *props) time(k string, t time.Time) {
	if p.typed(k, "date-time") {
		return
	}
	p.key(k)
	if t.IsZero() {
		p.b = append(p.b, "null"...)
		return
	}
	p.b = appendString(p.b, t.UTC().Format(time.RFC3339))
}

func (p *props) strs(k string, vs []string) {
	if p.typed(k, "array") {
		return
	}
	p.key(k)
	p.b = append(p.b, '[')
	for i, v := range vs {
		if i > 0 {
			p.b = append(p.b, ',')
		}
		p.b = appendString(p.b, v)
	}
	p.b = append(p.b, ']')
}

// any writes v converted as WriteSummaryJSON does, on one line.
func (p *props) any(k string, v any) error {
	t, err := plain(v)
	if err != nil {
		return fmt.Errorf("export: property %q: %w", k, err)
	}
	if p.describe {
		typ := "string" // and for null: a type is guessed from no value
		switch t.(type) {
		case bool:
			typ = "boolean"
		case int64, uint64:
			typ = "integer"
		case float64, float32:
			typ = "number"
		case []any:
			typ = "array"
		case map[string]any:
			typ = "object"
		}
		p.typed(k, typ)
		return nil
	}
	p.key(k)
	p.b = appendPlain(p.b, t, false, 0)
	return nil
}

// end closes the properties and the feature, and returns the bytes.
func (p *props) end() []byte { return append(p.b, "}}"...) }

// appendRing appends r as [[lon,lat],...].
func appendRing(b []byte, r orb.Ring) []byte {
	b = append(b, '[')
	for i, pt := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPoint(b, pt)
	}
	return append(b, ']')
}

func appendPoint(b []byte, pt orb.Point) []byte {
	b = append(b, '[')
	b = appendNum(b, pt[0], precCoord)
	b = append(b, ',')
	b = appendNum(b, pt[1], precCoord)
	return append(b, ']')
}

func appendPolygonCoords(b []byte, p orb.Polygon) []byte {
	b = append(b, '[')
	for i, r := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRing(b, r)
	}
	return append(b, ']')
}

// appendGeometry appends mp as a Polygon when it has one part, a
// MultiPolygon otherwise, and null when it is empty.
func appendGeometry(b []byte, mp orb.MultiPolygon) []byte {
	switch len(mp) {
	case 0:
		return append(b, "null"...)
	case 1:
		b = append(b, `{"type":"Polygon","coordinates":`...)
		b = appendPolygonCoords(b, mp[0])
		return append(b, '}')
	}
	b = append(b, `{"type":"MultiPolygon","coordinates":[`...)
	for i, p := range mp {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPolygonCoords(b, p)
	}
	return append(b, "]}"...)
}

// areaKeys are the properties WriteAreasGeoJSON writes before an area's
// own, except the per-carrier ones (see carrierKeys).
var areaKeys = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range []string{
		"code", "name", "parent_code", "level", "vintage", "population", "households",
		"households_estimated", "land_km2", "reports", "weak", "weak_share", "weak_low", "observed_share",
		"hole_km2", "hole_share", "dead_km2", "dead_share", "population_affected",
		"households_affected", "teams", "members", "members_per_1000_households",
		"households_reached", "reached_share", "nearest_team_km", "reach_low", "action",
		"priority", "rank",
	} {
		m[k] = true
	}
	for _, c := range geo.Carriers {
		for _, k := range carrierKeys(c) {
			m[k] = true
		}
	}
	return m
}()

func carrierKeys(c geo.Carrier) [5]string {
	s := c.String()
	return [5]string{s + "_reports", s + "_weak", s + "_weak_low", s + "_hole_share", s + "_median_signal_dbm"}
}

// WriteAreasGeoJSON writes a FeatureCollection with one feature per score
// of an input area (Index >= 0; roll-ups have no geometry and are left
// out), its geometry from areas[score.Index]: each feature is
// AreaFeature's.
func WriteAreasGeoJSON(w io.Writer, areas []geo.Area, scores []geo.AreaScore) error {
	c := newCollection(w)
	for i := range scores {
		s := &scores[i]
		if s.Index < 0 {
			continue
		}
		if s.Index >= len(areas) {
			return fmt.Errorf("export: area score %q has index %d, but there are %d areas", s.Code, s.Index, len(areas))
		}
		c.next()
		var err error
		if c.buf, err = AreaFeature(c.buf, NoID, s, &areas[s.Index]); err != nil {
			return err
		}
		c.maybeFlush()
	}
	return c.close()
}

// AreaFeature appends area a with its score s as one GeoJSON Feature on
// one line: a's geometry, and as flat properties that QGIS can style the
// area's identity, report counts, per-carrier figures (viettel_reports,
// …), holes, affected people, team reach and priority, then the area's
// own input properties. It fails, appending nothing, when an input
// property has a value JSON cannot hold.
func AreaFeature(b []byte, withID IDMember, s *geo.AreaScore, a *geo.Area) ([]byte, error) {
	n := len(b)
	b = featureHead(b, withID, s.Code)
	b = appendGeometry(b, a.Geometry)
	p := startProps(b, withID)
	p.str("code", s.Code)
	p.str("name", s.Name)
	p.str("parent_code", s.ParentCode)
	p.str("level", s.Level.String())
	p.str("vintage", a.Vintage)
	p.int("population", s.Population)
	p.int("households", s.Households)
	p.bool("households_estimated", s.HouseholdsEstimated)
	p.num("land_km2", s.LandKm2)
	p.int("reports", int64(s.Reports))
	p.int("weak", int64(s.Weak))
	p.num("weak_share", s.WeakShare)
	p.num("weak_low", s.WeakLow)
	// observed_share 0: no data yet, whatever the shares below say.
	p.num("observed_share", s.ObservedShare)
	for _, cr := range geo.Carriers {
		k := carrierKeys(cr)
		st := carrierStats(s.Carriers, cr)
		p.int(k[0], int64(st.Reports))
		p.int(k[1], int64(st.Weak))
		p.num(k[2], st.WeakLow)
		p.num(k[3], st.HoleShare)
		p.num(k[4], st.MedianSignalDBm)
	}
	p.num("hole_km2", s.HoleKm2)
	p.num("hole_share", s.HoleShare)
	p.num("dead_km2", s.DeadKm2)
	p.num("dead_share", s.DeadShare)
	p.num("population_affected", s.PopulationAffected)
	p.num("households_affected", s.HouseholdsAffected)
	p.int("teams", int64(s.Reach.Teams))
	p.int("members", int64(s.Reach.Members))
	p.num("members_per_1000_households", s.Reach.MembersPer1000HH)
	p.int("households_reached", s.Reach.HouseholdsReached)
	p.num("reached_share", s.Reach.ReachedShare)
	p.num("nearest_team_km", s.Reach.NearestTeamKm)
	p.bool("reach_low", s.Reach.Low)
	p.str("action", string(s.Action))
	p.num("priority", s.Priority)
	p.int("rank", int64(s.Rank))
	keys := make([]string, 0, len(a.Props))
	for k := range a.Props {
		if !areaKeys[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := p.any(k, a.Props[k]); err != nil {
			return p.b[:n], err
		}
	}
	return p.end(), nil
}

// carrierStats finds c's figures; an area without them has zero reports
// and an unknown median signal.
func carrierStats(cs []geo.CarrierStats, c geo.Carrier) geo.CarrierStats {
	for _, s := range cs {
		if s.Carrier == c {
			return s
		}
	}
	return geo.CarrierStats{Carrier: c, MedianSignalDBm: nan}
}

// WriteHolesGeoJSON writes a FeatureCollection with one feature per hole
// or dead zone (carrier "all"), in the given order: each is HoleFeature's.
func WriteHolesGeoJSON(w io.Writer, holes []geo.Hole) error {
	return writeFeatures(w, holes, func(b []byte, h *geo.Hole) []byte { return HoleFeature(b, NoID, h) })
}

// WriteGapsGeoJSON writes one carrier's ranked holes; it is
// WriteHolesGeoJSON under the name the gaps files use.
func WriteGapsGeoJSON(w io.Writer, holes []geo.Hole) error {
	return WriteHolesGeoJSON(w, holes)
}

// HoleFeature appends hole or dead zone h as one GeoJSON Feature on one
// line: its outline, and its figures, times, centroid and areas as flat
// properties.
func HoleFeature(b []byte, withID IDMember, h *geo.Hole) []byte {
	b = featureHead(b, withID, h.ID)
	b = appendGeometry(b, h.Geometry)
	p := startProps(b, withID)
	p.str("id", h.ID)
	p.str("carrier", h.Carrier.String())
	p.str("state", holeState(h))
	p.int("rank", int64(h.Rank))
	p.num("priority", h.Priority)
	p.num("severity", h.Severity)
	p.num("confidence", h.Confidence)
	p.num("prob_weak", h.ProbWeak)
	p.num("weak_share_p05", h.Share05)
	p.num("weak_share_p95", h.Share95)
	p.num("area_km2", h.AreaKm2)
	p.int("cells", int64(h.Cells))
	p.num("population_affected", h.Population)
	p.num("households_affected", h.Households)
	p.int("reports", int64(h.Reports))
	p.int("weak_reports", int64(h.Weak))
	p.int("reporters", int64(h.Reporters))
	p.num("weak_share", h.WeakShare)
	p.num("weak_low", h.WeakLow)
	p.num("median_signal_dbm", h.MedianSignalDBm)
	p.time("first_observed", h.FirstObserved)
	p.time("last_observed", h.LastObserved)
	p.coord("centroid_lon", h.Centroid[0])
	p.coord("centroid_lat", h.Centroid[1])
	codes, names := areaLists(h.Areas)
	p.strs("area_codes", codes)
	p.strs("area_names", names)
	if l := &h.Life; l.State != "" {
		p.nullStr("answer_due", l.AnswerDue)
		p.nullStr("fix_due", l.FixDue)
		p.bool("overdue", l.Overdue)
		lead := ""
		if l.Lead != geo.CarrierUnknown {
			lead = l.Lead.String()
		}
		p.nullStr("lead_carrier", lead)
		p.nullStr("cause", string(l.Cause))
		p.nullStr("funding", string(l.Funding))
	}
	return p.end()
}

// holeState is h's state in the hole registry (see geo.Hole.Life), or
// open for a hole the analysis found and no registry named (analyze's).
func holeState(h *geo.Hole) string {
	if h.Life.State != "" {
		return string(h.Life.State)
	}
	return "open"
}

// HoleOutlineFeature appends where hole or dead zone h is, as one GeoJSON
// Feature on one line: its outline, and as properties its ID, carrier,
// state, size (area_km2) and the areas it touches (area_codes,
// area_names) — what geo.HoleOutline shows, none of the evidence,
// ranking, priority or households affected that HoleFeature adds.
func HoleOutlineFeature(b []byte, withID IDMember, h *geo.Hole) []byte {
	b = featureHead(b, withID, h.ID)
	b = appendGeometry(b, h.Geometry)
	p := startProps(b, withID)
	p.str("id", h.ID)
	p.str("carrier", h.Carrier.String())
	p.str("state", holeState(h))
	p.num("area_km2", h.AreaKm2)
	codes, names := areaLists(h.Areas)
	p.strs("area_codes", codes)
	p.strs("area_names", names)
	return p.end()
}

func areaLists(refs []geo.AreaRef) (codes, names []string) {
	codes = make([]string, len(refs))
	names = make([]string, len(refs))
	for i, r := range refs {
		codes[i], names[i] = r.Code, r.Name
	}
	return codes, names
}

// WriteTeamsGeoJSON writes a FeatureCollection with one feature per team:
// each is TeamFeature's.
func WriteTeamsGeoJSON(w io.Writer, teams []geo.TeamOut) error {
	return writeFeatures(w, teams, func(b []byte, t *geo.TeamOut) []byte { return TeamFeature(b, NoID, t) })
}

// TeamFeature appends team t as one GeoJSON Feature on one line: a Point
// at its base (a null geometry when the input gave no location) with its
// name, area, members and households reached.
func TeamFeature(b []byte, withID IDMember, t *geo.TeamOut) []byte {
	b = featureHead(b, withID, t.ID)
	if t.HasLocation {
		b = append(b, `{"type":"Point","coordinates":`...)
		b = appendPoint(b, orb.Point{t.Lon, t.Lat})
		b = append(b, '}')
	} else {
		b = append(b, "null"...)
	}
	p := startProps(b, withID)
	p.str("id", t.ID)
	p.str("name", t.Name)
	p.str("area_code", t.AreaCode)
	p.str("area_name", t.AreaName)
	p.int("members", int64(t.Members))
	p.int("households_reached", t.HouseholdsReached)
	return p.end()
}

// WriteCellsGeoJSON writes a FeatureCollection with one hexagon per
// carrier and H3 cell with reports: each is CellFeature's.
func WriteCellsGeoJSON(w io.Writer, cells []geo.CellStat) error {
	return writeFeatures(w, cells, CellFeature)
}

// CellFeature appends one carrier's figures in one H3 cell as a GeoJSON
// Feature on one line: the cell's hexagon, its index and resolution, and
// its report counts.
func CellFeature(b []byte, s *geo.CellStat) []byte {
	b = featureHead(b, NoID, "")
	b = append(b, `{"type":"Polygon","coordinates":[`...)
	b = appendRing(b, index.CellBoundary(s.Cell))
	b = append(b, "]}"...)
	p := startProps(b, NoID)
	p.str("h3", index.CellString(s.Cell))
	p.int("resolution", int64(index.CellResolution(s.Cell)))
	p.str("carrier", s.Carrier.String())
	p.int("reports", int64(s.Reports))
	p.int("weak", int64(s.Weak))
	p.num("weak_low", s.WeakLow)
	p.int("reporters", int64(s.Reporters))
	p.int("days", int64(s.Days))
	p.num("median_signal_dbm", s.MedianSignalDBm)
	p.int("children", int64(s.Children))
	p.num("prob_weak", s.ProbWeak)
	p.num("weak_share_p05", s.Share05)
	p.num("weak_share_p95", s.Share95)
	return p.end()
}

// ReportFeature appends report id as a GeoJSON Feature on one line: a
// Point with the id as the feature's id and a property, the time, the
// carrier, the technology, the levels measured and whether it is weak.
// Coordinates and levels are written as they were given. Reporters are
// never written.
func ReportFeature(b []byte, id string, o *geo.Obs) []byte {
	b = append(b, `{"type":"Feature","id":`...)
	b = appendID(b, id)
	b = append(b, `,"geometry":{"type":"Point","coordinates":[`...)
	b = strconv.AppendFloat(b, o.Lon, 'f', -1, 64)
	b = append(b, ',')
	b = strconv.AppendFloat(b, o.Lat, 'f', -1, 64)
	b = append(b, `]},"properties":{"id":`...)
	b = appendID(b, id)
	b = append(b, `,"observed_at":"`...)
	b = time.Unix(o.At, 0).UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","carrier":"`...)
	b = append(b, o.Carrier.String()...)
	b = append(b, `","tech":"`...)
	b = append(b, o.Tech.String()...)
	b = append(b, `","signal_dbm":`...)
	b = appendFloat32(b, o.SignalDBm)
	b = append(b, `,"download_mbps":`...)
	b = appendFloat32(b, o.DownMbps)
	b = append(b, `,"no_service":`...)
	b = strconv.AppendBool(b, o.Flags&geo.FlagNoService != 0)
	b = append(b, `,"source":"`...)
	b = append(b, o.Source.String()...)
	b = append(b, `","weak":`...)
	b = strconv.AppendBool(b, o.Flags&geo.FlagWeak != 0)
	return append(b, "}}"...)
}

// appendFloat32 appends v as a JSON number in its shortest float32 form,
// or null when it is NaN or infinite.
func appendFloat32(b []byte, v float32) []byte {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return append(b, "null"...)
	}
	n := len(b)
	b = strconv.AppendFloat(b, float64(v), 'f', -1, 32)
	if bytes.IndexByte(b[n:], '.') < 0 { // a real number, typed as one (see props.num)
		b = append(b, ".0"...)
	}
	return b
}

// UnobservedFeature encodes one carrier's unobserved land (CarrierAll:
// land no carrier's reports reach) as a GeoJSON feature: its outline,
// carrier, land and number of land cells.
func UnobservedFeature(b []byte, withID IDMember, u *geo.Unobserved) []byte {
	b = featureHead(b, withID, u.Carrier.String())
	b = appendGeometry(b, u.Geometry)
	p := startProps(b, withID)
	p.str("carrier", u.Carrier.String())
	p.num("area_km2", u.AreaKm2)
	p.int("cells", int64(u.Cells))
	return p.end()
}

// WriteUnobservedGeoJSON writes the unobserved land, one feature per
// carrier and one for all carriers, in the given order.
func WriteUnobservedGeoJSON(w io.Writer, us []geo.Unobserved) error {
	return writeFeatures(w, us, func(b []byte, u *geo.Unobserved) []byte { return UnobservedFeature(b, NoID, u) })
}

// writeFeatures writes a FeatureCollection of items, each encoded by
// encode, in the given order.
func writeFeatures[T any](w io.Writer, items []T, encode func([]byte, *T) []byte) error {
	c := newCollection(w)
	for i := range items {
		c.next()
		c.buf = encode(c.buf, &items[i])
		c.maybeFlush()
	}
	return c.close()
}
