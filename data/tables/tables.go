// Package tables holds what the stores lay out alike: the rows of the
// analysis tables that GIS tools read, the same columns in the
// GeoPackage and in PostGIS.
package tables

import (
	"encoding/json"
	"math"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// Carriers are the carriers whose figures area_scores has columns for
// (migration 4), in column order. A carrier added to geo.Carriers needs a
// migration adding its columns before it is listed here.
var Carriers = []geo.Carrier{geo.Viettel, geo.VinaPhone, geo.MobiFone, geo.Vietnamobile}

// ScoreColumns are the columns of area_scores that a store's SaveAnalysis
// fills, in the order ScoreRow gives their values.
var ScoreColumns = func() []string {
	cs := []string{"vintage", "code", "name", "parent_code", "level", "children", "population",
		"households", "households_estimated", "land_km2", "reports", "weak", "weak_share", "weak_low"}
	for _, c := range Carriers {
		for _, k := range []string{"reports", "weak", "weak_share", "weak_low", "median_signal_dbm", "hole_km2", "hole_share"} {
			cs = append(cs, c.String()+"_"+k)
		}
	}
	return append(cs, "hole_km2", "hole_share", "dead_km2", "dead_share", "population_affected",
		"households_affected", "teams", "members", "members_per_1000_households", "households_reached",
		"reached_share", "nearest_team_km", "reach_low", "action", "priority", "rank", "computed_at")
}()

// ScoreRow appends the values of sc's row in area_scores, in the order of
// ScoreColumns, to row.
func ScoreRow(row []any, sc *geo.AreaScore, at any) []any {
	row = append(row, sc.Vintage, sc.Code, sc.Name, nullString(sc.ParentCode), nullString(sc.Level.String()),
		sc.Children, sc.Population, sc.Households, sc.HouseholdsEstimated, finite(sc.LandKm2),
		sc.Reports, sc.Weak, finite(sc.WeakShare), finite(sc.WeakLow))
	for _, c := range Carriers {
		cs := CarrierStats(sc.Carriers, c)
		row = append(row, cs.Reports, cs.Weak, finite(cs.WeakShare), finite(cs.WeakLow),
			finite(cs.MedianSignalDBm), finite(cs.HoleKm2), finite(cs.HoleShare))
	}
	r := &sc.Reach
	return append(row, finite(sc.HoleKm2), finite(sc.HoleShare), finite(sc.DeadKm2), finite(sc.DeadShare),
		finite(sc.PopulationAffected), finite(sc.HouseholdsAffected), r.Teams, r.Members,
		finite(r.MembersPer1000HH), r.HouseholdsReached, finite(r.ReachedShare), finite(r.NearestTeamKm),
		r.Low, nullString(string(sc.Action)), finite(sc.Priority), sc.Rank, at)
}

// CarrierStats finds c's figures among cs; an area without them has no
// reports and an unknown median signal.
func CarrierStats(cs []geo.CarrierStats, c geo.Carrier) geo.CarrierStats {
	for _, s := range cs {
		if s.Carrier == c {
			return s
		}
	}
	return geo.CarrierStats{Carrier: c, MedianSignalDBm: math.NaN()}
}

// finite is v, or NULL when v is NaN or infinite: GIS tools read NULL as
// "no value" (and SQLite has no NaN).
func finite(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// nullString is s, or NULL when it is empty.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// frozenProps is a frozen hole's properties as the stores keep them (the
// props of frozen_gaps): the hole without its geometry and cells, the
// median signal null when unknown (JSON has no NaN).
type frozenProps struct {
	geo.Hole
	MedianSignalDBm *float64 `json:"median_signal_dbm"`
	CentroidLon     float64  `json:"centroid_lon"`
	CentroidLat     float64  `json:"centroid_lat"`
}

// FrozenProps encodes h's properties for frozen_gaps.
func FrozenProps(h *geo.Hole) ([]byte, error) {
	p := frozenProps{Hole: *h, CentroidLon: h.Centroid[0], CentroidLat: h.Centroid[1]}
	p.CellIDs = nil
	if !math.IsNaN(h.MedianSignalDBm) {
		p.MedianSignalDBm = &h.MedianSignalDBm
	}
	return json.Marshal(p)
}

// FrozenHole decodes the properties FrozenProps wrote; the geometry is
// the store's to set.
func FrozenHole(props []byte) (geo.Hole, error) {
	var p frozenProps
	if err := json.Unmarshal(props, &p); err != nil {
		return geo.Hole{}, err
	}
	h := p.Hole
	h.MedianSignalDBm = math.NaN()
	if p.MedianSignalDBm != nil {
		h.MedianSignalDBm = *p.MedianSignalDBm
	}
	h.Centroid = orb.Point{p.CentroidLon, p.CentroidLat}
	return h, nil
}
