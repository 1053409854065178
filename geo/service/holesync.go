package service

import (
	"context"
	"log/slog"

	"github.com/gapmap/gapmap/geo"
)

// Replicas over one store share the hole registry through it: each
// holds the records in memory, saves its own changes (an answer or a
// ruling at once, the analysis's with each save of the analysis), and
// reads the registry again when the store's Version.Holes moves (see
// watcher.poll), so a carrier's answer given to one replica is shown by
// every other at its next publication.
//
// The store is the source of truth. A record is taken from the store
// when its stored Rev differs from the one the record in memory is based
// on (storedAt). When the analysis changed the record in memory since,
// and has not saved it yet, the two are merged: the stored answers,
// rulings and details (tracks, lead, cause, funding, history) with the
// analysis's own fields from memory (cells, areas, when last seen,
// current, parents and children) and the events it added, at a Rev
// above both, so the next save keeps the merge.

// storedAt is what the store holds of a record, as this service last
// read or wrote it: its Rev and the length of its history.
type storedAt struct {
	rev  int64
	hist int
}

// saved records that r, as it is now, is what the store holds. The
// caller holds mu.
func (g *registry) saved(r *geo.HoleRecord) {
	g.stored[r.ID] = storedAt{rev: r.Rev, hist: len(r.History)}
}

// reload merges the records read from the store into the registry and
// returns how many changed, and how many records of this service's own
// it dropped for stored ones (see adopt).
func (g *registry) reload(recs []geo.HoleRecord) (changed, adopted int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range recs {
		st := &recs[i]
		b, known := g.stored[st.ID]
		if known && st.Rev <= b.rev {
			continue // what this service read or wrote, or older
		}
		l := g.recs[st.ID]
		if l == nil && st.Current && st.Leaf() {
			adopted += g.adopt(st)
		}
		if l != nil && !g.dirty[st.ID] && l.Rev == st.Rev {
			g.saved(l) // saved by this service, recorded here first
			continue
		}
		n := st
		if l != nil && g.dirty[st.ID] {
			n.Cells, n.Areas, n.LastSeen, n.Current = l.Cells, l.Areas, l.LastSeen, l.Current
			n.ParentIDs, n.ChildIDs = l.ParentIDs, l.ChildIDs
			if len(l.History) > b.hist {
				n.History = append(n.History, l.History[b.hist:]...)
			}
			n.Rev = max(st.Rev, l.Rev) + 1
		}
		if l != nil && l.Current && l.Leaf() {
			g.disown(l, l.Cells)
		}
		if n.Current && n.Leaf() {
			g.own(n, n.Cells)
		}
		g.recs[n.ID] = n
		delete(g.lives, n.ID)
		g.stored[n.ID] = storedAt{rev: st.Rev, hist: len(st.History)}
		changed++
	}
	return changed, adopted
}

// adopt drops the records of this service's own, never stored, that
// hold cells of st, a current record another replica stored for the
// same hole, so that the next analysis matches the hole to st and every
// replica shows it under one ID. It returns how many it dropped. The
// caller holds mu.
func (g *registry) adopt(st *geo.HoleRecord) int {
	n := 0
	own := g.owner[st.Carrier]
	for _, c := range st.Cells {
		id, ok := own[c]
		if !ok || id == st.ID {
			continue
		}
		if _, stored := g.stored[id]; stored {
			continue
		}
		if r := g.recs[id]; r != nil {
			g.disown(r, r.Cells)
		}
		delete(g.recs, id)
		delete(g.dirty, id)
		delete(g.lives, id)
		for name, m := range g.engine {
			if m.id == id {
				delete(g.engine, name)
			}
		}
		n++
	}
	return n
}

// catchUpHoles reads the hole registry again and, when another process
// changed it, publishes the analysis again with its states.
func (w *watcher) catchUpHoles(ctx context.Context) error {
	s := w.s
	n, adopted, err := s.reloadHoles(ctx)
	if err != nil || n == 0 {
		return err
	}
	s.log.Info("picked up hole records written by another process", slog.Int("records", n), slog.Int("adopted", adopted))
	if adopted > 0 {
		// The analysis matches its holes to the adopted records again.
		s.sch.schedule()
		return nil
	}
	s.republish()
	return nil
}

// reloadHoles merges the registry as stored into the service's (see
// reload).
func (s *Service) reloadHoles(ctx context.Context) (changed, adopted int, err error) {
	recs, err := s.store.HoleRecords(ctx)
	if err != nil {
		return 0, 0, err
	}
	changed, adopted = s.reg.reload(recs)
	return changed, adopted, nil
}
