package geo

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Report is one weak-signal report as submitted: a point, a time, a carrier
// and what the device saw. Optional numbers are nil when not given.
type Report struct {
	ID         string    `json:"id"`
	Lat        float64   `json:"lat"` // WGS 84 degrees
	Lon        float64   `json:"lon"` // WGS 84 degrees
	ObservedAt time.Time `json:"observed_at"`
	Carrier    Carrier   `json:"carrier"`
	Tech       Tech      `json:"tech,omitempty"`
	// SignalDBm is RSRP for 4G/5G, RSCP for 3G and RSSI for 2G.
	SignalDBm    *float64 `json:"signal_dbm,omitempty"`
	DownloadMbps *float64 `json:"download_mbps,omitempty"`
	UploadMbps   *float64 `json:"upload_mbps,omitempty"`
	NoService    bool     `json:"no_service"`
	Source       Source   `json:"source,omitempty"`
	// Reporter is who the submitter says reported: free text, kept as
	// information.
	Reporter string `json:"reporter,omitempty"`
	Note     string `json:"note,omitempty"`
	// Submitter is who submitted the report, recorded by the service and
	// never read from input (see SubmitterOf): the evidence rules count
	// distinct submitters, not typed reporters (see ReporterKey).
	Submitter string `json:"submitter,omitempty"`
	// ClientID is the id a submitter who cannot read every report gave
	// it; its ID is then made from that id and the Submitter (see
	// service.AddReport), so such ids are the submitter's own.
	ClientID string `json:"client_id,omitempty"`
}

// SubmitterOf is the Submitter of a report v submits with the given typed
// reporter: v's account ("user:" and the name) when v signed in, so one
// account counts as one reporter whatever names it types; for the command
// line, which holds the store file itself and imports the teams' own
// lists, the typed reporter ("reporter:" and the name, "" for none).
func SubmitterOf(v *Viewer, reporter string) string {
	if v.Via == "cli" {
		if reporter == "" {
			return ""
		}
		return "reporter:" + reporter
	}
	return "user:" + v.User
}

// ReporterKey is who r counts as for the evidence rules' distinct
// reporters: its Submitter, or, for a report that has none (read from a
// file by analyze, or stored before submitters were recorded), its typed
// Reporter, as the command line's SubmitterOf would make it. "" is
// anonymous.
func (r *Report) ReporterKey() string {
	if r.Submitter != "" || r.Reporter == "" {
		return r.Submitter
	}
	return reporterPrefix + r.Reporter
}

// reporterPrefix marks a typed reporter's key (see ReporterKey).
const reporterPrefix = "reporter:"

// Limits on report values.
const (
	MinSignalDBm = -140.0
	MaxSignalDBm = -20.0
	MaxSpeedMbps = 10000.0
	// MaxClockSkew is how far in the future an observed_at may be, to
	// allow for phones with a slightly wrong clock.
	MaxClockSkew = 15 * time.Minute
	MaxNoteLen   = 2000
	MaxIDLen     = 128
)

// EarliestObservation is the earliest observed_at accepted.
var EarliestObservation = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Validate checks every field of r against now and returns FieldErrors
// naming each bad field ("lat: must be between -90 and 90"). It does not
// check that the point is inside any area: points outside every area are
// kept and counted as outside.
func (r *Report) Validate(now time.Time) error {
	var es FieldErrors
	add := func(field, format string, args ...any) {
		es = append(es, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if len(r.ID) > MaxIDLen {
		add("id", "longer than %d bytes", MaxIDLen)
	} else if i := strings.IndexFunc(r.ID, func(c rune) bool { return c < ' ' || c == 0x7f || strings.ContainsRune(`/\?#%`, c) }); i >= 0 {
		// An id is a path segment of /api/v1/reports/{id}: one that holds
		// a slash could be stored but never read back.
		add("id", "must not contain %q", r.ID[i:i+1])
	}
	switch {
	case math.IsNaN(r.Lat) || math.IsInf(r.Lat, 0):
		add("lat", "not a number")
	case r.Lat < -90 || r.Lat > 90:
		add("lat", "must be between -90 and 90")
	}
	switch {
	case math.IsNaN(r.Lon) || math.IsInf(r.Lon, 0):
		add("lon", "not a number")
	case r.Lon < -180 || r.Lon > 180:
		add("lon", "must be between -180 and 180")
	}
	switch {
	case r.ObservedAt.IsZero():
		add("observed_at", "required")
	case r.ObservedAt.Before(EarliestObservation):
		add("observed_at", "before %s", EarliestObservation.Format("2006-01-02"))
	case !now.IsZero() && r.ObservedAt.After(now.Add(MaxClockSkew)):
		add("observed_at", "in the future")
	}
	if r.Carrier == CarrierUnknown || r.Carrier == CarrierAll || r.Carrier > CarrierAll {
		add("carrier", "required: one of viettel, vinaphone, mobifone, vietnamobile")
	}
	if r.Tech > Tech5G {
		add("tech", "unknown technology")
	}
	if r.Source > SourceDriveTest {
		add("source", "unknown source")
	}
	if v := r.SignalDBm; v != nil {
		switch {
		case math.IsNaN(*v) || math.IsInf(*v, 0):
			add("signal_dbm", "not a number")
		case *v < MinSignalDBm || *v > MaxSignalDBm:
			add("signal_dbm", "must be between %g and %g", MinSignalDBm, MaxSignalDBm)
		}
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"download_mbps", r.DownloadMbps}, {"upload_mbps", r.UploadMbps}} {
		if f.v == nil {
			continue
		}
		switch {
		case math.IsNaN(*f.v) || math.IsInf(*f.v, 0):
			add(f.name, "not a number")
		case *f.v < 0 || *f.v > MaxSpeedMbps:
			add(f.name, "must be between 0 and %g", MaxSpeedMbps)
		}
	}
	if len(r.Note) > MaxNoteLen {
		add("note", "longer than %d bytes", MaxNoteLen)
	}
	return es.Err()
}
