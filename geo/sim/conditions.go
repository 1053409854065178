package sim

import (
	"math"

	"github.com/gapmap/gapmap/geo"
)

// Conditions are what a world was generated under: what gapmap demo
// records in demo.json beside the truth, so an evaluation can say what it
// measured.
type Conditions struct {
	Seed       int64   `json:"seed"`
	ReportBias float64 `json:"report_bias"`
	// DriveShare is the share of reports asked from drive tests (0: none).
	DriveShare       float64 `json:"drive_share"`
	Reports          int     `json:"reports"`
	DriveTestReports int     `json:"drive_test_reports"`
	Months           int     `json:"months"`
	Areas            int     `json:"areas"`
	LandKm2          float64 `json:"land_km2"`
	ReportsPerKm2    float64 `json:"reports_per_km2"`
	ReportsPerArea   float64 `json:"reports_per_area"`
	TruthCellM       float64 `json:"truth_cell_m"`
	Synthetic        bool    `json:"synthetic"`
	// Source and Communes say where real areas came from (the file's
	// name, and how many of its areas were kept; 0: all); the caller sets
	// them.
	Source   string `json:"source,omitempty"`
	Communes int    `json:"communes,omitempty"`
}

// Conditions returns what w was generated under, defaults filled in.
func (w *World) Conditions() Conditions {
	c := Conditions{
		Seed: w.opt.Seed, ReportBias: w.opt.ReportBias, DriveShare: w.opt.DriveShare,
		Reports: len(w.Reports), Months: w.opt.Months, Areas: len(w.Areas),
		TruthCellM: w.opt.TruthCellM, Synthetic: w.synthetic,
	}
	for i := range w.Reports {
		if w.Reports[i].Source == geo.SourceDriveTest {
			c.DriveTestReports++
		}
	}
	if w.Truth != nil {
		c.LandKm2 = round3(w.Truth.LandKm2())
		if c.LandKm2 > 0 {
			c.ReportsPerKm2 = round3(float64(c.Reports) / c.LandKm2)
		}
	}
	if c.Areas > 0 {
		c.ReportsPerArea = round3(float64(c.Reports) / float64(c.Areas))
	}
	return c
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
