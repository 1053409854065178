package ingest

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gapmap/gapmap/geo"
)

// Report fields. Every reader — CSV, GeoJSON files and the JSON bodies of
// POST /api/v1/reports — names, types and checks them through this file.
const (
	fID = iota
	fLat
	fLon
	fObservedAt
	fCarrier
	fTech
	fSignal
	fDown
	fUp
	fNoService
	fSource
	fReporter
	fNote
	numReportFields
)

// reportFieldNames are the canonical column and property names.
var reportFieldNames = [numReportFields]string{
	"id", "lat", "lon", "observed_at", "carrier", "tech", "signal_dbm",
	"download_mbps", "upload_mbps", "no_service", "source", "reporter", "note",
}

// reportFieldAliases are the other accepted names, in the order in which
// suggestions are considered.
var reportFieldAliases = [...]struct {
	name  string
	field int
}{{"latitude", fLat}, {"longitude", fLon}, {"lng", fLon}}

// requiredReportColumns must appear in a CSV header.
var requiredReportColumns = []int{fLat, fLon, fObservedAt, fCarrier}

// fieldSet is a set of report fields, one bit each.
type fieldSet uint16

func (s fieldSet) has(f int) bool { return s&(1<<f) != 0 }

const (
	positionFields = fieldSet(1<<fLat | 1<<fLon)
	allFields      = fieldSet(1<<numReportFields - 1)
)

// normName is a column or property name as it is matched: lower case,
// without surrounding spaces.
func normName(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}

// lookupReportField returns the field that name, already passed through
// normName, stands for: a canonical name or an alias.
func lookupReportField(name string) (int, bool) {
	for f, n := range reportFieldNames {
		if n == name {
			return f, true
		}
	}
	for _, a := range reportFieldAliases {
		if a.name == name {
			return a.field, true
		}
	}
	return -1, false
}

// unknownFieldError is the problem of a column or property that names no
// report field, with the closest known name when one is close enough to be
// a slip of the keyboard. In GeoJSON (noPosition) the position fields are
// not offered, since the position is the geometry.
func unknownFieldError(name string, noPosition bool) *geo.FieldError {
	if name == "" {
		return &geo.FieldError{Field: `""`, Reason: "unknown field (a name is empty)"}
	}
	reason := "unknown field"
	if s := suggestField(name, noPosition); s != "" {
		reason += " (did you mean " + s + "?)"
	}
	return &geo.FieldError{Field: name, Reason: reason}
}

// suggestField returns the known name closest to name: within an edit
// distance of 1 for names of up to 4 characters and 2 for longer ones
// (a transposition counts as one edit), or the one name that continues
// name with an underscore ("signal" → signal_dbm). "" when none is close.
func suggestField(name string, noPosition bool) string {
	if name == "" {
		return ""
	}
	n := []rune(name)
	limit := 2
	if len(n) <= 4 {
		limit = 1
	}
	best, bestD := "", limit+1
	try := func(known string, f int) {
		if noPosition && positionFields.has(f) {
			return
		}
		if d := editDistance(n, []rune(known)); d < bestD {
			best, bestD = known, d
		}
	}
	for f, k := range reportFieldNames {
		try(k, f)
	}
	for _, a := range reportFieldAliases {
		try(a.name, a.field)
	}
	if best != "" || len(n) < 4 {
		return best
	}
	for f, k := range reportFieldNames {
		if strings.HasPrefix(k, name+"_") && !(noPosition && positionFields.has(f)) {
			return k
		}
	}
	return ""
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// characters, each counting one.
func editDistance(a, b []rune) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30 // no suggestion for very long names
	}
	var rows [3][65]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// ictZone is Vietnam time. Asia/Ho_Chi_Minh has been UTC+7 without
// daylight saving since 1975; a fixed zone avoids depending on tzdata.
var ictZone = time.FixedZone("+07", 7*3600)

// reportParser turns the text of one row's fields into a geo.Report. It
// caches parsed carriers, technologies, sources and zone offsets, which
// take few distinct values in a file.
type reportParser struct {
	now          time.Time
	commaDecimal bool // "," is a decimal separator (semicolon-delimited CSV)

	carriers enumCache[geo.Carrier]
	techs    enumCache[geo.Tech]
	sources  enumCache[geo.Source]
	zones    map[int]*time.Location
}

func newReportParser(now time.Time) *reportParser {
	return &reportParser{
		now:      now,
		carriers: enumCache[geo.Carrier]{parse: geo.ParseCarrier},
		techs:    enumCache[geo.Tech]{parse: geo.ParseTech},
		sources:  enumCache[geo.Source]{parse: geo.ParseSource},
		zones:    map[int]*time.Location{0: time.UTC, 7 * 3600: ictZone},
	}
}

// reportAlloc puts a report and its optional numbers in one allocation.
type reportAlloc struct {
	rep  geo.Report
	nums [3]float64
}

// parse parses vals, the text of each field indexed by the f* constants
// ("" when absent), into a report. When pos is not nil it is the position
// (lon, lat) from a geometry and vals[fLat], vals[fLon] are ignored. es
// holds the problems a reader already found; the fields in skip have one
// there (or cannot be judged) and are neither parsed nor validated. parse
// returns the report and every problem, es first, then parse errors in
// field order, then those of geo.Report.Validate for fields that parsed.
func (p *reportParser) parse(vals *[numReportFields]string, pos *[2]float64, skip fieldSet, es geo.FieldErrors) (*geo.Report, geo.FieldErrors) {
	ra := new(reportAlloc)
	r := &ra.rep
	bad := func(field int, reason string) {
		es = append(es, &geo.FieldError{Field: reportFieldNames[field], Reason: reason})
		skip |= 1 << field
	}
	// Text is stored as given; it must be UTF-8, as every output is.
	for _, f := range [...]int{fID, fReporter, fNote} {
		if !skip.has(f) && !utf8.ValidString(vals[f]) {
			bad(f, "not valid UTF-8 text (save the file as UTF-8)")
		}
	}
	if !skip.has(fID) {
		r.ID = strings.TrimSpace(vals[fID])
	}
	if pos != nil {
		r.Lon, r.Lat = pos[0], pos[1]
	} else {
		for _, c := range [2]struct {
			f   int
			dst *float64
		}{{fLat, &r.Lat}, {fLon, &r.Lon}} {
			if skip.has(c.f) {
				continue
			}
			v, ok, reason := p.number(vals[c.f])
			switch {
			case reason != "":
				bad(c.f, reason)
			case !ok:
				bad(c.f, "required")
			default:
				*c.dst = v
			}
		}
	}
	if !skip.has(fObservedAt) {
		if s := strings.TrimSpace(vals[fObservedAt]); s == "" {
			bad(fObservedAt, "required")
		} else if t, ok := p.time(s); ok {
			r.ObservedAt = t
		} else {
			bad(fObservedAt, "not an RFC 3339 time (want e.g. 2025-07-01T08:30:00+07:00)")
		}
	}
	var reason string
	if !skip.has(fCarrier) {
		if r.Carrier, reason = p.carriers.get(vals[fCarrier]); reason != "" {
			bad(fCarrier, reason)
		}
	}
	if !skip.has(fTech) {
		if r.Tech, reason = p.techs.get(vals[fTech]); reason != "" {
			bad(fTech, reason)
		}
	}
	if !skip.has(fSource) {
		if r.Source, reason = p.sources.get(vals[fSource]); reason != "" {
			bad(fSource, reason)
		}
	}
	for i, f := range [3]int{fSignal, fDown, fUp} {
		if skip.has(f) {
			continue
		}
		v, ok, reason := p.number(vals[f])
		switch {
		case reason != "":
			bad(f, reason)
		case ok:
			ra.nums[i] = v
			switch f {
			case fSignal:
				r.SignalDBm = &ra.nums[i]
			case fDown:
				r.DownloadMbps = &ra.nums[i]
			case fUp:
				r.UploadMbps = &ra.nums[i]
			}
		}
	}
	if !skip.has(fNoService) {
		if b, ok := parseBool(vals[fNoService]); ok {
			r.NoService = b
		} else {
			bad(fNoService, "not a boolean (want true/false, 1/0, yes/no or có/không)")
		}
	}
	if !skip.has(fReporter) {
		r.Reporter = strings.TrimSpace(vals[fReporter])
	}
	if !skip.has(fNote) {
		r.Note = vals[fNote]
	}

	if err := r.Validate(p.now); err != nil {
		for _, e := range geo.AsFieldErrors(err) {
			if f, ok := lookupReportField(e.Field); ok && skip.has(f) {
				continue
			}
			if !hasField(es, e.Field) {
				es = append(es, e)
			}
		}
	}
	return r, es
}

// number parses an optional decimal number (see ParseNumber).
func (p *reportParser) number(s string) (v float64, ok bool, reason string) {
	return ParseNumber(s, p.commaDecimal)
}

// ParseNumber parses an optional decimal number. ok is false when s is
// empty; reason is set when s is not a finite number. With commaDecimal (a
// semicolon-delimited CSV file) a lone "," is the decimal separator.
func ParseNumber(s string, commaDecimal bool) (v float64, ok bool, reason string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, ""
	}
	if commaDecimal && strings.IndexByte(s, ',') >= 0 && strings.IndexByte(s, '.') < 0 {
		s = strings.Replace(s, ",", ".", 1)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return 0, false, "not a number"
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, "not a finite number"
	}
	return v, true, ""
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// parseBool accepts true/false, 1/0, yes/no, t/f, y/n and the Vietnamese
// có/không (composed or decomposed) in any case; empty is false.
func parseBool(s string) (v, ok bool) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "0", "false", "no":
		return false, true
	case "1", "true", "yes":
		return true, true
	}
	for _, t := range [...]string{"true", "t", "yes", "y", "có", "co\u0301"} {
		if strings.EqualFold(s, t) {
			return true, true
		}
	}
	for _, f := range [...]string{"false", "f", "no", "n", "không", "kho\u0302ng"} {
		if strings.EqualFold(s, f) {
			return false, true
		}
	}
	return false, false
}

// enumCache remembers the parse results of the few distinct spellings of
// a carrier, technology or source in one file. It holds at most 256
// entries so hostile input cannot grow it without bound.
type enumCache[T any] struct {
	parse func(string) (T, error)
	m     map[string]enumResult[T]
}

type enumResult[T any] struct {
	v      T
	reason string
}

func (c *enumCache[T]) get(s string) (T, string) {
	if r, ok := c.m[s]; ok {
		return r.v, r.reason
	}
	v, err := c.parse(s)
	r := enumResult[T]{v: v}
	if err != nil {
		r.reason = err.Error()
	}
	if c.m == nil {
		c.m = make(map[string]enumResult[T])
	}
	if len(c.m) < 256 {
		c.m[strings.Clone(s)] = r
	}
	return r.v, r.reason
}

// time parses an RFC 3339 timestamp by hand (time.Parse is the slowest
// step of a CSV row otherwise): YYYY-MM-DD, "T", "t" or " ", hh:mm:ss,
// optional fraction, then "Z", "z", ±hh:mm, ±hhmm or nothing (Vietnam
// time).
func (p *reportParser) time(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return time.Time{}, false
		}
		frac := rest[1:i]
		for k := 0; k < 9; k++ {
			nsec *= 10
			if k < len(frac) {
				nsec += int(frac[k] - '0')
			}
		}
		rest = rest[i:]
	}
	loc := ictZone
	switch {
	case rest == "":
	case rest == "Z" || rest == "z":
		loc = time.UTC
	case rest[0] == '+' || rest[0] == '-':
		var hh, mm int
		var ok bool
		switch len(rest) {
		case 6:
			if rest[3] != ':' {
				return time.Time{}, false
			}
			h, okh := digits(rest[1:3])
			m, okm := digits(rest[4:6])
			hh, mm, ok = h, m, okh && okm
		case 5:
			h, okh := digits(rest[1:3])
			m, okm := digits(rest[3:5])
			hh, mm, ok = h, m, okh && okm
		}
		if !ok || hh > 23 || mm > 59 {
			return time.Time{}, false
		}
		off := (hh*60 + mm) * 60
		if rest[0] == '-' {
			off = -off
		}
		loc = p.zones[off]
		if loc == nil {
			loc = time.FixedZone("", off)
			p.zones[off] = loc
		}
	default:
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), true
}

// digits parses s, all ASCII digits, as a non-negative integer.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// hasField reports whether es has an error for field.
func hasField(es geo.FieldErrors, field string) bool {
	for _, e := range es {
		if e.Field == field {
			return true
		}
	}
	return false
}
