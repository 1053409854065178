package geo

// PostFix is the evidence that decides a fixed hole: its carrier's
// reports inside the hole's cells observed after the day the carrier
// says it was fixed. Add takes them one at a time; Verdict applies the
// evidence rules of a hole to them.
type PostFix struct {
	// Reports and Weak count the reports taken and the weak ones.
	Reports, Weak int
	weak, good    evidence
}

// evidence counts what the rules of a hole look at in a set of reports:
// how many, from how many reporters (anonymous ones once per day), on how
// many days, in how many resolution-9 cells.
type evidence struct {
	n         int
	reporters map[uint64]struct{}
	days      map[int64]struct{}
	cells     map[uint64]struct{}
}

func (e *evidence) add(o *Obs, cell9 uint64) {
	if e.reporters == nil {
		e.reporters, e.days, e.cells = map[uint64]struct{}{}, map[int64]struct{}{}, map[uint64]struct{}{}
	}
	e.n++
	key := uint64(o.Reporter)
	if o.Reporter == 0 {
		key = 1<<40 | uint64(o.At/86400)
	}
	e.reporters[key] = struct{}{}
	e.days[o.At/86400] = struct{}{}
	e.cells[cell9] = struct{}{}
}

// meets reports whether e satisfies the evidence rules of a hole.
func (e *evidence) meets(p HoleParams) bool {
	return e.n >= p.MinWeakReports && len(e.reporters) >= p.MinReporters && len(e.days) >= p.MinDays &&
		len(e.cells) >= p.MinCells
}

// Add takes report o, in resolution-9 cell cell9 (the spread check's).
// Its FlagWeak says whether it is weak.
func (f *PostFix) Add(o *Obs, cell9 uint64) {
	f.Reports++
	if o.Flags&FlagWeak != 0 {
		f.Weak++
		f.weak.add(o, cell9)
	} else {
		f.good.add(o, cell9)
	}
}

// Verdict decides a fixed hole from the reports after its fix:
//
//   - StateReopened when the weak ones alone would make a hole: at least
//     MinWeakReports of them, from MinReporters reporters, on MinDays
//     days, in MinCells resolution-9 cells, and the weak share corrected
//     for who reports (weak reports count 1/bias) above Threshold;
//   - StateVerified when the usable ones meet the same counts and the
//     corrected weak share is at most Threshold;
//   - "" (undecided) otherwise: not enough evidence yet.
func (f *PostFix) Verdict(p HoleParams, bias float64) HoleState {
	if f.Reports == 0 {
		return ""
	}
	if bias < 1 {
		bias = 1
	}
	w := float64(f.Weak) / bias
	share := w / (w + float64(f.Reports-f.Weak))
	switch {
	case share > p.Threshold && f.weak.meets(p):
		return StateReopened
	case share <= p.Threshold && f.good.meets(p):
		return StateVerified
	}
	return ""
}
