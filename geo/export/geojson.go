package export

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
)

// A collection writes a GeoJSON FeatureCollection, one feature a line.
type collection struct {
	*writer
	n int
}

func newCollection(w io.Writer) *collection {
	c := &collection{writer: newWriter(w)}
	c.str(`{"type":"FeatureCollection","features":[`)
	return c
}

// begin starts a feature: the caller writes the geometry, then props.
func (c *collection) begin() {
	if c.n > 0 {
		c.buf = append(c.buf, ',')
	}
	c.n++
	c.str("\n" + `{"type":"Feature","geometry":`)
}

// props starts the feature's properties after its geometry.
func (c *collection) props() *props {
	c.str(`,"properties":{`)
	return &props{w: c.writer}
}

// end closes a feature started with begin.
func (c *collection) end() {
	c.str("}")
	c.maybeFlush()
}

// close ends the collection and flushes.
func (c *collection) close() error {
	if c.n > 0 {
		c.buf = append(c.buf, '\n')
	}
	c.str("]}\n")
	return c.flush()
}

// props writes the members of a JSON object in the order they are given.
type props struct {
	w *writer
	n int
}

func (p *props) key(k string) {
	if p.n > 0 {
		p.w.buf = append(p.w.buf, ',')
	}
	p.n++
	p.w.buf = appendString(p.w.buf, k)
	p.w.buf = append(p.w.buf, ':')
}

func (p *props) str(k, v string) {
	p.key(k)
	p.w.buf = appendString(p.w.buf, v)
}

func (p *props) int(k string, v int64) {
	p.key(k)
	p.w.buf = strconv.AppendInt(p.w.buf, v, 10)
}

func (p *props) num(k string, v float64) {
	p.key(k)
	p.w.buf = appendNum(p.w.buf, v, precValue)
}

func (p *props) coord(k string, v float64) {
	p.key(k)
	p.w.buf = appendNum(p.w.buf, v, precCoord)
}

func (p *props) bool(k string, v bool) {
	p.key(k)
	p.w.buf = strconv.AppendBool(p.w.buf, v)
}

// time writes t in RFC 3339 (UTC), or null when t is zero.
func (p *props) time(k string, t time.Time) {
	p.key(k)
	if t.IsZero() {
		p.w.str("null")
		return
	}
	p.w.buf = appendString(p.w.buf, t.UTC().Format(time.RFC3339))
}

func (p *props) strs(k string, vs []string) {
	p.key(k)
	p.w.buf = append(p.w.buf, '[')
	for i, v := range vs {
		if i > 0 {
			p.w.buf = append(p.w.buf, ',')
		}
		p.w.buf = appendString(p.w.buf, v)
	}
	p.w.buf = append(p.w.buf, ']')
}

// any writes v converted as WriteSummaryJSON does, on one line.
func (p *props) any(k string, v any) error {
	t, err := plain(v)
	if err != nil {
		return fmt.Errorf("export: property %q: %w", k, err)
	}
	p.key(k)
	p.w.buf = appendPlain(p.w.buf, t, false, 0)
	return nil
}

func (p *props) close() { p.w.buf = append(p.w.buf, '}') }

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
		"households_estimated", "land_km2", "reports", "weak", "weak_share", "weak_low",
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
// out), its geometry from areas[score.Index] and its figures as flat
// properties that QGIS can style: the area's identity, report counts,
// per-carrier figures (viettel_reports, …), holes, affected people, team
// reach and priority, then the area's own input properties.
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
		a := &areas[s.Index]
		c.begin()
		c.buf = appendGeometry(c.buf, a.Geometry)
		p := c.props()
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
				return err
			}
		}
		p.close()
		c.end()
	}
	return c.close()
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
// or dead zone (carrier "all"), in the given order.
func WriteHolesGeoJSON(w io.Writer, holes []geo.Hole) error {
	c := newCollection(w)
	for i := range holes {
		writeHole(c, &holes[i])
	}
	return c.close()
}

// WriteGapsGeoJSON writes one carrier's ranked holes; it is
// WriteHolesGeoJSON under the name the gaps files use.
func WriteGapsGeoJSON(w io.Writer, holes []geo.Hole) error {
	return WriteHolesGeoJSON(w, holes)
}

func writeHole(c *collection, h *geo.Hole) {
	c.begin()
	c.buf = appendGeometry(c.buf, h.Geometry)
	p := c.props()
	p.str("id", h.ID)
	p.str("carrier", h.Carrier.String())
	p.int("rank", int64(h.Rank))
	p.num("priority", h.Priority)
	p.num("severity", h.Severity)
	p.num("confidence", h.Confidence)
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
	p.close()
	c.end()
}

func areaLists(refs []geo.AreaRef) (codes, names []string) {
	codes = make([]string, len(refs))
	names = make([]string, len(refs))
	for i, r := range refs {
		codes[i], names[i] = r.Code, r.Name
	}
	return codes, names
}

// WriteTeamsGeoJSON writes a FeatureCollection with one Point feature per
// team at its base (a null geometry when the input gave no location).
func WriteTeamsGeoJSON(w io.Writer, teams []geo.TeamOut) error {
	c := newCollection(w)
	for i := range teams {
		t := &teams[i]
		c.begin()
		if t.HasLocation {
			c.str(`{"type":"Point","coordinates":`)
			c.buf = appendPoint(c.buf, orb.Point{t.Lon, t.Lat})
			c.str("}")
		} else {
			c.str("null")
		}
		p := c.props()
		p.str("id", t.ID)
		p.str("name", t.Name)
		p.str("area_code", t.AreaCode)
		p.str("area_name", t.AreaName)
		p.int("members", int64(t.Members))
		p.int("households_reached", t.HouseholdsReached)
		p.close()
		c.end()
	}
	return c.close()
}

// WriteCellsGeoJSON writes a FeatureCollection with one hexagon per
// carrier and H3 cell with reports.
func WriteCellsGeoJSON(w io.Writer, cells []geo.CellStat) error {
	c := newCollection(w)
	for i := range cells {
		s := &cells[i]
		c.begin()
		c.str(`{"type":"Polygon","coordinates":[`)
		c.buf = appendRing(c.buf, index.CellBoundary(s.Cell))
		c.str("]}")
		p := c.props()
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
		p.close()
		c.end()
	}
	return c.close()
}
