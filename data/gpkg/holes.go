package gpkg

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gapmap/gapmap/data/tables"
	"github.com/gapmap/gapmap/geo"
	"github.com/paulmach/orb"
)

var _ geo.HoleStore = (*Store)(nil)

// HoleRecords returns every record of the hole registry (tables
// hole_registry, hole_tracks and hole_history), by ID.
func (s *Store) HoleRecords(ctx context.Context) ([]geo.HoleRecord, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, carrier, first_seen, last_seen, current, cells, area_codes,
  parent_ids, child_ids, lead_carrier, cause, funding, rev FROM hole_registry ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("gpkg: hole records: %w", err)
	}
	var recs []geo.HoleRecord
	byID := map[string]int{}
	for rows.Next() {
		var r geo.HoleRecord
		var car, lead, first, last, areas, parents, children string
		var cells []byte
		if err := rows.Scan(&r.ID, &car, &first, &last, &r.Current, &cells, &areas, &parents, &children,
			&lead, &r.Cause, &r.Funding, &r.Rev); err != nil {
			rows.Close()
			return nil, fmt.Errorf("gpkg: hole records: %w", err)
		}
		if r.Carrier, err = geo.ParseCarrier(car); err != nil {
			rows.Close()
			return nil, fmt.Errorf("gpkg: hole %s: %w", r.ID, err)
		}
		r.Lead, _ = geo.ParseCarrier(lead)
		r.FirstSeen, err = parseUTC(sql.NullString{String: first, Valid: true})
		if err == nil {
			r.LastSeen, err = parseUTC(sql.NullString{String: last, Valid: true})
		}
		if err == nil {
			err = unmarshalLists(areas, &r.Areas, parents, &r.ParentIDs, children, &r.ChildIDs)
		}
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("gpkg: hole %s: %w", r.ID, err)
		}
		r.Cells = unpackCells(cells)
		byID[r.ID] = len(recs)
		recs = append(recs, r)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("gpkg: hole records: %w", err)
	}
	if err := s.holeTracks(ctx, recs, byID); err != nil {
		return nil, fmt.Errorf("gpkg: hole tracks: %w", err)
	}
	if err := s.holeHistory(ctx, recs, byID); err != nil {
		return nil, fmt.Errorf("gpkg: hole history: %w", err)
	}
	return recs, nil
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

func unmarshalLists(pairs ...any) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := json.Unmarshal([]byte(pairs[i].(string)), pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) holeTracks(ctx context.Context, recs []geo.HoleRecord, byID map[string]int) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT hole_id, carrier, state, before_dispute, since, answered_at,
  planned_date, plan, fixed_date, fix_cells, overdue_notified FROM hole_tracks`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, car string
		var t geo.Track
		var since, answered, planned, fixed, notified sql.NullString
		var fixCells []byte
		if err := rows.Scan(&id, &car, &t.State, &t.Before, &since, &answered, &planned, &t.Plan, &fixed, &fixCells, &notified); err != nil {
			return err
		}
		if len(fixCells) > 0 {
			t.FixCells = unpackCells(fixCells)
		}
		var err error
		if t.Carrier, err = geo.ParseCarrier(car); err != nil {
			return fmt.Errorf("hole %s: %w", id, err)
		}
		for _, f := range []struct {
			dst *time.Time
			src sql.NullString
		}{{&t.Since, since}, {&t.Answered, answered}, {&t.Planned, planned}, {&t.Fixed, fixed}, {&t.OverdueNotified, notified}} {
			if *f.dst, err = parseUTC(f.src); err != nil {
				return fmt.Errorf("hole %s: %w", id, err)
			}
		}
		if i, ok := byID[id]; ok {
			recs[i].Tracks = append(recs[i].Tracks, t)
		}
	}
	for i := range recs {
		sortTracks(recs[i].Tracks)
	}
	return rows.Err()
}

// sortTracks puts tracks in the order of geo.Carriers.
func sortTracks(ts []geo.Track) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Carrier < ts[j-1].Carrier; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func (s *Store) holeHistory(ctx context.Context, recs []geo.HoleRecord, byID map[string]int) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT hole_id, at, state, carrier, kind, role, user, note, planned_date,
  plan, fixed_date FROM hole_history ORDER BY hole_id, n`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, at, car string
		var e geo.HoleEvent
		if err := rows.Scan(&id, &at, &e.State, &car, &e.Kind, &e.Role, &e.User, &e.Note, &e.Planned, &e.Plan, &e.Fixed); err != nil {
			return err
		}
		var err error
		if e.At, err = parseUTC(sql.NullString{String: at, Valid: true}); err != nil {
			return fmt.Errorf("hole %s: %w", id, err)
		}
		if e.Carrier, err = geo.ParseCarrier(car); err != nil {
			return fmt.Errorf("hole %s: %w", id, err)
		}
		if i, ok := byID[id]; ok {
			recs[i].History = append(recs[i].History, e)
		}
	}
	return rows.Err()
}

// SaveHoleRecords stores rs in one transaction, committed durably when it
// returns without error. A record replaces the stored one with its ID,
// tracks included, unless that one has a higher Rev (it was saved from a
// newer state); the history entries beyond those stored are appended.
func (s *Store) SaveHoleRecords(ctx context.Context, rs []geo.HoleRecord) error {
	if len(rs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for i := range rs {
			if err := saveHoleRecord(ctx, tx, &rs[i]); err != nil {
				return fmt.Errorf("hole %s: %w", rs[i].ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("gpkg: save hole records: %w", err)
	}
	return nil
}

func saveHoleRecord(ctx context.Context, tx *sql.Tx, r *geo.HoleRecord) error {
	cells := packCells(r.Cells)
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO hole_registry (id, carrier, state, first_seen, last_seen, current,
  cells, area_codes, parent_ids, child_ids, lead_carrier, cause, funding, rev)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET carrier = excluded.carrier, state = excluded.state,
  first_seen = excluded.first_seen, last_seen = excluded.last_seen, current = excluded.current,
  cells = excluded.cells, area_codes = excluded.area_codes, parent_ids = excluded.parent_ids,
  child_ids = excluded.child_ids, lead_carrier = excluded.lead_carrier, cause = excluded.cause,
  funding = excluded.funding, rev = excluded.rev
WHERE excluded.rev >= hole_registry.rev`,
		r.ID, r.Carrier.String(), string(r.State()), timeUTC(r.FirstSeen), timeUTC(r.LastSeen), r.Current, cells,
		lists[0], lists[1], lists[2], lead, string(r.Cause), string(r.Funding), r.Rev); err != nil {
		return err
	}
	var rev int64
	if err := tx.QueryRowContext(ctx, `SELECT rev FROM hole_registry WHERE id = ?`, r.ID).Scan(&rev); err != nil {
		return err
	}
	if rev != r.Rev {
		return nil // a newer state is stored
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM hole_tracks WHERE hole_id = ?`, r.ID); err != nil {
		return err
	}
	for _, t := range r.Tracks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hole_tracks (hole_id, carrier, state, before_dispute, since,
  answered_at, planned_date, plan, fixed_date, fix_cells, overdue_notified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, t.Carrier.String(), string(t.State), string(t.Before), timeUTC(t.Since), timeUTC(t.Answered),
			timeUTC(t.Planned), string(t.Plan), timeUTC(t.Fixed), packCells(t.FixCells), timeUTC(t.OverdueNotified)); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM hole_history WHERE hole_id = ?`, r.ID).Scan(&n); err != nil {
		return err
	}
	for i := n; i < len(r.History); i++ {
		e := &r.History[i]
		if _, err := tx.ExecContext(ctx, `INSERT INTO hole_history (hole_id, n, at, state, carrier, kind, role, user,
  note, planned_date, plan, fixed_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, i, timeUTC(e.At), string(e.State), e.Carrier.String(), e.Kind, e.Role, e.User, e.Note,
			e.Planned, string(e.Plan), e.Fixed); err != nil {
			return err
		}
	}
	return nil
}

// FreezeGaps stores holes as the gap lists of month (table frozen_gaps,
// with frozen_months saying which months are frozen), in one transaction,
// unless month is frozen already; it reports whether it stored them.
func (s *Store) FreezeGaps(ctx context.Context, month string, holes []geo.Hole) (bool, error) {
	stored := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO frozen_months (month, frozen_at) VALUES (?, ?)`,
			month, timeUTC(time.Now()))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		stored = true
		st, err := tx.PrepareContext(ctx, `INSERT INTO frozen_gaps (geom, month, carrier, id, rank, state, props)
  VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range holes {
			h := &holes[i]
			g, err := encodeGeom(h.Geometry)
			if err != nil {
				return fmt.Errorf("hole %q: %w", h.ID, err)
			}
			b, err := tables.FrozenProps(h)
			if err != nil {
				return fmt.Errorf("hole %q: %w", h.ID, err)
			}
			if _, err := st.ExecContext(ctx, g, month, h.Carrier.String(), h.ID, h.Rank, string(h.Life.State), string(b)); err != nil {
				if isUnique(err) {
					return fmt.Errorf("hole %q: duplicate id: %w", h.ID, geo.ErrConflict)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("gpkg: freeze gaps of %s: %w", month, err)
	}
	return stored, nil
}

// FrozenGaps returns carrier c's holes frozen for month, by rank, and
// whether month is frozen.
func (s *Store) FrozenGaps(ctx context.Context, month string, c geo.Carrier) ([]geo.Hole, bool, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM frozen_months WHERE month = ?`, month).Scan(&n); err != nil {
		return nil, false, fmt.Errorf("gpkg: frozen gaps: %w", err)
	}
	if n == 0 {
		return nil, false, nil
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT geom, props FROM frozen_gaps WHERE month = ? AND carrier = ?
  ORDER BY rank, id`, month, c.String())
	if err != nil {
		return nil, false, fmt.Errorf("gpkg: frozen gaps: %w", err)
	}
	defer rows.Close()
	var hs []geo.Hole
	for rows.Next() {
		var g []byte
		var props string
		if err := rows.Scan(&g, &props); err != nil {
			return nil, false, fmt.Errorf("gpkg: frozen gaps: %w", err)
		}
		h, err := tables.FrozenHole([]byte(props))
		if err != nil {
			return nil, false, fmt.Errorf("gpkg: frozen gaps: %w", err)
		}
		if len(g) > 0 {
			geom, err := decodeGeom(g)
			if err != nil {
				return nil, false, fmt.Errorf("gpkg: frozen hole %s: %w", h.ID, err)
			}
			h.Geometry, _ = geom.(orb.MultiPolygon)
		}
		hs = append(hs, h)
	}
	return hs, true, rows.Err()
}
