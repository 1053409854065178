package geo

import (
	"time"

	"github.com/paulmach/orb"
)

// Action says what an area needs most.
type Action string

// Action categories of an area.
const (
	// ActionCarrier: a coverage gap that only a carrier can close.
	ActionCarrier Action = "carrier"
	// ActionTeam: the signal is usable but the community team reaches too
	// few households; the province can act without a carrier.
	ActionTeam Action = "team"
	// ActionBoth: a coverage gap and low team reach.
	ActionBoth Action = "both"
	// ActionOK: neither.
	ActionOK Action = "ok"
)

// CarrierStats are one carrier's figures in an area or a hole.
type CarrierStats struct {
	Carrier Carrier `json:"carrier"`
	Reports int     `json:"reports"`
	Weak    int     `json:"weak"`
	// WeakShare is Weak/Reports; WeakLow is its lower 95% Wilson bound,
	// so 1 weak report of 1 is not "100% weak". Both 0 with no reports.
	WeakShare float64 `json:"weak_share"`
	WeakLow   float64 `json:"weak_low"`
	// MedianSignalDBm is the median signal of reports that carried one
	// (NaN when none; encoded as null).
	MedianSignalDBm float64 `json:"median_signal_dbm"`
	// HoleKm2 is the land of the area inside this carrier's holes, and
	// HoleShare that as a share of the area's land.
	HoleKm2   float64 `json:"hole_km2"`
	HoleShare float64 `json:"hole_share"`
	// ObservedShare is the share of the area's land where this carrier's
	// own reports are near enough to judge it.
	ObservedShare float64 `json:"observed_share"`
}

// TeamReach is the community digital-technology teams' presence in an area.
type TeamReach struct {
	Teams   int `json:"teams"`
	Members int `json:"members"`
	// MembersPer1000HH is members per 1,000 households (NaN when the
	// households are unknown).
	MembersPer1000HH float64 `json:"members_per_1000_households"`
	// HouseholdsReached and ReachedShare: households the teams report
	// having helped, and that as a share of the area's households.
	HouseholdsReached int64   `json:"households_reached"`
	ReachedShare      float64 `json:"reached_share"`
	// NearestTeamKm is the distance from the area's centroid to the
	// nearest team base, in any area (NaN when there are no teams).
	NearestTeamKm float64 `json:"nearest_team_km"`
	// Low is true when the reach is below the configured thresholds.
	Low bool `json:"low"`
}

// AreaScore is everything the engine says about one area. Leaf areas are
// the loaded boundaries; roll-ups aggregate them to their parents.
type AreaScore struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	ParentCode string `json:"parent_code,omitempty"`
	Level      Level  `json:"level"`
	// Vintage is the boundary set of the area (a roll-up has its
	// children's); Code is unique within it.
	Vintage string `json:"vintage,omitempty"`
	// Index is the area's position in the input (−1 for roll-ups).
	Index int `json:"-"`
	// Children is the number of leaf areas a roll-up aggregates (0 for a
	// leaf).
	Children int `json:"children,omitempty"`

	LandKm2    float64 `json:"land_km2"`
	Population int64   `json:"population"`
	// Households is the input's figure, or Population / HouseholdSize when
	// the input has none (HouseholdsEstimated is then true).
	Households          int64 `json:"households"`
	HouseholdsEstimated bool  `json:"households_estimated,omitempty"`

	Reports   int            `json:"reports"`
	Weak      int            `json:"weak"`
	WeakShare float64        `json:"weak_share"`
	WeakLow   float64        `json:"weak_low"`
	Carriers  []CarrierStats `json:"carriers"`

	// ObservedShare is the share of the area's land where some carrier's
	// reports are near enough to judge the service (see the README,
	// "Where gapmap does not know"); 0 means no data yet, and then the
	// weak and hole shares say nothing.
	ObservedShare float64 `json:"observed_share"`

	// HoleKm2/HoleShare: land inside any carrier's hole; DeadKm2/DeadShare:
	// land inside all-carrier dead zones.
	HoleKm2   float64 `json:"hole_km2"`
	HoleShare float64 `json:"hole_share"`
	DeadKm2   float64 `json:"dead_km2"`
	DeadShare float64 `json:"dead_share"`
	// PopulationAffected and HouseholdsAffected are the people and
	// households living in dead zones plus, for each carrier's holes, that
	// carrier's subscriber share of the people living there (see README).
	PopulationAffected float64 `json:"population_affected"`
	HouseholdsAffected float64 `json:"households_affected"`

	Reach  TeamReach `json:"team_reach"`
	Action Action    `json:"action"`
	// Priority orders areas for action (higher first); Rank is 1 for the
	// highest priority within the area's level.
	Priority float64 `json:"priority"`
	Rank     int     `json:"rank"`
}

// AreaRef names an area a hole touches.
type AreaRef struct {
	Code string  `json:"code"`
	Name string  `json:"name"`
	Km2  float64 `json:"km2"`
}

// Hole is a coverage hole of one carrier, or an all-carrier dead zone
// (Carrier == CarrierAll): a spatially coherent region where reports show
// the service is weak.
type Hole struct {
	// ID is stable for the same evidence: it is derived from the carrier
	// and the hole's H3 cells. In a running service's analyses it is the
	// ID of the hole registry instead (see HoleRecord), which a hole
	// keeps while it persists.
	ID       string           `json:"id"`
	Carrier  Carrier          `json:"carrier"`
	Geometry orb.MultiPolygon `json:"-"`
	Centroid orb.Point        `json:"-"`
	AreaKm2  float64          `json:"area_km2"`
	// Cells is the number of resolution-9 H3 cells in the hole, CellIDs
	// the cells themselves (sorted).
	Cells   int       `json:"cells"`
	CellIDs []uint64  `json:"-"`
	Areas   []AreaRef `json:"areas"`

	Population float64 `json:"population_affected"`
	Households float64 `json:"households_affected"`

	Reports         int       `json:"reports"`
	Weak            int       `json:"weak_reports"`
	Reporters       int       `json:"reporters"`
	WeakShare       float64   `json:"weak_share"`
	WeakLow         float64   `json:"weak_low"`
	MedianSignalDBm float64   `json:"median_signal_dbm"`
	FirstObserved   time.Time `json:"first_observed"`
	LastObserved    time.Time `json:"last_observed"`

	// Severity (0–1): how bad the service is inside; Confidence (0–1): how
	// sure the evidence makes us; Priority = HouseholdsAffected × Severity
	// × Confidence. Rank is 1 for the carrier's highest priority.
	Severity float64 `json:"severity"`
	// ProbWeak is the probability that the place is weak: that the share
	// of unusable service there, corrected for who reports (weak reports
	// count 1/bias, see ReportBias), is above the hole threshold. Share05
	// and Share95 bound that corrected share (a 90% credible interval).
	// They come from a Beta posterior (Jeffreys' prior) over the hole's
	// reports; see the README, "How sure a hole is".
	ProbWeak   float64 `json:"prob_weak"`
	Share05    float64 `json:"weak_share_p05"`
	Share95    float64 `json:"weak_share_p95"`
	Confidence float64 `json:"confidence"`
	Priority   float64 `json:"priority"`
	Rank       int     `json:"rank"`

	// Life is the hole's state and deadlines from the hole registry of a
	// running service; the engine leaves it zero.
	Life HoleLife `json:"life,omitzero"`
}

// TeamOut is a team with the area it was placed in.
type TeamOut struct {
	Team
	// Area is the index of the area the team belongs to (−1 when its area
	// code is unknown and its location is outside every area).
	Area     int    `json:"-"`
	AreaName string `json:"area_name"`
}

// Summary is the headline of an analysis.
type Summary struct {
	Areas         int                `json:"areas"`
	Reports       int                `json:"reports"`
	Weak          int                `json:"weak"`
	Outside       int                `json:"outside"`
	Teams         int                `json:"teams"`
	Holes         map[string]int     `json:"holes"`
	HoleKm2       map[string]float64 `json:"hole_km2"`
	Actions       map[Action]int     `json:"actions"`
	FirstObserved time.Time          `json:"first_observed"`
	LastObserved  time.Time          `json:"last_observed"`
}

// CellStat summarises one carrier's reports in one H3 cell.
type CellStat struct {
	Cell    uint64  `json:"-"`
	Carrier Carrier `json:"carrier"`
	Reports int     `json:"reports"`
	Weak    int     `json:"weak"`
	WeakLow float64 `json:"weak_low"`
	// Reporters counts distinct named reporters (anonymous ones by day);
	// Days counts distinct days with a report.
	Reporters int `json:"reporters"`
	Days      int `json:"days"`
	// MedianSignalDBm is the median of the levels reported (NaN when
	// none): a median, so one faulty phone does not move it.
	MedianSignalDBm float64 `json:"median_signal_dbm"`
	// Children is the number of finer (resolution + 1) cells with reports,
	// the FCC-style spread check.
	Children int `json:"children"`
	// ProbWeak, Share05 and Share95 are the cell's probability of being
	// weak and the 90% interval of its corrected weak share, as for a
	// Hole.
	ProbWeak float64 `json:"prob_weak"`
	Share05  float64 `json:"weak_share_p05"`
	Share95  float64 `json:"weak_share_p95"`
}

// Result is the outcome of an analysis.
type Result struct {
	// Areas holds one score per input area, in input order, followed by
	// roll-ups for parent codes that were not loaded as areas.
	Areas   []AreaScore `json:"areas"`
	Holes   []Hole      `json:"holes"`
	Cells   []CellStat  `json:"cells"`
	Teams   []TeamOut   `json:"teams"`
	Summary Summary     `json:"summary"`
	// ReportBias is the report bias used per carrier, and ReportBiasFrom
	// how each was found.
	ReportBias map[string]float64 `json:"report_bias"`
	// Unobserved is the land inside the areas where no judgement can be
	// made: one entry per carrier (land its own reports do not reach) and
	// one for CarrierAll (land no carrier's reports reach). A Live's
	// Result leaves their outlines out (Live.ResultWithOutlines draws
	// them); Analyze's has them.
	Unobserved     []Unobserved            `json:"unobserved"`
	ReportBiasFrom map[string]BiasEstimate `json:"report_bias_from"`
	// Tasks are the places proposed to the teams for measuring next.
	// Analyze's Result has them; a Live's leaves them out (Live.Tasks
	// proposes them), since they change with most reports.
	Tasks []Task `json:"-"`
}

// BiasEstimate says how a carrier's report bias (how many times more
// often people report weak service than good) was found.
type BiasEstimate struct {
	Bias float64 `json:"bias"`
	// Method is "drive_tests" (the weak odds of ordinary reports against
	// those of drive tests in the same cells, a Mantel–Haenszel odds
	// ratio), "threshold_jump" (the jump in the number of reports per dBm
	// as the level crosses the weak threshold; see the README) or
	// "default" (the report_bias parameter, when neither has enough
	// reports).
	Method string `json:"method"`
	// Reports is how many reports the estimate rests on (drive tests, or
	// single reports with a level near the threshold).
	Reports int `json:"reports"`
	// Low and High bound the 95% confidence interval (threshold_jump
	// only; 0 otherwise).
	Low  float64 `json:"low,omitempty"`
	High float64 `json:"high,omitempty"`
}

// Unobserved is land inside the areas where a carrier's service (or, for
// CarrierAll, any carrier's) cannot be judged: no reports near enough.
// It is drawn from land cells (H3 cells one resolution coarser than the
// evidence grid, ≈0.1 km² by default) that hold no judged place.
type Unobserved struct {
	Carrier  Carrier          `json:"carrier"`
	AreaKm2  float64          `json:"area_km2"`
	Cells    int              `json:"cells"`
	Geometry orb.MultiPolygon `json:"-"`
}
