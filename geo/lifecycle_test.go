package geo

import (
	"errors"
	"math"
	"testing"
	"time"
)

// TestTransitionTable checks every actor × from × to against the table
// written out again here, so a change to the table must be made twice.
func TestTransitionTable(t *testing.T) {
	const (
		o, ack, pl, fx, ver = StateOpen, StateAcknowledged, StatePlanned, StateFixed, StateVerified
		re, dis, dm, rbd    = StateReopened, StateDisputed, StateDismissed, StateResolvedByData
	)
	type move struct {
		by       Actor
		from, to HoleState
	}
	allowed := map[move]bool{}
	for _, m := range []move{
		{ByCarrier, o, ack}, {ByCarrier, o, pl}, {ByCarrier, o, fx}, {ByCarrier, o, dis},
		{ByCarrier, ack, pl}, {ByCarrier, ack, fx}, {ByCarrier, ack, dis},
		{ByCarrier, pl, pl}, {ByCarrier, pl, fx}, {ByCarrier, pl, dis},
		{ByCarrier, re, ack}, {ByCarrier, re, pl}, {ByCarrier, re, fx}, {ByCarrier, re, dis},
		{ByRuling, dis, o}, {ByRuling, dis, ack}, {ByRuling, dis, pl}, {ByRuling, dis, re}, {ByRuling, dis, dm},
		{ByData, o, rbd}, {ByData, rbd, o}, {ByData, fx, ver}, {ByData, fx, re}, {ByData, ver, re},
	} {
		allowed[m] = true
	}
	for _, by := range []Actor{ByCarrier, ByRuling, ByReviewer, ByData} {
		for _, from := range HoleStates {
			for _, to := range HoleStates {
				want := allowed[move{by, from, to}]
				if by == ByReviewer {
					want = from != to
				}
				if got := CanMove(by, from, to); got != want {
					t.Errorf("actor %d: %s → %s allowed %v, want %v", by, from, to, got, want)
				}
				err := Move(by, from, to)
				if want != (err == nil) {
					t.Errorf("actor %d: Move(%s, %s) = %v", by, from, to, err)
				}
				if err != nil {
					var ge *Error
					if !errors.Is(err, ErrConflict) || !errors.As(err, &ge) || len(ge.Fields) != 1 || ge.Fields[0].Field != "state" {
						t.Errorf("actor %d: Move(%s, %s) = %#v, want a conflict naming state", by, from, to, err)
					}
				}
			}
		}
	}
	if CanMove(ByReviewer, "nonsense", o) || CanMove(ByCarrier, o, "nonsense") {
		t.Error("unknown states are moved")
	}
}

func TestRule(t *testing.T) {
	for _, tc := range []struct {
		name           string
		from, before   HoleState
		d              Decision
		want           HoleState
		wantConflicted bool
	}{
		{"upheld returns to planned", StateDisputed, StatePlanned, Upheld, StatePlanned, false},
		{"upheld returns to open", StateDisputed, StateOpen, Upheld, StateOpen, false},
		{"dismissed", StateDisputed, StateOpen, Dismissed, StateDismissed, false},
		{"not disputed", StatePlanned, StateOpen, Upheld, "", true},
		{"upheld to a state a dispute cannot come from", StateDisputed, StateFixed, Upheld, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Rule(tc.from, tc.before, tc.d)
			if (err != nil) != tc.wantConflicted || (err == nil && got != tc.want) {
				t.Errorf("Rule(%s, %s, %s) = %s, %v; want %s (conflict %v)", tc.from, tc.before, tc.d, got, err, tc.want, tc.wantConflicted)
			}
			if err != nil && !errors.Is(err, ErrConflict) {
				t.Errorf("error %v is not a conflict", err)
			}
		})
	}
	if _, err := ParseDecision("maybe"); err == nil {
		t.Error("decision maybe parsed")
	}
}

var listedAt = time.Date(2026, 11, 2, 10, 0, 0, 0, VietnamTime)

func TestDeadlines(t *testing.T) {
	planned, _ := ParseDate("planned_date", "2027-01-15")
	for _, tc := range []struct {
		name    string
		tr      Track
		now     time.Time
		due     string
		overdue bool
	}{
		{"open, on the due day", Track{State: StateOpen, Since: listedAt}, time.Date(2026, 12, 2, 23, 59, 0, 0, VietnamTime), "2026-12-02", false},
		{"open, the day after", Track{State: StateOpen, Since: listedAt}, time.Date(2026, 12, 3, 0, 0, 0, 0, VietnamTime), "2026-12-02", true},
		{"open, the day after in UTC terms", Track{State: StateOpen, Since: listedAt}, time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC), "2026-12-02", true},
		{"acknowledged is not overdue", Track{State: StateAcknowledged, Since: listedAt}, listedAt.AddDate(1, 0, 0), "", false},
		{"planned before its day", Track{State: StatePlanned, Since: listedAt, Planned: planned}, planned.Add(23 * time.Hour), "2027-01-15", false},
		{"planned after its day", Track{State: StatePlanned, Since: listedAt, Planned: planned}, planned.AddDate(0, 0, 1), "2027-01-15", true},
		{"reopened counts from the reopening", Track{State: StateReopened, Since: listedAt.AddDate(0, 2, 0)}, listedAt.AddDate(0, 2, 20), "2027-02-01", false},
		{"disputed is not overdue", Track{State: StateDisputed, Since: listedAt}, listedAt.AddDate(1, 0, 0), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatDate(tc.tr.Due(30)); got != tc.due {
				t.Errorf("due %q, want %q", got, tc.due)
			}
			if got := tc.tr.Overdue(tc.now, 30); got != tc.overdue {
				t.Errorf("overdue at %v: %v, want %v", tc.now, got, tc.overdue)
			}
		})
	}
}

func TestShownState(t *testing.T) {
	r := NewHoleRecord("h", CarrierAll, listedAt)
	if len(r.Tracks) != 4 || r.State() != StateOpen {
		t.Fatalf("dead zone: %d tracks, state %s", len(r.Tracks), r.State())
	}
	r.Track(MobiFone).State = StatePlanned
	r.Track(Viettel).State = StateAcknowledged
	if r.Shown().Carrier != MobiFone {
		t.Errorf("shown %v, want the track furthest along", r.Shown().Carrier)
	}
	r.Lead = Viettel
	if r.State() != StateAcknowledged {
		t.Errorf("with a lead: %s, want the lead's", r.State())
	}
	r = NewHoleRecord("h2", Viettel, listedAt)
	if len(r.Tracks) != 1 || r.Track(VinaPhone) != nil || r.Answered() {
		t.Errorf("carrier hole tracks %+v", r.Tracks)
	}
}

func TestVerdict(t *testing.T) {
	p := DefaultHoleParams()
	at := listedAt.Unix()
	add := func(f *PostFix, n int, weak bool, reporters, days, cells int) {
		for i := range n {
			o := Obs{Reporter: uint32(1 + i%reporters), At: at + int64(i%days)*86400}
			if weak {
				o.Flags = FlagWeak
			}
			f.Add(&o, uint64(i%cells))
		}
	}
	for _, tc := range []struct {
		name string
		fill func(*PostFix)
		want HoleState
	}{
		{"nothing yet", func(*PostFix) {}, ""},
		{"three good from two people on two days in two cells", func(f *PostFix) { add(f, 3, false, 2, 2, 2) }, StateVerified},
		{"good from one person only", func(f *PostFix) { add(f, 6, false, 1, 3, 3) }, ""},
		{"good all in one cell", func(f *PostFix) { add(f, 6, false, 3, 3, 1) }, ""},
		{"three weak from two people", func(f *PostFix) { add(f, 3, true, 2, 2, 2) }, StateReopened},
		{"two weak, not enough", func(f *PostFix) { add(f, 2, true, 2, 2, 2) }, ""},
		{"weak but outweighed: 3 weak (0.75 corrected) of 8", func(f *PostFix) {
			add(f, 3, true, 2, 2, 2)
			add(f, 5, false, 3, 3, 2)
		}, StateVerified},
		{"weak and few good", func(f *PostFix) {
			add(f, 4, true, 2, 2, 2)
			add(f, 1, false, 1, 1, 1)
		}, StateReopened},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f PostFix
			tc.fill(&f)
			if got := f.Verdict(p, 4); got != tc.want {
				t.Errorf("verdict %q, want %q (%d reports, %d weak)", got, tc.want, f.Reports, f.Weak)
			}
		})
	}
}

func TestParsePeriod(t *testing.T) {
	for _, tc := range []struct {
		in, name, from, to string
	}{
		{"2026-11", "2026-11", "2026-11-01", "2026-12-01"},
		{"2026Q4", "2026Q4", "2026-10-01", "2027-01-01"},
		{"2026q1", "2026Q1", "2026-01-01", "2026-04-01"},
		{"2026-13", "", "", ""},
		{"2026Q5", "", "", ""},
		{"26-11", "", "", ""},
		{"", "", "", ""},
	} {
		p, err := ParsePeriod(tc.in)
		if tc.name == "" {
			if err == nil {
				t.Errorf("%q parsed as %+v", tc.in, p)
			}
			continue
		}
		if err != nil || p.Name != tc.name || FormatDate(p.From) != tc.from || FormatDate(p.To) != tc.to {
			t.Errorf("%q: %+v, %v; want %s [%s, %s)", tc.in, p, err, tc.name, tc.from, tc.to)
		}
	}
}

func TestScorecard(t *testing.T) {
	day := func(d int) time.Time { return listedAt.AddDate(0, 0, d) }
	// a: listed, answered on day 5 (on time), planned, fixed on day 40,
	// verified on day 50. b: listed, never answered (overdue). c: listed,
	// answered on day 35 (late). d: another carrier's.
	a := NewHoleRecord("a", Viettel, day(0))
	a.Cause, a.Funding = CauseNoSite, FundPublic
	a.History = append(a.History,
		HoleEvent{At: day(5), State: StatePlanned, Carrier: Viettel, Kind: "answer", Planned: "2026-12-20"},
		HoleEvent{At: day(40), State: StateFixed, Carrier: Viettel, Kind: "answer", Fixed: FormatDate(day(38))},
		HoleEvent{At: day(50), State: StateVerified, Carrier: Viettel, Kind: "data"})
	b := NewHoleRecord("b", Viettel, day(1))
	c := NewHoleRecord("c", Viettel, day(2))
	c.History = append(c.History, HoleEvent{At: day(35), State: StateAcknowledged, Carrier: Viettel, Kind: "answer"})
	d := NewHoleRecord("d", VinaPhone, day(0))
	recs := []*HoleRecord{a, b, c, d}

	nov, _ := ParsePeriod("2026-11")
	got := Scorecard(recs, Viettel, nov, day(100), 30)
	if got.Listed != 3 || got.Answered != 1 || got.AnsweredOnTime != 1 || got.Planned != 1 || got.Fixed != 0 || got.Overdue != 0 {
		t.Errorf("November: %+v", got)
	}
	if got.MedianDaysToAnswer != 5 || !math.IsNaN(got.MedianDaysToFix) || got.Causes[CauseNoSite] != 1 || len(got.Causes) != 1 || got.Funding[FundPublic] != 1 {
		t.Errorf("November medians and causes: %+v", got)
	}
	dec, _ := ParsePeriod("2026-12")
	got = Scorecard(recs, Viettel, dec, day(100), 30)
	// At the end of December: b is overdue (due 2 December); c answered.
	if got.Listed != 0 || got.Answered != 1 || got.AnsweredOnTime != 0 || got.Fixed != 1 || got.Verified != 1 || got.Overdue != 1 {
		t.Errorf("December: %+v", got)
	}
	if got.MedianDaysToFix != 38 {
		t.Errorf("days to fix %v, want 38", got.MedianDaysToFix)
	}
	// In the middle of November nothing is overdue yet; at its end, a's
	// plan is not due and b's answer is not either.
	q, _ := ParsePeriod("2026Q4")
	if got := Scorecard(recs, Viettel, q, day(10), 30); got.Overdue != 0 || got.Listed != 3 {
		t.Errorf("Q4 on day 10: %+v", got)
	}
}
