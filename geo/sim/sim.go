// Package sim generates a synthetic but realistic radio world for testing
// gapmap: a province (synthetic, or real communes), where people live,
// towers of the four carriers, the received signal everywhere, the true
// weak areas on a raster (Truth), and the weak-signal reports and
// community teams such a province would produce. Evaluate scores a set of
// detected holes against the truth by area.
//
// Everything is deterministic: the same Options give the same bytes in
// every output. Coordinates are lon/lat on WGS 84 (EPSG:4326); internally
// a local equirectangular projection in metres is used.
//
// Package sim imports geo, orb and the standard library only; it does no
// I/O beyond the io.Writers and io.Readers it is given.
package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gapmap/gapmap/geo"
)

// Options control Generate. Zero values select the documented defaults.
type Options struct {
	Seed int64
	// Areas to simulate over (e.g. real communes); nil generates a
	// synthetic province of about 180 hamlets in 12 communes.
	Areas []geo.Area
	// Reports is the number of reports; 0 scales to the population (60,000
	// for the synthetic province; one per 40 people, at most 400,000, over
	// real areas).
	Reports int
	// Months of reports ending at End; 0 means 6.
	Months int
	// End is when the reporting period ends; zero means
	// 2026-07-01T00:00:00+07:00 (fixed so output never depends on the
	// clock, and in the past so readers do not reject it as future).
	End time.Time
	// ReportBias is how many times more likely a user in a weak spot is to
	// report than one with good signal; 0 means 6.
	ReportBias float64
	// TruthCellM is the truth raster's cell size in metres; 0 means 100.
	TruthCellM float64
	// DriveShare is the share of reports that come from drive tests
	// (unbiased samples along roads, all four carriers at each point),
	// between 0 and 1; 0 means 0.03 and NoDriveTests means none, as in
	// most real uploads.
	DriveShare float64
}

// NoDriveTests as Options.DriveShare generates no drive-test reports.
const NoDriveTests = -1.0

// DefaultDriveShare is the share of drive-test reports when
// Options.DriveShare is zero.
const DefaultDriveShare = 0.03

// Tower is one carrier's base station. Colocated carriers share a site
// (same position and height).
type Tower struct {
	ID      string
	Carrier geo.Carrier
	Lon     float64 // WGS 84 degrees
	Lat     float64
	Tech    geo.Tech
	EIRPdBm float64
	HeightM float64
	// Down marks a planted outage: the tower transmits nothing.
	Down bool
}

// World is a generated province with its ground truth.
type World struct {
	Areas   []geo.Area
	Towers  []Tower
	Reports []geo.Report
	Teams   []geo.Team
	Truth   *Truth
	// synthetic is true when Areas were generated rather than given.
	synthetic bool
	// opt is what the world was generated from, defaults filled in.
	opt Options
}

// ict is Indochina Time, the zone of every generated timestamp.
var ict = time.FixedZone("+07", 7*3600)

// DefaultEnd is the end of the reporting period when Options.End is zero.
var DefaultEnd = time.Date(2026, 7, 1, 0, 0, 0, 0, ict)

// Metres per degree on the WGS 84 ellipsoid near the equator (close enough
// for Vietnam's latitudes at the scale of a province).
const mPerDegLat = 110574.0

func mPerDegLon(lat float64) float64 { return 111320.0 * math.Cos(lat*math.Pi/180) }

// frame is a local equirectangular projection in metres around (lon0, lat0).
type frame struct{ lon0, lat0, kx, ky float64 }

func newFrame(lon0, lat0 float64) frame {
	return frame{lon0: lon0, lat0: lat0, kx: mPerDegLon(lat0), ky: mPerDegLat}
}

func (f frame) toXY(lon, lat float64) (x, y float64) {
	return (lon - f.lon0) * f.kx, (lat - f.lat0) * f.ky
}
func (f frame) toLL(x, y float64) (lon, lat float64) { return f.lon0 + x/f.kx, f.lat0 + y/f.ky }

// Stream numbers keep the random stages independent: changing how one
// stage draws does not shift the others.
const (
	streamProvince = iota + 1
	streamSettle
	streamTowers
	streamField
	streamReports
	streamDrive
	streamTeams
)

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9E3779B97F4A7C15^(stream*0xBF58476D1CE4E5B9)))
}

// Generate builds a world from opt. It returns an error when opt is out of
// range or the areas cover no land on the truth raster.
func Generate(opt Options) (*World, error) {
	if opt.Reports < 0 || opt.Months < 0 || opt.ReportBias < 0 || opt.TruthCellM < 0 {
		return nil, errors.New("sim: reports, months, report bias and truth cell size must not be negative")
	}
	if math.IsNaN(opt.ReportBias) || math.IsNaN(opt.TruthCellM) || math.IsNaN(opt.DriveShare) {
		return nil, errors.New("sim: report bias, truth cell size and drive share must be numbers")
	}
	switch {
	case opt.DriveShare == 0:
		opt.DriveShare = DefaultDriveShare
	case opt.DriveShare == NoDriveTests:
		opt.DriveShare = 0
	case opt.DriveShare < 0 || opt.DriveShare > 1:
		return nil, &geo.FieldError{Field: "drive_share", Reason: fmt.Sprintf("%g: must be between 0 and 1, or NoDriveTests", opt.DriveShare)}
	}
	if opt.Months == 0 {
		opt.Months = 6
	}
	if opt.End.IsZero() {
		opt.End = DefaultEnd
	}
	if opt.ReportBias == 0 {
		opt.ReportBias = 6
	}
	if opt.ReportBias < 1 {
		return nil, fmt.Errorf("sim: report bias %g: must be at least 1", opt.ReportBias)
	}
	if opt.TruthCellM == 0 {
		opt.TruthCellM = 100
	}
	if opt.TruthCellM < 10 || opt.TruthCellM > 5000 {
		return nil, fmt.Errorf("sim: truth cell size %g m: must be between 10 and 5000", opt.TruthCellM)
	}
	w := &World{opt: opt}
	if opt.Areas == nil {
		w.Areas = syntheticProvince(newRand(opt.Seed, streamProvince))
		w.synthetic = true
	} else {
		for i := range opt.Areas {
			if err := geo.ValidateMultiPolygon(opt.Areas[i].Geometry); err != nil {
				return nil, fmt.Errorf("sim: area %s: %w", opt.Areas[i].Code, err)
			}
		}
		w.Areas = opt.Areas
	}
	if len(w.Areas) == 0 {
		return nil, errors.New("sim: no areas")
	}
	m, err := newModel(w, opt)
	if err != nil {
		return nil, err
	}
	m.settle(newRand(opt.Seed, streamSettle))
	m.placeTowers(newRand(opt.Seed, streamTowers))
	m.buildFields(newRand(opt.Seed, streamField))
	m.computeTruth()
	m.roads(newRand(opt.Seed, streamDrive))
	m.reports(newRand(opt.Seed, streamReports), newRand(opt.Seed, streamDrive+100))
	m.teams(newRand(opt.Seed, streamTeams))
	return w, nil
}
