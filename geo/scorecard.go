package geo

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Period is a span of whole months in Vietnam time, one month or one
// quarter, for scorecards.
type Period struct {
	// Name is "2026-11" for a month, "2026Q4" for a quarter.
	Name string
	// From and To bound the period: From ≤ t < To.
	From, To time.Time
}

// ParsePeriod parses a month (YYYY-MM) or a quarter (YYYYQn); the error
// names field "period".
func ParsePeriod(s string) (Period, error) {
	bad := &FieldError{Field: "period", Reason: "want a month such as 2026-11 or a quarter such as 2026Q4"}
	if len(s) == 6 && (s[4] == 'Q' || s[4] == 'q') {
		y, err := strconv.Atoi(s[:4])
		q := int(s[5] - '0')
		if err != nil || q < 1 || q > 4 || y < 2000 {
			return Period{}, bad
		}
		from := time.Date(y, time.Month(3*q-2), 1, 0, 0, 0, 0, VietnamTime)
		return Period{Name: fmt.Sprintf("%dQ%d", y, q), From: from, To: from.AddDate(0, 3, 0)}, nil
	}
	from, err := time.ParseInLocation("2006-01", s, VietnamTime)
	if err != nil || len(s) != 7 || from.Year() < 2000 {
		return Period{}, bad
	}
	return Period{Name: from.Format("2006-01"), From: from, To: from.AddDate(0, 1, 0)}, nil
}

// Month returns the name (YYYY-MM) of t's month in Vietnam time.
func Month(t time.Time) string { return t.In(VietnamTime).Format("2006-01") }

// ScoreRow is one carrier's scorecard for a period. Holes that split or
// merge count once more for each hole they became, from then on.
type ScoreRow struct {
	Carrier Carrier `json:"carrier"`
	// Listed counts the holes first listed in the period (not those that
	// came from a split or merge).
	Listed int `json:"listed"`
	// Answered counts first answers given in the period (the first after
	// a hole was listed or reopened), AnsweredOnTime those given by the
	// day they were due.
	Answered       int `json:"answered"`
	AnsweredOnTime int `json:"answered_on_time"`
	// Planned, Fixed, Verified and Reopened count the holes that became so
	// in the period.
	Planned  int `json:"planned"`
	Fixed    int `json:"fixed"`
	Verified int `json:"verified"`
	Reopened int `json:"reopened"`
	// Overdue counts the holes overdue at the end of the period (now, for
	// a period not yet over).
	Overdue int `json:"overdue"`
	// MedianDaysToAnswer is the median of the days from listing (or
	// reopening) to the first answer, over the answers counted;
	// MedianDaysToFix of the days from listing to the fix day, over the
	// fixes counted. NaN when there are none.
	MedianDaysToAnswer float64 `json:"median_days_to_answer"`
	MedianDaysToFix    float64 `json:"median_days_to_fix"`
	// Causes and Funding count the holes on the list during the period by
	// cause and funding route (those given one).
	Causes  map[Cause]int   `json:"causes"`
	Funding map[Funding]int `json:"funding"`
}

// counted are the kinds of event a scorecard counts: those that move a
// track, not the registry's own bookkeeping.
var counted = map[string]bool{"answer": true, "ruling": true, "set": true, "data": true}

// Scorecard is carrier c's scorecard over the records, for period p, at
// now, with answers due days after listing. It counts c's own holes (not
// the dead zones).
func Scorecard(recs []*HoleRecord, c Carrier, p Period, now time.Time, days int) ScoreRow {
	row := ScoreRow{Carrier: c, Causes: map[Cause]int{}, Funding: map[Funding]int{}}
	end := p.To
	if now.Before(end) {
		end = now
	}
	var toAnswer, toFix []float64
	for _, r := range recs {
		if r.Carrier != c {
			continue
		}
		if len(r.ParentIDs) == 0 && in(r.FirstSeen, p) {
			row.Listed++
		}
		if r.FirstSeen.Before(p.To) && (r.Current || !r.LastSeen.Before(p.From)) {
			if r.Cause != "" {
				row.Causes[r.Cause]++
			}
			if r.Funding != "" {
				row.Funding[r.Funding]++
			}
		}
		rp := replay(r, c, end)
		for _, a := range rp.answers {
			if in(a.at, p) && !a.at.Before(r.FirstSeen) {
				row.Answered++
				if !Day(a.at).After(Day(a.since).AddDate(0, 0, days)) {
					row.AnsweredOnTime++
				}
				toAnswer = append(toAnswer, a.at.Sub(a.since).Hours()/24)
			}
		}
		for _, e := range r.History {
			if e.Carrier != c || !counted[e.Kind] || !in(e.At, p) || e.At.Before(r.FirstSeen) {
				continue
			}
			switch e.State {
			case StatePlanned:
				row.Planned++
			case StateFixed:
				row.Fixed++
				if f, err := ParseDate("fixed_date", e.Fixed); err == nil && !rp.listed.IsZero() {
					toFix = append(toFix, f.Sub(Day(rp.listed)).Hours()/24)
				}
			case StateVerified:
				row.Verified++
			case StateReopened:
				row.Reopened++
			}
		}
		if rp.exists && rp.track.Overdue(end, days) {
			row.Overdue++
		}
	}
	row.MedianDaysToAnswer = median(toAnswer)
	row.MedianDaysToFix = median(toFix)
	return row
}

func in(t time.Time, p Period) bool { return !t.Before(p.From) && t.Before(p.To) }

// replayed is a track as it stood at some time, rebuilt from a history.
type replayed struct {
	track  Track
	exists bool      // the hole was listed and had not split or merged away by then
	listed time.Time // when the hole's lineage was first listed
	// answers are the first answers (after each listing or reopening).
	answers []firstAnswer
}

type firstAnswer struct{ at, since time.Time }

// replay rebuilds carrier c's track of r from its history up to at.
func replay(r *HoleRecord, c Carrier, at time.Time) replayed {
	rp := replayed{exists: !r.FirstSeen.After(at)}
	t := &rp.track
	answered := false
	for _, e := range r.History {
		if e.At.After(at) {
			break
		}
		if e.Carrier != c && e.Carrier != CarrierAll {
			continue
		}
		switch e.Kind {
		case "listed":
			rp.listed, t.Since, answered = e.At, e.At, false
		case "split_into", "merged_into":
			rp.exists = false
			continue
		case "answer":
			if !answered {
				rp.answers = append(rp.answers, firstAnswer{at: e.At, since: t.Since})
				answered = true
			}
		}
		if e.State == StateReopened && e.Kind == "data" {
			t.Since, answered = e.At, false
		}
		if e.Planned != "" {
			t.Planned, _ = ParseDate("planned_date", e.Planned)
		}
		if counted[e.Kind] || e.Kind == "listed" {
			t.State = e.State
		}
	}
	return rp
}

// median is the median of v (reordering it), NaN when empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
