package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
)

// The hole registry gives the engine's holes an identity that lasts: the
// engine recomputes its holes as reports arrive and names them after
// their cells, so a hole that grows by a cell would get another name.
// After each analysis the registry matches the new holes to the records
// of the previous ones by the cells they share:
//
//   - a hole sharing cells with one record, which shares cells with no
//     other new hole, is that record again: it keeps its ID and state;
//   - a hole sharing cells with no record is new, unless it overlaps a
//     record of a hole that had left the analysis, which then returns
//     (a hole resolved by data is open again);
//   - otherwise holes split or merged: each new hole of such a group is
//     a new record naming the records it overlaps as parents
//     (ParentIDs) and inheriting the answers (tracks) and history of the
//     one it overlaps most; the parents name their children and are no
//     longer matched;
//   - a record no new hole overlaps has left the analysis: it is
//     resolved_by_data when it was never answered, and keeps its state
//     otherwise (a fixed hole stays fixed until the reports after its fix
//     decide).
//
// The engine itself is left as it is; the registry is a layer over its
// Result. Snapshots carry the registry's IDs and each hole's state and
// deadlines (geo.Hole.Life).
type registry struct {
	s *Service

	mu   sync.Mutex
	recs map[string]*geo.HoleRecord
	// owner maps each cell of a current leaf record to that record, per
	// carrier: the engine's holes of one carrier never share a cell.
	owner map[geo.Carrier]map[uint64]string
	// engine is the record each engine hole of the last analysis was
	// matched to, with its cells, so an unchanged hole is matched
	// without looking at its cells.
	engine map[string]engineMatch
	// dirty are records changed by the analysis and not yet saved; the
	// persister saves them (answers save theirs at once).
	dirty map[string]bool
	// post indexes the reports that decide fixed holes.
	post postIndex
	// bias is the report bias of each carrier in the last analysis.
	bias map[string]float64
	// lastTick is when the deadlines and month ends were last checked.
	lastTick time.Time
	// events are the changes not yet handed to the webhooks.
	events []holeChange
	// lives caches each record's HoleLife by its Rev and the day (Vietnam
	// time) it was computed for: deadlines pass at midnight only, so a
	// record unchanged since that day shows the same.
	lives map[string]cachedLife
	// stored is what the store holds of each record, as this service
	// last read or wrote it (see reload in holesync.go).
	stored map[string]storedAt
}

// cachedLife is a record's HoleLife as computed for a Rev and a day.
type cachedLife struct {
	rev  int64
	day  int64
	life geo.HoleLife
}

// engineMatch is the record an engine hole was matched to, and over
// which cells.
type engineMatch struct {
	id    string
	cells []uint64
}

// holeChange is a change to a record that webhooks announce: kind is a
// webhook event ("hole.opened", "hole.changed", …), rec a copy of the
// record after it, track the carrier whose track changed
// (CarrierUnknown: the hole as a whole).
type holeChange struct {
	kind  string
	rec   *geo.HoleRecord
	track geo.Carrier
}

func (g *registry) init(s *Service) {
	g.s = s
	g.recs = map[string]*geo.HoleRecord{}
	g.owner = map[geo.Carrier]map[uint64]string{}
	g.engine = map[string]engineMatch{}
	g.dirty = map[string]bool{}
	g.lives = map[string]cachedLife{}
	g.stored = map[string]storedAt{}
	g.post.init(s.cfg.Holes.Res)
}

// load takes the records stored.
func (g *registry) load(recs []geo.HoleRecord) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		g.recs[r.ID] = r
		g.saved(r)
		if r.Current && r.Leaf() {
			g.own(r, r.Cells)
		}
		// The lists last existed when a hole was last seen: a month
		// that ended while the service was stopped is frozen at the
		// first tick (see freezeMonth).
		if r.LastSeen.After(g.lastTick) {
			g.lastTick = r.LastSeen
		}
	}
}

// own records that cells belong to r.
func (g *registry) own(r *geo.HoleRecord, cells []uint64) {
	m := g.owner[r.Carrier]
	if m == nil {
		m = map[uint64]string{}
		g.owner[r.Carrier] = m
	}
	for _, c := range cells {
		m[c] = r.ID
	}
}

// disown removes the cells that belong to r.
func (g *registry) disown(r *geo.HoleRecord, cells []uint64) {
	m := g.owner[r.Carrier]
	for _, c := range cells {
		if m[c] == r.ID {
			delete(m, c)
		}
	}
}

// touch marks r changed by the analysis.
func (g *registry) touch(r *geo.HoleRecord) {
	r.Rev++
	g.dirty[r.ID] = true
}

// newHoleID returns a new registry ID: "h-" and 12 hex digits.
func newHoleID() string {
	var b [6]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return "h-" + hex.EncodeToString(b[:])
}

// sameCells reports whether two sorted cell lists are equal, cheaply when
// they are the same slice.
func sameCells(a, b []uint64) bool {
	if len(a) == len(b) && (len(a) == 0 || unsafe.SliceData(a) == unsafe.SliceData(b)) {
		return true
	}
	return slices.Equal(a, b)
}

// sameAreas reports whether codes are those of the areas refs names.
func sameAreas(codes []string, refs []geo.AreaRef) bool {
	if len(codes) != len(refs) {
		return false
	}
	for i := range refs {
		if codes[i] != refs[i].Code {
			return false
		}
	}
	return true
}

// areaCodes returns the codes of the areas h touches.
func areaCodes(h *geo.Hole) []string {
	codes := make([]string, len(h.Areas))
	for i, a := range h.Areas {
		codes[i] = a.Code
	}
	return codes
}

// match matches the holes of an analysis made at now to the records and
// returns the record ID of each hole. The records change as described
// above.
func (g *registry) match(holes []geo.Hole, now time.Time) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]string, len(holes))
	seen := map[string]bool{}
	// same marks the holes matched by their engine name and cells: their
	// records hold those cells already.
	same := make([]bool, len(holes))
	byCarrier := map[geo.Carrier][]int{}
	for i := range holes {
		byCarrier[holes[i].Carrier] = append(byCarrier[holes[i].Carrier], i)
	}
	type cellMove struct {
		r     *geo.HoleRecord
		cells []uint64
	}
	var gone, got []cellMove
	for _, c := range append(slices.Clone(geo.Carriers), geo.CarrierAll) {
		var pending []int
		for _, i := range byCarrier[c] {
			h := &holes[i]
			if m, ok := g.engine[h.ID]; ok && sameCells(m.cells, h.CellIDs) {
				if r := g.recs[m.id]; r != nil && r.Current && r.Leaf() && !seen[m.id] {
					ids[i] = m.id
					seen[m.id] = true
					same[i] = true
					continue
				}
			}
			pending = append(pending, i)
		}
		// Group the other holes with the current records they share
		// cells with (union-find over hole indexes and record IDs).
		own := g.owner[c]
		up := map[string]string{}
		var find func(string) string
		find = func(x string) string {
			p, ok := up[x]
			if !ok || p == x {
				up[x] = x
				return x
			}
			r := find(p)
			up[x] = r
			return r
		}
		overlap := make([]map[string]int, len(pending))
		for k, i := range pending {
			o := map[string]int{}
			for _, cell := range holes[i].CellIDs {
				if id, ok := own[cell]; ok && !seen[id] {
					o[id]++
				}
			}
			overlap[k] = o
			hk := fmt.Sprintf("\x00%d", k)
			find(hk)
			for id := range o {
				up[find(hk)] = find(id)
			}
		}
		type group struct {
			holes []int // positions in pending
			recs  []string
		}
		groups := map[string]*group{}
		var order []string
		for k := range pending {
			root := find(fmt.Sprintf("\x00%d", k))
			gr := groups[root]
			if gr == nil {
				gr = &group{}
				groups[root] = gr
				order = append(order, root)
			}
			gr.holes = append(gr.holes, k)
			for id := range overlap[k] {
				if !slices.Contains(gr.recs, id) {
					gr.recs = append(gr.recs, id)
				}
			}
		}
		for _, root := range order {
			gr := groups[root]
			slices.Sort(gr.recs)
			switch {
			case len(gr.recs) == 0:
				for _, k := range gr.holes {
					i := pending[k]
					r := g.revive(&holes[i], seen, now)
					if r == nil {
						r = geo.NewHoleRecord(newHoleID(), c, now)
						g.recs[r.ID] = r
						g.touch(r)
						g.events = append(g.events, holeChange{kind: geo.EventHoleOpened, rec: r.Clone()})
					}
					ids[i] = r.ID
					seen[r.ID] = true
				}
			case len(gr.recs) == 1 && len(gr.holes) == 1:
				id := gr.recs[0]
				ids[pending[gr.holes[0]]] = id
				seen[id] = true
			default:
				// A split or a merge: new records for every hole of the
				// group, children of the records they overlap.
				var children []string
				for _, k := range gr.holes {
					i := pending[k]
					var parents []string
					best := ""
					for _, id := range gr.recs {
						if n := overlap[k][id]; n > 0 {
							parents = append(parents, id)
							if best == "" || n > overlap[k][best] {
								best = id
							}
						}
					}
					if best == "" { // cannot happen: every hole of a group overlaps a record
						best = gr.recs[0]
						parents = gr.recs[:1]
					}
					kind := "split_from"
					if len(parents) > 1 {
						kind = "merged_from"
					}
					p := g.recs[best]
					r := &geo.HoleRecord{ID: newHoleID(), Carrier: c, FirstSeen: now, LastSeen: now, Current: true,
						ParentIDs: parents, Lead: p.Lead, Cause: p.Cause, Funding: p.Funding,
						Tracks: slices.Clone(p.Tracks), History: slices.Clone(p.History)}
					r.History = append(r.History, geo.HoleEvent{At: now, State: r.State(), Carrier: c, Kind: kind,
						Role: geo.RoleAnalysis, Note: strings.Join(parents, ", ")})
					g.recs[r.ID] = r
					g.touch(r)
					ids[i] = r.ID
					seen[r.ID] = true
					children = append(children, r.ID)
					g.events = append(g.events, holeChange{kind: geo.EventHoleOpened, rec: r.Clone()})
				}
				for _, id := range gr.recs {
					p := g.recs[id]
					kind := "split_into"
					if len(gr.recs) > 1 {
						kind = "merged_into"
					}
					p.ChildIDs = append(p.ChildIDs, children...)
					p.Current = false
					p.LastSeen = now
					p.History = append(p.History, geo.HoleEvent{At: now, State: p.State(), Carrier: c, Kind: kind,
						Role: geo.RoleAnalysis, Note: strings.Join(children, ", ")})
					g.touch(p)
					gone = append(gone, cellMove{p, p.Cells})
					g.events = append(g.events, holeChange{kind: geo.EventHoleChanged, rec: p.Clone()})
				}
			}
		}
	}
	// The records seen take their holes' cells; the current ones not seen
	// have left the analysis.
	today := geo.Day(now)
	for i := range holes {
		h := &holes[i]
		r := g.recs[ids[i]]
		changed := !r.Current || !sameAreas(r.Areas, h.Areas)
		if !same[i] && (!r.Current || !slices.Equal(r.Cells, h.CellIDs)) {
			if r.Current {
				gone = append(gone, cellMove{r, r.Cells})
			}
			r.Cells = slices.Clone(h.CellIDs)
			got = append(got, cellMove{r, r.Cells})
			changed = true
		}
		if changed {
			r.Areas = areaCodes(h)
		}
		if changed || r.LastSeen.Before(today) {
			g.touch(r)
		}
		r.Current = true
		r.LastSeen = now
	}
	for _, r := range g.recs {
		if !r.Current || seen[r.ID] || !r.Leaf() {
			continue
		}
		r.Current = false
		gone = append(gone, cellMove{r, r.Cells})
		if !r.Answered() {
			moved := false
			for k := range r.Tracks {
				t := &r.Tracks[k]
				if geo.CanMove(geo.ByData, t.State, geo.StateResolvedByData) {
					t.State = geo.StateResolvedByData
					moved = true
					r.History = append(r.History, geo.HoleEvent{At: now, State: t.State, Carrier: t.Carrier, Kind: "data",
						Role: geo.RoleAnalysis, Note: "no longer in the analysis, and never answered"})
				}
			}
			if moved {
				g.events = append(g.events, holeChange{kind: geo.EventHoleChanged, rec: r.Clone()})
			}
		}
		g.touch(r)
	}
	for _, m := range gone {
		g.disown(m.r, m.cells)
	}
	for _, m := range got {
		g.own(m.r, m.cells)
	}
	g.engine = make(map[string]engineMatch, len(holes))
	for i := range holes {
		g.engine[holes[i].ID] = engineMatch{id: ids[i], cells: holes[i].CellIDs}
	}
	return ids
}

// revive returns the record of a hole that had left the analysis and
// that h overlaps most, made current again, or nil when there is none.
// A record resolved by data is open again, its answer due anew.
func (g *registry) revive(h *geo.Hole, seen map[string]bool, now time.Time) *geo.HoleRecord {
	in := make(map[uint64]struct{}, len(h.CellIDs))
	for _, c := range h.CellIDs {
		in[c] = struct{}{}
	}
	var best *geo.HoleRecord
	bestN := 0
	for _, r := range g.recs {
		if r.Current || !r.Leaf() || r.Carrier != h.Carrier || seen[r.ID] {
			continue
		}
		n := 0
		for _, c := range r.Cells {
			if _, ok := in[c]; ok {
				n++
			}
		}
		if n > bestN || n == bestN && n > 0 && r.ID < best.ID {
			best, bestN = r, n
		}
	}
	if best == nil {
		return nil
	}
	best.Current = true
	for k := range best.Tracks {
		t := &best.Tracks[k]
		if t.State == geo.StateResolvedByData {
			t.State, t.Since, t.Answered = geo.StateOpen, now, time.Time{}
			best.History = append(best.History, geo.HoleEvent{At: now, State: t.State, Carrier: t.Carrier, Kind: "data",
				Role: geo.RoleAnalysis, Note: "back in the analysis"})
		}
	}
	g.touch(best)
	g.events = append(g.events, holeChange{kind: geo.EventHoleOpened, rec: best.Clone()})
	return best
}

// verify decides the fixed (and verified) tracks of leaf records from the
// reports after their fix days (see geo.PostFix.Verdict), at now.
func (g *registry) verify(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.s.cfg.Holes
	for _, r := range g.recs {
		if !r.Leaf() {
			continue
		}
		for k := range r.Tracks {
			t := &r.Tracks[k]
			if (t.State != geo.StateFixed && t.State != geo.StateVerified) || t.Fixed.IsZero() {
				continue
			}
			f := g.post.tally(t.Carrier, fixArea(r, t), afterFix(t.Fixed))
			v := f.Verdict(p, g.bias[t.Carrier.String()])
			if v == "" || v == t.State || !geo.CanMove(geo.ByData, t.State, v) {
				continue
			}
			t.State = v
			note := fmt.Sprintf("%d reports after the fix day, %d weak", f.Reports, f.Weak)
			if v == geo.StateReopened {
				t.Since, t.Answered = now, time.Time{}
			}
			r.History = append(r.History, geo.HoleEvent{At: now, State: v, Carrier: t.Carrier, Kind: "data",
				Role: geo.RoleAnalysis, Note: note})
			g.touch(r)
			kind := geo.EventHoleVerified
			if v == geo.StateReopened {
				kind = geo.EventHoleReopened
			}
			c := r.Clone()
			g.events = append(g.events, holeChange{kind: geo.EventHoleChanged, rec: c, track: t.Carrier},
				holeChange{kind: kind, rec: c, track: t.Carrier})
		}
	}
}

// fixArea is the cells whose reports decide t's fix: the hole's when it
// was said to be fixed, or its cells now.
func fixArea(r *geo.HoleRecord, t *geo.Track) []uint64 {
	if len(t.FixCells) > 0 {
		return t.FixCells
	}
	return r.Cells
}

// afterFix is the first moment that counts after a fix day: the start of
// the next day in Vietnam time.
func afterFix(fixed time.Time) time.Time { return geo.Day(fixed).AddDate(0, 0, 1) }

// fixStarts returns, per carrier, the earliest moment that counts after
// the fix of a fixed or verified leaf track.
func (g *registry) fixStarts() map[geo.Carrier]int64 {
	from := map[geo.Carrier]int64{}
	for _, r := range g.recs {
		if !r.Leaf() {
			continue
		}
		for _, t := range r.Tracks {
			if (t.State != geo.StateFixed && t.State != geo.StateVerified) || t.Fixed.IsZero() {
				continue
			}
			at := afterFix(t.Fixed).Unix()
			if cur, ok := from[t.Carrier]; !ok || at < cur {
				from[t.Carrier] = at
			}
		}
	}
	return from
}

// observe brings the index of reports after fixes up to date with the
// reports of a snapshot; rescan says the analysis was rebuilt (reports
// may have been rejected), and rejected returns the IDs of the reports
// left out, when they are needed.
func (g *registry) observe(ids []string, obs []geo.Obs, rescan bool, rejected func() map[string]bool, bias map[string]float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.bias = bias
	g.post.update(g.fixStarts(), ids, obs, rescan, rejected)
}

// decorate returns res with the registry's IDs (ids[i] is the record of
// res.Holes[i]) and each hole's state and deadlines at now. res is not
// modified.
func (g *registry) decorate(res *geo.Result, ids []string, now time.Time) *geo.Result {
	out := *res
	out.Holes = make([]geo.Hole, len(res.Holes))
	g.mu.Lock()
	defer g.mu.Unlock()
	day := geo.Day(now).Unix()
	for i := range res.Holes {
		h := res.Holes[i]
		if i < len(ids) {
			h.ID = ids[i]
			if r := g.recs[ids[i]]; r != nil {
				h.Life = g.life(r, now, day)
			}
		}
		out.Holes[i] = h
	}
	return &out
}

// life is r.Life at now, whose day starts at day (Unix seconds), from the
// cache when r is unchanged since it was computed that day. The caller
// holds mu.
func (g *registry) life(r *geo.HoleRecord, now time.Time, day int64) geo.HoleLife {
	if c, ok := g.lives[r.ID]; ok && c.rev == r.Rev && c.day == day {
		return c.life
	}
	l := r.Life(now, g.s.answerDays)
	g.lives[r.ID] = cachedLife{rev: r.Rev, day: day, life: l}
	return l
}

// stale reports whether holes, decorated earlier, would show another
// state or deadline at now (a deadline passed).
func (g *registry) stale(holes []geo.Hole, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range holes {
		if r := g.recs[holes[i].ID]; r != nil && r.Life(now, g.s.answerDays) != holes[i].Life {
			return true
		}
	}
	return false
}

// overdue marks the tracks whose deadline passed at now and were not yet
// announced overdue for it, and saves their records at once, so that
// another replica, taking the deadlines over, does not announce them
// again. On error the marks are undone, to be tried at the next tick.
func (g *registry) overdue(ctx context.Context, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	var marked []*geo.HoleRecord
	var events []holeChange
	var before []time.Time // each event's track's OverdueNotified before
	for _, r := range g.recs {
		if !r.Leaf() {
			continue
		}
		for k := range r.Tracks {
			t := &r.Tracks[k]
			due := t.Due(g.s.answerDays)
			if !t.Overdue(now, g.s.answerDays) || t.OverdueNotified.Equal(due) {
				continue
			}
			if len(marked) == 0 || marked[len(marked)-1] != r {
				marked = append(marked, r)
			}
			before = append(before, t.OverdueNotified)
			t.OverdueNotified = due
			events = append(events, holeChange{kind: geo.EventHoleOverdue, rec: r, track: t.Carrier})
		}
	}
	if len(marked) == 0 {
		return nil
	}
	rs := make([]geo.HoleRecord, len(marked))
	for i, r := range marked {
		c := r.Clone()
		c.Rev++
		rs[i] = *c
	}
	if err := g.s.store.SaveHoleRecords(ctx, rs); err != nil {
		for i, e := range events {
			e.rec.Track(e.track).OverdueNotified = before[i]
		}
		return err
	}
	for i := range rs {
		c := &rs[i]
		g.recs[c.ID] = c
		g.saved(c)
		delete(g.dirty, c.ID)
	}
	for _, e := range events {
		g.events = append(g.events, holeChange{kind: e.kind, rec: g.recs[e.rec.ID].Clone(), track: e.track})
	}
	return nil
}

// takeEvents returns the changes not yet announced and forgets them.
func (g *registry) takeEvents() []holeChange {
	g.mu.Lock()
	defer g.mu.Unlock()
	ev := g.events
	g.events = nil
	return ev
}

// flush saves the records the analysis changed.
func (g *registry) flush(ctx context.Context) error {
	g.mu.Lock()
	if len(g.dirty) == 0 {
		g.mu.Unlock()
		return nil
	}
	rs := make([]geo.HoleRecord, 0, len(g.dirty))
	for id := range g.dirty {
		rs = append(rs, *g.recs[id].Clone())
	}
	dirty := g.dirty
	g.dirty = map[string]bool{}
	g.mu.Unlock()
	if err := g.s.store.SaveHoleRecords(ctx, rs); err != nil {
		g.mu.Lock()
		for id := range dirty {
			g.dirty[id] = true
		}
		g.mu.Unlock()
		return err
	}
	g.mu.Lock()
	for i := range rs {
		if b := g.stored[rs[i].ID]; rs[i].Rev > b.rev {
			g.stored[rs[i].ID] = storedAt{rev: rs[i].Rev, hist: len(rs[i].History)}
		}
	}
	g.mu.Unlock()
	return nil
}

// postIndex holds, per carrier with fixed holes, its reports observed
// from the earliest moment after a fix on, by cell of the evidence grid,
// so the reports after a hole's fix are counted over its cells without
// scanning every report.
type postIndex struct {
	res   int
	from  map[geo.Carrier]int64
	cells map[geo.Carrier]map[uint64][]geo.Obs
	n     int // the reports of the snapshots taken
}

func (p *postIndex) init(res int) {
	p.res = res
	p.from = map[geo.Carrier]int64{}
	p.cells = map[geo.Carrier]map[uint64][]geo.Obs{}
}

// update takes the reports of a snapshot (ids[i] is obs[i]'s): those
// after the reports taken, or all of them again for a carrier whose
// earliest fix moved earlier, or when rescan.
func (p *postIndex) update(from map[geo.Carrier]int64, ids []string, obs []geo.Obs, rescan bool, rejectedIDs func() map[string]bool) {
	var again []geo.Carrier
	for c, at := range from {
		if cur, ok := p.from[c]; rescan || !ok || at < cur || len(obs) < p.n {
			again = append(again, c)
			p.cells[c] = map[uint64][]geo.Obs{}
		}
		p.from[c] = at
	}
	for c := range p.from {
		if _, ok := from[c]; !ok {
			delete(p.from, c)
			delete(p.cells, c)
		}
	}
	add := func(o *geo.Obs) {
		cell := index.CellAt(o.Lon, o.Lat, p.res)
		m := p.cells[o.Carrier]
		m[cell] = append(m[cell], *o)
	}
	var rejected map[string]bool
	if len(again) > 0 {
		rejected = rejectedIDs()
		for i := range obs {
			o := &obs[i]
			if at, ok := from[o.Carrier]; ok && o.At >= at && slices.Contains(again, o.Carrier) && !rejected[ids[i]] {
				add(o)
			}
		}
	}
	if p.n < len(obs) {
		for i := p.n; i < len(obs); i++ {
			o := &obs[i]
			if at, ok := from[o.Carrier]; ok && o.At >= at && !slices.Contains(again, o.Carrier) {
				add(o)
			}
		}
	}
	p.n = len(obs)
}

// tally counts carrier c's reports in cells observed at or after after.
func (p *postIndex) tally(c geo.Carrier, cells []uint64, after time.Time) geo.PostFix {
	var f geo.PostFix
	at := after.Unix()
	m := p.cells[c]
	spread := min(9, p.res)
	for _, cell := range cells {
		for i := range m[cell] {
			if o := &m[cell][i]; o.At >= at {
				f.Add(o, index.CellParent(cell, spread))
			}
		}
	}
	return f
}

// Tick checks the deadlines and the month's end at the service's clock:
// holes whose deadline passed are announced overdue (hole.overdue) and
// republished with their flag, and once a month has ended every
// carrier's gap list as it stood then is frozen (see Gaps). The service
// calls it every Options.TickEvery; tests with a clock of their own call
// it after moving the clock.
func (s *Service) Tick(ctx context.Context) error {
	if !s.analyse {
		return nil
	}
	now := s.now()
	g := &s.reg
	// Over a store that several replicas share, one of them announces
	// the deadlines passed and freezes the lists; each republishes its
	// analysis with the overdue flags.
	lead := true
	if l, ok := s.store.(geo.Leader); ok {
		var err error
		if lead, err = l.Lead(ctx, "tick"); err != nil {
			return err
		}
	}
	if lead {
		if err := g.overdue(ctx, now); err != nil {
			return err
		}
	}
	if cur := s.snap.Load(); cur != nil && g.stale(cur.Result.Holes, now) {
		s.republish()
	}
	s.announce()
	return s.freezeMonth(ctx, now, lead)
}

// freezeMonth freezes the gap lists of the month before now's when the
// service ran in that month (its previous tick, or the last time a hole
// was seen before it started, was in it) and they are not frozen yet:
// the lists of the current snapshot are taken, as they stand at the
// first tick after the month's end, by the replica that leads (lead).
func (s *Service) freezeMonth(ctx context.Context, now time.Time, lead bool) error {
	g := &s.reg
	g.mu.Lock()
	last := g.lastTick
	g.mu.Unlock()
	vn := now.In(geo.VietnamTime)
	prev := geo.Month(time.Date(vn.Year(), vn.Month(), 1, 0, 0, 0, 0, geo.VietnamTime).AddDate(0, -1, 0))
	if cur := s.snap.Load(); lead && cur != nil && !last.IsZero() && last.Before(now) && geo.Month(last) == prev {
		var holes []geo.Hole
		for _, h := range cur.Result.Holes {
			h.CellIDs = nil
			holes = append(holes, h)
		}
		frozen, err := s.store.FreezeGaps(ctx, prev, holes)
		if err != nil {
			return err
		}
		if frozen {
			s.log.Info("gap lists frozen", slog.String("month", prev), slog.Int("holes", len(holes)))
		}
	}
	g.mu.Lock()
	if now.After(g.lastTick) {
		g.lastTick = now
	}
	g.mu.Unlock()
	return nil
}

// DefaultTickEvery is how often the service checks deadlines and month
// ends when Options.TickEvery is 0.
const DefaultTickEvery = time.Minute

// ticker calls Tick every interval until stop is closed.
type ticker struct {
	stop chan struct{}
	done chan struct{}
}

func (t *ticker) start(s *Service, every time.Duration) {
	if every < 0 || !s.analyse {
		return
	}
	if every == 0 {
		every = DefaultTickEvery
	}
	t.stop, t.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(t.done)
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tk.C:
				if err := s.Tick(context.Background()); err != nil {
					s.log.Error("checking deadlines failed", slog.Any("err", err))
				}
			}
		}
	}()
}

func (t *ticker) close() {
	if t.stop == nil {
		return
	}
	select {
	case <-t.stop:
	default:
		close(t.stop)
	}
	<-t.done
}

// retest is a fixed hole whose fix is to be checked by measuring again:
// the carrier that said it fixed it, a cell near the middle of the hole
// as it was when fixed, and the areas the hole touches.
type retest struct {
	hole    string
	carrier geo.Carrier
	cell    uint64
	areas   []string
}

// retests returns the fixed holes awaiting the reports that verify or
// reopen them.
func (g *registry) retests() []retest {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []retest
	for _, r := range g.recs {
		if !r.Leaf() {
			continue
		}
		for k := range r.Tracks {
			t := &r.Tracks[k]
			if t.State != geo.StateFixed {
				continue
			}
			if cells := fixArea(r, t); len(cells) > 0 {
				out = append(out, retest{hole: r.ID, carrier: t.Carrier, cell: middleCell(cells), areas: r.Areas})
			}
		}
	}
	slices.SortFunc(out, func(a, b retest) int { return strings.Compare(a.hole+a.carrier.String(), b.hole+b.carrier.String()) })
	return out
}

// middleCell is the cell of cells nearest to their mean centre.
func middleCell(cells []uint64) uint64 {
	var x, y float64
	for _, c := range cells {
		p := index.CellCenter(c)
		x, y = x+p[0], y+p[1]
	}
	n := float64(len(cells))
	best, bd := cells[0], math.Inf(1)
	for _, c := range cells {
		p := index.CellCenter(c)
		if d := (p[0]-x/n)*(p[0]-x/n) + (p[1]-y/n)*(p[1]-y/n); d < bd {
			best, bd = c, d
		}
	}
	return best
}
