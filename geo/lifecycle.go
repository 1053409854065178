package geo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file is the hole lifecycle: the states a hole goes through as its
// carrier answers, fixes and is checked, the one table of which moves are
// allowed and to whom, the deadlines, and the hole registry's records.
// It is pure: the service (geo/service) keeps the registry and applies
// it.

// HoleState is where a hole stands in its carrier's answers.
type HoleState string

// Hole states. A hole is listed open; the carrier answers it
// (acknowledged, planned, fixed, or disputed); reports after the fix
// date decide verified or reopened; a reviewer rules a dispute (upheld:
// back to the state before it; dismissed); a hole that leaves the
// analysis before any answer is resolved_by_data.
const (
	StateOpen           HoleState = "open"
	StateAcknowledged   HoleState = "acknowledged"
	StatePlanned        HoleState = "planned"
	StateFixed          HoleState = "fixed"
	StateVerified       HoleState = "verified"
	StateReopened       HoleState = "reopened"
	StateDisputed       HoleState = "disputed"
	StateDismissed      HoleState = "dismissed"
	StateResolvedByData HoleState = "resolved_by_data"
)

// HoleStates lists every state.
var HoleStates = []HoleState{StateOpen, StateAcknowledged, StatePlanned, StateFixed, StateVerified,
	StateReopened, StateDisputed, StateDismissed, StateResolvedByData}

// ParseHoleState parses a state name; the error names field "state".
func ParseHoleState(s string) (HoleState, error) {
	st := HoleState(s)
	if slices.Contains(HoleStates, st) {
		return st, nil
	}
	return "", &FieldError{Field: "state", Reason: fmt.Sprintf("unknown state %q (want %s)", s, joinStates(HoleStates))}
}

func joinStates(ss []HoleState) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// Actor is who moves a hole from one state to another.
type Actor uint8

// Actors of the transition table.
const (
	// ByCarrier is a carrier's answer.
	ByCarrier Actor = iota + 1
	// ByRuling is a reviewer's or admin's ruling on a dispute.
	ByRuling
	// ByReviewer is a reviewer or admin setting a state, with a note.
	ByReviewer
	// ByData is the analysis: a hole leaving it, reappearing, or the
	// reports after a fix.
	ByData
)

// transitions is the one table of the moves each actor may make, from
// state to states. Reviewers (ByReviewer) may make any move that changes
// the state; it is not listed.
var transitions = map[Actor]map[HoleState][]HoleState{
	ByCarrier: {
		StateOpen:         {StateAcknowledged, StatePlanned, StateFixed, StateDisputed},
		StateAcknowledged: {StatePlanned, StateFixed, StateDisputed},
		// A plan may be replaced by another (a new date).
		StatePlanned:  {StatePlanned, StateFixed, StateDisputed},
		StateReopened: {StateAcknowledged, StatePlanned, StateFixed, StateDisputed},
	},
	// A ruling leaves a dispute: upheld returns to the state the dispute
	// was raised from, dismissed ends the hole for that carrier.
	ByRuling: {
		StateDisputed: {StateOpen, StateAcknowledged, StatePlanned, StateReopened, StateDismissed},
	},
	ByData: {
		StateOpen:           {StateResolvedByData},
		StateResolvedByData: {StateOpen},
		StateFixed:          {StateVerified, StateReopened},
		StateVerified:       {StateReopened},
	},
}

// CanMove reports whether actor by may move a hole from state from to
// state to.
func CanMove(by Actor, from, to HoleState) bool {
	if !slices.Contains(HoleStates, from) || !slices.Contains(HoleStates, to) {
		return false
	}
	if by == ByReviewer {
		return from != to
	}
	return slices.Contains(transitions[by][from], to)
}

// Move returns nil when actor by may move a hole from state from to state
// to, and otherwise an error matching ErrConflict that names field
// "state".
func Move(by Actor, from, to HoleState) error {
	if CanMove(by, from, to) {
		return nil
	}
	reason := fmt.Sprintf("a hole that is %s cannot become %s", from, to)
	if next := transitions[by][from]; by == ByCarrier && len(next) > 0 {
		reason += " (it can become " + joinStates(next) + ")"
	} else if by == ByCarrier {
		reason += " (it takes no answer now)"
	}
	return NewError(ErrConflict, "the hole's state does not allow this", &FieldError{Field: "state", Reason: reason})
}

// Decision is a reviewer's ruling on a dispute.
type Decision string

// Rulings. Upheld keeps the hole on the carrier's list, back in the
// state the dispute was raised from; dismissed takes it off.
const (
	Upheld    Decision = "upheld"
	Dismissed Decision = "dismissed"
)

// ParseDecision parses a ruling; the error names field "decision".
func ParseDecision(s string) (Decision, error) {
	switch d := Decision(s); d {
	case Upheld, Dismissed:
		return d, nil
	}
	return "", &FieldError{Field: "decision", Reason: fmt.Sprintf("unknown decision %q (want upheld or dismissed)", s)}
}

// Rule returns the state a ruling d moves a hole to from state from,
// where before is the state the dispute was raised from. A hole that is
// not disputed is an error matching ErrConflict naming "state".
func Rule(from, before HoleState, d Decision) (HoleState, error) {
	to := StateDismissed
	if d == Upheld {
		to = before
	}
	if from != StateDisputed {
		return "", NewError(ErrConflict, "only a disputed hole can be ruled on",
			&FieldError{Field: "state", Reason: fmt.Sprintf("the hole is %s, not disputed", from)})
	}
	return to, Move(ByRuling, from, to)
}

// Plan is how a carrier means to close a hole.
type Plan string

// Plans.
const (
	PlanNewSite Plan = "new_site"
	PlanUpgrade Plan = "upgrade"
	PlanSharing Plan = "sharing"
	PlanPower   Plan = "power"
	PlanOther   Plan = "other"
)

// Plans lists every plan.
var Plans = []Plan{PlanNewSite, PlanUpgrade, PlanSharing, PlanPower, PlanOther}

// Cause is why a hole exists.
type Cause string

// Causes.
const (
	CauseNoSite        Cause = "no_site"
	CauseCapacity      Cause = "capacity"
	CauseNoPower       Cause = "no_power"
	CauseTerrain       Cause = "terrain"
	CauseFewHouseholds Cause = "few_households"
	CauseUnknown       Cause = "unknown"
)

// Causes lists every cause.
var Causes = []Cause{CauseNoSite, CauseCapacity, CauseNoPower, CauseTerrain, CauseFewHouseholds, CauseUnknown}

// Funding is who pays to close a hole.
type Funding string

// Funding routes. FundPublic is the public-utility telecommunications
// fund that finances dark hamlets; FundPowerFirst says the grid must come
// first.
const (
	FundCarrier    Funding = "carrier"
	FundSharing    Funding = "sharing"
	FundPublic     Funding = "public_fund"
	FundPowerFirst Funding = "power_first"
)

// Fundings lists every funding route.
var Fundings = []Funding{FundCarrier, FundSharing, FundPublic, FundPowerFirst}

// ParseEnum parses s as one of the values of a string enum, naming field
// in the error.
func ParseEnum[T ~string](field, s string, values []T) (T, error) {
	if slices.Contains(values, T(s)) {
		return T(s), nil
	}
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return "", &FieldError{Field: field, Reason: fmt.Sprintf("unknown value %q (want %s)", s, strings.Join(names, ", "))}
}

// VietnamTime is the zone of the lifecycle's dates: Asia/Ho_Chi_Minh,
// UTC+7 without daylight saving since 1975.
var VietnamTime = time.FixedZone("+07", 7*3600)

// DateLayout is how the lifecycle's dates are written.
const DateLayout = "2006-01-02"

// ParseDate parses a YYYY-MM-DD date as the start of that day in Vietnam
// time, naming field in the error.
func ParseDate(field, s string) (time.Time, error) {
	t, err := time.ParseInLocation(DateLayout, s, VietnamTime)
	if err != nil {
		return time.Time{}, &FieldError{Field: field, Reason: "not a date such as 2026-11-30 (YYYY-MM-DD)"}
	}
	return t, nil
}

// Day returns the start of t's day in Vietnam time.
func Day(t time.Time) time.Time {
	y, m, d := t.In(VietnamTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, VietnamTime)
}

// FormatDate writes t's day in Vietnam time as YYYY-MM-DD, "" for the
// zero time.
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(VietnamTime).Format(DateLayout)
}

// DefaultAnswerDays is how many days after a hole is listed (or
// reopened) its carrier's answer is due.
const DefaultAnswerDays = 30

// Track is one carrier's answers on a hole. A carrier's hole has one
// track, its carrier's; a dead zone has one for each carrier, since each
// can answer it.
type Track struct {
	Carrier Carrier
	State   HoleState
	// Before is the state a dispute was raised from (an upheld ruling
	// returns to it).
	Before HoleState
	// Since is when the answer now awaited became due: the hole's first
	// listing, or its reopening. Answered is when the carrier first
	// answered after Since (zero: not yet).
	Since    time.Time
	Answered time.Time
	// Planned and Plan are the carrier's plan (Planned is the start of the
	// planned day, Vietnam time); Fixed is the day the carrier says the
	// hole was fixed. Zero when not given.
	Planned time.Time
	Plan    Plan
	Fixed   time.Time
	// FixCells are the hole's cells when it was said to be fixed: the
	// reports there after the fix day decide it, though the hole the
	// analysis draws shrinks as the fix shows.
	FixCells []uint64
	// OverdueNotified is the due day for which the hole was last
	// announced overdue (zero: never), so it is announced once per
	// deadline.
	OverdueNotified time.Time
}

// AnswerDue is the day the carrier's answer is (or was) due: days after
// the day of Since.
func (t *Track) AnswerDue(days int) time.Time {
	if t.Since.IsZero() {
		return time.Time{}
	}
	return Day(t.Since).AddDate(0, 0, days)
}

// FixDue is the day the fix is due: the planned day, while the hole is
// planned (zero otherwise).
func (t *Track) FixDue() time.Time {
	if t.State != StatePlanned {
		return time.Time{}
	}
	return t.Planned
}

// Due returns the deadline the track is now held to, the zero time when
// none: the answer's while the hole awaits one (open, reopened), the
// fix's while it is planned.
func (t *Track) Due(days int) time.Time {
	switch t.State {
	case StateOpen, StateReopened:
		return t.AnswerDue(days)
	case StatePlanned:
		return t.Planned
	}
	return time.Time{}
}

// Overdue reports whether the track's deadline (see Due) has passed at
// now: the due day is over in Vietnam time.
func (t *Track) Overdue(now time.Time, days int) bool {
	d := t.Due(days)
	return !d.IsZero() && !now.Before(d.AddDate(0, 0, 1))
}

// progress orders states by how far they take a hole towards service,
// for the state a dead zone shows: dismissed tracks count least.
var progress = map[HoleState]int{
	StateDismissed: -2, StateResolvedByData: -1, StateOpen: 0, StateReopened: 1, StateAcknowledged: 2,
	StateDisputed: 3, StatePlanned: 4, StateFixed: 5, StateVerified: 6,
}

// HoleEvent is one entry of a hole's history.
type HoleEvent struct {
	At time.Time `json:"at"`
	// State is the state of Carrier's track after the event (of every
	// track, when Carrier is CarrierAll).
	State   HoleState `json:"state"`
	Carrier Carrier   `json:"carrier"`
	// Kind is what happened: "listed", "answer", "ruling", "set" (by a
	// reviewer), "data" (the analysis), "split", "merged", "details"
	// (cause, funding route or lead carrier).
	Kind string `json:"kind"`
	// Role is who acted: a role name, or "analysis"; User their name.
	Role string `json:"role"`
	User string `json:"user,omitempty"`
	Note string `json:"note,omitempty"`
	// Planned, Plan and Fixed are the answer's (YYYY-MM-DD dates).
	Planned string `json:"planned_date,omitempty"`
	Plan    Plan   `json:"plan,omitempty"`
	Fixed   string `json:"fixed_date,omitempty"`
}

// RoleAnalysis is the role of events the analysis makes.
const RoleAnalysis = "analysis"

// HoleRecord is a hole in the registry: the identity a hole keeps while
// the analysis recomputes it, and its carriers' answers. A hole keeps its
// ID while it persists, matched to its previous self by the cells they
// share; when holes split or merge, the holes that result are new records
// naming their parents and inheriting their tracks.
type HoleRecord struct {
	ID      string
	Carrier Carrier // CarrierAll for a dead zone
	// FirstSeen and LastSeen are when the hole entered the analysis and
	// when it was last in it; Current says it is in the latest one.
	FirstSeen, LastSeen time.Time
	Current             bool
	// Cells are the hole's H3 cells (the evidence grid's resolution) when
	// last seen, sorted; Areas the codes of the areas it touched.
	Cells []uint64
	Areas []string
	// ParentIDs are the holes this one split or merged from; ChildIDs the
	// holes it split or merged into (it is then no longer matched).
	ParentIDs, ChildIDs []string
	// Lead is the carrier a reviewer named to lead a dead zone.
	Lead    Carrier
	Cause   Cause
	Funding Funding
	// Tracks hold the carriers' answers, in the order of Carriers: one
	// for a carrier's hole, one per carrier for a dead zone.
	Tracks  []Track
	History []HoleEvent
	// Rev counts the record's changes; a store keeps the highest.
	Rev int64
}

// NewHoleRecord returns the record of a hole of carrier c first listed at
// at, open, with its "listed" event.
func NewHoleRecord(id string, c Carrier, at time.Time) *HoleRecord {
	r := &HoleRecord{ID: id, Carrier: c, FirstSeen: at, LastSeen: at, Current: true}
	cs := []Carrier{c}
	if c == CarrierAll {
		cs = Carriers
	}
	for _, tc := range cs {
		r.Tracks = append(r.Tracks, Track{Carrier: tc, State: StateOpen, Since: at})
	}
	r.History = append(r.History, HoleEvent{At: at, State: StateOpen, Carrier: c, Kind: "listed", Role: RoleAnalysis})
	return r
}

// Track returns the track of carrier c, nil when the hole has none.
func (r *HoleRecord) Track(c Carrier) *Track {
	for i := range r.Tracks {
		if r.Tracks[i].Carrier == c {
			return &r.Tracks[i]
		}
	}
	return nil
}

// Shown returns the track whose state the hole shows: its only track; for
// a dead zone the lead carrier's when one is named, otherwise the track
// furthest along (a dead zone ends when any one carrier serves it), the
// first in carrier order among equals.
func (r *HoleRecord) Shown() *Track {
	if len(r.Tracks) == 0 {
		return &Track{State: StateOpen}
	}
	if r.Lead != CarrierUnknown {
		if t := r.Track(r.Lead); t != nil {
			return t
		}
	}
	best := &r.Tracks[0]
	for i := range r.Tracks[1:] {
		if t := &r.Tracks[i+1]; progress[t.State] > progress[best.State] {
			best = t
		}
	}
	return best
}

// State is the state the hole shows (see Shown).
func (r *HoleRecord) State() HoleState { return r.Shown().State }

// Answered reports whether any carrier has answered the hole since it was
// listed (or reopened).
func (r *HoleRecord) Answered() bool {
	for i := range r.Tracks {
		if !r.Tracks[i].Answered.IsZero() {
			return true
		}
	}
	return false
}

// Leaf reports whether the hole has not split or merged into others, so
// the analysis still matches it.
func (r *HoleRecord) Leaf() bool { return len(r.ChildIDs) == 0 }

// Clone returns a deep copy of r.
func (r *HoleRecord) Clone() *HoleRecord {
	c := *r
	c.Cells = slices.Clone(r.Cells)
	c.Areas = slices.Clone(r.Areas)
	c.ParentIDs = slices.Clone(r.ParentIDs)
	c.ChildIDs = slices.Clone(r.ChildIDs)
	c.Tracks = slices.Clone(r.Tracks)
	for i := range c.Tracks {
		c.Tracks[i].FixCells = slices.Clone(c.Tracks[i].FixCells)
	}
	c.History = slices.Clone(r.History)
	return &c
}

// HoleLife is what the registry says of a hole in a published analysis:
// its state and deadlines, for lists, layers and the page. The engine
// leaves it zero.
type HoleLife struct {
	State HoleState `json:"state,omitempty"`
	// AnswerDue and FixDue are YYYY-MM-DD days (Vietnam time), "" when
	// none; Overdue says the deadline the hole is held to has passed.
	AnswerDue string  `json:"answer_due,omitempty"`
	FixDue    string  `json:"fix_due,omitempty"`
	Overdue   bool    `json:"overdue,omitempty"`
	Lead      Carrier `json:"lead_carrier,omitempty"`
	Cause     Cause   `json:"cause,omitempty"`
	Funding   Funding `json:"funding,omitempty"`
}

// Life is what r shows at now, with answers due days after listing.
func (r *HoleRecord) Life(now time.Time, days int) HoleLife {
	t := r.Shown()
	return HoleLife{State: t.State, AnswerDue: FormatDate(t.AnswerDue(days)), FixDue: FormatDate(t.FixDue()),
		Overdue: t.Overdue(now, days), Lead: r.Lead, Cause: r.Cause, Funding: r.Funding}
}

// HoleStore is the storage contract of the hole registry and the frozen
// monthly gap lists. Package data/gpkg implements it.
type HoleStore interface {
	// HoleRecords returns every record of the registry.
	HoleRecords(ctx context.Context) ([]HoleRecord, error)
	// SaveHoleRecords stores rs in one transaction, durably: a record
	// replaces the stored one with its ID when its Rev is not lower, and
	// its history is appended to what is stored.
	SaveHoleRecords(ctx context.Context, rs []HoleRecord) error
	// FreezeGaps stores holes (every carrier's, each with its HoleLife)
	// as the gap lists of month (YYYY-MM), unless that month is frozen
	// already; it reports whether it stored them.
	FreezeGaps(ctx context.Context, month string, holes []Hole) (bool, error)
	// FrozenGaps returns carrier c's frozen gap list of month, in rank
	// order, and whether that month is frozen at all.
	FrozenGaps(ctx context.Context, month string, c Carrier) ([]Hole, bool, error)
}
