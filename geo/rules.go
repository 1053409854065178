package geo

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// Rules decide when a report counts as weak. The defaults follow what a
// household needs for online public services and cashless payment: a
// mobile-broadband (4G or better) connection with a usable level and speed.
type Rules struct {
	// RSRPMinDBm is the weakest usable 4G/5G reference-signal power.
	RSRPMinDBm float64 `json:"rsrp_min_dbm"`
	// RSCPMinDBm is the weakest usable 3G received code power.
	RSCPMinDBm float64 `json:"rscp_min_dbm"`
	// RSSIMinDBm is the weakest usable 2G received signal strength.
	RSSIMinDBm float64 `json:"rssi_min_dbm"`
	// Download4GMinMbps and Download5GMinMbps are the slowest usable
	// measured downloads on 4G and 5G.
	Download4GMinMbps float64 `json:"download_4g_min_mbps"`
	Download5GMinMbps float64 `json:"download_5g_min_mbps"`
	// LegacyIsWeak makes a report on 2G or 3G weak whatever its level:
	// without 4G there is no mobile broadband.
	LegacyIsWeak bool `json:"legacy_is_weak"`
}

// DefaultRules returns the documented defaults: no service or tech none →
// weak; 2G/3G only → weak; RSRP below −110 dBm (4G/5G), RSCP below −100
// dBm (3G) or RSSI below −95 dBm (2G) → weak; download below 5 Mbps on 4G
// or 7 Mbps on 5G → weak.
func DefaultRules() Rules {
	return Rules{
		RSRPMinDBm:        -110,
		RSCPMinDBm:        -100,
		RSSIMinDBm:        -95,
		Download4GMinMbps: 5,
		Download5GMinMbps: 7,
		LegacyIsWeak:      true,
	}
}

// Validate checks that the thresholds are plausible.
func (r Rules) Validate() error {
	var es FieldErrors
	for _, f := range []struct {
		name string
		v    float64
	}{{"rsrp_min_dbm", r.RSRPMinDBm}, {"rscp_min_dbm", r.RSCPMinDBm}, {"rssi_min_dbm", r.RSSIMinDBm}} {
		if math.IsNaN(f.v) || f.v < MinSignalDBm || f.v > MaxSignalDBm {
			es = append(es, &FieldError{Field: f.name, Reason: fmt.Sprintf("must be between %g and %g", MinSignalDBm, MaxSignalDBm)})
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"download_4g_min_mbps", r.Download4GMinMbps}, {"download_5g_min_mbps", r.Download5GMinMbps}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > MaxSpeedMbps {
			es = append(es, &FieldError{Field: f.name, Reason: fmt.Sprintf("must be between 0 and %g", MaxSpeedMbps)})
		}
	}
	return es.Err()
}

// threshold returns the signal threshold for tech. A report without a
// technology but with a level is read as 4G, the commonest case.
func (r Rules) Threshold(t Tech) float64 {
	switch t {
	case Tech2G:
		return r.RSSIMinDBm
	case Tech3G:
		return r.RSCPMinDBm
	default:
		return r.RSRPMinDBm
	}
}

// IsWeak classifies one observation.
func (r Rules) IsWeak(o *Obs) bool {
	if o.Flags&FlagNoService != 0 || o.Tech == TechNone {
		return true
	}
	if r.LegacyIsWeak && (o.Tech == Tech2G || o.Tech == Tech3G) {
		return true
	}
	if o.HasSignal() && float64(o.SignalDBm) < r.Threshold(o.Tech) {
		return true
	}
	if d := float64(o.DownMbps); !math.IsNaN(d) {
		min := r.Download4GMinMbps
		if o.Tech == Tech5G {
			min = r.Download5GMinMbps
		}
		if o.Tech != Tech2G && o.Tech != Tech3G && d < min {
			return true
		}
	}
	return false
}

// Classify sets FlagWeak on every observation by these rules and returns
// how many are weak.
func (r Rules) Classify(obs []Obs) int {
	n := 0
	for i := range obs {
		o := &obs[i]
		if r.IsWeak(o) {
			o.Flags |= FlagWeak
			n++
		} else {
			o.Flags &^= FlagWeak
		}
	}
	return n
}

// Config is the engine's tunable configuration. The zero value is not
// useful; start from DefaultConfig.
type Config struct {
	Rules Rules       `json:"rules"`
	Holes HoleParams  `json:"holes"`
	Reach ReachParams `json:"reach"`
	// CellRes is the H3 resolution of the per-carrier cell statistics (8,
	// ≈0.74 km², as in the FCC mobile challenge).
	CellRes int `json:"cell_resolution"`
	// HouseholdSize estimates households from population when an area has
	// no household count (Vietnam's 2019 census: 3.6 persons).
	HouseholdSize float64 `json:"household_size"`
	// MarketShare is each carrier's share of subscribers, used to estimate
	// how many people a single carrier's hole affects.
	MarketShare map[string]float64 `json:"market_share"`
	// TasksPerTeam is how many places each team is asked to measure at
	// most (see Task).
	TasksPerTeam int `json:"tasks_per_team"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Rules:         DefaultRules(),
		Holes:         DefaultHoleParams(),
		Reach:         DefaultReachParams(),
		CellRes:       8,
		HouseholdSize: 3.6,
		MarketShare: map[string]float64{
			"viettel": 0.54, "vinaphone": 0.22, "mobifone": 0.19, "vietnamobile": 0.05,
		},
		TasksPerTeam: 5,
	}
}

// ReadConfig reads a JSON configuration over DefaultConfig: fields absent
// from the file keep their defaults. Unknown fields are an error, so a
// misspelt threshold is not silently ignored.
func ReadConfig(rd io.Reader) (Config, error) {
	c := DefaultConfig()
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("geo: config: %w", err)
	}
	return c, c.Validate()
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var es FieldErrors
	if err := c.Rules.Validate(); err != nil {
		for _, e := range AsFieldErrors(err) {
			e.Field = "rules." + e.Field
			es = append(es, e)
		}
	}
	if err := c.Holes.Validate(); err != nil {
		for _, e := range AsFieldErrors(err) {
			e.Field = "holes." + e.Field
			es = append(es, e)
		}
	}
	if c.CellRes < 5 || c.CellRes > 10 {
		es = append(es, &FieldError{Field: "cell_resolution", Reason: "must be between 5 and 10"})
	}
	if !(c.HouseholdSize >= 1 && c.HouseholdSize <= 20) {
		es = append(es, &FieldError{Field: "household_size", Reason: "must be between 1 and 20"})
	}
	if c.TasksPerTeam < 0 || c.TasksPerTeam > 100 {
		es = append(es, &FieldError{Field: "tasks_per_team", Reason: "must be between 0 and 100"})
	}
	for k, v := range c.MarketShare {
		if _, err := ParseCarrier(k); err != nil {
			es = append(es, &FieldError{Field: "market_share." + k, Reason: "unknown carrier"})
		}
		if !(v >= 0 && v <= 1) {
			es = append(es, &FieldError{Field: "market_share." + k, Reason: "must be between 0 and 1"})
		}
	}
	return es.Err()
}

// Share returns car's market share (1 for CarrierAll).
func (c Config) Share(car Carrier) float64 {
	if car == CarrierAll {
		return 1
	}
	if v, ok := c.MarketShare[car.String()]; ok {
		return v
	}
	return 1.0 / float64(len(Carriers))
}
