package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/index"
)

// Measurement tasks. The engine proposes, from the analysis as it
// stands, where each team should measure next (engine.Live.Tasks); the
// service keeps every task it has shown in a task book, with when it was
// first proposed, and marks a task done when a report arrives at its
// place afterwards (of its carrier, or of any for a task for all
// carriers). A proposal that the analysis no longer makes, and was not
// done, is dropped. The book is saved with the analysis, so done tasks
// are counted across restarts.

// TeamActivity is what one team did lately: the reports in its area
// observed in the last 7 and 30 days, and its tasks open and done.
type TeamActivity struct {
	Team       string `json:"team"`
	TeamName   string `json:"team_name"`
	Area       string `json:"area"`
	AreaName   string `json:"area_name"`
	Reports7d  int    `json:"reports_7d"`
	Reports30d int    `json:"reports_30d"`
	TasksOpen  int    `json:"tasks_open"`
	TasksDone  int    `json:"tasks_done"`
}

// TaskList is the teams of some areas with their tasks and activity.
type TaskList struct {
	// Area is the area code asked for ("" for every area the viewer
	// covers).
	Area  string         `json:"area"`
	AsOf  time.Time      `json:"as_of"`
	Teams []TeamActivity `json:"teams"`
	// Tasks are the teams' tasks, open ones first, each team's by rank.
	Tasks []geo.Task `json:"tasks"`
}

// taskBook is every task shown and not dropped; see above.
type taskBook struct {
	mu     sync.Mutex
	loaded bool
	seq    uint64 // the snapshot the open tasks were proposed at
	tasks  map[string]*geo.Task
	open   map[uint64][]*geo.Task // open tasks by place
	dirty  bool
	// activity caches, per area, the reports of the snapshot activitySeq
	// by day of observation.
	activitySeq uint64
	activity    []map[int64]int
}

// load fills the book from the store once.
func (b *taskBook) load(ctx context.Context, st Store) error {
	if b.loaded {
		return nil
	}
	ts, err := st.Tasks(ctx)
	if err != nil {
		return err
	}
	b.tasks, b.open = map[string]*geo.Task{}, map[uint64][]*geo.Task{}
	for i := range ts {
		t := ts[i]
		b.tasks[t.ID] = &t
		if t.State == geo.TaskOpen {
			b.open[t.Cell] = append(b.open[t.Cell], &t)
		}
	}
	b.loaded = true
	return nil
}

// propose takes the engine's proposals made now: a task already open
// keeps when it was proposed and takes the new rank and reasons, a new
// one is opened, an open one no longer proposed is dropped; done tasks
// stay done.
func (b *taskBook) propose(ps []geo.Task, now time.Time) {
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		seen[p.ID] = true
		t, ok := b.tasks[p.ID]
		switch {
		case !ok:
			p.State, p.ProposedAt = geo.TaskOpen, now
			t = &p
			b.tasks[p.ID] = t
			b.open[t.Cell] = append(b.open[t.Cell], t)
			b.dirty = true
		case t.State == geo.TaskOpen:
			if t.Rank != p.Rank || t.Why != p.Why || t.Carrier != p.Carrier || t.Score != p.Score ||
				t.Households != p.Households || t.TeamName != p.TeamName || t.AreaName != p.AreaName || t.Hole != p.Hole {
				p.State, p.ProposedAt = t.State, t.ProposedAt
				*t = p
				b.dirty = true
			}
		}
	}
	for id, t := range b.tasks {
		if t.State == geo.TaskOpen && !seen[id] {
			delete(b.tasks, id)
			b.open[t.Cell] = slices.DeleteFunc(b.open[t.Cell], func(o *geo.Task) bool { return o == t })
			if len(b.open[t.Cell]) == 0 {
				delete(b.open, t.Cell)
			}
			b.dirty = true
		}
	}
}

// arrived marks done the open tasks at the place of report o (id),
// received at now.
func (b *taskBook) arrived(o *geo.Obs, id string, now time.Time, res int) {
	if len(b.open) == 0 {
		return
	}
	cell := index.CellParent(index.CellAt(o.Lon, o.Lat, res), res-1)
	ts := b.open[cell]
	if len(ts) == 0 {
		return
	}
	k := 0
	for _, t := range ts {
		if t.Carrier == geo.CarrierAll || t.Carrier == o.Carrier {
			t.State, t.DoneAt, t.DoneBy = geo.TaskDone, now, id
			b.dirty = true
			continue
		}
		ts[k] = t
		k++
	}
	if k == 0 {
		delete(b.open, cell)
	} else {
		b.open[cell] = ts[:k]
	}
}

// retestTasks asks the teams of the areas a fixed hole touches to
// measure again in its middle, with the SIM of the carrier that fixed it:
// their reports decide whether the fix is verified (see registry.verify).
func (s *Service) retestTasks(snap *Snapshot) []geo.Task {
	res := s.cfg.Holes.Res
	var out []geo.Task
	for _, rt := range s.reg.retests() {
		place := index.CellParent(rt.cell, res-1)
		p := index.CellCenter(place)
		for _, t := range snap.Result.Teams {
			if !slices.Contains(rt.areas, t.AreaCode) {
				continue
			}
			ps := index.CellString(place)
			out = append(out, geo.Task{ID: t.ID + "/" + ps, Team: t.ID, TeamName: t.Name, Area: t.AreaCode, AreaName: t.AreaName,
				Place: ps, Cell: place, Lon: p[0], Lat: p[1], Carrier: rt.carrier, Why: geo.TaskRetest,
				Rank: 0, Hole: rt.hole, State: geo.TaskOpen})
		}
	}
	return out
}

// all returns a copy of every task, sorted by team, open before done,
// then rank or when done.
func (b *taskBook) all() []geo.Task {
	out := make([]geo.Task, 0, len(b.tasks))
	for _, t := range b.tasks {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, c geo.Task) int {
		switch {
		case a.Team != c.Team:
			return strings.Compare(a.Team, c.Team)
		case a.State != c.State:
			return strings.Compare(c.State, a.State) // "open" before "done"
		case a.State == geo.TaskOpen && a.Rank != c.Rank:
			return a.Rank - c.Rank
		case !a.DoneAt.Equal(c.DoneAt):
			return c.DoneAt.Compare(a.DoneAt)
		}
		return strings.Compare(a.ID, c.ID)
	})
	return out
}

// saveTasks writes the task book to the store when it changed since the
// last save.
func (s *Service) saveTasks(ctx context.Context) error {
	b := &s.tasks
	b.mu.Lock()
	if !b.loaded || !b.dirty {
		b.mu.Unlock()
		return nil
	}
	ts := b.all()
	b.dirty = false
	b.mu.Unlock()
	if err := s.store.SaveTasks(ctx, ts); err != nil {
		b.mu.Lock()
		b.dirty = true
		b.mu.Unlock()
		return err
	}
	return nil
}

// Tasks returns the teams whose area lies in area (a code of any level;
// "" for every area v covers) with their measurement tasks and activity.
// Staff see only areas of their scope; an area outside it is an error
// matching ErrForbidden, an unknown one ErrNotFound.
func (s *Service) Tasks(ctx context.Context, v *geo.Viewer, area string) (TaskList, error) {
	if err := v.Check(geo.ReadTasks); err != nil {
		return TaskList{}, err
	}
	snap := s.Snapshot()
	if snap == nil {
		return TaskList{}, nil // a service without analysis proposes nothing
	}
	areas := snap.Areas
	var covered []bool
	if area != "" {
		var unknown []string
		covered, unknown = geo.ScopeAreas(areas, []string{area})
		if len(unknown) > 0 {
			return TaskList{}, geo.NewError(geo.ErrNotFound, "no area "+area,
				&geo.FieldError{Field: "area", Reason: "no such area code"})
		}
		for i, c := range covered {
			if c && !v.Covers(int32(i)) {
				return TaskList{}, geo.NewError(geo.ErrForbidden, "area "+area+" is outside your scope",
					&geo.FieldError{Field: "area", Reason: "outside your scope"})
			}
		}
	} else {
		covered = make([]bool, len(areas))
		for i := range covered {
			covered[i] = v.Covers(int32(i))
		}
	}
	now := s.now()
	b := &s.tasks
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.load(ctx, s.store); err != nil {
		return TaskList{}, fmt.Errorf("service: tasks: %w", err)
	}
	s.mu.Lock()
	live := s.live
	s.mu.Unlock()
	// While catching up after a restart there is no live analysis yet:
	// the tasks kept are listed as they are.
	if b.seq != snap.Seq && live != nil {
		// A re-test replaces what the analysis proposes at its place.
		ps := live.Tasks()
		rts := s.retestTasks(snap)
		ids := make(map[string]bool, len(rts))
		for _, t := range rts {
			ids[t.ID] = true
		}
		ps = slices.DeleteFunc(ps, func(t geo.Task) bool { return ids[t.ID] })
		b.propose(append(ps, rts...), now)
		b.seq = snap.Seq
	}
	if b.activitySeq != snap.Seq || b.activity == nil {
		b.activity = make([]map[int64]int, len(areas))
		for i := range snap.Obs {
			o := &snap.Obs[i]
			if o.Area >= 0 && int(o.Area) < len(areas) {
				if b.activity[o.Area] == nil {
					b.activity[o.Area] = map[int64]int{}
				}
				b.activity[o.Area][o.At/86400]++
			}
		}
		b.activitySeq = snap.Seq
	}
	list := TaskList{Area: area, AsOf: now}
	mine := map[string]int{}
	today := now.Unix() / 86400
	for _, t := range snap.Result.Teams {
		if t.Area < 0 || t.Area >= len(covered) || !covered[t.Area] {
			continue
		}
		ta := TeamActivity{Team: t.ID, TeamName: t.Name, Area: t.AreaCode, AreaName: t.AreaName}
		for day, n := range b.activity[t.Area] {
			if d := today - day; d >= 0 && d < 30 {
				ta.Reports30d += n
				if d < 7 {
					ta.Reports7d += n
				}
			}
		}
		mine[t.ID] = len(list.Teams)
		list.Teams = append(list.Teams, ta)
	}
	for _, t := range b.all() {
		i, ok := mine[t.Team]
		if !ok {
			continue
		}
		if t.State == geo.TaskDone {
			list.Teams[i].TasksDone++
		} else {
			list.Teams[i].TasksOpen++
		}
		list.Tasks = append(list.Tasks, t)
	}
	slices.SortStableFunc(list.Tasks, func(a, c geo.Task) int { return strings.Compare(c.State, a.State) })
	return list, nil
}
