package sim

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"

	"strconv"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// ReportsHeader is the CSV header WriteReportsCSV writes: the columns
// gapmap reads.
var ReportsHeader = []string{"id", "lat", "lon", "observed_at", "carrier", "tech", "signal_dbm",
	"download_mbps", "upload_mbps", "no_service", "source", "reporter", "note"}

// WriteReportsCSV writes the reports as CSV with ReportsHeader.
func (w *World) WriteReportsCSV(out io.Writer) error {
	cw := csv.NewWriter(out)
	if err := cw.Write(ReportsHeader); err != nil {
		return err
	}
	opt := func(p *float64, prec int) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', prec, 64)
	}
	row := make([]string, len(ReportsHeader))
	for i := range w.Reports {
		r := &w.Reports[i]
		row[0] = r.ID
		row[1] = strconv.FormatFloat(r.Lat, 'f', -1, 64)
		row[2] = strconv.FormatFloat(r.Lon, 'f', -1, 64)
		row[3] = r.ObservedAt.In(ict).Format(time.RFC3339)
		row[4] = r.Carrier.String()
		row[5] = r.Tech.String()
		row[6] = opt(r.SignalDBm, 0)
		row[7] = opt(r.DownloadMbps, 1)
		row[8] = opt(r.UploadMbps, 1)
		row[9] = strconv.FormatBool(r.NoService)
		row[10] = r.Source.String()
		row[11] = r.Reporter
		row[12] = r.Note
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTeamsCSV writes the teams as CSV (id, name, area_code, members,
// households_reached, lat, lon); lat and lon are empty for teams without a
// known base.
func (w *World) WriteTeamsCSV(out io.Writer) error {
	cw := csv.NewWriter(out)
	if err := cw.Write([]string{"id", "name", "area_code", "members", "households_reached", "lat", "lon"}); err != nil {
		return err
	}
	for _, t := range w.Teams {
		lat, lon := "", ""
		if t.HasLocation {
			lat, lon = strconv.FormatFloat(t.Lat, 'f', -1, 64), strconv.FormatFloat(t.Lon, 'f', -1, 64)
		}
		if err := cw.Write([]string{t.ID, t.Name, t.AreaCode, strconv.Itoa(t.Members),
			strconv.FormatInt(t.HouseholdsReached, 10), lat, lon}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteAreasGeoJSON writes the areas as a FeatureCollection with the
// properties gapmap reads (code, name, parent_code, level, vintage,
// population, households) and each area's other properties. For the
// synthetic province it adds "synthetic": true to every feature.
func (w *World) WriteAreasGeoJSON(out io.Writer) error {
	fc := geojson.NewFeatureCollection()
	for i := range w.Areas {
		a := &w.Areas[i]
		var g orb.Geometry = a.Geometry
		if len(a.Geometry) == 1 {
			g = a.Geometry[0]
		}
		f := geojson.NewFeature(g)
		for k, v := range a.Props {
			f.Properties[k] = v
		}
		f.Properties["code"] = a.Code
		f.Properties["name"] = a.Name
		if a.ParentCode != "" {
			f.Properties["parent_code"] = a.ParentCode
		}
		if a.Level != geo.LevelUnknown {
			f.Properties["level"] = a.Level.String()
		}
		if a.Vintage != "" {
			f.Properties["vintage"] = a.Vintage
		}
		f.Properties["population"] = a.Population
		if a.Households > 0 {
			f.Properties["households"] = a.Households
		}
		if w.synthetic {
			f.Properties["synthetic"] = true
		}
		fc.Append(f)
	}
	return writeJSONLine(out, fc)
}

// WriteTowersGeoJSON writes the towers as points (id, carrier, tech,
// eirp_dbm, height_m, down).
func (w *World) WriteTowersGeoJSON(out io.Writer) error {
	fc := geojson.NewFeatureCollection()
	for _, t := range w.Towers {
		f := geojson.NewFeature(orb.Point{t.Lon, t.Lat})
		f.Properties["id"] = t.ID
		f.Properties["carrier"] = t.Carrier.String()
		f.Properties["tech"] = t.Tech.String()
		f.Properties["eirp_dbm"] = t.EIRPdBm
		f.Properties["height_m"] = t.HeightM
		f.Properties["down"] = t.Down
		fc.Append(f)
	}
	return writeJSONLine(out, fc)
}

func writeJSONLine(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Score is how well predicted holes match the truth for one carrier (or
// for dead zones, Carrier == geo.CarrierAll), by land area. Scores over
// several carriers (see Summarize) have no Carrier.
type Score struct {
	Carrier   geo.Carrier `json:"carrier,omitempty"`
	Precision float64     `json:"precision"`
	Recall    float64     `json:"recall"`
	F1        float64     `json:"f1"`
	TruthKm2  float64     `json:"truth_km2"`
	PredKm2   float64     `json:"pred_km2"`
	TPKm2     float64     `json:"tp_km2"`
}

// Evaluate rasterises the predicted holes of each carrier (and dead zones
// under geo.CarrierAll) on the truth raster and compares them with the
// true weak land, cell by cell weighted by cell area. Precision is the
// share of predicted land that is truly weak, recall the share of truly
// weak land that is predicted. With no predicted land precision is 1;
// with no true weak land recall is 1 (nothing to find). Scores are
// returned for geo.Carriers in order, then geo.CarrierAll.
func Evaluate(t *Truth, holes map[geo.Carrier][]orb.MultiPolygon) []Score {
	n := t.Width * t.Height
	g := t.grid()
	sc := &scanner{g: g}
	var out []Score
	for _, c := range append(append([]geo.Carrier(nil), geo.Carriers...), geo.CarrierAll) {
		pred := newBitmap(n)
		for _, mp := range holes[c] {
			for _, p := range mp {
				sc.polygon(p, func(j, i0, i1 int) { pred.setRun(j*t.Width+i0, j*t.Width+i1) })
			}
		}
		tp := make(bitmap, len(pred))
		for k := range pred {
			pred[k] &= t.land[k]
			tp[k] = pred[k] & t.weak[c][k]
		}
		s := Score{Carrier: c, TruthKm2: t.areaKm2(t.weak[c]), PredKm2: t.areaKm2(pred), TPKm2: t.areaKm2(tp)}
		s.Precision, s.Recall = 1, 1
		if s.PredKm2 > 0 {
			s.Precision = s.TPKm2 / s.PredKm2
		}
		if s.TruthKm2 > 0 {
			s.Recall = s.TPKm2 / s.TruthKm2
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		out = append(out, s)
	}
	return out
}

// ReadHolesGeoJSON reads a FeatureCollection of Polygon/MultiPolygon
// features with a "carrier" property (a carrier name, MCC-MNC, or "all"
// for dead zones), such as gapmap analyze's holes.geojson.
func ReadHolesGeoJSON(r io.Reader) (map[geo.Carrier][]orb.MultiPolygon, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, err
	}
	out := map[geo.Carrier][]orb.MultiPolygon{}
	for i, f := range fc.Features {
		s, _ := f.Properties["carrier"].(string)
		c, err := geo.ParseCarrier(s)
		if err != nil {
			return nil, &geo.FieldError{Row: i + 1, Field: "carrier", Reason: err.Error()}
		}
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			out[c] = append(out[c], orb.MultiPolygon{g})
		case orb.MultiPolygon:
			out[c] = append(out[c], g)
		default:
			return nil, &geo.FieldError{Row: i + 1, Field: "geometry", Reason: "must be a Polygon or MultiPolygon"}
		}
	}
	return out, nil
}

// NaiveHoles is the baseline the engine is measured against: a carrier's
// hole is every H3 cell of resolution res with at least minReports of its
// reports of which at least share are weak under rules; a dead zone is a
// cell flagged for all four carriers.
func NaiveHoles(reports []geo.Report, rules geo.Rules, res, minReports int, share float64) map[geo.Carrier][]orb.MultiPolygon {
	type count struct{ n, weak int }
	cells := map[geo.Carrier]map[uint64]*count{}
	for _, c := range geo.Carriers {
		cells[c] = map[uint64]*count{}
	}
	for i := range reports {
		r := &reports[i]
		m := cells[r.Carrier]
		if m == nil {
			continue
		}
		id := index.CellAt(r.Lon, r.Lat, res)
		k := m[id]
		if k == nil {
			k = &count{}
			m[id] = k
		}
		k.n++
		o := r.ToObs(nil)
		if rules.IsWeak(&o) {
			k.weak++
		}
	}
	out := map[geo.Carrier][]orb.MultiPolygon{}
	flagged := map[uint64]int{}
	for _, c := range geo.Carriers {
		var ids []uint64
		for id, k := range cells[c] {
			if k.n >= minReports && float64(k.weak) >= share*float64(k.n)-1e-9 {
				ids = append(ids, id)
				flagged[id]++
			}
		}
		if len(ids) > 0 {
			out[c] = []orb.MultiPolygon{index.CellsToMultiPolygon(sortedIDs(ids))}
		}
	}
	var dead []uint64
	for id, n := range flagged {
		if n == len(geo.Carriers) {
			dead = append(dead, id)
		}
	}
	if len(dead) > 0 {
		out[geo.CarrierAll] = []orb.MultiPolygon{index.CellsToMultiPolygon(sortedIDs(dead))}
	}
	return out
}

func sortedIDs(v []uint64) []uint64 {
	slices.Sort(v)
	return v
}
