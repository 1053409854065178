package postgis

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gapmap/gapmap/data/tables"
	"github.com/gapmap/gapmap/geo"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

var _ geo.HoleStore = (*Store)(nil)

// HoleRecords returns every record of the hole registry (tables
// hole_registry, hole_tracks and hole_history), by ID, from one snapshot.
func (s *Store) HoleRecords(ctx context.Context) ([]geo.HoleRecord, error) {
	var recs []geo.HoleRecord
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		recs, err = holeRecords(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgis: hole records: %w", classify(err))
	}
	return recs, nil
}

func holeRecords(ctx context.Context, tx pgx.Tx) ([]geo.HoleRecord, error) {
	rows, err := tx.Query(ctx, `SELECT id, carrier, first_seen, last_seen, current, cells, area_codes,
  parent_ids, child_ids, lead_carrier, cause, funding, rev FROM hole_registry ORDER BY id COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	recs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (geo.HoleRecord, error) {
		var r geo.HoleRecord
		var car, lead, cause, funding string
		var cells, areas, parents, children []byte
		if err := row.Scan(&r.ID, &car, &r.FirstSeen, &r.LastSeen, &r.Current, &cells, &areas, &parents, &children,
			&lead, &cause, &funding, &r.Rev); err != nil {
			return r, err
		}
		var err error
		if r.Carrier, err = geo.ParseCarrier(car); err != nil {
			return r, fmt.Errorf("hole %s: %w", r.ID, err)
		}
		r.Lead, _ = geo.ParseCarrier(lead)
		r.Cause, r.Funding = geo.Cause(cause), geo.Funding(funding)
		r.FirstSeen, r.LastSeen = r.FirstSeen.UTC(), r.LastSeen.UTC()
		for _, l := range []struct {
			b   []byte
			dst *[]string
		}{{areas, &r.Areas}, {parents, &r.ParentIDs}, {children, &r.ChildIDs}} {
			if err := json.Unmarshal(l.b, l.dst); err != nil {
				return r, fmt.Errorf("hole %s: %w", r.ID, err)
			}
		}
		r.Cells = unpackCells(cells)
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]int, len(recs))
	for i := range recs {
		byID[recs[i].ID] = i
	}
	rows, err = tx.Query(ctx, `SELECT hole_id, carrier, state, before_dispute, since, answered_at,
  planned_date, plan, fixed_date, fix_cells, overdue_notified FROM hole_tracks`)
	if err != nil {
		return nil, err
	}
	var id, car, state, before, plan string
	var since, answered, planned, fixed, notified pgtype.Timestamptz
	var fixCells []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &car, &state, &before, &since, &answered, &planned, &plan, &fixed, &fixCells, &notified}, func() error {
		t := geo.Track{State: geo.HoleState(state), Before: geo.HoleState(before), Plan: geo.Plan(plan),
			Since: utc(since), Answered: utc(answered), Planned: utc(planned), Fixed: utc(fixed), OverdueNotified: utc(notified)}
		if len(fixCells) > 0 {
			t.FixCells = unpackCells(fixCells)
		}
		var err error
		if t.Carrier, err = geo.ParseCarrier(car); err != nil {
			return fmt.Errorf("hole %s: %w", id, err)
		}
		if i, ok := byID[id]; ok {
			recs[i].Tracks = append(recs[i].Tracks, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range recs {
		sortTracks(recs[i].Tracks)
	}
	rows, err = tx.Query(ctx, `SELECT hole_id, at, state, carrier, kind, role, user_name, note, planned_date,
  plan, fixed_date FROM hole_history ORDER BY hole_id, n`)
	if err != nil {
		return nil, err
	}
	var e geo.HoleEvent
	var at time.Time
	var estate, ecar, eplan string
	_, err = pgx.ForEachRow(rows, []any{&id, &at, &estate, &ecar, &e.Kind, &e.Role, &e.User, &e.Note, &e.Planned, &eplan, &e.Fixed}, func() error {
		ev := e
		ev.At, ev.State, ev.Plan = at.UTC(), geo.HoleState(estate), geo.Plan(eplan)
		var err error
		if ev.Carrier, err = geo.ParseCarrier(ecar); err != nil {
			return fmt.Errorf("hole %s: %w", id, err)
		}
		if i, ok := byID[id]; ok {
			recs[i].History = append(recs[i].History, ev)
		}
		return nil
	})
	return recs, err
}

// packCells is cells as little-endian 64-bit integers.
func packCells(cells []uint64) []byte {
	b := make([]byte, 8*len(cells))
	for i, c := range cells {
		binary.LittleEndian.PutUint64(b[8*i:], c)
	}
	return b
}

// unpackCells reads packCells's bytes back.
func unpackCells(b []byte) []uint64 {
	cells := make([]uint64, len(b)/8)
	for i := range cells {
		cells[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return cells
}

// sortTracks puts tracks in the order of geo.Carriers.
func sortTracks(ts []geo.Track) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Carrier < ts[j-1].Carrier; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// SaveHoleRecords stores rs in one transaction. A record replaces the
// stored one with its ID, tracks included, unless that one has a higher
// Rev (it was saved from a newer state, by this replica or another); the
// history entries beyond those stored are appended.
func (s *Store) SaveHoleRecords(ctx context.Context, rs []geo.HoleRecord) error {
	if len(rs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		for i := range rs {
			if err := saveHoleRecord(ctx, tx, &rs[i]); err != nil {
				return fmt.Errorf("hole %s: %w", rs[i].ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgis: save hole records: %w", classify(err))
	}
	return nil
}

func saveHoleRecord(ctx context.Context, tx pgx.Tx, r *geo.HoleRecord) error {
	lists := make([]string, 3)
	for i, l := range [][]string{r.Areas, r.ParentIDs, r.ChildIDs} {
		if l == nil {
			l = []string{}
		}
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		lists[i] = string(b)
	}
	lead := ""
	if r.Lead != geo.CarrierUnknown {
		lead = r.Lead.String()
	}
	// The row is locked from here to the commit, so two replicas saving
	// one hole take turns, and the higher Rev stays.
	var rev int64
	err := tx.QueryRow(ctx, `INSERT INTO hole_registry (id, carrier, state, first_seen, last_seen, current,
  cells, area_codes, parent_ids, child_ids, lead_carrier, cause, funding, rev)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (id) DO UPDATE SET carrier = excluded.carrier, state = excluded.state,
  first_seen = excluded.first_seen, last_seen = excluded.last_seen, current = excluded.current,
  cells = excluded.cells, area_codes = excluded.area_codes, parent_ids = excluded.parent_ids,
  child_ids = excluded.child_ids, lead_carrier = excluded.lead_carrier, cause = excluded.cause,
  funding = excluded.funding, rev = excluded.rev
  WHERE excluded.rev >= hole_registry.rev
RETURNING rev`,
		r.ID, r.Carrier.String(), string(r.State()), nullTime(r.FirstSeen), nullTime(r.LastSeen), r.Current, packCells(r.Cells),
		lists[0], lists[1], lists[2], lead, string(r.Cause), string(r.Funding), r.Rev).Scan(&rev)
	if err == pgx.ErrNoRows {
		return nil // a newer state is stored
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM hole_tracks WHERE hole_id = $1`, r.ID); err != nil {
		return err
	}
	for _, t := range r.Tracks {
		if _, err := tx.Exec(ctx, `INSERT INTO hole_tracks (hole_id, carrier, state, before_dispute, since,
  answered_at, planned_date, plan, fixed_date, fix_cells, overdue_notified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			r.ID, t.Carrier.String(), string(t.State), string(t.Before), nullTime(t.Since), nullTime(t.Answered),
			nullTime(t.Planned), string(t.Plan), nullTime(t.Fixed), packCells(t.FixCells), nullTime(t.OverdueNotified)); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM hole_history WHERE hole_id = $1`, r.ID).Scan(&n); err != nil {
		return err
	}
	for i := n; i < len(r.History); i++ {
		e := &r.History[i]
		if _, err := tx.Exec(ctx, `INSERT INTO hole_history (hole_id, n, at, state, carrier, kind, role, user_name,
  note, planned_date, plan, fixed_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			r.ID, i, nullTime(e.At), string(e.State), e.Carrier.String(), e.Kind, e.Role, e.User, e.Note,
			e.Planned, string(e.Plan), e.Fixed); err != nil {
			return err
		}
	}
	return nil
}

// FreezeGaps stores holes as the gap lists of month (table frozen_gaps,
// with frozen_months saying which months are frozen), in one transaction,
// unless month is frozen already, by this replica or another; it reports
// whether it stored them.
func (s *Store) FreezeGaps(ctx context.Context, month string, holes []geo.Hole) (bool, error) {
	stored := false
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO frozen_months (month, frozen_at) VALUES ($1, now()) ON CONFLICT DO NOTHING`, month)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		stored = true
		seen := map[string]bool{}
		rows := make([][]any, len(holes))
		for i := range holes {
			h := &holes[i]
			if seen[h.ID] {
				return fmt.Errorf("hole %q: duplicate id: %w", h.ID, geo.ErrConflict)
			}
			seen[h.ID] = true
			g, err := encodeGeom(h.Geometry)
			if err != nil {
				return fmt.Errorf("hole %q: %w", h.ID, err)
			}
			b, err := tables.FrozenProps(h)
			if err != nil {
				return fmt.Errorf("hole %q: %w", h.ID, err)
			}
			rows[i] = []any{g, month, h.Carrier.String(), h.ID, h.Rank, string(h.Life.State), string(b)}
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"frozen_gaps"}, []string{"geom", "month", "carrier", "id", "rank", "state", "props"}, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgis: freeze gaps of %s: %w", month, classify(err))
	}
	return stored, nil
}

// FrozenGaps returns carrier c's holes frozen for month, by rank, and
// whether month is frozen.
func (s *Store) FrozenGaps(ctx context.Context, month string, c geo.Carrier) ([]geo.Hole, bool, error) {
	var frozen bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM frozen_months WHERE month = $1)`, month).Scan(&frozen); err != nil {
		return nil, false, fmt.Errorf("postgis: frozen gaps: %w", classify(err))
	}
	if !frozen {
		return nil, false, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT geom, props FROM frozen_gaps WHERE month = $1 AND carrier = $2
  ORDER BY rank, id COLLATE "C"`, month, c.String())
	if err != nil {
		return nil, false, fmt.Errorf("postgis: frozen gaps: %w", classify(err))
	}
	hs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (geo.Hole, error) {
		var g, props []byte
		if err := row.Scan(&g, &props); err != nil {
			return geo.Hole{}, err
		}
		h, err := tables.FrozenHole(props)
		if err != nil {
			return geo.Hole{}, err
		}
		if len(g) > 0 {
			mp, err := multiPolygon(g)
			if err != nil {
				return h, fmt.Errorf("frozen hole %s: %w", h.ID, err)
			}
			h.Geometry = mp
		}
		return h, nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("postgis: frozen gaps: %w", classify(err))
	}
	return hs, true, nil
}
