package storetest

import (
	"math"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

// AnalysisAt is when Analysis was computed.
var AnalysisAt = time.Date(2026, 7, 1, 9, 30, 15, 123456789, ICT)

// Analysis is an analysis over Areas("2025"): a Viettel hole over both
// parts of area 001 (one with an interior ring) with no signal readings,
// an all-carrier dead zone, the two areas' scores and the roll-up of
// 001's parent commune.
func Analysis() geo.Analysis {
	nan := math.NaN()
	first := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	last := time.Date(2026, 6, 28, 17, 45, 0, 0, time.UTC)
	return geo.Analysis{
		ComputedAt: AnalysisAt,
		Reports:    1234,
		Holes: []geo.Hole{
			{ID: "viettel-8a1f", Carrier: geo.Viettel, Geometry: WithHole, AreaKm2: 12.5, Cells: 84,
				Areas:      []geo.AreaRef{{Code: "001", Name: "Ấp Phú Hòa Đông", Km2: 12.5}},
				Population: 812.5, Households: 203.25, Reports: 40, Weak: 31, Reporters: 9,
				WeakShare: 0.775, WeakLow: 0.62, MedianSignalDBm: nan, FirstObserved: first, LastObserved: last,
				Severity: 0.8, Confidence: 0.9, Priority: 146.3, Rank: 1},
			{ID: "all-33c0", Carrier: geo.CarrierAll, Geometry: orb.MultiPolygon{{Square(105.91, 21.11, 0.01)}},
				AreaKm2: 1.2, Cells: 9,
				Areas:      []geo.AreaRef{{Code: "002", Name: "Khóm Mỹ Thới", Km2: 1.2}, {Code: "001", Name: "Ấp Phú Hòa Đông", Km2: 0}},
				Population: 40, Households: 10, Reports: 12, Weak: 12, Reporters: 3,
				WeakShare: 1, WeakLow: 0.76, MedianSignalDBm: -121.5, FirstObserved: first, LastObserved: last,
				Severity: 1, Confidence: 0.6, Priority: 6, Rank: 1},
		},
		Areas: []geo.AreaScore{
			{Code: "001", Name: "Ấp Phú Hòa Đông", ParentCode: "X01", Level: geo.LevelHamlet, Vintage: "2025", Index: 0,
				LandKm2: 130.2, Population: 1234, Households: 321, Reports: 52, Weak: 43, WeakShare: 43.0 / 52, WeakLow: 0.7,
				Carriers: []geo.CarrierStats{
					{Carrier: geo.Viettel, Reports: 40, Weak: 31, WeakShare: 0.775, WeakLow: 0.62, MedianSignalDBm: nan, HoleKm2: 12.5, HoleShare: 0.096},
					{Carrier: geo.VinaPhone, MedianSignalDBm: nan},
					{Carrier: geo.MobiFone, Reports: 12, Weak: 12, WeakShare: 1, WeakLow: 0.76, MedianSignalDBm: -121.5},
					{Carrier: geo.Vietnamobile, MedianSignalDBm: nan},
				},
				HoleKm2: 12.5, HoleShare: 0.096, PopulationAffected: 812.5, HouseholdsAffected: 203.25,
				Reach:  geo.TeamReach{Teams: 1, Members: 7, MembersPer1000HH: 21.8, HouseholdsReached: 120, ReachedShare: 0.37, NearestTeamKm: 0.4},
				Action: geo.ActionCarrier, Priority: 203.25, Rank: 1},
			{Code: "002", Name: "Khóm Mỹ Thới", Level: geo.LevelCommune, Vintage: "2025", Index: 1,
				LandKm2: 28.4, Population: 0, Households: 0, HouseholdsEstimated: true,
				HoleKm2: 1.2, HoleShare: 0.042, DeadKm2: 1.2, DeadShare: 0.042, PopulationAffected: 40, HouseholdsAffected: 10,
				Reach:  geo.TeamReach{Members: 5, MembersPer1000HH: nan, NearestTeamKm: 9.75, Low: true},
				Action: geo.ActionBoth, Priority: 10, Rank: 1},
			{Code: "X01", Name: "Xã Hưng Yên", Level: geo.LevelCommune, Vintage: "2025", Index: -1, Children: 1,
				LandKm2: 130.2, Population: 1234, Households: 321, Reports: 52, Weak: 43, WeakShare: 43.0 / 52, WeakLow: 0.7,
				Reach:  geo.TeamReach{Teams: 1, Members: 7, MembersPer1000HH: nan, NearestTeamKm: nan},
				Action: geo.ActionOK, Priority: 0, Rank: 2},
		},
	}
}
