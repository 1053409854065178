package service

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
)

// HoleView is a hole of the registry as a viewer may see it (GET
// /api/v1/holes/{id}). State and the deadlines are those of the track the
// viewer is concerned with: a carrier's own on a dead zone, the shown one
// (geo.HoleRecord.Shown) otherwise.
type HoleView struct {
	ID      string        `json:"id"`
	Carrier geo.Carrier   `json:"carrier"`
	State   geo.HoleState `json:"state"`
	// AnswerDue and FixDue are YYYY-MM-DD days in Vietnam time (null:
	// none).
	AnswerDue *string      `json:"answer_due"`
	FixDue    *string      `json:"fix_due"`
	Overdue   bool         `json:"overdue"`
	Lead      *geo.Carrier `json:"lead_carrier"`
	ParentIDs []string     `json:"parent_ids"`
	ChildIDs  []string     `json:"child_ids"`
	FirstSeen time.Time    `json:"first_seen"`
	LastSeen  time.Time    `json:"last_seen"`
	// Current says the hole is in the latest analysis.
	Current     bool     `json:"current"`
	Cause       *string  `json:"cause"`
	Funding     *string  `json:"funding"`
	PlannedDate *string  `json:"planned_date"`
	Plan        *string  `json:"plan"`
	FixedDate   *string  `json:"fixed_date"`
	Areas       []string `json:"area_codes"`
	// Tracks are a dead zone's carriers' answers, each carrier's own to
	// carrier users.
	Tracks  []TrackView     `json:"tracks,omitempty"`
	History []geo.HoleEvent `json:"history"`
	// Verification counts the reports after the fix day that decide a
	// fixed hole.
	Verification *Verification `json:"verification,omitempty"`
	// Analysis is the hole's figures in the latest analysis (nil when it
	// is no longer in it).
	Analysis *geo.Hole `json:"-"`
}

// TrackView is one carrier's answers on a dead zone.
type TrackView struct {
	Carrier     geo.Carrier   `json:"carrier"`
	State       geo.HoleState `json:"state"`
	AnswerDue   *string       `json:"answer_due"`
	FixDue      *string       `json:"fix_due"`
	Overdue     bool          `json:"overdue"`
	PlannedDate *string       `json:"planned_date"`
	Plan        *string       `json:"plan"`
	FixedDate   *string       `json:"fixed_date"`
}

// Verification is the evidence after a fix: reports of the carrier in the
// hole's cells observed from After on.
type Verification struct {
	After   string `json:"after"`
	Reports int    `json:"reports"`
	Weak    int    `json:"weak"`
}

func dateOrNil(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := geo.FormatDate(t)
	return &s
}

func strOrNil[T ~string](v T) *string {
	if v == "" {
		return nil
	}
	s := string(v)
	return &s
}

// access says what v may see of a hole: whether at all, the one track a
// carrier user is concerned with on a dead zone (CarrierUnknown: all),
// and whether notes and names are shown.
type access struct {
	ok    bool
	track geo.Carrier
	notes bool
	names bool
}

// accessOf is what v may see of r: admins and reviewers everything; a
// carrier user its own carrier's holes, and its own track of dead zones;
// staff the holes touching their scope, without notes; nobody else
// anything (the hole is then not found, as one that does not exist).
func (s *Service) accessOf(v *geo.Viewer, r *geo.HoleRecord) access {
	switch {
	case v.CoversAll():
		return access{ok: true, notes: true, names: true}
	case v.Role == geo.RoleCarrier:
		own, _ := v.OwnCarrier()
		switch r.Carrier {
		case own:
			return access{ok: true, notes: true}
		case geo.CarrierAll:
			return access{ok: true, track: own, notes: true}
		}
	case v.Role == geo.RoleStaff:
		b := s.base.Load()
		for _, code := range r.Areas {
			for _, i := range b.withCode(code) {
				if v.Covers(i) {
					return access{ok: true}
				}
			}
		}
	}
	return access{}
}

func noHole(id string) error {
	return geo.NewError(geo.ErrNotFound, "no hole with id "+strconv.Quote(id))
}

// Hole returns the hole of the registry with the given ID as v may see it
// (see HoleView): a hole v may not see is ErrNotFound, as one that does
// not exist.
//
// Errors: v without ReadHoles is ErrUnauthenticated or ErrForbidden.
func (s *Service) Hole(ctx context.Context, v *geo.Viewer, id string) (HoleView, error) {
	if err := v.Check(geo.ReadHoles); err != nil {
		return HoleView{}, err
	}
	if !s.analyse {
		return HoleView{}, noHole(id)
	}
	g := &s.reg
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.recs[id]
	if r == nil {
		return HoleView{}, noHole(id)
	}
	a := s.accessOf(v, r)
	if !a.ok {
		return HoleView{}, noHole(id)
	}
	return s.viewLocked(r, a), nil
}

// viewLocked is r's view as a sees it; the caller holds the registry's
// lock.
func (s *Service) viewLocked(r *geo.HoleRecord, a access) HoleView {
	now, days := s.now(), s.answerDays
	t := r.Shown()
	if a.track != geo.CarrierUnknown {
		if own := r.Track(a.track); own != nil {
			t = own
		}
	}
	hv := HoleView{ID: r.ID, Carrier: r.Carrier, State: t.State, AnswerDue: dateOrNil(t.AnswerDue(days)),
		FixDue: dateOrNil(t.FixDue()), Overdue: t.Overdue(now, days), ParentIDs: append([]string{}, r.ParentIDs...),
		ChildIDs: append([]string{}, r.ChildIDs...), FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(),
		Current: r.Current, Cause: strOrNil(r.Cause), Funding: strOrNil(r.Funding),
		PlannedDate: dateOrNil(t.Planned), Plan: strOrNil(t.Plan), FixedDate: dateOrNil(t.Fixed),
		Areas: append([]string{}, r.Areas...), History: []geo.HoleEvent{}}
	if r.Lead != geo.CarrierUnknown {
		l := r.Lead
		hv.Lead = &l
	}
	if r.Carrier == geo.CarrierAll {
		for i := range r.Tracks {
			tr := &r.Tracks[i]
			if a.track != geo.CarrierUnknown && tr.Carrier != a.track {
				continue
			}
			hv.Tracks = append(hv.Tracks, TrackView{Carrier: tr.Carrier, State: tr.State,
				AnswerDue: dateOrNil(tr.AnswerDue(days)), FixDue: dateOrNil(tr.FixDue()), Overdue: tr.Overdue(now, days),
				PlannedDate: dateOrNil(tr.Planned), Plan: strOrNil(tr.Plan), FixedDate: dateOrNil(tr.Fixed)})
		}
	}
	for _, e := range r.History {
		if a.track != geo.CarrierUnknown && e.Carrier != a.track && e.Carrier != geo.CarrierAll {
			continue
		}
		if !a.notes {
			e.Note = ""
		}
		if !a.names {
			e.User = ""
		}
		e.At = e.At.UTC()
		hv.History = append(hv.History, e)
	}
	if (t.State == geo.StateFixed || t.State == geo.StateVerified) && !t.Fixed.IsZero() {
		f := s.reg.post.tally(t.Carrier, fixArea(r, t), afterFix(t.Fixed))
		hv.Verification = &Verification{After: geo.FormatDate(afterFix(t.Fixed)), Reports: f.Reports, Weak: f.Weak}
	}
	if r.Current {
		if cur := s.snap.Load(); cur != nil {
			for i := range cur.Result.Holes {
				if cur.Result.Holes[i].ID == r.ID {
					h := cur.Result.Holes[i]
					hv.Analysis = &h
					break
				}
			}
		}
	}
	return hv
}

// Answer is an answer to a hole (POST /api/v1/holes/{id}/answers): a
// carrier's, moving its track as the transition table allows, or a
// reviewer's or admin's setting of any state, with a note. Empty fields
// are not given.
type Answer struct {
	// State is the state answered: a carrier's acknowledged, planned,
	// fixed or disputed.
	State string
	// PlannedDate (YYYY-MM-DD) is required for planned; FixedDate is the
	// day a fix was made (default today, not in the future); Plan is
	// new_site, upgrade, sharing, power or other.
	PlannedDate, Plan, FixedDate string
	// Note is the reason: required for a dispute and for a reviewer's
	// state.
	Note string
	// Cause and Funding set the hole's cause and funding route; Lead
	// (reviewers only) names a dead zone's lead carrier.
	Cause, Funding, Lead string
	// Carrier is the track of a dead zone a reviewer answers for
	// (default: its lead carrier).
	Carrier string
}

// AnswerHole records v's answer a on the hole with the given ID, durably,
// and returns the hole as v sees it after it. See Answer for the fields;
// the moves allowed are geo's transition table (geo.Move).
//
// Errors: v without AnswerHoles is ErrUnauthenticated or ErrForbidden; a
// hole v may not see is ErrNotFound; a bad field matches ErrInvalid,
// naming it; a state the hole cannot move to is ErrConflict naming
// "state".
func (s *Service) AnswerHole(ctx context.Context, v *geo.Viewer, id string, a Answer) (HoleView, error) {
	if err := v.Check(geo.AnswerHoles); err != nil {
		return HoleView{}, err
	}
	reviewer := v.Can(geo.RuleHoles)
	var es geo.FieldErrors
	bad := func(field, reason string) { es = append(es, &geo.FieldError{Field: field, Reason: reason}) }
	var to geo.HoleState
	if a.State != "" {
		st, err := geo.ParseHoleState(a.State)
		switch {
		case err != nil:
			es = append(es, geo.AsFieldErrors(err)...)
		case !reviewer && !slices.Contains([]geo.HoleState{geo.StateAcknowledged, geo.StatePlanned, geo.StateFixed, geo.StateDisputed}, st):
			bad("state", "a carrier answers acknowledged, planned, fixed or disputed")
		default:
			to = st
		}
	} else if a.Cause == "" && a.Funding == "" && a.Lead == "" {
		bad("state", "required: acknowledged, planned, fixed or disputed")
	}
	today := geo.Day(s.now())
	var planned, fixed time.Time
	var plan geo.Plan
	var cause geo.Cause
	var funding geo.Funding
	var lead, track geo.Carrier
	if a.PlannedDate != "" {
		t, err := geo.ParseDate("planned_date", a.PlannedDate)
		if err != nil {
			es = append(es, geo.AsFieldErrors(err)...)
		}
		planned = t
	} else if to == geo.StatePlanned {
		bad("planned_date", "required for planned")
	}
	if a.Plan != "" {
		p, err := geo.ParseEnum("plan", a.Plan, geo.Plans)
		if err != nil {
			es = append(es, geo.AsFieldErrors(err)...)
		}
		plan = p
	}
	if to == geo.StateFixed {
		fixed = today
		if a.FixedDate != "" {
			t, err := geo.ParseDate("fixed_date", a.FixedDate)
			switch {
			case err != nil:
				es = append(es, geo.AsFieldErrors(err)...)
			case t.After(today):
				bad("fixed_date", "in the future (today is "+geo.FormatDate(today)+")")
			default:
				fixed = t
			}
		}
	} else if a.FixedDate != "" {
		bad("fixed_date", "given only with state fixed")
	}
	if a.Cause != "" {
		c, err := geo.ParseEnum("cause", a.Cause, geo.Causes)
		if err != nil {
			es = append(es, geo.AsFieldErrors(err)...)
		}
		cause = c
	}
	if a.Funding != "" {
		f, err := geo.ParseEnum("funding", a.Funding, geo.Fundings)
		if err != nil {
			es = append(es, geo.AsFieldErrors(err)...)
		}
		funding = f
	}
	for _, f := range []struct {
		name string
		val  string
		dst  *geo.Carrier
	}{{"lead_carrier", a.Lead, &lead}, {"carrier", a.Carrier, &track}} {
		if f.val == "" {
			continue
		}
		c, err := geo.ParseCarrier(f.val)
		if err != nil || c == geo.CarrierAll {
			bad(f.name, "must be viettel, vinaphone, mobifone or vietnamobile")
			continue
		}
		*f.dst = c
	}
	if (a.Lead != "" || a.Carrier != "") && !reviewer {
		name := "lead_carrier"
		if a.Lead == "" {
			name = "carrier"
		}
		return HoleView{}, geo.NewError(geo.ErrForbidden, "only reviewers and admins name a carrier",
			&geo.FieldError{Field: name, Reason: "a carrier answers for itself"})
	}
	if len(a.Note) > geo.MaxNoteLen {
		bad("note", "longer than "+strconv.Itoa(geo.MaxNoteLen)+" bytes")
	}
	if a.Note == "" && (to == geo.StateDisputed || reviewer && to != "") {
		if to == geo.StateDisputed {
			bad("note", "required for a dispute: the reason")
		} else {
			bad("note", "required when a reviewer sets a state")
		}
	}
	if len(es) > 0 {
		return HoleView{}, fmt.Errorf("invalid answer: %w", es)
	}
	own, isCarrier := v.OwnCarrier()
	return s.changeHole(ctx, v, id, "hole.answer", func(r *geo.HoleRecord) (geo.Carrier, string, error) {
		now := s.now()
		role := string(v.Role)
		if lead != geo.CarrierUnknown && r.Carrier != geo.CarrierAll {
			return 0, "", &geo.FieldError{Field: "lead_carrier", Reason: "only a dead zone (carrier all) has a lead carrier"}
		}
		var changes []string
		if cause != "" && cause != r.Cause {
			r.Cause = cause
			changes = append(changes, "cause="+string(cause))
		}
		if funding != "" && funding != r.Funding {
			r.Funding = funding
			changes = append(changes, "funding="+string(funding))
		}
		if lead != geo.CarrierUnknown && lead != r.Lead {
			r.Lead = lead
			changes = append(changes, "lead_carrier="+lead.String())
		}
		if to == "" {
			if len(changes) == 0 {
				return 0, "", geo.NewError(geo.ErrConflict, "nothing to change",
					&geo.FieldError{Field: "state", Reason: "the hole has these details already"})
			}
			r.History = append(r.History, geo.HoleEvent{At: now, State: r.State(), Carrier: r.Carrier, Kind: "details",
				Role: role, User: v.User, Note: strings.Join(append(changes, a.Note), "; ")})
			return geo.CarrierUnknown, strings.Join(changes, " "), nil
		}
		c := r.Carrier
		switch {
		case isCarrier:
			c = own
		case r.Carrier == geo.CarrierAll && track != geo.CarrierUnknown:
			c = track
		case r.Carrier == geo.CarrierAll && r.Lead != geo.CarrierUnknown:
			c = r.Lead
		case r.Carrier == geo.CarrierAll:
			return 0, "", &geo.FieldError{Field: "carrier", Reason: "required for a dead zone without a lead carrier: whose answer this is"}
		case track != geo.CarrierUnknown && track != r.Carrier:
			return 0, "", &geo.FieldError{Field: "carrier", Reason: "the hole is " + r.Carrier.String() + "'s"}
		}
		t := r.Track(c)
		if !r.Leaf() {
			return 0, "", geo.NewError(geo.ErrConflict, "the hole split or merged",
				&geo.FieldError{Field: "state", Reason: "the hole became " + strings.Join(r.ChildIDs, ", ") + "; answer those"})
		}
		by, kind := geo.ByCarrier, "answer"
		if !isCarrier {
			by, kind = geo.ByReviewer, "set"
		}
		if err := geo.Move(by, t.State, to); err != nil {
			return 0, "", err
		}
		if to == geo.StateDisputed {
			t.Before = t.State
		}
		t.State = to
		ev := geo.HoleEvent{At: now, State: to, Carrier: c, Kind: kind, Role: role, User: v.User, Note: a.Note}
		switch to {
		case geo.StatePlanned:
			if plan == "" {
				plan = geo.PlanOther
			}
			t.Planned, t.Plan = planned, plan
			ev.Planned, ev.Plan = geo.FormatDate(planned), plan
		case geo.StateFixed:
			t.Fixed, t.FixCells = fixed, slices.Clone(r.Cells)
			ev.Fixed = geo.FormatDate(fixed)
		case geo.StateOpen, geo.StateReopened:
			// A reviewer asks for an answer again.
			t.Since, t.Answered = now, time.Time{}
		}
		if isCarrier && t.Answered.IsZero() {
			t.Answered = now
		}
		if len(changes) > 0 {
			ev.Note = strings.TrimSuffix(strings.Join(changes, "; ")+"; "+a.Note, "; ")
		}
		r.History = append(r.History, ev)
		detail := "state=" + string(to)
		if c != r.Carrier {
			detail += " carrier=" + c.String()
		}
		return c, detail, nil
	})
}

// RuleHole records a reviewer's ruling on a disputed hole: upheld returns
// it to the state the dispute was raised from, dismissed takes it off
// the carrier's list. carrier names the track of a dead zone (default:
// the one disputed).
//
// Errors: v without RuleHoles is ErrUnauthenticated or ErrForbidden; an
// unknown hole is ErrNotFound; a bad decision, note or carrier matches
// ErrInvalid naming it; a hole that is not disputed is ErrConflict
// naming "state".
func (s *Service) RuleHole(ctx context.Context, v *geo.Viewer, id, decision, note, carrier string) (HoleView, error) {
	if err := v.Check(geo.RuleHoles); err != nil {
		return HoleView{}, err
	}
	var es geo.FieldErrors
	d, err := geo.ParseDecision(decision)
	if err != nil {
		es = append(es, geo.AsFieldErrors(err)...)
	}
	if len(note) > geo.MaxNoteLen {
		es = append(es, &geo.FieldError{Field: "note", Reason: "longer than " + strconv.Itoa(geo.MaxNoteLen) + " bytes"})
	}
	var track geo.Carrier
	if carrier != "" {
		if track, err = geo.ParseCarrier(carrier); err != nil || track == geo.CarrierAll {
			es = append(es, &geo.FieldError{Field: "carrier", Reason: "must be viettel, vinaphone, mobifone or vietnamobile"})
		}
	}
	if len(es) > 0 {
		return HoleView{}, fmt.Errorf("invalid ruling: %w", es)
	}
	return s.changeHole(ctx, v, id, "hole.rule", func(r *geo.HoleRecord) (geo.Carrier, string, error) {
		var t *geo.Track
		if track != geo.CarrierUnknown {
			if t = r.Track(track); t == nil {
				return 0, "", &geo.FieldError{Field: "carrier", Reason: "the hole is " + r.Carrier.String() + "'s"}
			}
		} else {
			for i := range r.Tracks {
				if r.Tracks[i].State == geo.StateDisputed {
					if t != nil {
						return 0, "", &geo.FieldError{Field: "carrier", Reason: "required: more than one carrier disputes this dead zone"}
					}
					t = &r.Tracks[i]
				}
			}
			if t == nil {
				t = r.Shown()
			}
		}
		to, err := geo.Rule(t.State, t.Before, d)
		if err != nil {
			return 0, "", err
		}
		t.State, t.Before = to, ""
		r.History = append(r.History, geo.HoleEvent{At: s.now(), State: to, Carrier: t.Carrier, Kind: "ruling",
			Role: string(v.Role), User: v.User, Note: strings.TrimSuffix(string(d)+": "+note, ": ")})
		return t.Carrier, "decision=" + string(d), nil
	})
}

// changeHole applies fn to a copy of the record id, which v must be able
// to see, saves the copy durably and makes it the record, then publishes
// the analysis again with it, announces the change (hole.changed, for
// fn's track) and writes the audit entry action with fn's detail.
func (s *Service) changeHole(ctx context.Context, v *geo.Viewer, id, action string, fn func(*geo.HoleRecord) (geo.Carrier, string, error)) (HoleView, error) {
	if !s.analyse {
		return HoleView{}, noHole(id)
	}
	// Over a store that several replicas share, another may have just
	// changed the record: start from what is stored.
	if _, ok := s.store.(geo.Leader); ok {
		if _, _, err := s.reloadHoles(ctx); err != nil {
			return HoleView{}, err
		}
	}
	g := &s.reg
	g.mu.Lock()
	r := g.recs[id]
	if r == nil {
		g.mu.Unlock()
		return HoleView{}, noHole(id)
	}
	a := s.accessOf(v, r)
	if !a.ok {
		g.mu.Unlock()
		return HoleView{}, noHole(id)
	}
	c := r.Clone()
	track, detail, err := fn(c)
	if err != nil {
		g.mu.Unlock()
		return HoleView{}, err
	}
	c.Rev++
	if err := s.store.SaveHoleRecords(ctx, []geo.HoleRecord{*c}); err != nil {
		g.mu.Unlock()
		return HoleView{}, err
	}
	g.recs[id] = c
	g.saved(c)
	delete(g.dirty, id) // saved with the answer
	g.events = append(g.events, holeChange{kind: geo.EventHoleChanged, rec: c.Clone(), track: track})
	fixedNow := slices.ContainsFunc(c.Tracks, func(t geo.Track) bool { return t.State == geo.StateFixed })
	g.mu.Unlock()
	s.audit(ctx, v, action, id, detail)
	if fixedNow {
		// A fix in the past may be decided by reports already held.
		if cur := s.snap.Load(); cur != nil {
			g.observe(cur.IDs, cur.Obs, false, s.rejectedNow, cur.engine.ReportBias)
			g.verify(s.now())
		}
	}
	s.republish()
	s.announce()
	g.mu.Lock()
	defer g.mu.Unlock()
	return s.viewLocked(g.recs[id], a), nil
}

// rejectedNow returns the IDs of the reports rejected now.
func (s *Service) rejectedNow() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.rejected)
}

// HoleOf returns the ID and state of the hole of the current analysis
// that report r is in (its carrier's, else a dead zone), and false when
// it is in none.
func (s *Service) HoleOf(r *geo.Report) (string, geo.HoleState, bool) {
	if !s.analyse {
		return "", "", false
	}
	cell := index.CellAt(r.Lon, r.Lat, s.cfg.Holes.Res)
	g := &s.reg
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range []geo.Carrier{r.Carrier, geo.CarrierAll} {
		if id, ok := g.owner[c][cell]; ok {
			if rec := g.recs[id]; rec != nil {
				return id, rec.State(), true
			}
		}
	}
	return "", "", false
}

// Scorecard returns the scorecards of period (see geo.ParsePeriod) for
// carrier c, or for every carrier when c is CarrierUnknown (a carrier
// user: its own), and the period.
//
// Errors: v without ReadGaps is ErrUnauthenticated or ErrForbidden; a
// carrier user asking for another carrier's is ErrForbidden naming
// "carrier"; a bad period or CarrierAll matches ErrInvalid naming the
// field.
func (s *Service) Scorecard(ctx context.Context, v *geo.Viewer, c geo.Carrier, period string) ([]geo.ScoreRow, geo.Period, error) {
	if err := v.Check(geo.ReadGaps); err != nil {
		return nil, geo.Period{}, err
	}
	p, err := geo.ParsePeriod(period)
	if err != nil {
		return nil, geo.Period{}, err
	}
	if c == geo.CarrierAll {
		return nil, geo.Period{}, &geo.FieldError{Field: "carrier", Reason: "scorecards are per carrier: viettel, vinaphone, mobifone or vietnamobile"}
	}
	own, only := v.OwnCarrier()
	switch {
	case only && c == geo.CarrierUnknown:
		c = own
	case only && c != own:
		return nil, geo.Period{}, geo.NewError(geo.ErrForbidden, "a carrier reads its own scorecard only",
			&geo.FieldError{Field: "carrier", Reason: "must be " + own.String()})
	}
	cs := geo.Carriers
	if c != geo.CarrierUnknown {
		cs = []geo.Carrier{c}
	}
	g := &s.reg
	g.mu.Lock()
	defer g.mu.Unlock()
	recs := make([]*geo.HoleRecord, 0, len(g.recs))
	for _, r := range g.recs {
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(a, b *geo.HoleRecord) int { return strings.Compare(a.ID, b.ID) })
	rows := make([]geo.ScoreRow, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, geo.Scorecard(recs, c, p, s.now(), s.answerDays))
	}
	return rows, p, nil
}

// FrozenGaps returns carrier c's gap list frozen at the end of month
// (YYYY-MM), in rank order.
//
// Errors: v without ReadGaps, or a carrier user asking for another
// carrier's, is ErrUnauthenticated or ErrForbidden; a month that is not
// YYYY-MM matches ErrInvalid, and one not frozen (not ended, or the
// service did not run then) ErrNotFound, both naming "as_of".
func (s *Service) FrozenGaps(ctx context.Context, v *geo.Viewer, month string, c geo.Carrier) ([]geo.Hole, error) {
	if err := v.Check(geo.ReadGaps); err != nil {
		return nil, err
	}
	if !v.SeesCarrier(c) {
		return nil, geo.NewError(geo.ErrForbidden, "a carrier reads its own gap list only")
	}
	p, err := geo.ParsePeriod(month)
	if err != nil || len(month) != 7 {
		return nil, &geo.FieldError{Field: "as_of", Reason: "want a month such as 2026-11 (YYYY-MM)"}
	}
	holes, ok, err := s.store.FrozenGaps(ctx, p.Name, c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, geo.NewError(geo.ErrNotFound, "no gap list frozen for "+p.Name,
			&geo.FieldError{Field: "as_of", Reason: "not frozen: the month has not ended, or the service did not run at its end"})
	}
	return holes, nil
}
