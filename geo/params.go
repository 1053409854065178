package geo

// HoleParams tune coverage-hole detection. The method is explained in the
// README ("How holes are found"); the defaults were chosen on simulated
// provinces (gapmap demo) and are documented there.
type HoleParams struct {
	// Res is the H3 resolution of the evidence grid (10: ≈0.015 km², a
	// cell about 130 m across).
	Res int `json:"resolution"`
	// Evidence is read at several scales, finest first. Where reports are
	// dense (FineMinReports within FineRings rings, Gaussian weights of
	// FineBandwidth) that narrow neighbourhood decides, against
	// FineThreshold: dense evidence needs little pooling, so edges stay
	// sharp and the estimate is little diluted. Otherwise, near reports, a
	// cell's estimate pools the reports within Rings rings of cells at
	// Res, with Gaussian weights of Bandwidth rings; it is used when it
	// rests on at least LocalMinReports (kernel-weighted) reports.
	// Elsewhere a wide estimate is used: reports pooled into cells one
	// resolution coarser and spread over WideRings rings of those with
	// WideBandwidth, again if it rests on LocalMinReports; then two
	// resolutions coarser, and so on for WideLevels levels, the last
	// needing only MinEvidence. Sparse evidence thus still counts, over a
	// wider neighbourhood, while dense evidence keeps sharp edges.
	Rings           int     `json:"rings"`
	FineRings       int     `json:"fine_rings"`
	FineBandwidth   float64 `json:"fine_bandwidth_rings"`
	FineMinReports  float64 `json:"fine_min_reports"`
	FineThreshold   float64 `json:"fine_threshold"`
	Bandwidth       float64 `json:"bandwidth_rings"`
	LocalMinReports float64 `json:"local_min_reports"`
	WideRings       int     `json:"wide_rings"`
	WideBandwidth   float64 `json:"wide_bandwidth_rings"`
	WideLevels      int     `json:"wide_levels"`
	// ReportBias is how many times more likely someone with a weak signal
	// is to report than someone with a good one. Weak evidence is divided
	// by it so the estimate describes places, not complaints. When the
	// data has enough drive tests (unbiased) it is estimated from them
	// instead (EstimateBias).
	ReportBias   float64 `json:"report_bias"`
	EstimateBias bool    `json:"estimate_bias"`
	// SupportMinReports is the least kernel-weighted number of a
	// carrier's own reports within Rings rings of a cell for the cell to
	// be judged for that carrier at all (see the README, "Where gapmap
	// does not know"); elsewhere the place is unobserved.
	SupportMinReports float64 `json:"support_min_reports"`
	// MinEvidence is the least kernel-weighted number of reports in the
	// wide estimate for a cell to be judged at all.
	MinEvidence float64 `json:"min_evidence"`
	// Threshold is the estimated weak share of a cell's surroundings above
	// which the cell is in a hole.
	Threshold float64 `json:"threshold"`
	// A hole must rest on at least MinWeakReports weak reports, from
	// MinReporters reporters (anonymous reports on different days count
	// separately), on MinDays days, in MinCells distinct resolution-9 cells
	// (the FCC mobile challenge's spread check).
	MinWeakReports int `json:"min_weak_reports"`
	MinReporters   int `json:"min_reporters"`
	MinDays        int `json:"min_days"`
	MinCells       int `json:"min_cells"`
	// DeadMinCarriers: a dead zone needs each carrier's own evidence from
	// at least this many carriers (default: all four), all with a weak
	// share above DeadThreshold, in a cell that is in some carrier's hole,
	// and the reports of all carriers pooled weak above DeadPooled. A
	// carrier with no evidence near a place leaves the place unknown, not
	// dead: a false dead zone costs more than a missed one.
	DeadMinCarriers int     `json:"dead_min_carriers"`
	DeadThreshold   float64 `json:"dead_threshold"`
	DeadPooled      float64 `json:"dead_pooled_threshold"`
	// Evidence weights (0–1) for reports that carry no level.
	SignalSigmaDB         float64 `json:"signal_sigma_db"`
	LegacyEvidence        float64 `json:"legacy_evidence"`
	SlowEvidence          float64 `json:"slow_evidence"`
	UnknownEvidence       float64 `json:"unknown_evidence"`
	BareBroadbandEvidence float64 `json:"bare_broadband_evidence"`
}

// DefaultHoleParams returns the documented defaults.
func DefaultHoleParams() HoleParams {
	return HoleParams{
		Res:                   10,
		Rings:                 3,
		FineRings:             1,
		FineBandwidth:         0.8,
		FineMinReports:        4,
		FineThreshold:         0.45,
		Bandwidth:             1.5,
		LocalMinReports:       1,
		WideRings:             2,
		WideBandwidth:         1.2,
		WideLevels:            2,
		ReportBias:            4,
		EstimateBias:          true,
		MinEvidence:           0.5,
		SupportMinReports:     0.4,
		Threshold:             0.4,
		MinWeakReports:        3,
		MinReporters:          2,
		MinDays:               2,
		MinCells:              2,
		DeadMinCarriers:       4,
		DeadThreshold:         0.4,
		DeadPooled:            0.55,
		SignalSigmaDB:         4,
		LegacyEvidence:        0.95,
		SlowEvidence:          0.8,
		UnknownEvidence:       0.6,
		BareBroadbandEvidence: 0.25,
	}
}

// Validate checks the parameters.
func (p HoleParams) Validate() error {
	var es FieldErrors
	bad := func(f, r string) { es = append(es, &FieldError{Field: f, Reason: r}) }
	if p.Res < 7 || p.Res > 10 {
		bad("resolution", "must be between 7 and 10")
	}
	if p.Rings < 0 || p.Rings > 8 {
		bad("rings", "must be between 0 and 8")
	}
	if p.WideLevels < 1 || p.WideLevels > 3 || p.Res-p.WideLevels < 5 {
		bad("wide_levels", "must be between 1 and 3 (the first wide level sets the support distance), and resolution minus wide_levels at least 5")
	}
	if p.FineRings < 0 || p.FineRings > p.Rings {
		bad("fine_rings", "must be between 0 and rings")
	}
	if !(p.FineBandwidth > 0) {
		bad("fine_bandwidth_rings", "must be positive")
	}
	if !(p.FineMinReports >= 0) {
		bad("fine_min_reports", "must not be negative")
	}
	if p.WideRings < 0 || p.WideRings > 8 {
		bad("wide_rings", "must be between 0 and 8")
	}
	if !(p.Bandwidth > 0) {
		bad("bandwidth_rings", "must be positive")
	}
	if !(p.WideBandwidth > 0) {
		bad("wide_bandwidth_rings", "must be positive")
	}
	if !(p.LocalMinReports >= 0) {
		bad("local_min_reports", "must not be negative")
	}
	if !(p.SupportMinReports > 0) {
		bad("support_min_reports", "must be positive")
	}
	if !(p.MinEvidence >= 0) {
		bad("min_evidence", "must not be negative")
	}
	if !(p.ReportBias >= 1 && p.ReportBias <= 100) {
		bad("report_bias", "must be between 1 and 100")
	}
	if !(p.Threshold > 0 && p.Threshold < 1) {
		bad("threshold", "must be between 0 and 1")
	}
	if !(p.FineThreshold > 0 && p.FineThreshold < 1) {
		bad("fine_threshold", "must be between 0 and 1")
	}
	if !(p.DeadThreshold > 0 && p.DeadThreshold < 1) {
		bad("dead_threshold", "must be between 0 and 1")
	}
	if !(p.SignalSigmaDB > 0) {
		bad("signal_sigma_db", "must be positive")
	}
	for _, f := range []struct {
		n string
		v float64
	}{{"legacy_evidence", p.LegacyEvidence}, {"slow_evidence", p.SlowEvidence}, {"unknown_evidence", p.UnknownEvidence}, {"bare_broadband_evidence", p.BareBroadbandEvidence}} {
		if !(f.v >= 0 && f.v <= 1) {
			bad(f.n, "must be between 0 and 1")
		}
	}
	return es.Err()
}

// ReachParams decide when team reach is low and when an area has a
// coverage gap, which together give its action category.
type ReachParams struct {
	// MinMembersPer1000HH: fewer team members per 1,000 households than
	// this is low reach. A hamlet of 400 households with a 6-member team
	// has 15.
	MinMembersPer1000HH float64 `json:"min_members_per_1000_households"`
	// MinReachedShare: teams that report helping fewer than this share of
	// the households have low reach (ignored where no team reports it).
	MinReachedShare float64 `json:"min_reached_share"`
	// MaxNearestKm: an area whose centre is farther than this from every
	// team base has low reach.
	MaxNearestKm float64 `json:"max_nearest_team_km"`
	// GapShare: an area has a coverage gap when the subscriber-weighted
	// share of its land in holes (dead zones count for every carrier) is at
	// least this.
	GapShare float64 `json:"gap_share"`
}

// DefaultReachParams returns the documented defaults.
func DefaultReachParams() ReachParams {
	return ReachParams{MinMembersPer1000HH: 8, MinReachedShare: 0.3, MaxNearestKm: 5, GapShare: 0.1}
}
