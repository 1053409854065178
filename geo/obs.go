package geo

import (
	"math"
	"time"
)

// Obs is the engine's compact, in-memory form of a Report: what the
// analysis needs and nothing else (no id, note or reporter name), so a
// province's millions of reports fit in memory. It is 48 bytes.
type Obs struct {
	Lon, Lat float64 // WGS 84 degrees
	// At is the observation time in Unix seconds.
	At int64
	// SignalDBm and DownMbps are NaN when the report did not give them.
	SignalDBm float32
	DownMbps  float32
	// Reporter is an index into the reporter table (see Reporters) of
	// the report's ReporterKey; 0 means anonymous.
	Reporter uint32
	// Area is the index of the finest area containing the point, or -1
	// when the point is outside every area. Set by Index.Assign.
	Area    int32
	Carrier Carrier
	Tech    Tech
	Source  Source
	Flags   ObsFlags
}

// ObsFlags are per-observation booleans.
type ObsFlags uint8

// Observation flags.
const (
	// FlagNoService: the device had no service at all.
	FlagNoService ObsFlags = 1 << iota
	// FlagWeak: the report is weak under the classification rules (set by
	// Rules.Classify).
	FlagWeak
)

// Reporters interns reporter names to small integers so each Obs carries 4
// bytes instead of a string. Index 0 is the anonymous reporter.
type Reporters struct {
	ids   map[string]uint32
	names []string
	key   []byte // scratch for keyID
}

// NewReporters returns an empty table.
func NewReporters() *Reporters {
	return &Reporters{ids: map[string]uint32{}, names: []string{""}}
}

// ID returns name's index, adding it if new; "" is 0.
func (rs *Reporters) ID(name string) uint32 {
	if name == "" {
		return 0
	}
	if id, ok := rs.ids[name]; ok {
		return id
	}
	id := uint32(len(rs.names))
	rs.ids[name] = id
	rs.names = append(rs.names, name)
	return id
}

// keyID is ID(r.ReporterKey()) without building the key of a known
// reporter: a file of millions of reports names each reporter many
// times, and the key is a new string only when it is added.
func (rs *Reporters) keyID(r *Report) uint32 {
	if r.Submitter != "" || r.Reporter == "" {
		return rs.ID(r.Submitter)
	}
	rs.key = append(append(rs.key[:0], reporterPrefix...), r.Reporter...)
	if id, ok := rs.ids[string(rs.key)]; ok {
		return id
	}
	return rs.ID(string(rs.key))
}

// Name returns the name for id.
func (rs *Reporters) Name(id uint32) string {
	if int(id) < len(rs.names) {
		return rs.names[id]
	}
	return ""
}

// Len is the number of names including the anonymous one.
func (rs *Reporters) Len() int { return len(rs.names) }

// ToObs converts r to its compact form, interning its ReporterKey in rs.
// Area is set to -1 (unassigned).
func (r *Report) ToObs(rs *Reporters) Obs {
	o := Obs{
		Lon: r.Lon, Lat: r.Lat,
		At:        r.ObservedAt.Unix(),
		SignalDBm: float32(math.NaN()),
		DownMbps:  float32(math.NaN()),
		Area:      -1,
		Carrier:   r.Carrier,
		Tech:      r.Tech,
		Source:    r.Source,
	}
	if r.SignalDBm != nil {
		o.SignalDBm = float32(*r.SignalDBm)
	}
	if r.DownloadMbps != nil {
		o.DownMbps = float32(*r.DownloadMbps)
	}
	if r.NoService {
		o.Flags |= FlagNoService
	}
	if rs != nil {
		o.Reporter = rs.keyID(r)
	}
	return o
}

// Time returns the observation time.
func (o *Obs) Time() time.Time { return time.Unix(o.At, 0).UTC() }

// HasSignal reports whether the observation carries a signal level.
func (o *Obs) HasSignal() bool { return !math.IsNaN(float64(o.SignalDBm)) }
